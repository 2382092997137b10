// The certified record as a W3C Verifiable Credential 2.0-shaped JSON object,
// secured as a compact JWS (see jws.ts) and attached to the PDF.
import {
  PDFArray,
  PDFDict,
  PDFDocument,
  PDFName,
  PDFRawStream,
  PDFRef,
  PDFString,
  PDFHexString,
  AFRelationship,
  ParseSpeeds,
} from 'pdf-lib';
import type { PDFObject } from 'pdf-lib';
import {
  asLimitError,
  assertWithinLimits,
  countObjectHeaders,
  inflateWithin,
  pdfLimits,
  PdfLimitError,
} from './limits';
import { eqiContextUrl } from './context';
import { chinaDate, normalisePublicUrl, verifyUrl } from './render';
import {
  DEFAULT_ASSOCIATION,
  type Association,
  type Bilingual,
  type CertificateData,
} from './types';

export const CREDENTIAL_FILENAME = 'credential.jws';
export const VC_CONTEXT = 'https://www.w3.org/ns/credentials/v2';
export const CREDENTIAL_TYPE = 'QualityIntegrityPledgeCredential';

export interface CertificateCredential {
  '@context': string[];
  /** the verify page of this certificate */
  id: string;
  type: string[];
  issuer: { id: string; name: string; nameEn: string };
  validFrom: string;
  credentialSubject: {
    type: 'Organization';
    name: string;
    nameEn?: string;
    uscc: string;
    province: Bilingual;
    industry: Bilingual;
    signatory: { name: string; title: Bilingual };
    pledge: {
      initiative: { title: Bilingual; version: string; sha256: string };
      activatedAt: string;
      foundingNumber: number | null;
    };
  };
  serialNumber: string;
  /** binds the credential to the page it was issued with: see renderDigestOf() */
  renderDigest: string;
  /** W3C Bitstring Status List entries (revocation, suspension), when the registry issues it */
  credentialStatus?: Array<Record<string, string>>;
  /** the issuer as a JWT claim (VC-JOSE-COSE); the kid is a key URL under it (jws.ts keyUrl) */
  iss?: string;
  /**
   * The verifier key (C2SP signed-note) of the registry's transparency log, which signs the
   * checkpoint in log-proof.json: signed here by the registry key, so an offline verifier that
   * trusts the JWKS also learns which log key to trust.
   */
  logVerifierKey?: string;
  /**
   * Present (true) only when the registry signed with its generated development keys: such a
   * certificate is a sample of no validity, and verifiers say "development certificate".
   */
  developmentKey?: true;
}

/** Whether a (verified) credential says it was signed with development keys. */
export function isDevelopmentCredential(
  c: Pick<CertificateCredential, 'developmentKey'> | Record<string, unknown>,
): boolean {
  return c.developmentKey === true;
}

function iso(v: Date | string, field: string): string {
  if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v)) return v;
  const t = v instanceof Date ? v.getTime() : Date.parse(v);
  if (!Number.isFinite(t)) throw new TypeError(`${field} is not a valid date`);
  return new Date(t).toISOString();
}

/** Values are copied as given (not display-cleaned), so they compare equal to the registry record. */
export function buildCredential(
  data: CertificateData,
  o: {
    publicUrl: string;
    renderDigest: string;
    association?: Association;
    credentialStatus?: Array<Record<string, string>>;
    logVerifierKey?: string;
    development?: boolean;
  },
): CertificateCredential {
  const a = o.association ?? DEFAULT_ASSOCIATION;
  chinaDate(data.activatedAt, 'activatedAt');
  const bi = (b: Bilingual): Bilingual => (b.en ? { zh: b.zh, en: b.en } : { zh: b.zh });
  const subject: CertificateCredential['credentialSubject'] = {
    type: 'Organization',
    name: data.company.name,
    ...(data.company.nameEn ? { nameEn: data.company.nameEn } : {}),
    uscc: data.company.uscc,
    province: bi(data.company.province),
    industry: bi(data.company.industry),
    signatory: { name: data.signatory.name, title: bi(data.signatory.title) },
    pledge: {
      initiative: {
        title: bi(data.initiative.title),
        version: data.initiative.version,
        sha256: data.initiative.sha256.toLowerCase(),
      },
      activatedAt: iso(data.activatedAt, 'activatedAt'),
      foundingNumber: data.foundingNumber ?? null,
    },
  };
  return {
    '@context': [VC_CONTEXT, eqiContextUrl(o.publicUrl)],
    id: verifyUrl(o.publicUrl, data.serial),
    type: ['VerifiableCredential', CREDENTIAL_TYPE],
    issuer: { id: normalisePublicUrl(o.publicUrl), name: a.zh, nameEn: a.en },
    validFrom: iso(data.issuedAt, 'issuedAt'),
    credentialSubject: subject,
    serialNumber: data.serial,
    renderDigest: o.renderDigest,
    ...(o.credentialStatus ? { credentialStatus: o.credentialStatus } : {}),
    iss: normalisePublicUrl(o.publicUrl),
    ...(o.logVerifierKey ? { logVerifierKey: o.logVerifierKey } : {}),
    ...(o.development ? { developmentKey: true as const } : {}),
  };
}

/** Shape check of a verified payload (its signature already checked). */
export function assertCredentialShape(p: Record<string, unknown>): CertificateCredential {
  const ctx = p['@context'];
  const type = p.type;
  const subj = p.credentialSubject as Record<string, unknown> | undefined;
  if (!Array.isArray(ctx) || ctx[0] !== VC_CONTEXT)
    throw new TypeError('credential @context is not VC 2.0');
  if (
    !Array.isArray(type) ||
    !type.includes('VerifiableCredential') ||
    !type.includes(CREDENTIAL_TYPE)
  ) {
    throw new TypeError('credential type is not a QualityIntegrityPledgeCredential');
  }
  if (typeof p.serialNumber !== 'string' || typeof p.renderDigest !== 'string')
    throw new TypeError('credential lacks serialNumber/renderDigest');
  if (
    !subj ||
    typeof subj !== 'object' ||
    typeof subj.name !== 'string' ||
    typeof subj.uscc !== 'string'
  ) {
    throw new TypeError('credential subject lacks name/uscc');
  }
  return p as unknown as CertificateCredential;
}

// ---------- attachment ----------

export async function attachCredential(doc: PDFDocument, jws: string, when: Date): Promise<void> {
  await doc.attach(Buffer.from(jws, 'ascii'), CREDENTIAL_FILENAME, {
    mimeType: 'application/vc+jwt',
    description: 'Verifiable credential (compact JWS, EdDSA) / 可验证电子凭证',
    creationDate: when,
    modificationDate: when,
    afRelationship: AFRelationship.Data,
  });
}

export const LOG_PROOF_FILENAME = 'log-proof.json';

/** The transparency-log proof of the certificate's issue entry, beside the credential. */
export async function attachLogProof(doc: PDFDocument, proof: object, when: Date): Promise<void> {
  await doc.attach(Buffer.from(JSON.stringify(proof), 'utf8'), LOG_PROOF_FILENAME, {
    mimeType: 'application/json',
    description: 'Transparency log inclusion proof / 透明日志包含证明',
    creationDate: when,
    modificationDate: when,
    afRelationship: AFRelationship.Supplement,
  });
}

function textOf(o: PDFObject | undefined): string | undefined {
  return o instanceof PDFString || o instanceof PDFHexString ? o.decodeText() : undefined;
}

/** Walks a name tree (Names / Kids), depth- and size-limited against hostile files. */
function* nameTree(
  doc: PDFDocument,
  node: PDFDict | undefined,
  depth = 0,
): Generator<[string, PDFObject]> {
  if (!node || depth > 16) return;
  const names = node.lookup(PDFName.of('Names'));
  if (names instanceof PDFArray) {
    for (let i = 0; i + 1 < names.size() && i < 2000; i += 2) {
      const k = textOf(names.get(i));
      if (k !== undefined) yield [k, names.get(i + 1)];
    }
  }
  const kids = node.lookup(PDFName.of('Kids'));
  if (kids instanceof PDFArray) {
    for (let i = 0; i < kids.size() && i < 500; i++) {
      const k = kids.lookup(i);
      if (k instanceof PDFDict) yield* nameTree(doc, k, depth + 1);
    }
  }
}

/**
 * Decodes an unfiltered or FlateDecode stream with a hard output cap, so a
 * small upload cannot inflate to gigabytes. Other encodings are refused: we
 * only ever write Flate, and re-savers (pdf-lib, qpdf) keep it.
 */
export function decodeStream(s: PDFRawStream, maxBytes: number): Uint8Array {
  const filter = s.dict.lookup(PDFName.of('Filter'));
  const name = filter instanceof PDFArray && filter.size() === 1 ? filter.lookup(0) : filter;
  if (name === undefined) return s.contents;
  if (
    name instanceof PDFName &&
    name.asString() === '/FlateDecode' &&
    !s.dict.has(PDFName.of('DecodeParms'))
  ) {
    return inflateWithin(s.dict.context, s.contents, maxBytes);
  }
  throw new Error('unsupported stream encoding');
}

/** The attached credential of an already loaded document, or undefined. */
export function findCredential(doc: PDFDocument): string | undefined {
  return findAttachment(doc, CREDENTIAL_FILENAME, 'latin1');
}

/** An attached file's text by name (at most 64 KiB decoded), or undefined. */
export function findAttachment(
  doc: PDFDocument,
  filename: string,
  encoding: 'latin1' | 'utf8' = 'utf8',
): string | undefined {
  const names = doc.catalog.lookup(PDFName.of('Names'));
  if (!(names instanceof PDFDict)) return undefined;
  const ef = names.lookup(PDFName.of('EmbeddedFiles'));
  if (!(ef instanceof PDFDict)) return undefined;
  for (const [key, value] of nameTree(doc, ef)) {
    const spec = value instanceof PDFRef ? doc.context.lookup(value) : value;
    if (!(spec instanceof PDFDict)) continue;
    const fname =
      textOf(spec.lookup(PDFName.of('UF'))) ?? textOf(spec.lookup(PDFName.of('F'))) ?? key;
    if (fname !== filename && key !== filename) continue;
    const efd = spec.lookup(PDFName.of('EF'));
    if (!(efd instanceof PDFDict)) continue;
    const stream = efd.lookup(PDFName.of('F'));
    if (!(stream instanceof PDFRawStream)) continue;
    const bytes = decodeStream(stream, 64 * 1024);
    return Buffer.from(bytes).toString(encoding).trim();
  }
  return undefined;
}

/**
 * Loads a PDF within the caps of ./limits (a PdfLimitError when over one). Parsed in one go:
 * yielding every 100 objects, pdf-lib's default, only adds idle time (verification runs in a
 * worker, off the event loop).
 */
export async function loadPdf(pdfBytes: Uint8Array): Promise<PDFDocument> {
  const { maxObjects } = pdfLimits();
  if (countObjectHeaders(pdfBytes) > maxObjects)
    throw new PdfLimitError('objects', `the PDF has more than ${maxObjects} objects`);
  let doc: PDFDocument;
  try {
    doc = await PDFDocument.load(pdfBytes, {
      updateMetadata: false,
      ignoreEncryption: false,
      throwOnInvalidObject: false,
      parseSpeed: ParseSpeeds.Fastest,
    });
  } catch (e) {
    throw asLimitError(e) ?? e;
  }
  assertWithinLimits(doc.context);
  return doc;
}

/** Extracts the compact JWS attached as credential.jws (undefined if none). */
export async function extractCredential(pdfBytes: Uint8Array): Promise<string | undefined> {
  return findCredential(await loadPdf(pdfBytes));
}

/** Extracts an attached file's text by name, e.g. LOG_PROOF_FILENAME (undefined if none). */
export async function extractAttachment(
  pdfBytes: Uint8Array,
  filename: string,
): Promise<string | undefined> {
  return findAttachment(await loadPdf(pdfBytes), filename);
}
