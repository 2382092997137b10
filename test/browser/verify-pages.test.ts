/**
 * The verify pages in a real browser (Debian's chromium via playwright-core) at 1280 and 390 px:
 * the search page, a valid certificate, a mistyped serial and a tampered upload. Each: no button
 * label wraps, nothing scrolls sideways, axe finds no serious or critical violation.
 * Screenshots go to test-artifacts/browser/verify-*.png.
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { activePledgeWithCertificate } from '../helpers/pledges';
import { useRegistry } from '../helpers/registry';
import { assertAccessible, screenshot, useBrowserSite } from './harness';
import { assertNoButtonWraps, buttonFacts } from './layout-facts';

const WIDTHS = [
  { width: 1280, height: 900 },
  { width: 390, height: 844 },
] as const;

async function assertLaidOut(page: Page, where: string): Promise<void> {
  assertNoButtonWraps(await buttonFacts(page, 'body'), where);
  assert.equal(
    await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth + 1'),
    true,
    `${where}: no sideways scroll`,
  );
  await assertAccessible(page, where);
}

describe('verify pages in a real browser (1280 and 390 px)', function () {
  this.timeout(90_000);
  const r = useRegistry();
  let serial = '';
  let typo = '';
  let tampered: Buffer = Buffer.alloc(0);

  const site = useBrowserSite(r, {
    setup: async () => {
      await r.registry.certificateIssuer.stop();
      const p = await activePledgeWithCertificate(r);
      serial = p.serial;
      typo = serial.slice(0, -1) + (serial.endsWith('7') ? '8' : '7');
      tampered = Buffer.from(p.pdf);
      // One byte of the header's binary comment: only the PDF signature notices.
      tampered[10] = tampered[10]! ^ 0x01;
    },
    // The typo page answers 400 on purpose; the browser logs the status of the document load.
    expectedProblems:
      /\/verify\/EQI-[^:]+: Failed to load resource: the server responded with a status of 400/,
  });

  for (const v of WIDTHS) {
    it(`when the search page and a valid certificate are shown at ${v.width}px, then no button wraps and axe passes`, async () => {
      const page = await site.browser.newPage(v);
      await page.goto(`${site.base}/verify`);
      await screenshot(page, `verify-search-${v.width}`);
      await assertLaidOut(page, `verify ${v.width}`);
      await page.getByLabel('证书编号').fill(serial.replace(/-/g, ' ').toLowerCase());
      await page.getByRole('button', { name: '查验', exact: true }).click();
      await page.waitForURL(`${site.base}/verify/${serial}`);
      await page.getByRole('heading', { name: '证书有效' }).waitFor();
      await screenshot(page, `verify-valid-${v.width}`);
      await assertLaidOut(page, `valid ${v.width}`);
      await page.close();
    });

    it(`when a serial with a wrong check character is opened at ${v.width}px, then the page names the typo and its button leads back to the search box`, async () => {
      const page = await site.browser.newPage(v);
      await page.goto(`${site.base}/verify/${typo}`);
      await page.getByRole('heading', { name: '编号有误' }).waitFor();
      assert.ok(
        (await page.locator('main').innerText()).includes('编号的校验位不符，可能输错了一位'),
      );
      await screenshot(page, `verify-typo-${v.width}`);
      await assertLaidOut(page, `typo ${v.width}`);
      await page.getByRole('link', { name: '重新输入证书编号' }).click();
      await page.waitForURL(`${site.base}/verify#f-serial`);
      assert.equal(await page.locator('#f-serial').count(), 1);
      await page.close();
    });

    it(`when a tampered certificate is uploaded at ${v.width}px, then the failed verdict lists each check, passed lines say what they mean, and axe passes`, async () => {
      const page = await site.browser.newPage(v);
      await page.goto(`${site.base}/verify`);
      await page
        .getByLabel('证书文件（PDF）')
        .setInputFiles({ name: 'certificate.pdf', mimeType: 'application/pdf', buffer: tampered });
      await page.getByRole('button', { name: '上传并查验' }).click();
      await page.getByRole('heading', { name: '证书未通过查验' }).waitFor();
      const means = await page.locator('.checklist-pass .checklist-means').count();
      assert.equal(
        means,
        await page.locator('.checklist-pass').count(),
        'every passed line says what it means',
      );
      assert.ok(means > 0);
      const reason = await page.locator('.checklist-fail .checklist-reason').first().innerText();
      assert.match(reason, /^技术说明：\s*文件在签名之后被改动过。$/);
      await screenshot(page, `verify-tampered-${v.width}`);
      await assertLaidOut(page, `tampered ${v.width}`);
      await page.close();
    });
  }
});
