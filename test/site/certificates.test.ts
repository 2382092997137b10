/**
 * Certificates on the site: the company downloads its certificate from /me, and anyone checks a
 * certificate PDF by uploading it on /verify. Real certificates are issued by the registry (the
 * background issuer is stopped, so each test decides when a certificate exists).
 */
import assert from 'node:assert/strict';
import request from 'supertest';
import { Pledge } from '../../models/pledge';
import {
  activePledge,
  activePledgeWithCertificate,
  useManualCertificates,
} from '../helpers/pledges';
import { useRegistry } from '../helpers/registry';
import {
  agent,
  type Agent,
  checksOf,
  csrfFrom,
  multipart,
  type Part,
  signInOnSite,
} from './helpers';

const MB = 1024 * 1024;
/** The checks the registry runs on an upload, in order (four offline proofs, the log proof, then three of its own). */
const CHECKS = [
  'credential-present',
  'credential-signature',
  'credential-matches-document',
  'pdf-signature',
  'log-proof',
  'serial-known',
  'registry-match',
  'status',
];

/** The page obeys the site's CSP: no inline script, style or event handler. */
function assertNoInline(html: string, label: string): void {
  assert.doesNotMatch(html, /<script(?![^>]*\ssrc=)[^>]*>/, `${label}: inline script`);
  assert.doesNotMatch(html, /<[^>]+\sstyle=|<style/, `${label}: inline style`);
  assert.doesNotMatch(html, /\son[a-z]+=/i, `${label}: event handler attribute`);
}

describe('site certificates: download on /me, PDF upload on /verify', () => {
  const r = useRegistry();
  const manual = useManualCertificates(r);

  /** An active pledge with its certificate issued now; returns the serial and the PDF bytes. */
  const certified = () => activePledgeWithCertificate(r, manual);

  /** Opens /verify like a browser, then posts the parts (given the page's token) to the upload. */
  async function upload(
    a: Agent,
    parts: (csrf: string) => Part[],
    path = '/verify/upload',
  ): Promise<request.Response> {
    const form = await a.get('/verify').expect(200);
    const { type, body } = multipart(parts(csrfFrom(form.text)));
    return a.post(path).set('Content-Type', type).send(body);
  }

  const withFile =
    (file: Buffer, filename = 'certificate.pdf') =>
    (csrf: string) => [
      { name: '_csrf', value: csrf },
      { name: 'file', value: file, filename },
    ];

  describe('the company area', () => {
    it('when the certificate is still being issued, then /me says so; once issued, it offers the PDF and the serial linked to its verify page, and the download is that PDF', async () => {
      const p = await activePledge(r, manual.admin.token);
      const a = agent(r.app);
      await signInOnSite(r, a, p.body.signatory.email);

      const issuing = await a.get('/me').expect(200);
      assert.match(issuing.text, /<p>证书正在颁发，通常一分钟内即可完成。请稍后刷新本页。<\/p>/);
      assert.doesNotMatch(
        issuing.text,
        /certificate\.pdf/,
        'no link to a file that does not exist',
      );
      assert.doesNotMatch(issuing.text, /href="\/verify\/EQI-/);

      assert.equal(await r.registry.certificates.issuePending(), 1);
      const serial = (await Pledge.findById(p.id).lean())!.certificateSerial!;
      const me = await a.get('/me').expect(200);
      assert.match(
        me.text,
        /<a class="button button-primary" href="\/me\/certificate\.pdf" download>下载证书（PDF）<\/a>/,
      );
      assert.ok(
        me.text.includes(`<a href="/verify/${serial}"><code class="code">${serial}</code></a>`),
        'the serial links to its verify page',
      );
      assert.doesNotMatch(me.text, /证书正在颁发/);
      assert.equal(me.headers['cache-control'], 'no-store');
      assertNoInline(me.text, '/me');
      const en = await a.get('/me?lang=en').expect(200);
      assert.match(en.text, />Download the certificate \(PDF\)<\/a>/);
      assert.match(en.text, />Open its verification page<\/a>/);

      const file = await a.get('/me/certificate.pdf').responseType('blob').expect(200);
      assert.equal(file.headers['content-type'], 'application/pdf');
      assert.equal(file.headers['content-disposition'], `attachment; filename="${serial}.pdf"`);
      assert.equal(file.headers['cache-control'], 'private, no-store');
      const stored = (await r.registry.certificates.pdf(serial)).pdf;
      assert.ok(Buffer.compare(file.body as Buffer, stored) === 0, 'the issued PDF, byte for byte');
      // The API's download takes the same session cookie (a GET needs no CSRF token).
      const api = await a.get('/api/v1/me/certificate.pdf').responseType('blob').expect(200);
      assert.ok(Buffer.compare(api.body as Buffer, stored) === 0);
      // And the downloaded file passes every check.
      const checked = await upload(a, withFile(file.body as Buffer));
      assert.equal(checked.status, 200, checked.text.slice(0, 500));
      assert.ok(checksOf(checked.text).every((c) => c.ok));
    });

    it('when nobody is signed in, then the download sends the visitor to sign in', async () => {
      await request(r.app).get('/me/certificate.pdf').expect(303).expect('Location', '/login');
      await request(r.app)
        .get('/me/certificate.pdf')
        .set('Cookie', 'eqi_session=not.a.jwt')
        .expect(303)
        .expect('Location', '/login?expired=1');
    });

    it('when the company withdraws, then /me keeps the serial but offers no download, and an upload of its PDF fails the status check', async () => {
      const c = await certified();
      const a = agent(r.app);
      await signInOnSite(r, a, c.body.signatory.email);
      const me = await a.get('/me').expect(200);
      await a
        .post('/me/withdraw')
        .type('form')
        .send({ _csrf: csrfFrom(me.text), reason: '业务调整，撤回签署' })
        .expect(303);
      const after = await a.get('/me').expect(200);
      assert.doesNotMatch(after.text, /certificate\.pdf/);
      assert.ok(after.text.includes(`<code class="code">${c.serial}</code>`));
      assert.match(after.text, /该证书已不再有效。/);

      const res = await upload(agent(r.app), withFile(c.pdf));
      assert.equal(res.status, 200);
      assert.match(res.text, /class="verdict verdict-invalid"/);
      const checks = checksOf(res.text);
      assert.deepEqual(
        checks.filter((x) => !x.ok).map((x) => x.name),
        ['status'],
        'the file itself is genuine',
      );
      assert.match(checks.find((x) => x.name === 'status')!.text, /未通过<\/strong> · 签署已撤回/);
    });
  });

  describe('uploading a certificate PDF', () => {
    let cert: Awaited<ReturnType<typeof certified>>;
    before(async function () {
      this.timeout(30_000);
      cert = await certified();
    });

    it('when /verify is opened, then it has a multipart upload form for PDFs with its CSRF token first, and is never stored', async () => {
      const res = await request(r.app).get('/verify').expect(200);
      assert.equal(res.headers['cache-control'], 'no-store');
      const form =
        /<form class="form upload-form" method="post" action="\/verify\/upload" enctype="multipart\/form-data"[^>]*>([^]*?)<\/form>/.exec(
          res.text,
        );
      assert.ok(form, 'the upload form');
      const token = form[1]!.indexOf('name="_csrf"');
      const file = form[1]!.search(
        /<input id="f-file" name="file" type="file" accept="application\/pdf"/,
      );
      assert.ok(token >= 0 && file > token, 'the token comes before the file');
      await request(r.app).get('/verify/upload').expect(303).expect('Location', '/verify');
    });

    it('when the genuine certificate is uploaded, then every check is listed as passed, the verdict is valid and the serial links to its verify page', async () => {
      const res = await upload(agent(r.app), withFile(cert.pdf, '证书.pdf'));
      assert.equal(res.status, 200, res.text.slice(0, 500));
      assert.equal(res.headers['cache-control'], 'no-store');
      assert.match(res.text, /class="verdict verdict-valid"/);
      assert.match(res.text, /<h1 id="verdict-title">证书真实有效<\/h1>/);
      const checks = checksOf(res.text);
      assert.deepEqual(
        checks.map((c) => c.name),
        CHECKS,
      );
      for (const c of checks) {
        assert.ok(c.ok, c.name);
        assert.match(c.text, /<strong>通过<\/strong>/);
      }
      assert.doesNotMatch(res.text, /未通过/);
      assert.match(checks[3]!.text, /PDF 数字签名覆盖整个文件且验证通过/);
      assert.ok(res.text.includes(cert.body.company.name));
      assert.ok(res.text.includes(`href="/verify/${cert.serial}"`));
      assert.ok(
        res.text.includes('<span class="upload-filename">证书.pdf</span>'),
        'the file name',
      );
      assertNoInline(res.text, 'upload result');

      const en = await upload(agent(r.app), withFile(cert.pdf), '/verify/upload?lang=en');
      assert.equal(en.status, 200);
      assert.match(en.text, /<h1 id="verdict-title">Genuine and valid<\/h1>/);
      assert.equal([...en.text.matchAll(/<strong>Passed<\/strong>/g)].length, CHECKS.length);
      assert.match(en.text, /The certificate is valid today/);
    });

    it('when one byte of the certificate is changed, then the PDF signature check fails and the verdict is not valid', async () => {
      const tampered = Buffer.from(cert.pdf);
      // A byte of the header's binary comment: readers do not care, the PAdES digest does.
      assert.equal(tampered.subarray(0, 5).toString('latin1'), '%PDF-');
      assert.equal(tampered[9], '%'.charCodeAt(0));
      tampered[10] = tampered[10]! ^ 0x01;
      const res = await upload(agent(r.app), withFile(tampered));
      assert.equal(res.status, 200);
      assert.match(res.text, /class="verdict verdict-invalid"/);
      assert.match(res.text, /<h1 id="verdict-title">证书未通过查验<\/h1>/);
      const checks = checksOf(res.text);
      assert.deepEqual(
        checks.map((c) => c.name),
        CHECKS,
      );
      const failed = checks.filter((c) => !c.ok);
      assert.deepEqual(
        failed.map((c) => c.name),
        ['pdf-signature'],
      );
      assert.match(failed[0]!.text, /<strong>未通过<\/strong>/);
      assert.match(
        failed[0]!.text,
        /class="checklist-reason">技术说明： <span lang="zh-CN">文件在签名之后被改动过。<\/span>/,
      );
      // The serial is still read from the (intact) credential: its status page is one click away.
      assert.ok(res.text.includes(`href="/verify/${cert.serial}"`));
      const en = await upload(agent(r.app), withFile(tampered), '/verify/upload?lang=en');
      assert.match(en.text, /<h1 id="verdict-title">The certificate failed the check<\/h1>/);
      assert.match(en.text, /<strong>Failed<\/strong>/);
    });

    it('when the file is a broken PDF, then a 422 page says it is no certificate of this registry and lists every check as failed; a cut-off certificate is never valid', async () => {
      const garbage = Buffer.concat([
        Buffer.from('%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R'),
        Buffer.alloc(2048, 0x7b),
      ]);
      const res = await upload(agent(r.app), withFile(garbage));
      assert.equal(res.status, 422, res.text.slice(0, 500));
      assert.match(res.text, /class="verdict verdict-unreadable"/);
      assert.match(res.text, /<h1 id="verdict-title">无法识别为本平台的证书<\/h1>/);
      const checks = checksOf(res.text);
      assert.ok(checks.length >= 5);
      assert.ok(checks.every((c) => !c.ok && /<strong>未通过<\/strong>/.test(c.text)));
      assert.doesNotMatch(res.text, /href="\/verify\/EQI-/, 'no serial to link to');
      assertNoInline(res.text, 'unreadable result');

      for (const cut of [cert.pdf.length >> 1, cert.pdf.length - 200]) {
        const part = await upload(agent(r.app), withFile(cert.pdf.subarray(0, cut)));
        assert.ok([200, 422].includes(part.status), `cut at ${cut}: ${part.status}`);
        assert.doesNotMatch(part.text, /verdict-valid/);
        assert.ok(checksOf(part.text).some((c) => !c.ok));
      }
    });

    const BAD: Array<{
      what: string;
      parts: (csrf: string) => Part[];
      status: number;
      zh: string;
      en: string;
    }> = [
      {
        what: 'no file part',
        parts: (csrf) => [{ name: '_csrf', value: csrf }],
        status: 400,
        zh: '请选择要查验的证书 PDF 文件。',
        en: 'Choose the certificate PDF to check.',
      },
      {
        what: 'no file chosen (a browser sends an empty part without a name)',
        parts: (csrf) => [
          { name: '_csrf', value: csrf },
          { name: 'file', value: '', filename: '', type: 'application/octet-stream' },
        ],
        status: 400,
        zh: '请选择要查验的证书 PDF 文件。',
        en: 'Choose the certificate PDF to check.',
      },
      {
        what: 'an empty file',
        parts: withFile(Buffer.alloc(0)),
        status: 400,
        zh: '所选文件是空的（0 字节）。请选择证书 PDF 文件。',
        en: 'The chosen file is empty (0 bytes). Choose the certificate PDF.',
      },
      {
        what: 'a file that is not a PDF',
        parts: (csrf) => [
          { name: '_csrf', value: csrf },
          {
            name: 'file',
            value: 'hello, not a certificate',
            filename: 'notes.txt',
            type: 'text/plain',
          },
        ],
        status: 400,
        zh: '所选文件不是 PDF 文件。请上传本平台颁发的证书 PDF。',
        en: 'The chosen file is not a PDF. Upload the certificate PDF issued by this registry.',
      },
      {
        what: 'a file over 5 MB',
        parts: withFile(Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(5 * MB, 0x20)])),
        status: 413,
        zh: '文件超过 5 MB。本平台颁发的证书远小于此大小，请确认所选文件。',
        en: 'The file is larger than 5 MB.',
      },
    ];

    for (const c of BAD) {
      it(`when the upload is ${c.what}, then ${c.status} and the form says what to do, in Chinese and English`, async () => {
        for (const [path, message] of [
          ['/verify/upload', c.zh],
          ['/verify/upload?lang=en', c.en],
        ] as const) {
          const res = await upload(agent(r.app), c.parts, path);
          assert.equal(res.status, c.status, `${path}: ${res.text.slice(0, 300)}`);
          assert.match(res.text, /class="site-header"/);
          assert.ok(
            res.text.includes(`<li><a href="#f-file">${message}`),
            `${path}: error summary says "${message}"`,
          );
          assert.ok(res.text.includes(`<p class="field-error" id="f-file-error">${message}`));
          assert.match(
            res.text,
            /<input id="f-file" name="file" type="file"[^>]* aria-invalid="true"/,
          );
          assert.equal(res.headers['cache-control'], 'no-store');
        }
      });
    }

    it('when the upload is not multipart or its body is malformed, then 415 or 400 with the form again, never a 5xx', async () => {
      const a = agent(r.app);
      const csrf = csrfFrom((await a.get('/verify').expect(200)).text);
      const form = await a.post('/verify/upload').type('form').send({ _csrf: csrf, file: 'x' });
      assert.equal(form.status, 415);
      assert.ok(form.text.includes('请使用本页的表单上传证书文件。'));
      const json = await a.post('/verify/upload').send({ file: 'x' });
      assert.equal(json.status, 415);
      const raw = await a
        .post('/verify/upload')
        .set('Content-Type', 'application/pdf')
        .send(cert.pdf);
      assert.equal(raw.status, 415);

      const noBoundary = await a
        .post('/verify/upload')
        .set('Content-Type', 'multipart/form-data')
        .send(Buffer.from('--x\r\n'));
      assert.equal(noBoundary.status, 400);
      const { type, body } = multipart(withFile(cert.pdf)(csrf));
      const cut = await a
        .post('/verify/upload')
        .set('Content-Type', type)
        .send(body.subarray(0, body.length - 4000));
      assert.equal(cut.status, 400, cut.text.slice(0, 300));
      assert.ok(cut.text.includes('上传没有完整送达。请重新选择文件后再试。'));
    });

    it('when the CSRF token is missing, wrong, another visitor’s or after the file, then 403 in the site’s words', async () => {
      const file = { name: 'file', value: cert.pdf, filename: 'c.pdf' };
      const other = csrfFrom((await agent(r.app).get('/verify').expect(200)).text);
      for (const [what, parts] of [
        ['missing', () => [file]],
        ['wrong', () => [{ name: '_csrf', value: 'x'.repeat(43) }, file]],
        ['another visitor’s', () => [{ name: '_csrf', value: other }, file]],
        ['after the file', (csrf: string) => [file, { name: '_csrf', value: csrf }]],
      ] as Array<[string, (csrf: string) => Part[]]>) {
        const res = await upload(agent(r.app), parts);
        assert.equal(res.status, 403, what);
        assert.match(res.text, /表单已失效/, what);
        assert.doesNotMatch(res.text, /checklist/, `${what}: nothing was checked`);
      }
      // No CSRF cookie at all (a cross-site post from a visitor who never opened /verify).
      const { type, body } = multipart([{ name: '_csrf', value: other }, file]);
      await request(r.app)
        .post('/verify/upload')
        .set('Accept', 'text/html')
        .set('Content-Type', type)
        .send(body)
        .expect(403);
    });
  });
});
