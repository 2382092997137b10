/**
 * The API reference (/api/docs) in a real browser (Debian's chromium via playwright-core): Redoc
 * renders the OpenAPI document under the site's CSP, with no console error, no CSP violation and
 * no request to another host. Screenshot: test-artifacts/browser/api-docs.png.
 */
import assert from 'node:assert/strict';
import { useRegistry } from '../helpers/registry';
import { screenshot, useBrowserSite } from './harness';

describe('API reference page (browser)', function () {
  this.timeout(120_000);
  const r = useRegistry();
  const site = useBrowserSite(r);

  it('when /api/docs is opened, then the reference shows the operations with no console error, CSP violation or foreign request', async () => {
    const page = await site.browser.newPage();
    const requested: string[] = [];
    page.on('request', (req) => requested.push(req.url()));
    // Recorded in the page from its first script on, before Redoc runs.
    await page.addInitScript(() => {
      const w = globalThis as unknown as {
        __csp: string[];
        addEventListener(
          t: string,
          f: (e: { violatedDirective: string; blockedURI: string }) => void,
        ): void;
      };
      w.__csp = [];
      w.addEventListener('securitypolicyviolation', (e) =>
        w.__csp.push(`${e.violatedDirective} ${e.blockedURI}`),
      );
    });
    const res = await page.goto(`${site.base}/api/docs`, { waitUntil: 'load' });
    assert.equal(res?.status(), 200);
    // An operation's summary from the document, as a heading of its section.
    const operation = page.getByRole('heading', {
      name: 'Sign the initiative for a company (a confirmation e-mail follows)',
    });
    await operation
      .first()
      .waitFor({ state: 'visible', timeout: 30_000 })
      .catch(async (e: Error) => {
        const csp = await page.evaluate(() => (globalThis as unknown as { __csp: string[] }).__csp);
        throw new Error(
          `${e.message}\nconsole: ${site.browser.problems().join('\n')}\nCSP: ${csp.join('\n')}\nbody: ${(await page.textContent('body'))?.slice(0, 500)}`,
        );
      });
    await page
      .getByText('Revoke a certificate (the pledge becomes revoked; nothing is deleted)')
      .first()
      .waitFor({ state: 'attached' });
    await screenshot(page, 'api-docs', false);

    const violations = await page.evaluate(
      () => (globalThis as unknown as { __csp: string[] }).__csp,
    );
    assert.deepEqual(violations, [], 'no CSP violations');
    assert.deepEqual(site.browser.problems(), [], 'no console errors');
    const foreign = requested.filter(
      (u) => !u.startsWith(site.base) && !u.startsWith('data:') && !u.startsWith('blob:'),
    );
    assert.deepEqual(foreign, [], 'every request stays on this host');
    assert.ok(
      requested.includes(`${site.base}/api/docs/redoc.standalone.js`) &&
        requested.includes(`${site.base}/api/v1/openapi.json`),
    );
    await page.close();
  });
});
