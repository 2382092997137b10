/**
 * Links built from the request's path stay on the site, however the path is written.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import request from 'supertest';
import { sameSitePath } from '../../src/site/view';
import { useRegistry } from '../helpers/registry';
import { HTML } from '../site/helpers';

const ORIGIN = 'https://registry.test';

function assertSameSite(href: string, context: string): void {
  const url = new URL(href.replace(/&amp;/g, '&'), `${ORIGIN}/some/page`);
  assert.equal(url.origin, ORIGIN, `${context}: href="${href}" leaves the site`);
}

describe('input: links from the request path', () => {
  const r = useRegistry();

  for (const path of [
    '//a//evil.example/x',
    '//evil.example/x',
    '///evil.example',
    '/\\evil.example/x',
    '/\\/evil.example/x',
    '//a/\\evil.example?lang=en&q=1',
    '/directory//evil.example',
  ]) {
    it(`when a page is asked for as ${path}, then every link on it stays on the site`, async () => {
      const res = await request(r.app).get(path).set('Accept', HTML);
      assert.ok(res.status < 500, `${res.status}`);
      const hrefs = [...res.text.matchAll(/\b(?:href|action|src)="([^"]*)"/g)].map((m) => m[1]);
      assert.ok(
        hrefs.some((h) => h.includes('lang=')),
        'the page has a language link',
      );
      for (const href of hrefs) assertSameSite(href, path);
    });
  }

  it('when any string is made a same-site path, then a browser resolves it to this site', () => {
    const unit = fc.oneof(
      fc.constantFrom('/', '\\', '\t', '\n', '\r', '.', '@', ':', '?', '#', '%2F', 'evil.example'),
      fc.string({ minLength: 1, maxLength: 1 }),
    );
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 12 }), (s) => {
        const p = sameSitePath(s);
        assert.ok(p.startsWith('/'));
        assertSameSite(p, JSON.stringify(s));
        assert.equal(sameSitePath(p), p, 'idempotent');
      }),
      { seed: 20260110, numRuns: 3000 },
    );
  });
});
