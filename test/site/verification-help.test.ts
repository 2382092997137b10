/** The "how to check a certificate" page: the three ways, what each check means, offline checking, the keys. */
import assert from 'node:assert/strict';
import request from 'supertest';
import { en } from '../../src/i18n/messages/en';
import { zhCN } from '../../src/i18n/messages/zh-CN';
import { useRegistry } from '../helpers/registry';
import { escaped, EXPECTED_UPLOAD_CHECKS } from './helpers';

const PATH = '/about/verification';

/** Text of the section with the given id (up to its closing tag). */
function section(html: string, id: string): string {
  const start = html.indexOf(`id="${id}"`);
  assert.ok(start > 0, `the page has a section #${id}`);
  return html.slice(start, html.indexOf('</section>', start));
}

describe('site: how to check a certificate', () => {
  const r = useRegistry();

  it('when the page is opened, then it is Chinese by default and English with ?lang=en, with the three ways in order', async () => {
    const zh = await request(r.app)
      .get(PATH)
      .expect(200)
      .expect('Content-Type', /text\/html/);
    assert.match(zh.text, /<html lang="zh-CN">/);
    assert.match(zh.text, /<h1>如何查验证书<\/h1>/);
    const waysZh = section(zh.text, 'ways');
    const ways = ['<h3>扫描二维码</h3>', '<h3>输入证书编号</h3>', '<h3>上传证书文件</h3>'].map(
      (w) => waysZh.indexOf(w),
    );
    assert.ok(
      ways.every((i) => i > 0),
      `all three ways: ${ways}`,
    );
    assert.deepEqual(
      [...ways].sort((a, b) => a - b),
      ways,
      'QR, serial, upload in that order',
    );
    const enPage = await request(r.app).get(`${PATH}?lang=en`).expect(200);
    assert.match(enPage.text, /<html lang="en">/);
    assert.match(enPage.text, /<h1>How to check a certificate<\/h1>/);
    for (const w of [
      'Scan the QR code',
      'Enter the certificate number',
      'Upload the certificate file',
    ])
      assert.ok(enPage.text.includes(w), w);
  });

  it('when the page is read, then every check the upload runs is explained in the page language, under the same name the result page uses', async () => {
    for (const [lang, catalog] of [
      ['zh-CN', zhCN],
      ['en', en],
    ] as const) {
      const res = await request(r.app).get(`${PATH}?lang=${lang}`).expect(200);
      const checks = section(res.text, 'checks');
      for (const c of EXPECTED_UPLOAD_CHECKS) {
        const label = escaped(catalog[`upload.check.${c}`]);
        assert.ok(checks.includes(label), `${lang}: ${c} (${label})`);
        const meaning = catalog[`how.check.${c}` as keyof typeof catalog];
        assert.ok(meaning && checks.includes(escaped(meaning)), `${lang}: what ${c} means`);
      }
    }
  });

  it('when a reader wants to check offline, then the page gives the CLI command and where jwks.json comes from, and links the public keys', async () => {
    for (const lang of ['zh-CN', 'en']) {
      const res = await request(r.app).get(`${PATH}?lang=${lang}`).expect(200);
      const offline = section(res.text, 'offline');
      assert.ok(
        offline.includes('npm run verify -- cert.pdf --jwks jwks.json'),
        `${lang}: the command`,
      );
      assert.ok(
        offline.includes('GET /.well-known/jwks.json'),
        `${lang}: where jwks.json comes from`,
      );
      assert.ok(
        offline.includes('https://registry.test/.well-known/jwks.json'),
        `${lang}: the full address of the keys`,
      );
      assert.match(section(res.text, 'keys'), /<a href="\/\.well-known\/jwks\.json"/);
    }
    // The link leads to the keys.
    const keys = await request(r.app).get('/.well-known/jwks.json').expect(200);
    assert.ok(Array.isArray(keys.body.keys) && keys.body.keys.length > 0);
  });

  it('when the page is opened, then the transparency log section shows the log verifier key as GET /log/vkey serves it and links the checkpoint, in both languages', async () => {
    const vkey = (await request(r.app).get('/log/vkey').expect(200)).text.trim();
    assert.match(vkey, /^registry\.test\/log\+[0-9a-f]{8}\+/);
    for (const [query, catalog] of [
      ['', zhCN],
      ['?lang=en', en],
    ] as const) {
      const log = section(
        (await request(r.app).get(`${PATH}${query}`).expect(200)).text,
        'transparency-log',
      );
      assert.ok(log.includes(`<code class="vkey">${escaped(vkey)}</code>`), `the vkey in ${log}`);
      assert.match(
        log,
        /<a href="https:\/\/registry\.test\/log\/checkpoint"><code>https:\/\/registry\.test\/log\/checkpoint<\/code><\/a>/,
      );
      assert.ok(log.includes(escaped(catalog['how.log.text'])));
      assert.ok(!log.includes(escaped(catalog['how.log.pending'])), 'no longer "not in operation"');
    }
  });

  it('when /verify or any page footer is shown, then it links the page', async () => {
    const verify = await request(r.app).get('/verify').expect(200);
    assert.match(
      verify.text.slice(verify.text.indexOf('<main'), verify.text.indexOf('</main>')),
      /href="\/about\/verification"/,
    );
    for (const path of ['/', '/directory', PATH]) {
      const res = await request(r.app).get(path).expect(200);
      const footer = res.text.slice(res.text.indexOf('<footer'));
      assert.match(footer, /<a href="\/about\/verification">如何查验证书<\/a>/, path);
    }
    const enHome = await request(r.app).get('/?lang=en').expect(200);
    assert.match(
      enHome.text.slice(enHome.text.indexOf('<footer')),
      /<a href="\/about\/verification">How to check a certificate<\/a>/,
    );
  });
});
