/**
 * Layout facts in a real browser (Debian's chromium via playwright-core) at a desktop (1280 px)
 * and a phone (390 px) width: every input looks like the others (password and date included), no
 * button label wraps (a button is exactly one line box tall), and filter bars fit their box — on
 * one or two clean rows on the desktop, stacked on the phone. Screenshots go to
 * test-artifacts/browser/layout-*.png.
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { useRegistry } from '../helpers/registry';
import { assertAccessible, screenshot, signedInAsAdmin, useBrowserSite } from './harness';
import { assertFilterLayout, assertNoButtonWraps, buttonFacts, filterFacts } from './layout-facts';

const WIDTHS = [
  { name: 'desktop', width: 1280, height: 900 },
  { name: 'phone', width: 390, height: 844 },
] as const;

/** The look of a text box; every kind of input must share it. */
const BOX_STYLE = [
  'border-top-width',
  'border-top-style',
  'border-top-color',
  'border-radius',
  'padding-left',
  'padding-top',
  'min-height',
  'font-size',
  'font-family',
  'background-color',
  'color',
];

/** Computed box styles of the first element matching each selector. */
function boxStyles(
  page: Page,
  selectors: string[],
): Promise<Record<string, Record<string, string>>> {
  return page.evaluate(`(() => {
    const out = {};
    for (const sel of ${JSON.stringify(selectors)}) {
      const el = document.querySelector(sel);
      if (!el) continue;
      const s = getComputedStyle(el);
      out[sel] = Object.fromEntries(${JSON.stringify(BOX_STYLE)}.map((p) => [p, s.getPropertyValue(p)]));
    }
    return out;
  })()`);
}

async function assertSameBoxes(
  page: Page,
  reference: string,
  others: string[],
  where: string,
): Promise<void> {
  const styles = await boxStyles(page, [reference, ...others]);
  assert.ok(styles[reference], `${where}: ${reference} is on the page`);
  for (const o of others) {
    assert.ok(styles[o], `${where}: ${o} is on the page`);
    assert.deepEqual(styles[o], styles[reference], `${where}: ${o} is styled like ${reference}`);
  }
}

describe('layout in a real browser (1280 and 390 px)', function () {
  this.timeout(90_000);
  const r = useRegistry();
  let admin: { email: string; password: string };
  const site = useBrowserSite(r, {
    seed: 8,
    setup: async () => {
      admin = await r.makeAdmin();
    },
  });

  const signedIn = (viewport: { width: number; height: number }) =>
    signedInAsAdmin(site, admin, viewport);

  for (const v of WIDTHS) {
    it(`when the admin sign-in page is shown at ${v.width}px, then the password box looks like the e-mail box and the button is one line`, async () => {
      const page = await site.browser.newPage(v);
      await page.goto(`${site.base}/admin/login`);
      await screenshot(page, `layout-admin-login-${v.width}`);
      await assertSameBoxes(
        page,
        'input[type=email]',
        ['input[type=password]'],
        `admin login ${v.width}`,
      );
      assertNoButtonWraps(await buttonFacts(page, 'body'), `admin login ${v.width}`);
      await assertAccessible(page, `admin login ${v.width}`);
      await page.close();
    });

    it(`when the review queue is shown at ${v.width}px, then date boxes look like text boxes, no button wraps and the filter bar ${v.width >= 1280 ? 'takes one or two rows' : 'stacks'}`, async () => {
      const page = await signedIn(v);
      await page.goto(`${site.base}/admin/pledges?status=active`);
      await screenshot(page, `layout-console-queue-${v.width}`);
      await screenshot(page, `layout-console-queue-${v.width}-top`, false);
      await assertSameBoxes(
        page,
        'form.filters input[type=search], form.filters input[type=text]',
        ['form.filters input[type=date]'],
        `queue ${v.width}`,
      );
      assertNoButtonWraps(await buttonFacts(page, 'body'), `queue ${v.width}`);
      assertFilterLayout(await filterFacts(page), v.width, `queue ${v.width}`);
      await assertAccessible(page, `queue ${v.width}`);
      await page.close();
    });

    it(`when the audit and export pages are shown at ${v.width}px, then their date boxes are styled and no button wraps`, async () => {
      const page = await signedIn(v);
      await page.goto(`${site.base}/admin/audit`);
      await screenshot(page, `layout-console-audit-${v.width}`);
      await assertSameBoxes(
        page,
        'form.filters input[type=text]',
        ['form.filters input[type=date]'],
        `audit ${v.width}`,
      );
      assertNoButtonWraps(await buttonFacts(page, 'body'), `audit ${v.width}`);
      if (await page.locator('form.filters').count())
        assertFilterLayout(await filterFacts(page), v.width, `audit ${v.width}`);
      await page.goto(`${site.base}/admin/exports`);
      await assertSameBoxes(page, 'main select', ['main input[type=date]'], `exports ${v.width}`);
      assertNoButtonWraps(await buttonFacts(page, 'body'), `exports ${v.width}`);
      await page.close();
    });

    it(`when the public directory is shown at ${v.width}px, then its filter bar ${v.width >= 1280 ? 'is one or two rows' : 'stacks'} and no button wraps`, async () => {
      const page = await site.browser.newPage(v);
      await page.goto(`${site.base}/directory?province=11`);
      await screenshot(page, `layout-directory-${v.width}`);
      assertNoButtonWraps(await buttonFacts(page, 'body'), `directory ${v.width}`);
      assertFilterLayout(await filterFacts(page), v.width, `directory ${v.width}`);
      await page.close();
    });

    it(`when the page on how to check a certificate is shown at ${v.width}px, then it does not scroll sideways and passes axe`, async () => {
      const page = await site.browser.newPage(v);
      await page.goto(`${site.base}/about/verification`);
      await screenshot(page, `layout-about-verification-${v.width}`);
      assert.equal(
        await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth + 1'),
        true,
        'no sideways scroll',
      );
      await assertAccessible(page, `about/verification ${v.width}`);
      await page.close();
    });
  }
});
