// Issuing (render → credential → attach → PAdES) and offline verification of a certificate PDF.
import {
  EncryptedPDFError,
  PDFArray,
  PDFDict,
  PDFName,
  PDFRawStream,
  PDFRef,
  type PDFDocument,
  type PDFObject,
} from 'pdf-lib';
import {
  assertCredentialShape,
  attachCredential,
  attachLogProof,
  buildCredential,
  decodeStream,
  findAttachment,
  findCredential,
  LOG_PROOF_FILENAME,
  loadPdf,
  type CertificateCredential,
} from './credential';
import {
  CredentialError,
  signCredential,
  verifyCredential,
  type CredentialFailure,
  type Jwks,
  type SigningKey,
} from './jws';
import { asLimitError } from './limits';
import {
  addSignaturePlaceholder,
  checkPdfSignature,
  signPdf,
  type PdfSignatureCheck,
  type PdfSignatureFailure,
  type PdfSigner,
} from './pades';
import { buildCertificate, digestOfHashes, sha256 } from './render';
import type { Association, CertificateData } from './types';

export interface IssueOptions {
  signingKey: SigningKey;
  p12Signer: PdfSigner;
  publicUrl: string;
  association?: Association;
  /** credentialStatus entries for the credential (the registry's status lists) */
  credentialStatus?: Array<Record<string, string>>;
  /** the transparency log's verifier key, carried in the credential (see CertificateCredential) */
  logVerifierKey?: string;
  /**
   * Called with the signed credential before the PDF is finished: records it (the registry's
   * transparency log) and returns the proof to attach as log-proof.json, or null for none.
   */
  logProof?: (jws: string) => Promise<object | null>;
  /**
   * The keys are generated development keys: the page gets the SAMPLE watermark and the
   * credential the developmentKey claim, so such a certificate cannot pass as a real one.
   */
  development?: boolean;
}

export interface IssuedCertificate {
  pdf: Uint8Array;
  jws: string;
  credential: CertificateCredential;
}

/** render → sign the credential (Ed25519 JWS) → attach it → PAdES placeholder → one save → CMS signature. */
export async function issueCertificate(
  data: CertificateData,
  o: IssueOptions,
): Promise<IssuedCertificate> {
  const built = await buildCertificate(data, {
    publicUrl: o.publicUrl,
    keyFingerprint: o.signingKey.fingerprint,
    association: o.association,
    ...(o.development ? { sample: true } : {}),
  });
  const credential = buildCredential(data, {
    publicUrl: o.publicUrl,
    renderDigest: built.renderDigest,
    association: o.association,
    credentialStatus: o.credentialStatus,
    logVerifierKey: o.logVerifierKey,
    development: o.development,
  });
  const jws = signCredential(credential, o.signingKey, { publicUrl: o.publicUrl });
  const issued = new Date(credential.validFrom);
  await attachCredential(built.doc, jws, issued);
  const proof = o.logProof ? await o.logProof(jws) : null;
  if (proof) await attachLogProof(built.doc, proof, issued);
  addSignaturePlaceholder(built.doc, o.p12Signer, { signingTime: issued });
  // No object streams: the signature dictionary must be findable as plain text.
  const unsigned = await built.doc.save({
    useObjectStreams: false,
    updateFieldAppearances: false,
    objectsPerTick: Infinity,
  });
  const pdf = await signPdf(unsigned, o.p12Signer);
  return { pdf, jws, credential };
}

export async function issueCertificatePdf(
  data: CertificateData,
  o: IssueOptions,
): Promise<Uint8Array> {
  return (await issueCertificate(data, o)).pdf;
}

// ---------- verification ----------

export type CheckName =
  | 'credential-present'
  | 'credential-signature'
  | 'credential-matches-document'
  | 'pdf-signature'
  | 'pdf-signer-trusted';

/**
 * Why an offline check failed, stable for programs and translations (`reason` is English text
 * for people and may carry details such as a parser message).
 */
export type ReasonCode =
  | 'not-pdf'
  | 'pdf-encrypted'
  | 'pdf-unreadable'
  | 'attachments-unreadable'
  | 'no-credential'
  | 'no-verified-credential'
  | `credential-${CredentialFailure}`
  | 'page-mismatch'
  | 'page-unreadable'
  | PdfSignatureFailure
  | 'signer-untrusted';

/** Every ReasonCode, for catalogs that must name each one. */
export const REASON_CODES = [
  'not-pdf',
  'pdf-encrypted',
  'pdf-unreadable',
  'attachments-unreadable',
  'no-credential',
  'no-verified-credential',
  'credential-malformed',
  'credential-unsupported-alg',
  'credential-unknown-key',
  'credential-bad-signature',
  'credential-bad-payload',
  'page-mismatch',
  'page-unreadable',
  'signature-missing',
  'signature-malformed',
  'signature-unreadable',
  'signature-partial',
  'digest-mismatch',
  'signature-invalid',
  'signer-untrusted',
] as const satisfies readonly ReasonCode[];

export interface VerificationCheck {
  /** the lead adds registry checks (serial-known, registry-match, status) with their own names */
  name: CheckName | (string & {});
  ok: boolean;
  reason?: string;
  /** what a passing check found, in words (e.g. the leaf and tree size of a log proof) */
  detail?: string;
  /** set with `reason`; the app's registry checks add codes of their own */
  code?: ReasonCode | (string & {});
}

export interface PdfVerification {
  valid: boolean;
  checks: VerificationCheck[];
  /** the verified credential payload (only when its signature verified) */
  credential?: CertificateCredential;
  jws?: string;
  /** the text of the log-proof.json attachment, when the file carries a credential and one */
  logProof?: string;
  pdfSignature?: PdfSignatureCheck;
}

const MAX_DECODED = 16 * 1024 * 1024;
const decodeCapped = (s: PDFRawStream): Uint8Array => decodeStream(s, MAX_DECODED);

function lookupStream(doc: PDFDocument, o: PDFObject | undefined): PDFRawStream | undefined {
  const v = o instanceof PDFRef ? doc.context.lookup(o) : o;
  return v instanceof PDFRawStream ? v : undefined;
}

/**
 * Recomputes the digest the credential carries: page 1's content streams
 * (decoded, in order) then each font program (decoded, by resource name).
 * A swapped attachment or any edit of the drawn text/fonts changes it;
 * re-saving or linearising the file does not.
 */
export function renderDigestOf(doc: PDFDocument): string {
  const page = doc.getPage(0);
  const parts: Buffer[] = [];
  const contents = page.node.get(PDFName.of('Contents'));
  const resolved = contents instanceof PDFRef ? doc.context.lookup(contents) : contents;
  const list = resolved instanceof PDFArray ? resolved.asArray() : [resolved];
  if (list.length > 64) throw new Error('too many content streams');
  for (const c of list) {
    const s = lookupStream(doc, c);
    if (!s) throw new Error('page content is not a stream');
    parts.push(sha256(decodeCapped(s)));
  }
  const res = page.node.Resources();
  const fonts = res?.lookup(PDFName.of('Font'));
  if (fonts instanceof PDFDict) {
    const names = fonts
      .keys()
      .map((k) => k.decodeText())
      .sort();
    if (names.length > 64) throw new Error('too many fonts');
    for (const n of names) {
      const type0 = fonts.lookup(PDFName.of(n));
      const desc =
        type0 instanceof PDFDict ? type0.lookup(PDFName.of('DescendantFonts')) : undefined;
      const cid = desc instanceof PDFArray ? desc.lookup(0) : undefined;
      const fd = cid instanceof PDFDict ? cid.lookup(PDFName.of('FontDescriptor')) : undefined;
      const ff =
        fd instanceof PDFDict ? lookupStream(doc, fd.get(PDFName.of('FontFile2'))) : undefined;
      parts.push(sha256(ff ? decodeCapped(ff) : new Uint8Array(0)));
    }
  }
  return digestOfHashes(parts);
}

function rethrowLimit(e: unknown): void {
  const limit = asLimitError(e);
  if (limit) throw limit;
}

function isPdf(b: Uint8Array): boolean {
  const head = Buffer.from(b.buffer, b.byteOffset, Math.min(b.byteLength, 1024)).toString('latin1');
  return head.includes('%PDF-');
}

/**
 * Checks a certificate PDF offline: the attached credential, its Ed25519
 * signature against the published keys, its binding to the page, and the
 * PAdES signature. Every failure is a named check with a reason; it throws only a
 * PdfLimitError, for a file over the caps of ./limits (too costly to check at all).
 */
export async function verifyCertificatePdf(
  bytes: Uint8Array,
  jwks: Jwks,
  opts: { trustedSignerCertSha256?: string[] } = {},
): Promise<PdfVerification> {
  const checks: VerificationCheck[] = [];
  const out: PdfVerification = { valid: false, checks };
  const fail = (name: CheckName, code: ReasonCode, reason: string) =>
    checks.push({ name, ok: false, reason, code });
  const failRest = (code: ReasonCode, reason: string) => {
    for (const n of [
      'credential-present',
      'credential-signature',
      'credential-matches-document',
    ] as const) {
      if (!checks.some((c) => c.name === n)) fail(n, code, reason);
    }
  };

  if (!(bytes instanceof Uint8Array) || !isPdf(bytes)) {
    failRest('not-pdf', 'not a PDF file');
    fail('pdf-signature', 'not-pdf', 'not a PDF file');
    return out;
  }

  let doc: PDFDocument | undefined;
  try {
    doc = await loadPdf(bytes);
  } catch (e) {
    rethrowLimit(e);
    if (e instanceof EncryptedPDFError) failRest('pdf-encrypted', 'the PDF is encrypted');
    else failRest('pdf-unreadable', `the PDF cannot be read: ${(e as Error).message}`);
  }
  if (doc) {
    let jws: string | undefined;
    try {
      jws = findCredential(doc);
    } catch (e) {
      rethrowLimit(e);
      jws = undefined;
      fail(
        'credential-present',
        'attachments-unreadable',
        `the attachments cannot be read: ${(e as Error).message}`,
      );
    }
    if (jws) {
      checks.push({ name: 'credential-present', ok: true });
      out.jws = jws;
      try {
        out.logProof = findAttachment(doc, LOG_PROOF_FILENAME);
      } catch (e) {
        // Unreadable: the caller's log check reports it as missing.
        rethrowLimit(e);
      }
      try {
        const payload = verifyCredential(jws, jwks);
        out.credential = assertCredentialShape(payload);
        checks.push({ name: 'credential-signature', ok: true });
      } catch (e) {
        const failure: CredentialFailure = e instanceof CredentialError ? e.reason : 'bad-payload';
        fail(
          'credential-signature',
          `credential-${failure}`,
          `${failure}: ${(e as Error).message}`,
        );
      }
      if (out.credential) {
        try {
          const actual = renderDigestOf(doc);
          if (actual === out.credential.renderDigest)
            checks.push({ name: 'credential-matches-document', ok: true });
          else
            fail(
              'credential-matches-document',
              'page-mismatch',
              'the credential was issued for a different page content (swapped attachment or edited page)',
            );
        } catch (e) {
          rethrowLimit(e);
          fail(
            'credential-matches-document',
            'page-unreadable',
            `the page cannot be read: ${(e as Error).message}`,
          );
        }
      }
    } else if (!checks.some((c) => c.name === 'credential-present')) {
      fail('credential-present', 'no-credential', `no ${'credential.jws'} attachment`);
    }
    failRest('no-verified-credential', 'no verified credential');
  }

  const sig = checkPdfSignature(bytes);
  out.pdfSignature = sig;
  if (sig.present && sig.coversWholeFile && sig.digestValid && sig.signatureValid)
    checks.push({ name: 'pdf-signature', ok: true });
  else
    fail(
      'pdf-signature',
      sig.reasonCode ?? 'signature-invalid',
      sig.reason ?? 'invalid PDF signature',
    );
  if (opts.trustedSignerCertSha256) {
    const trusted =
      !!sig.signerCertSha256 &&
      opts.trustedSignerCertSha256.map((s) => s.toLowerCase()).includes(sig.signerCertSha256);
    if (trusted) checks.push({ name: 'pdf-signer-trusted', ok: true });
    else
      fail(
        'pdf-signer-trusted',
        'signer-untrusted',
        `signing certificate ${sig.signerCertSha256 ?? '(none)'} is not a registry certificate`,
      );
  }
  out.valid = checks.every((c) => c.ok);
  return out;
}
