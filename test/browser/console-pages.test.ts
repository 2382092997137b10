/**
 * The console's main pages in a real browser at 1280 and 390 px (issue #17): the admin sign-in,
 * the review queue and a pledge's page. No button label wraps, the queue's filter bar fits (one or
 * two rows on the desktop, stacked on the phone), the pledge page's approve and reject groups sit
 * side by side on the desktop and stacked on the phone with the reason box in the reject group
 * only, its events read as lines, nothing scrolls sideways, and axe finds nothing serious.
 * Screenshots: test-artifacts/browser/console-pages-*.png.
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { signAndConfirm } from '../helpers/pledges';
import { useRegistry } from '../helpers/registry';
import { assertAccessible, screenshot, signedInAsAdmin, useBrowserSite } from './harness';
import { assertFilterLayout, assertNoButtonWraps, buttonFacts, filterFacts } from './layout-facts';

const WIDTHS = [
  { width: 1280, height: 900 },
  { width: 390, height: 844 },
] as const;

interface Box {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

interface DecisionFacts {
  approve: Box & { textareas: number };
  reject: Box & { textareas: number };
  changeLines: number;
  jsonCells: number;
  pageOverflow: boolean;
}

function decisionFacts(page: Page): Promise<DecisionFacts> {
  return page.evaluate(`(() => {
    const box = (sel) => {
      const el = document.querySelector(sel);
      const r = el.getBoundingClientRect();
      return { left: r.left, right: r.right, top: r.top, bottom: r.bottom, textareas: el.querySelectorAll('textarea').length };
    };
    return {
      approve: box('.decision-approve'),
      reject: box('.decision-reject'),
      changeLines: document.querySelectorAll('.console-events .change-lines li').length,
      jsonCells: [...document.querySelectorAll('.console-change')].filter((td) => /[{}]/.test(td.textContent)).length,
      pageOverflow: document.documentElement.scrollWidth > window.innerWidth + 1,
    };
  })()`);
}

describe('console pages in a real browser (1280 and 390 px)', function () {
  this.timeout(90_000);
  const r = useRegistry();
  let admin: { email: string; password: string };
  let pledgeId = '';
  const site = useBrowserSite(r, {
    seed: 6,
    setup: async () => {
      admin = await r.makeAdmin();
      pledgeId = (await signAndConfirm(r)).id;
    },
  });

  const signedIn = (viewport: { width: number; height: number }) =>
    signedInAsAdmin(site, admin, viewport);

  for (const v of WIDTHS) {
    it(`when the admin sign-in page is shown at ${v.width}px, then no button wraps and axe finds nothing serious`, async () => {
      const page = await site.browser.newPage(v);
      await page.goto(`${site.base}/admin/login`);
      await screenshot(page, `console-pages-login-${v.width}`);
      assertNoButtonWraps(await buttonFacts(page, 'body'), `login ${v.width}`);
      assert.equal(
        await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth + 1'),
        true,
        'no sideways scroll',
      );
      await assertAccessible(page, `login ${v.width}`);
      await page.close();
    });

    it(`when the review queue is shown at ${v.width}px, then the filter bar fits, no button wraps and axe finds nothing serious`, async () => {
      const page = await signedIn(v);
      await page.goto(`${site.base}/admin/pledges?status=pending_review`);
      await screenshot(page, `console-pages-queue-${v.width}`);
      assertNoButtonWraps(await buttonFacts(page, 'body'), `queue ${v.width}`);
      assertFilterLayout(await filterFacts(page), v.width, `queue ${v.width}`);
      await assertAccessible(page, `queue ${v.width}`);
      await page.close();
    });

    it(`when a pledge awaiting review is shown at ${v.width}px, then approve and reject are separate groups ${v.width >= 1280 ? 'side by side' : 'stacked'}, only reject has a reason box, events read as lines, and nothing wraps or overflows`, async () => {
      const page = await signedIn(v);
      await page.goto(`${site.base}/admin/pledges/${pledgeId}`);
      await screenshot(page, `console-pages-pledge-${v.width}`);
      const f = await decisionFacts(page);
      assert.equal(f.approve.textareas, 0, 'approving asks for no reason');
      assert.equal(f.reject.textareas, 1, 'rejecting has the reason box');
      const overlap = (a: Box, b: Box) =>
        Math.min(a.right, b.right) > Math.max(a.left, b.left) &&
        Math.min(a.bottom, b.bottom) > Math.max(a.top, b.top);
      assert.equal(overlap(f.approve, f.reject), false, 'the groups do not overlap');
      if (v.width >= 1280)
        assert.ok(
          f.approve.right <= f.reject.left && f.approve.top === f.reject.top,
          `side by side: ${JSON.stringify(f)}`,
        );
      else assert.ok(f.approve.bottom <= f.reject.top, `stacked: ${JSON.stringify(f)}`);
      assert.ok(f.changeLines >= 3, `events read as lines (${f.changeLines})`);
      assert.equal(f.jsonCells, 0, 'no event shows JSON');
      assert.equal(f.pageOverflow, false, 'the page does not scroll sideways');
      assertNoButtonWraps(await buttonFacts(page, 'main'), `pledge ${v.width}`);
      await assertAccessible(page, `pledge ${v.width}`);
      await page.close();
    });
  }
});
