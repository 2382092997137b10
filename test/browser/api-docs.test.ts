/**
 * The API reference (/api/docs) in a real browser (Debian's chromium via playwright-core): Redoc
 * renders the OpenAPI document under the site's CSP, with no console error, no CSP violation and
 * no request to another host. Screenshot: test-artifacts/browser/api-docs.png.
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { useRegistry } from '../helpers/registry';
import { launchBrowser, screenshot, type Browser } from './harness';

describe('API reference page (browser)', function () {
  this.timeout(120_000);
  const r = useRegistry();
  let server: Server;
  let base: string;
  let browser: Browser;

  before(async () => {
    server = r.app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  });

  it('when /api/docs is opened, then the reference shows the operations with no console error, CSP violation or foreign request', async () => {
    const page = await browser.newPage();
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
    const res = await page.goto(`${base}/api/docs`, { waitUntil: 'load' });
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
          `${e.message}\nconsole: ${browser.problems().join('\n')}\nCSP: ${csp.join('\n')}\nbody: ${(await page.textContent('body'))?.slice(0, 500)}`,
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
    assert.deepEqual(browser.problems(), [], 'no console errors');
    const foreign = requested.filter(
      (u) => !u.startsWith(base) && !u.startsWith('data:') && !u.startsWith('blob:'),
    );
    assert.deepEqual(foreign, [], 'every request stays on this host');
    assert.ok(
      requested.includes(`${base}/api/docs/redoc.standalone.js`) &&
        requested.includes(`${base}/api/v1/openapi.json`),
    );
    await page.close();
  });
});
