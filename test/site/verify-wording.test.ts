/**
 * What the verify pages say (issue #17): a mistyped serial is named as a typo with a way back to
 * the search box; on an upload, each check says what it compared, a passed line on a failed
 * verdict says how little it proves alone, and the technical reasons are in the page language
 * (translated by their stable code; the API keeps the English text beside the code).
 */
import assert from 'node:assert/strict';
import request from 'supertest';
import { makeSerial, parseSerial, REASON_CODES } from '../../certificates';
import { REGISTRY_REASON_CODES } from '../../src/certificates/verification';
import { en } from '../../src/i18n/messages/en';
import { zhCN } from '../../src/i18n/messages/zh-CN';
import { activePledgeWithCertificate, useManualCertificates } from '../helpers/pledges';
import { useRegistry } from '../helpers/registry';
import { checksOf, escaped, EXPECTED_UPLOAD_CHECKS, uploadOnSite } from './helpers';

const TYPO_ZH = '编号的校验位不符，可能输错了一位';
const TYPO_EN = 'The check character does not match: one character was probably mistyped.';

/** The same serial with its check character replaced by another one of the alphabet. */
function withWrongCheck(serial: string): string {
  const right = serial.at(-1)!;
  return serial.slice(0, -1) + (right === '7' ? '8' : '7');
}

describe('verify pages: plain words for typos and for what each check compared', () => {
  const r = useRegistry();
  const manual = useManualCertificates(r);

  describe('a serial with a wrong check character', () => {
    it('when /verify/EQI-2026-000001-7 is opened, then the page says the check character does not match, links the search box, and does not call it a certificate never issued', async () => {
      assert.deepEqual(parseSerial('EQI-2026-000001-7'), { ok: false, error: 'checksum' });
      const zh = await request(r.app).get('/verify/EQI-2026-000001-7').expect(400);
      assert.ok(zh.text.includes(TYPO_ZH), 'the typo is named');
      assert.match(zh.text, /class="verdict verdict-mistyped"/);
      assert.match(zh.text, /<code>EQI-2026-000001-7<\/code>/);
      assert.match(
        zh.text,
        /<a class="button button-primary" href="\/verify#f-serial">重新输入证书编号<\/a>/,
      );
      assert.doesNotMatch(zh.text, /请勿采信|没有颁发过/);
      const enPage = await request(r.app).get('/verify/EQI-2026-000001-7?lang=en').expect(400);
      assert.ok(enPage.text.includes(TYPO_EN), 'the typo is named in English');
      assert.doesNotMatch(enPage.text, /has not issued/);
      // The link's target exists on the search page.
      const search = await request(r.app).get('/verify').expect(200);
      assert.match(search.text, /<input id="f-serial" name="serial"/);
    });

    it('when the typo is typed with spaces and in lower case, then the search box leads to the same typo page', async () => {
      const go = await request(r.app).get('/verify?serial=eqi%202026%20000001%207').expect(303);
      const page = await request(r.app).get(go.headers.location!).expect(400);
      assert.ok(page.text.includes(TYPO_ZH));
    });

    it('when the serial of a real certificate is mistyped in its last character, then it is a typo, while the right one shows the certificate', async () => {
      const p = await activePledgeWithCertificate(r, manual);
      const serial = p.serial;
      await request(r.app).get(`/verify/${serial}`).expect(200);
      const typo = await request(r.app)
        .get(`/verify/${withWrongCheck(serial)}`)
        .expect(400);
      assert.ok(typo.text.includes(TYPO_ZH));
      assert.ok(!typo.text.includes(p.body.company.name), 'no certificate is shown for a typo');
    });

    it('when a serial is unknown but well-formed, then it is still "not found", not a typo', async () => {
      const unknown = makeSerial(2026, 999_999);
      const res = await request(r.app).get(`/verify/${unknown}`).expect(404);
      assert.match(res.text, /class="verdict verdict-not-found"/);
      assert.ok(!res.text.includes(TYPO_ZH));
    });

    it('when the search box gives an example, then the example is a valid serial', async () => {
      for (const [lang, catalog] of [
        ['zh-CN', zhCN],
        ['en', en],
      ] as const) {
        const example = /EQI-\d{4}-\d{6}-[0-9A-Z]/.exec(catalog['verify.serial.hint'])?.[0];
        assert.ok(example && parseSerial(example).ok, `${lang}: ${example}`);
      }
    });
  });

  describe('an uploaded certificate', () => {
    let pdf: Buffer = Buffer.alloc(0);

    before(async function () {
      this.timeout(30_000);
      ({ pdf } = await activePledgeWithCertificate(r, manual));
    });

    const upload = (file: Buffer, lang = 'zh-CN') => uploadOnSite(r.app, file, lang);

    /** One byte of the header's binary comment changed: only the PDF signature notices. */
    function tampered(): Buffer {
      const t = Buffer.from(pdf);
      assert.equal(t[9], '%'.charCodeAt(0));
      t[10] = t[10]! ^ 0x01;
      return t;
    }

    it('when a tampered certificate is uploaded, then the registry line says it compared the embedded credential, not the page, and every passed line says what it means on its own', async () => {
      const res = await upload(tampered());
      assert.equal(res.status, 200);
      assert.match(res.text, /class="verdict verdict-invalid"/);
      const checks = checksOf(res.text);
      const registry = checks.find((c) => c.name === 'registry-match')!;
      assert.ok(registry.ok, 'the credential still equals the record');
      assert.ok(registry.text.includes(escaped(zhCN['upload.check.registry-match'])));
      assert.match(
        registry.text,
        /电子凭证所载信息与本平台登记记录一致（比对的是电子凭证，不是页面）/,
      );
      assert.doesNotMatch(res.text, /证书所载信息与本平台登记记录一致/);
      for (const c of checks.filter((c) => c.ok)) {
        const means = zhCN[`upload.means.${c.name}` as keyof typeof zhCN];
        assert.ok(
          c.text.includes(`<p class="checklist-means">含义： ${escaped(means)}</p>`),
          `${c.name} says what it means`,
        );
      }
      assert.ok(registry.text.includes('没有比对页面上印的内容'));
      for (const c of checks.filter((c) => !c.ok))
        assert.doesNotMatch(c.text, /checklist-means/, `${c.name}: a failed line needs no caveat`);
    });

    it('when a tampered certificate is uploaded, then the technical reason is in the page language; the API keeps the English reason with its code', async () => {
      const zh = checksOf((await upload(tampered())).text).find((c) => c.name === 'pdf-signature')!;
      assert.ok(!zh.ok);
      assert.ok(
        zh.text.includes(
          `技术说明： <span lang="zh-CN">${escaped(zhCN['upload.reason.digest-mismatch'])}</span>`,
        ),
        zh.text,
      );
      assert.doesNotMatch(zh.text, /lang="en"/);
      const enCheck = checksOf((await upload(tampered(), 'en')).text).find(
        (c) => c.name === 'pdf-signature',
      )!;
      assert.ok(
        enCheck.text.includes(
          `Technical detail: <span lang="en">${escaped(en['upload.reason.digest-mismatch'])}</span>`,
        ),
        enCheck.text,
      );
      const api = await request(r.app)
        .post('/api/v1/verify')
        .attach('file', tampered(), 'cert.pdf')
        .expect(200);
      const sig = (api.body.checks as Array<{ name: string; reason?: string; code?: string }>).find(
        (c) => c.name === 'pdf-signature',
      )!;
      assert.equal(sig.code, 'digest-mismatch');
      assert.equal(sig.reason, 'digest mismatch: the document was changed after signing');
    });

    it('when the certificate is revoked, then the status line gives the reason in the page language with the revoked title', async () => {
      const { serial: s, pdf: file } = await activePledgeWithCertificate(r, manual);
      await r.registry.certificates.revoke(s, '测试撤销 / test revocation', 'test-admin');
      const status = checksOf((await upload(file)).text).find((c) => c.name === 'status')!;
      assert.ok(!status.ok);
      assert.ok(
        status.text.includes(
          `<span lang="zh-CN">${escaped(zhCN['upload.reason.certificate-revoked'])}</span>`,
        ),
        status.text,
      );
      assert.ok(status.text.includes(zhCN['verdict.revoked.title']));
    });

    it('when a genuine certificate is uploaded, then no line carries a caveat', async () => {
      const res = await upload(pdf);
      assert.match(res.text, /class="verdict verdict-valid"/);
      assert.doesNotMatch(res.text, /checklist-means|checklist-reason/);
    });

    it('when a file is no PDF certificate at all, then every reason is translated, none shown in English on the Chinese page', async () => {
      const res = await upload(Buffer.from('%PDF-1.7\n% not really a certificate\n'));
      const checks = checksOf(res.text);
      assert.ok(checks.length >= 7);
      for (const c of checks) {
        assert.ok(!c.ok, c.name);
        assert.match(c.text, /技术说明： <span lang="zh-CN">[^<]+<\/span>/, `${c.name}: ${c.text}`);
        assert.doesNotMatch(c.text, /lang="en"/, c.name);
      }
    });
  });

  it('when the catalogs are read, then every reason code and every check has its words in both languages', () => {
    for (const catalog of [zhCN, en] as Record<string, string>[]) {
      for (const code of [...REASON_CODES, ...REGISTRY_REASON_CODES])
        assert.ok(catalog[`upload.reason.${code}`], code);
      for (const c of EXPECTED_UPLOAD_CHECKS)
        assert.ok(catalog[`upload.means.${c}`] && catalog[`upload.check.${c}`], c);
      for (const part of ['title', 'text', 'mark', 'retry'])
        assert.ok(catalog[`verdict.mistyped.${part}`], part);
    }
  });
});
