/**
 * Who may act for a company, end to end in a real browser (issue #12): a signer signs with an
 * authorisation letter PDF and confirms from the mail; the reviewer sees the letter's first page
 * drawn by pdf.js and a duplicate warning (another company already active under the same name,
 * e-mail and phone), ticks "evidence checked" and approves; the signer gets the approval mail.
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import request from 'supertest';
import { Pledge } from '../../models/pledge';
import { makeUscc } from '../../src/domain/uscc';
import { PDFJS_URLS } from '../../src/site/vendor';
import { activePledge, letterPdf, signBodyFor } from '../helpers/pledges';
import { useRegistry } from '../helpers/registry';
import { decodeMail, tokenFromMail } from '../helpers/smtp';
import { assertAccessible, screenshot, signedInAsAdmin, useBrowserSite } from './harness';

const NAME = '证明材料浏览器测试精密制造有限公司';
const EMAIL = 'evidence-browser@example.cn';
const PHONE = '+86 571 8888 0001';
const USCC = makeUscc({ provinceCode: '33', serial: 515151 });

/** How many pixels of the canvas are not (near) white: a drawn page has text on it. */
async function inkedPixels(page: Page, selector: string): Promise<number> {
  return page.evaluate((sel) => {
    const doc = (globalThis as unknown as { document: { querySelector(s: string): unknown } })
      .document;
    const canvas = doc.querySelector(sel) as {
      width: number;
      height: number;
      getContext(k: '2d'): {
        getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
      };
    };
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    let n = 0;
    for (let i = 0; i < data.length; i += 4) if (data[i] < 200 && data[i + 3] > 0) n++;
    return n;
  }, selector);
}

describe('evidence and review in a real browser', function () {
  this.timeout(90_000);
  const r = useRegistry();
  let admin: Awaited<ReturnType<typeof r.makeAdmin>>;
  const site = useBrowserSite(r, {
    setup: async () => {
      // Certificates for the approved pledges are not what this test looks at.
      await r.registry.certificateIssuer.stop();
      admin = await r.makeAdmin();
      // The company already on the register under the same name, e-mail and phone.
      await activePledge(
        r,
        admin.token,
        await signBodyFor(r.app, {
          company: { name: NAME },
          signatory: { email: EMAIL, phone: PHONE },
        }),
      );
    },
  });

  it('when a company signs with a letter PDF and confirms, then the reviewer sees its first page and the duplicate warning, approves with the evidence ticked, and the signer is mailed the approval', async () => {
    const uscc = USCC;
    const page = await site.browser.newPage();
    await page.goto(`${site.base}/sign`);
    await page.getByLabel('统一社会信用代码').fill(uscc);
    await page.locator('#f-uscc-province').filter({ hasText: '浙江' }).waitFor({ timeout: 5000 });
    await page.getByLabel('企业名称').fill(NAME);
    await page.getByLabel('所属行业').selectOption('C');
    await page.getByLabel('姓名').fill('钱示例');
    await page.getByLabel('职务').fill('法定代表人');
    await page.getByLabel('电子邮箱').fill(EMAIL);
    await page.getByLabel(/电话/).fill(PHONE);
    await page.locator('#f-letter').setInputFiles({
      name: '授权书.pdf',
      mimeType: 'application/pdf',
      buffer: await letterPdf(),
    });
    await page.getByLabel(/我已阅读/).check();
    const since = r.smtp.received.length;
    await page.getByRole('button', { name: '提交签署' }).click();
    await page.waitForURL(`${site.base}/sign/sent`);

    // The confirmation link from the mail the registry sent (the test SMTP server is its outbox).
    const confirmMail = await waitForNewMail(since, /confirm\?token=/);
    const token = tokenFromMail(confirmMail, '/confirm');
    await page.goto(`${site.base}/confirm?token=${encodeURIComponent(token)}`);
    await page.getByRole('button', { name: '确认签署' }).click();
    await page.getByRole('heading', { name: '签署已确认' }).waitFor();
    const pledge = (await Pledge.findOne({ uscc }).lean())!;
    assert.equal(pledge.status, 'pending_review');
    await page.close();

    const review = await signedInAsAdmin(site, admin);
    await review.goto(`${site.base}/admin/pledges/${String(pledge._id)}`);
    // The letter's first page, drawn by pdf.js from /vendor/ with the admin's session.
    const canvas = review.locator('canvas.evidence-preview');
    await canvas.waitFor({ timeout: 20_000 });
    assert.equal(await canvas.getAttribute('role'), 'img');
    assert.match(String(await canvas.getAttribute('aria-label')), /授权书/);
    assert.ok(
      (await inkedPixels(review, 'canvas.evidence-preview')) > 50,
      'the page is drawn, not blank',
    );
    const warnings = await review.locator('main').innerText();
    assert.match(warnings, /企业名称相同/);
    assert.match(warnings, /签署人的电子邮箱也签署了/);
    assert.match(warnings, /签署人的电话号码也签署了/);
    await assertAccessible(review, 'pledge review with evidence preview');
    await screenshot(review, 'console-evidence-preview');

    await review.getByRole('checkbox', { name: /核查了证明材料/ }).check();
    const beforeApproval = r.smtp.received.length;
    await review.getByRole('button', { name: '通过审核' }).click();
    await review.waitForURL(/done=approved/);
    assert.equal((await Pledge.findById(pledge._id).lean())!.status, 'active');
    // The approval's audit event, in the event list: the evidence was checked.
    const row = review.locator('tr', { hasText: 'pledge.activated' });
    assert.match(await row.innerText(), /已核查证明材料：\s*是/);

    const approval = await waitForNewMail(beforeApproval, /approved and is now active/);
    assert.match(decodeMail(approval.raw), new RegExp(uscc));
    await review.close();
  });

  it('when someone without a console session asks for the evidence, then it is refused, while the pdf.js files are served as scripts to anyone and public pages do not load them', async () => {
    const pledge = (await Pledge.findOne({ uscc: USCC }).lean())!;
    const listed = await request(r.app)
      .get(`/api/v1/admin/pledges/${String(pledge._id)}/evidence`)
      .set('Authorization', `Bearer ${admin.token}`)
      .expect(200);
    const fileId = (listed.body.items as Array<{ id: string }>)[0].id;
    const url = `/admin/pledges/${String(pledge._id)}/evidence/${fileId}`;
    const anonymous = await request(r.app).get(url);
    assert.equal(anonymous.status, 303);
    assert.match(String(anonymous.headers.location), /\/admin\/login/);
    assert.equal(
      (await request(r.app).get(`/api/v1${url}`)).status,
      401,
      'the API wants an admin token',
    );
    for (const lib of [PDFJS_URLS.lib, PDFJS_URLS.worker]) {
      const res = await request(r.app).get(lib).expect(200);
      assert.match(String(res.headers['content-type']), /^text\/javascript/);
      assert.match(String(res.headers['cache-control']), /immutable/);
    }
    await request(r.app).get('/vendor/pdfjs-0.0.0/pdf.min.mjs').expect(404);
    const page = await request(r.app).get('/sign').expect(200);
    assert.doesNotMatch(page.text, /\/vendor\/pdfjs/, 'public pages do not load pdf.js');
  });

  async function waitForNewMail(since: number, pattern: RegExp) {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const hit = r.smtp.received
        .slice(since)
        .find((m) => m.to.includes(EMAIL) && pattern.test(decodeMail(m.raw)));
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error(`no mail to ${EMAIL} matching ${pattern}`);
      await new Promise((res) => setTimeout(res, 25));
    }
  }
});
