/**
 * The site in a real browser (Debian's chromium via playwright-core) against the real app
 * listening on a port, with the in-memory store and the in-process SMTP server.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import request from 'supertest';
import { Pledge } from '../../models/pledge';
import { seed } from '../../scripts/seed';
import { makeUscc } from '../../src/domain/uscc';
import { activePledge, letterPdf, waitForMailSince } from '../helpers/pledges';
import { useRegistry } from '../helpers/registry';
import { tokenFromMail } from '../helpers/smtp';
import { assertAccessible, screenshot, useBrowserSite } from './harness';

const PHONE = { width: 390, height: 844 };
/** Fictional signatories seeded first: the test company becomes founder SEEDED + 1, and the directory has two pages. */
const SEEDED = 22;
const NUMBER = String(SEEDED + 1);
const NAME = '浏览器测试示例精密制造有限公司';
const EMAIL = 'browser-signatory@example.cn';

describe('site in a real browser', function () {
  this.timeout(60_000);
  const r = useRegistry();
  let admin: { token: string };
  /** The browser-signed company's pledge and certificate serial (set by the first scenario). */
  let signed: { id: string; serial: string };

  // After each test: no console errors (CSP violations, failed loads, script errors) on any page.
  const site = useBrowserSite(r, {
    setup: async () => {
      // Issuing PDFs for every seeded signatory in the background would only compete with the
      // browser for CPU: the tests issue the certificates they look at themselves.
      await r.registry.certificateIssuer.stop();
      admin = await r.makeAdmin();
      await seed(SEEDED);
    },
  });

  async function visit(page: Page, path: string): Promise<void> {
    const res = await page.goto(site.base + path);
    assert.ok(res, `no response for ${path}`);
  }

  /** Signs in through the login form and the e-mailed link's button; ends on /me. */
  async function signIn(page: Page, email: string): Promise<void> {
    await visit(page, '/me');
    await page.waitForURL(`${site.base}/login`);
    await assertAccessible(page, 'login');
    const since = r.smtp.received.length;
    await page.getByLabel('电子邮箱').fill(email);
    await page.getByRole('button', { name: '发送登录链接' }).click();
    await page.getByRole('heading', { name: '请查收登录邮件' }).waitFor();
    const mail = await waitForMailSince(r, email, /login\/verify\?token=/, since);
    await visit(
      page,
      `/login/verify?token=${encodeURIComponent(tokenFromMail(mail, '/login/verify'))}`,
    );
    await page.getByRole('button', { name: '登录' }).click();
    await page.waitForURL(`${site.base}/me`);
  }

  it('when a company signs (correcting an invalid USCC), confirms by e-mail and is approved, then it appears on the founders page and its certificate’s verify page says valid', async () => {
    const page = await site.browser.newPage();
    await visit(page, '/');
    await screenshot(page, 'home-zh');
    await page.getByRole('link', { name: '签署倡议书' }).first().click();
    await page.waitForURL(`${site.base}/sign`);

    const uscc = makeUscc({ provinceCode: '33', serial: 424242 });
    const wrong = uscc.slice(0, 17) + (uscc[17] === '0' ? '1' : '0');
    const usccInput = page.getByLabel('统一社会信用代码');
    await usccInput.fill(wrong);
    const usccError = page.locator('#f-uscc-error');
    await assert.doesNotReject(
      usccError.filter({ hasText: '校验位' }).waitFor({ timeout: 5000 }),
      'the inline message appears',
    );
    assert.equal(await usccInput.getAttribute('aria-invalid'), 'true');
    await assertAccessible(page, 'sign with an inline error');
    await screenshot(page, 'sign-invalid-uscc', false);

    await usccInput.fill(uscc.toLowerCase());
    await page.locator('#f-uscc-province').filter({ hasText: '浙江' }).waitFor({ timeout: 5000 });
    assert.equal(await usccError.textContent(), '');
    assert.equal(await usccInput.getAttribute('aria-invalid'), null);

    await page.getByLabel('企业名称').fill(NAME);
    await page.getByLabel('所属行业').selectOption('C');
    await page.getByLabel('姓名').fill('周示例');
    await page.getByLabel('职务').fill('法定代表人');
    await page.getByLabel('电子邮箱').fill(EMAIL);
    await page.locator('#f-letter').setInputFiles({
      name: '授权书.pdf',
      mimeType: 'application/pdf',
      buffer: await letterPdf(),
    });
    await page.getByLabel(/我已阅读/).check();
    await screenshot(page, 'sign-filled');
    await page.getByRole('button', { name: '提交签署' }).click();
    await page.waitForURL(`${site.base}/sign/sent`);
    await page.getByRole('heading', { name: '请查收确认邮件' }).waitFor();
    await assertAccessible(page, 'sign sent');
    await screenshot(page, 'sign-sent');

    const token = tokenFromMail(await r.smtp.waitFor(EMAIL, /confirm\?token=/), '/confirm');
    await visit(page, `/confirm?token=${encodeURIComponent(token)}`);
    await assertAccessible(page, 'confirm');
    await page.getByRole('button', { name: '确认签署' }).click();
    await page.getByRole('heading', { name: '签署已确认' }).waitFor();
    await assertAccessible(page, 'confirmed');
    await screenshot(page, 'confirmed');

    const queue = await request(r.app)
      .get('/api/v1/admin/pledges?status=pending_review')
      .set('Authorization', `Bearer ${admin.token}`)
      .expect(200);
    const pledge = queue.body.items.find(
      (p: { company: { uscc: string } }) => p.company.uscc === uscc,
    );
    assert.ok(pledge, 'the pledge awaits review');
    const approved = await request(r.app)
      .post(`/api/v1/admin/pledges/${pledge.id}/approve`)
      .set('Authorization', `Bearer ${admin.token}`)
      .send({ evidenceChecked: true })
      .expect(200);
    assert.equal(approved.body.foundingNumber, SEEDED + 1);

    await page.getByRole('link', { name: '发起企业' }).first().click();
    await page.waitForURL(`${site.base}/founders`);
    const row = page.locator('tbody tr', { hasText: NAME });
    assert.equal(await row.locator('.founder-no').textContent(), NUMBER);
    assert.equal((await row.locator('.badge').textContent())?.trim(), '有效');
    await assertAccessible(page, 'founders');
    await screenshot(page, 'founders-zh');

    // Its certificate (issued here rather than by the stopped background issuer): the QR address says valid.
    const cert = await r.registry.certificates.issueFor((await Pledge.findById(pledge.id).lean())!);
    signed = { id: pledge.id, serial: cert.serial };
    await visit(page, `/verify/${cert.serial}`);
    await page.getByRole('heading', { name: '证书有效' }).waitFor();
    assert.equal(await page.locator('.verdict').getAttribute('class'), 'verdict verdict-valid');
    await page.getByText(NAME).first().waitFor();
    await assertAccessible(page, 'verdict valid');
    await screenshot(page, 'verdict-valid');
    await page.close();
  });

  it('when the visitor switches language, then pages are English (lang attribute, texts) until switched back', async () => {
    const page = await site.browser.newPage();
    await visit(page, '/founders');
    assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
    await page.getByRole('link', { name: /English/ }).click();
    await page.getByRole('heading', { name: 'Founding signatories' }).waitFor();
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    await page.getByRole('link', { name: 'Home' }).click();
    await page
      .getByRole('heading', { name: 'Quality as our foundation, integrity as our word' })
      .waitFor();
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    await assertAccessible(page, 'home (en)');
    await screenshot(page, 'home-en');
    await page.getByRole('link', { name: /中文/ }).click();
    await page.getByRole('heading', { name: '以质量立身，以诚信立业' }).waitFor();
    assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
    await page.close();
  });

  it('when the directory is filtered and paged, then the rows match and each state has its own URL', async () => {
    const page = await site.browser.newPage();
    await visit(page, '/directory');
    await assertAccessible(page, 'directory');
    assert.match(
      (await page.locator('.result-count').textContent()) ?? '',
      new RegExp(`共 ${SEEDED + 1} 家企业`),
    );

    await page.getByRole('link', { name: '下一页' }).click();
    await page.waitForURL(`${site.base}/directory?page=2`);
    assert.equal(await page.locator('.pagination [aria-current="page"]').textContent(), '2');

    await page.getByLabel('省份').selectOption('11');
    await page.getByRole('button', { name: '查找' }).click();
    await page.waitForURL(/\/directory\?q=&province=11&industry=$/);
    const provinces = await page.locator('tbody td[data-label="省份"]').allTextContents();
    assert.ok(provinces.length > 0);
    assert.ok(
      provinces.every((p) => p.trim() === '北京'),
      provinces.join(),
    );
    await screenshot(page, 'directory-filtered');

    await page.getByLabel('企业名称或统一社会信用代码').fill('浏览器测试');
    await page.getByLabel('省份').selectOption('');
    await page.getByRole('button', { name: '查找' }).click();
    await page.waitForURL(/q=%E6%B5%8F/);
    assert.match((await page.locator('.result-count').textContent()) ?? '', /共 1 家企业/);
    await page.getByRole('link', { name: '清除条件' }).click();
    await page.waitForURL(`${site.base}/directory`);
    await page.close();
  });

  it('when the company signs in, then it downloads its certificate, the upload of that file passes every check, and after revocation its verify page says revoked', async () => {
    const page = await site.browser.newPage();
    await signIn(page, EMAIL);
    await page.getByText(NAME).first().waitFor();
    const download = page.getByRole('link', { name: '下载证书（PDF）' });
    await download.waitFor();
    assert.equal(
      await page.getByRole('link', { name: signed.serial }).getAttribute('href'),
      `/verify/${signed.serial}`,
    );
    await assertAccessible(page, 'company area with the certificate');
    await screenshot(page, 'me-certificate');
    const cookies = await site.browser.context.cookies(site.base);
    const session = cookies.find((c) => c.name === 'eqi_session');
    assert.ok(session && session.httpOnly && session.sameSite === 'Lax', JSON.stringify(session));

    const [file] = await Promise.all([page.waitForEvent('download'), download.click()]);
    assert.equal(file.suggestedFilename(), `${signed.serial}.pdf`);
    const pdfPath = await file.path();
    assert.equal(readFileSync(pdfPath).subarray(0, 5).toString('latin1'), '%PDF-');

    // Anyone can check the file: choose it on /verify and upload it.
    await page.getByRole('link', { name: '证书查验' }).first().click();
    await page.waitForURL(`${site.base}/verify`);
    await page.getByRole('button', { name: '上传并查验' }).click();
    await page
      .locator('#f-file-error')
      .filter({ hasText: '请选择要查验的证书 PDF 文件。' })
      .waitFor();
    await assertAccessible(page, 'upload without a file');
    await screenshot(page, 'verify-upload-no-file');
    site.browser.allow(
      /\/verify\/upload: Failed to load resource: the server responded with a status of 400/,
    );
    await page.getByLabel('证书文件（PDF）').setInputFiles(pdfPath);
    await page.getByRole('button', { name: '上传并查验' }).click();
    await page.getByRole('heading', { name: '证书真实有效' }).waitFor();
    const results = await page.locator('.checklist-result strong').allTextContents();
    assert.ok(results.length >= 7, results.join());
    assert.ok(
      results.every((t) => t === '通过'),
      results.join(),
    );
    await assertAccessible(page, 'upload result');
    await screenshot(page, 'verify-upload-valid');

    await request(r.app)
      .post(`/api/v1/admin/certificates/${signed.serial}/revoke`)
      .set('Authorization', `Bearer ${admin.token}`)
      .send({ reason: '浏览器测试：撤销证书' })
      .expect(200);
    await page.getByRole('link', { name: '查看该证书的在线状态' }).click();
    await page.waitForURL(`${site.base}/verify/${signed.serial}`);
    await page.getByRole('heading', { name: '证书已撤销' }).waitFor();
    assert.equal(await page.locator('.verdict').getAttribute('class'), 'verdict verdict-revoked');
    await page.getByText('浏览器测试：撤销证书').waitFor();
    await assertAccessible(page, 'verdict revoked');
    await screenshot(page, 'verdict-revoked');

    await visit(page, '/me');
    assert.equal(await page.getByRole('link', { name: '下载证书（PDF）' }).count(), 0);
    await page.getByText('该证书已不再有效。').waitFor();
    await visit(page, '/founders');
    const row = page.locator('tbody tr', { hasText: NAME });
    assert.equal(await row.locator('.founder-no').textContent(), NUMBER);
    assert.equal((await row.locator('.badge').textContent())?.trim(), '已撤销');
    await page.getByRole('link', { name: '企业中心' }).click();
    await page.getByRole('button', { name: '退出登录' }).click();
    await page.waitForURL(`${site.base}/`);
    await page.close();
  });

  it('when another company signs in by e-mail link on a phone and withdraws, then it keeps its founder number, shown as withdrawn', async () => {
    const other = await activePledge(r, admin.token);
    assert.equal(other.foundingNumber, SEEDED + 2);
    const page = await site.browser.newPage(PHONE);
    await signIn(page, other.body.signatory.email);
    await page.getByText(other.body.company.name).first().waitFor();
    await assertAccessible(page, 'company area');
    await screenshot(page, 'me-phone');

    await page.getByLabel('撤回原因').fill('测试撤回');
    await page.getByRole('button', { name: '确认撤回签署' }).click();
    await page.getByText('签署已撤回。').waitFor();
    await visit(page, '/founders');
    const row = page.locator('tbody tr', { hasText: other.body.company.name });
    assert.equal(await row.locator('.founder-no').textContent(), String(SEEDED + 2));
    assert.equal((await row.locator('.badge').textContent())?.trim(), '已撤回');
    await screenshot(page, 'founders-phone', false);
    await page.getByRole('link', { name: '企业中心' }).click();
    await page.getByRole('button', { name: '退出登录' }).click();
    await page.waitForURL(`${site.base}/`);
    await page.close();
  });

  it('when the remaining pages are opened on a desktop and a phone, then axe finds no serious violation and nothing logs an error', async () => {
    const desktop = await site.browser.newPage();
    await visit(desktop, '/stats');
    await assertAccessible(desktop, 'stats');
    await screenshot(desktop, 'stats-zh');

    await visit(desktop, '/verify');
    await assertAccessible(desktop, 'verify');
    await desktop.getByLabel('证书编号').fill('EQI-2026-000123-F');
    await desktop.getByRole('button', { name: '查验', exact: true }).click();
    await desktop.waitForURL(`${site.base}/verify/EQI-2026-000123-F`);
    await desktop.getByRole('heading', { name: '未找到该证书' }).waitFor();
    await assertAccessible(desktop, 'verdict');
    await screenshot(desktop, 'verdict-not-found');
    await visit(desktop, '/no/such/page');
    await desktop.getByRole('heading', { name: '页面不存在' }).waitFor();
    await assertAccessible(desktop, '404');
    await screenshot(desktop, 'error-404');
    // Those two pages answer 404 on purpose; the browser logs the status of the document load.
    site.browser.allow(
      /\/(verify\/EQI-2026-000123-F|no\/such\/page): Failed to load resource: the server responded with a status of 404/,
    );

    const phone = await site.browser.newPage(PHONE);
    for (const [path, name, axe] of [
      ['/', 'home-phone', true],
      ['/sign', 'sign-phone', true],
      ['/directory', 'directory-phone', false],
      ['/stats?lang=en', 'stats-phone-en', false],
    ] as const) {
      await visit(phone, path);
      if (axe) await assertAccessible(phone, `${path} (phone)`);
      await screenshot(phone, name);
    }
    await desktop.close();
    await phone.close();
  });
});
