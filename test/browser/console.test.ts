/**
 * The association's console in a real browser (Debian's chromium via playwright-core): an admin
 * signs in, works the review queue with the keyboard and mouse, approves and revokes, and every
 * console page passes axe without console errors.
 */
import assert from 'node:assert/strict';
import { Pledge } from '../../models/pledge';
import { signAndConfirm } from '../helpers/pledges';
import { useRegistry } from '../helpers/registry';
import { assertAccessible, screenshot, signedInAsAdmin, useBrowserSite } from './harness';

describe('association console in a real browser', function () {
  this.timeout(60_000);
  const r = useRegistry();
  const site = useBrowserSite(r, { seed: 6 });

  it('when an admin signs in, approves a pledge from the queue and revokes its certificate, then each page is accessible and shows the new state', async () => {
    const admin = await r.makeAdmin();
    const waiting = await signAndConfirm(r);
    const name = waiting.body.company.name;
    const page = await site.browser.newPage();

    await page.goto(`${site.base}/admin/pledges`);
    assert.match(page.url(), /\/admin\/login$/);
    await assertAccessible(page, 'console sign-in');
    await page.getByLabel('电子邮箱').fill(admin.email);
    await page.getByLabel('密码').fill(admin.password);
    await page.getByRole('button', { name: '登录' }).click();
    await page.waitForURL(/\/admin\/pledges\?status=pending_review/);
    await assertAccessible(page, 'review queue');
    await screenshot(page, 'console-queue');

    // Filter by name: only this pledge is listed.
    await page.getByLabel('企业名称或统一社会信用代码').fill(name);
    await page.getByRole('button', { name: '查找' }).click();
    await page.waitForURL(/q=/);
    assert.equal(await page.locator('tbody tr').count(), 1);
    await page.getByRole('link', { name }).click();
    await page.waitForURL(new RegExp(`/admin/pledges/${waiting.id}$`));
    await assertAccessible(page, 'pledge record');

    await page.getByRole('checkbox', { name: /核查了证明材料/ }).check();
    await page.getByRole('button', { name: '通过审核' }).click();
    await page.waitForURL(/done=approved/);
    assert.equal((await Pledge.findById(waiting.id).lean())?.status, 'active');

    await r.registry.certificateIssuer.idle();
    r.registry.certificateIssuer.poke();
    await r.registry.certificateIssuer.idle();
    const serial = (await Pledge.findById(waiting.id).lean())!.certificateSerial!;
    await page.goto(`${site.base}/admin/pledges/${waiting.id}`);
    await page.locator('form[action$="/revoke"] textarea').fill('质量投诉经核查属实');
    await page.getByRole('button', { name: '撤销证书' }).click();
    await page.waitForURL(/done=revoked/);
    await assertAccessible(page, 'pledge record after revocation');
    await screenshot(page, 'console-pledge-revoked');

    await page.goto(`${site.base}/verify/${serial}`);
    assert.match(await page.locator('main').innerText(), /已撤销/);
    await page.close();
  });

  it('when the other console pages are opened, in Chinese and English, then each passes axe', async () => {
    const admin = await r.makeAdmin();
    const page = await signedInAsAdmin(site, admin);
    for (const path of [
      '/admin/initiatives',
      '/admin/initiatives/1',
      '/admin/exports',
      '/admin/accounts',
      '/admin/audit',
      '/admin/pledges?status=bogus',
    ]) {
      await page.goto(`${site.base}${path}`);
      await assertAccessible(page, path);
    }
    site.browser.allow(/status of 400/);
    await page.goto(`${site.base}/admin/audit?lang=en`);
    assert.match(await page.locator('h1').innerText(), /Audit log/);
    await assertAccessible(page, 'audit log (en)');
    await screenshot(page, 'console-audit-en');
    await page.close();
  });
});
