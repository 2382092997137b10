import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { PDFDocument, PDFName, PDFRawStream } from 'pdf-lib';
import {
  PdfSigner,
  checkPdfSignature,
  createDevP12,
  extractCredential,
  generateSigningKey,
  issueCertificate,
  renderCertificate,
  signCredential,
  toJwks,
  verifyCertificatePdf,
  type IssuedCertificate,
  type PdfVerification,
} from '../../certificates';
import {
  PUBLIC_URL,
  hasTool,
  issuer,
  needTool,
  run,
  runOk,
  sampleData,
  tmpDir,
  writeTmp,
} from './helpers';

function check(v: PdfVerification, name: string) {
  const c = v.checks.find((x) => x.name === name);
  assert.ok(c, `no check named ${name}: ${JSON.stringify(v.checks)}`);
  return c;
}

function flipByte(pdf: Uint8Array, at: number): Uint8Array {
  const b = Uint8Array.from(pdf);
  b[at] = b[at] === 0x41 ? 0x42 : 0x41;
  return b;
}

/** Replaces the bytes of the embedded credential.jws with other bytes (the file is rewritten by pdf-lib). */
async function swapAttachment(pdf: Uint8Array, jws: string): Promise<Uint8Array> {
  const doc = await PDFDocument.load(pdf);
  let swapped = 0;
  for (const [ref, obj] of doc.context.enumerateIndirectObjects()) {
    if (
      obj instanceof PDFRawStream &&
      obj.dict.get(PDFName.of('Type')) === PDFName.of('EmbeddedFile')
    ) {
      doc.context.assign(ref, doc.context.flateStream(jws, { Type: 'EmbeddedFile' }));
      swapped++;
    }
  }
  assert.equal(swapped, 1);
  return doc.save({ useObjectStreams: false });
}

describe('issuing and verifying a certificate PDF', function () {
  this.timeout(20_000);
  let dir: string;
  let a: IssuedCertificate;
  let b: IssuedCertificate;
  let aPath: string;
  const jwks = () => toJwks([issuer().signingKey]);

  before(async () => {
    dir = tmpDir();
    a = await issueCertificate(sampleData(), issuer());
    b = await issueCertificate(
      sampleData(
        {
          company: {
            ...sampleData().company,
            name: '四川犇垚机械有限公司',
            uscc: '91510100MA6123454N',
          },
        },
        124,
      ),
      issuer(),
    );
    aPath = writeTmp(dir, 'a.pdf', a.pdf);
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('when a certificate is issued, then all offline checks pass', async () => {
    const v = await verifyCertificatePdf(a.pdf, jwks());
    assert.deepEqual(
      v.checks.map((c) => [c.name, c.ok]),
      [
        ['credential-present', true],
        ['credential-signature', true],
        ['credential-matches-document', true],
        ['pdf-signature', true],
      ],
    );
    assert.equal(v.valid, true);
    assert.equal(v.credential?.serialNumber, sampleData().serial);
    assert.equal(v.jws, a.jws);
  });

  it('when the signature is checked in pure code, then it is present, covers the whole file and verifies', () => {
    const s = checkPdfSignature(a.pdf);
    assert.equal(s.present, true);
    assert.equal(s.coversWholeFile, true);
    assert.equal(s.digestValid, true);
    assert.equal(s.signatureValid, true);
    assert.match(s.signerSubject ?? '', /CN=EQI Registry Document Signing/);
    assert.equal(s.signerCertSha256, issuer().p12Signer.certSha256);
  });

  it('when poppler checks the signature, then pdfsig says valid and total document signed', function () {
    needTool(this, 'pdfsig', 'poppler-utils');
    const out = run('pdfsig', [aPath]).out;
    assert.match(out, /Signature is Valid/);
    assert.match(out, /Total document signed/);
    assert.match(out, /ETSI\.CAdES\.detached/);
  });

  it('when one byte of the signed PDF changes, then checkPdfSignature and pdfsig both fail', function () {
    const text = Buffer.from(a.pdf).toString('latin1');
    const br = checkPdfSignature(a.pdf).byteRange!;
    // One byte before the signature (in the page's font descriptor), one after it (in the trailer area).
    for (const at of [text.indexOf('/FontName') + 3, br[2] + Math.floor(br[3] / 2)]) {
      const bad = flipByte(a.pdf, at);
      const s = checkPdfSignature(bad);
      assert.equal(s.present, true);
      assert.equal(s.digestValid, false, `byte ${at}`);
      assert.match(s.reason ?? '', /digest mismatch/);
      if (hasTool('pdfsig')) {
        const out = run('pdfsig', [writeTmp(dir, `bad-${at}.pdf`, bad)]).out;
        assert.doesNotMatch(out, /Signature is Valid/);
        assert.match(out, /Digest Mismatch|Invalid|not/i);
      }
    }
  });

  it('when bytes are appended after signing, then the signature no longer covers the whole file', async () => {
    const appended = Buffer.concat([a.pdf, Buffer.from('\n% appended\n')]);
    const s = checkPdfSignature(appended);
    assert.equal(s.coversWholeFile, false);
    const v = await verifyCertificatePdf(appended, jwks());
    assert.equal(check(v, 'pdf-signature').ok, false);
    assert.match(check(v, 'pdf-signature').reason!, /whole file/);
  });

  it("when the attachment is swapped for another genuine certificate's credential, then the credential no longer matches the document", async () => {
    const v = await verifyCertificatePdf(await swapAttachment(a.pdf, b.jws), jwks());
    assert.equal(check(v, 'credential-signature').ok, true);
    assert.equal(check(v, 'credential-matches-document').ok, false);
    assert.match(check(v, 'credential-matches-document').reason!, /different page content/);
    assert.equal(check(v, 'pdf-signature').ok, false);
    assert.equal(v.valid, false);
  });

  it('when the credential is re-signed with a foreign key, then the credential signature check fails', async () => {
    const forged = signCredential(
      {
        ...a.credential,
        credentialSubject: { ...a.credential.credentialSubject, name: '冒名公司' },
      },
      generateSigningKey(),
    );
    const v = await verifyCertificatePdf(await swapAttachment(a.pdf, forged), jwks());
    assert.equal(check(v, 'credential-present').ok, true);
    assert.equal(check(v, 'credential-signature').ok, false);
    assert.match(check(v, 'credential-signature').reason!, /unknown-key/);
    assert.equal(v.credential, undefined);
  });

  it('when the PDF is loaded and saved again by pdf-lib, then the credential survives and still matches the page', async () => {
    const doc = await PDFDocument.load(a.pdf);
    const resaved = await doc.save(); // object streams on: a different file layout
    assert.equal(await extractCredential(resaved), a.jws);
    const v = await verifyCertificatePdf(resaved, jwks());
    assert.equal(check(v, 'credential-signature').ok, true);
    assert.equal(check(v, 'credential-matches-document').ok, true);
  });

  it('when the PDF is linearised by qpdf, then the credential survives and still matches the page', async function () {
    needTool(this, 'qpdf', 'qpdf');
    const out = path.join(dir, 'lin.pdf');
    const r = run('qpdf', ['--linearize', aPath, out]);
    assert.ok(r.status === 0 || r.status === 3, r.out); // 3 = warnings
    const lin = fs.readFileSync(out);
    assert.match(run('qpdf', ['--check-linearization', out]).out, /no linearization errors/);
    assert.equal(await extractCredential(lin), a.jws);
    const v = await verifyCertificatePdf(lin, jwks());
    assert.equal(check(v, 'credential-signature').ok, true);
    assert.equal(check(v, 'credential-matches-document').ok, true);
  });

  it('when listed by pdfdetach, then credential.jws is a plain attachment other tools can extract', function () {
    needTool(this, 'pdfdetach', 'poppler-utils');
    assert.match(runOk('pdfdetach', ['-list', aPath]), /credential\.jws/);
    const out = path.join(dir, 'credential.jws');
    runOk('pdfdetach', ['-save', '1', '-o', out, aPath]);
    assert.equal(fs.readFileSync(out, 'utf8'), a.jws);
  });

  it('when the PDF has no credential or no signature, then those checks fail with reasons', async () => {
    const plain = await renderCertificate(sampleData(), {
      publicUrl: PUBLIC_URL,
      keyFingerprint: issuer().signingKey.fingerprint,
    });
    const v = await verifyCertificatePdf(plain, jwks());
    assert.equal(check(v, 'credential-present').ok, false);
    assert.equal(check(v, 'pdf-signature').ok, false);
    assert.match(check(v, 'pdf-signature').reason!, /no PDF signature/);
    assert.equal(checkPdfSignature(plain).present, false);
  });

  it('when the upload is not a PDF, truncated or encrypted, then verification reports failures and never throws', async () => {
    const inputs: Array<[string, Uint8Array]> = [
      ['text', Buffer.from('hello, not a pdf')],
      ['empty', new Uint8Array(0)],
      ['truncated', a.pdf.subarray(0, 2000)],
      [
        'garbage after header',
        Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(5000, 0xff)]),
      ],
    ];
    if (hasTool('qpdf')) {
      const enc = path.join(dir, 'enc.pdf');
      run('qpdf', ['--encrypt', '', 'owner-secret', '256', '--', aPath, enc]);
      inputs.push(['encrypted', fs.readFileSync(enc)]);
    }
    for (const [label, bytes] of inputs) {
      const v = await verifyCertificatePdf(bytes, jwks());
      assert.equal(v.valid, false, label);
      assert.ok(v.checks.length >= 4, label);
      assert.ok(
        v.checks.every((c) => c.ok || (typeof c.reason === 'string' && c.reason.length > 0)),
        label,
      );
      if (label === 'encrypted') assert.match(check(v, 'credential-present').reason!, /encrypted/);
    }
  });

  it('when a signer certificate pin is given, then a file signed by another P12 fails the pin check', async () => {
    const otherDev = createDevP12({ commonName: 'Somebody Else' });
    const other = await issueCertificate(sampleData(), {
      ...issuer(),
      p12Signer: PdfSigner.fromP12(otherDev.p12, otherDev.passphrase),
    });
    const pins = [issuer().p12Signer.certSha256];
    assert.equal(
      check(
        await verifyCertificatePdf(a.pdf, jwks(), { trustedSignerCertSha256: pins }),
        'pdf-signer-trusted',
      ).ok,
      true,
    );
    const v = await verifyCertificatePdf(other.pdf, jwks(), { trustedSignerCertSha256: pins });
    assert.equal(check(v, 'pdf-signature').ok, true);
    assert.equal(check(v, 'pdf-signer-trusted').ok, false);
  });

  it('when a P12 is parsed once, then the signer is reusable and a wrong passphrase is refused', async () => {
    const { dev } = issuer();
    assert.throws(() => PdfSigner.fromP12(dev.p12, 'wrong'));
    const signer = PdfSigner.fromP12(dev.p12, dev.passphrase);
    const data = Buffer.from('%PDF-1.7 test');
    const first = signer.signDetached(data);
    const second = signer.signDetached(data);
    assert.ok(first.length > 1000 && second.length === first.length);
    assert.ok(first.length * 2 <= signer.signatureLength);
    assert.match(
      signer.subject,
      /^CN=EQI Registry Document Signing \(development\), O=EQI Registry \(development\), C=CN$/,
    );
  });
});
