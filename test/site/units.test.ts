import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  catalogKeys,
  catalogMessage,
  i18n,
  localeFromAcceptLanguage,
  negotiateLocale,
} from '../../src/i18n';
import { bucketByTime, lineChart, niceStep, previousKey, rankedBars } from '../../src/site/charts';
import { usccMessage } from '../../src/site/forms';
import { compactHtml } from '../../src/site/http';
import { UPLOAD_STATUS } from '../../src/http/upload';
import { EXPECTED_UPLOAD_CHECKS } from './helpers';

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)],
  );
}

describe('site units', () => {
  describe('message catalogs', () => {
    it('when both catalogs are compared, then they have the same keys and the same placeholders', () => {
      const zh = catalogKeys('zh-CN').sort();
      assert.deepEqual(catalogKeys('en').sort(), zh);
      const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      for (const key of zh) {
        assert.deepEqual(
          placeholders(catalogMessage('en', key)!),
          placeholders(catalogMessage('zh-CN', key)!),
          key,
        );
      }
    });

    it('when templates and routes name a message, then it exists (dynamic keys: every variant exists)', () => {
      const root = path.resolve(__dirname, '../..');
      const sources = [
        ...files(path.join(root, 'views')),
        ...files(path.join(root, 'routes/site')),
        ...files(path.join(root, 'src/site')),
      ];
      const keys = new Set(catalogKeys('zh-CN'));
      for (const file of sources) {
        const text = readFileSync(file, 'utf8');
        for (const m of text.matchAll(/\bt\(\s*'([a-zA-Z0-9_.]+)'[,)]/g)) {
          assert.ok(keys.has(m[1]), `${path.relative(root, file)} uses unknown message ${m[1]}`);
        }
      }
      const statuses = [
        'pending_confirmation',
        'pending_review',
        'activating',
        'active',
        'withdrawn',
        'revoked',
        'rejected',
        'expired',
      ];
      for (const s of statuses)
        assert.ok(keys.has(`status.${s}`) && keys.has(`me.explain.${s}`), s);
      for (const v of ['valid', 'revoked', 'withdrawn', 'superseded', 'not_found'])
        for (const part of ['title', 'text', 'mark'])
          assert.ok(keys.has(`verdict.${v}.${part}`), v);
      for (const o of ['valid', 'invalid', 'unreadable'])
        for (const part of ['title', 'text']) assert.ok(keys.has(`upload.${o}.${part}`), o);
      for (const p of [...Object.keys(UPLOAD_STATUS), 'not-pdf'])
        assert.ok(keys.has(`upload.error.${p}`), p);
      for (const c of EXPECTED_UPLOAD_CHECKS) assert.ok(keys.has(`upload.check.${c}`), c);
      for (const f of ['incomplete', 'invalid', 'used', 'expired'])
        for (const p of ['confirm', 'loginVerify'])
          assert.ok(
            keys.has(`${p}.failed.${f}.title`) && keys.has(`${p}.failed.${f}.text`),
            `${p} ${f}`,
          );
    });
  });

  describe('language negotiation', () => {
    it('when Accept-Language is parsed, then q-values rank the tags and unsupported ones are skipped', () => {
      assert.equal(localeFromAcceptLanguage('fr-FR, en;q=0.8, zh-CN;q=0.9'), 'zh-CN');
      assert.equal(localeFromAcceptLanguage('de, en-GB;q=0.5'), 'en');
      assert.equal(localeFromAcceptLanguage('zh-TW'), 'zh-CN');
      assert.equal(localeFromAcceptLanguage('fr'), undefined);
      assert.equal(localeFromAcceptLanguage('en;q=0, zh;q=0.1'), 'zh-CN');
      assert.equal(negotiateLocale({ query: 'en', cookie: 'zh-CN', acceptLanguage: 'zh' }), 'en');
      assert.equal(negotiateLocale({ cookie: 'en', acceptLanguage: 'zh' }), 'en');
      assert.equal(negotiateLocale({ cookie: 'xx', acceptLanguage: 'fr' }), 'zh-CN');
    });

    it('when dates and numbers are formatted, then each locale uses its own conventions in China Standard Time', () => {
      const d = new Date('2025-11-24T17:30:00Z'); // 25 Nov, 01:30 in Beijing
      assert.equal(i18n('zh-CN').date(d), '2025年11月25日');
      assert.equal(i18n('en').date(d), '25 Nov 2025');
      assert.equal(i18n('en').number(12345), '12,345');
      assert.equal(
        i18n('en').tn('directory.count', 1, { from: 1, to: 1 }),
        '1 company, showing 1–1',
      );
      assert.equal(
        i18n('en').tn('directory.count', 2, { from: 1, to: 2 }),
        '2 companies, showing 1–2',
      );
      assert.equal(i18n('zh-CN').province('44'), '广东');
      assert.equal(i18n('en').industry('I'), 'IT and software');
    });
  });

  describe('USCC messages', () => {
    it('when a USCC is checked for the form, then the message names the problem in the visitor’s language', () => {
      assert.equal(usccMessage('91350100M000100Y43', i18n('zh-CN')), undefined);
      assert.equal(usccMessage(' 91350100m000100y43 ', i18n('zh-CN')), undefined);
      assert.match(usccMessage('9135', i18n('en'))!, /this one has 4/);
      assert.match(usccMessage('91350100M000100O43', i18n('zh-CN'))!, /第 16 位的“O”/);
      assert.match(usccMessage('91350100M000100Y44', i18n('en'))!, /check character/);
    });
  });

  describe('charts', () => {
    it('when axis steps are chosen, then they are 1, 2 or 5 times a power of ten', () => {
      assert.equal(niceStep(120), 50);
      assert.equal(niceStep(7), 2);
      assert.equal(niceStep(1), 1);
      assert.equal(niceStep(0), 1);
    });

    it('when days have gaps, then they are filled with zeros; long spans are grouped by month', () => {
      const b = bucketByTime([
        { day: '2025-01-03', count: 2 },
        { day: '2025-01-01', count: 1 },
      ]);
      assert.deepEqual(b, {
        unit: 'day',
        keys: ['2025-01-01', '2025-01-02', '2025-01-03'],
        added: [1, 0, 2],
        cumulative: [1, 1, 3],
      });
      const long = bucketByTime([
        { day: '2024-11-30', count: 1 },
        { day: '2025-03-02', count: 4 },
      ]);
      assert.equal(long.unit, 'month');
      assert.deepEqual(long.keys, ['2024-11', '2024-12', '2025-01', '2025-02', '2025-03']);
      assert.deepEqual(long.cumulative, [1, 1, 1, 1, 5]);
      assert.equal(previousKey('day', '2025-03-01'), '2025-02-28');
      assert.equal(previousKey('month', '2025-01'), '2024-12');
    });

    it('when labels contain markup, then the SVG and bars escape them', () => {
      const svg = lineChart(
        [
          { label: '<b>1</b>', value: 0 },
          { label: 'x"y', value: 3 },
        ],
        { id: 'c', title: '<t>', desc: 'd&d', formatValue: String },
      );
      assert.ok(
        svg.includes('&lt;b&gt;1&lt;/b&gt;') &&
          svg.includes('x&quot;y') &&
          svg.includes('<title id="c-title">&lt;t&gt;</title>') &&
          svg.includes('d&amp;d'),
      );
      assert.doesNotMatch(svg, /<b>/);
      const bars = rankedBars([{ label: '<img src=x>', value: 2, display: '2' }], { label: 'L' });
      assert.ok(bars.includes('&lt;img src=x&gt;'));
      assert.match(bars, /<rect class="bar-fill" width="100"/);
    });
  });
});

describe('compactHtml', () => {
  it('when indentation and blank lines separate tags, then each run becomes one line break and text keeps its spaces', () => {
    assert.equal(
      compactHtml('<ul>\n    <li>甲 乙</li>\n\n  <li>a  b</li>  \n</ul>'),
      '<ul>\n<li>甲 乙</li>\n<li>a  b</li>\n</ul>',
    );
  });

  it('when a page has a textarea or pre, then it is left exactly as rendered', () => {
    const html = '<form>\n  <textarea>line one\n    indented</textarea>\n</form>';
    assert.equal(compactHtml(html), html);
    const pre = '<pre>\n  code\n</pre>';
    assert.equal(compactHtml(pre), pre);
  });
});
