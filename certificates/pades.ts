// PAdES-style detached CMS signatures (SubFilter ETSI.CAdES.detached) with
// @signpdf, and a pure-code checker.
//
// The P12 is parsed once (node-forge) into a PdfSigner; each signature is the
// CMS SignedData assembled from pre-encoded DER pieces with the RSA/ECDSA step
// done by node:crypto (~1 ms), instead of @signpdf/signer-p12 which re-parses
// the P12 on every call (~80 ms) and cannot be reused.
import crypto, { type KeyObject, X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { Signer } from '@signpdf/signpdf';
import signpdf from '@signpdf/signpdf';
import { pdflibAddPlaceholder } from '@signpdf/placeholder-pdf-lib';
import { SUBFILTER_ETSI_CADES_DETACHED } from '@signpdf/utils';
import type { PDFDocument } from 'pdf-lib';
import {
  OID,
  bodyOf,
  bytesOf,
  children,
  int,
  NULL,
  octets,
  oid,
  oidHex,
  readNode,
  seq,
  setOf,
  tlv,
  type DerNode,
} from './der';

const HASH_BY_OID: Record<string, string> = {
  [OID.sha1]: 'sha1',
  [OID.sha256]: 'sha256',
  [OID.sha384]: 'sha384',
  [OID.sha512]: 'sha512',
};

function x509Parts(certDer: Buffer): { issuer: Buffer; serial: Buffer } {
  const cert = readNode(certDer, 0);
  const tbs = children(certDer, cert)[0]!;
  const f = children(certDer, tbs);
  const i = f[0]!.tag === 0xa0 ? 1 : 0; // optional [0] version
  return { serial: bytesOf(certDer, f[i]!), issuer: bytesOf(certDer, f[i + 2]!) };
}

export interface PdfSignerInfo {
  /** subject DN of the signing certificate, as OpenSSL prints it */
  subject: string;
  /** SHA-256 of the certificate DER, hex (pin this to trust a signer) */
  certSha256: string;
}

export interface PdfSignerParts {
  privateKey: KeyObject;
  certificateDer: Uint8Array;
  chainDer: Uint8Array[];
}

/** Reusable, parsed-once signer for @signpdf. */
export class PdfSigner extends Signer implements PdfSignerInfo {
  readonly subject: string;
  readonly certSha256: string;
  /** hex digits to reserve in the /Contents placeholder (2 per CMS byte) */
  readonly signatureLength: number;
  private readonly sid: Buffer;
  private readonly certsField: Buffer;
  private readonly essAttr: Buffer;
  private readonly sigAlg: Buffer;

  constructor(
    private readonly privateKey: KeyObject,
    readonly certificateDer: Buffer,
    private readonly chainDer: Buffer[] = [],
  ) {
    super();
    const x = new X509Certificate(certificateDer);
    if (!x.checkPrivateKey(privateKey))
      throw new Error('P12 private key does not match its certificate');
    this.subject = x.subject.replace(/\n/g, ', ');
    const hash = crypto.createHash('sha256').update(certificateDer).digest();
    this.certSha256 = hash.toString('hex');
    const { issuer, serial } = x509Parts(certificateDer);
    this.sid = seq(issuer, serial);
    this.certsField = tlv(0xa0, certificateDer, ...chainDer);
    // ESS signing-certificate-v2 (RFC 5035), required by CAdES/PAdES: binds the signer cert.
    // hashAlgorithm omitted = sha256 (DEFAULT); issuerSerial = [4] directoryName issuer + serial.
    this.essAttr = seq(
      oid(OID.signingCertificateV2),
      setOf(seq(seq(seq(octets(hash), seq(seq(tlv(0xa4, issuer)), serial))))),
    );
    const kt = privateKey.asymmetricKeyType;
    if (kt === 'rsa') this.sigAlg = seq(oid(OID.rsaEncryption), NULL);
    else if (kt === 'ec') this.sigAlg = seq(oid(OID.ecdsaWithSha256));
    else throw new Error(`unsupported PDF signing key type ${kt}`);
    // Size the placeholder from a trial signature (+ margin for ECDSA's variable
    // length); the default 8192 would waste ~5 KB per certificate.
    this.signatureLength = 2 * (this.signDetached(Buffer.alloc(0)).length + 32);
  }

  /** What rebuilds this signer in a worker thread (postMessage and workerData clone KeyObjects). */
  parts(): PdfSignerParts {
    return {
      privateKey: this.privateKey,
      certificateDer: this.certificateDer,
      chainDer: this.chainDer,
    };
  }

  static fromParts(p: PdfSignerParts): PdfSigner {
    return new PdfSigner(
      p.privateKey,
      Buffer.from(p.certificateDer),
      p.chainDer.map((d) => Buffer.from(d)),
    );
  }

  /** Parses a PKCS#12 (SIGNING_P12) once. */
  static fromP12(p12: Uint8Array, passphrase = ''): PdfSigner {
    const asn1 = forge.asn1.fromDer(forge.util.createBuffer(Buffer.from(p12).toString('binary')));
    const parsed = forge.pkcs12.pkcs12FromAsn1(asn1, passphrase);
    const keyBags = [
      ...(parsed.getBags({ bagType: forge.pki.oids.pkcs8ShroudedKeyBag! })[
        forge.pki.oids.pkcs8ShroudedKeyBag!
      ] ?? []),
      ...(parsed.getBags({ bagType: forge.pki.oids.keyBag! })[forge.pki.oids.keyBag!] ?? []),
    ];
    const bag = keyBags[0];
    if (!bag) throw new Error('P12 contains no private key');
    let privateKey: KeyObject;
    if (bag.key) privateKey = crypto.createPrivateKey(forge.pki.privateKeyToPem(bag.key));
    else if (bag.asn1) {
      const der = Buffer.from(forge.asn1.toDer(bag.asn1).getBytes(), 'binary');
      privateKey = crypto.createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    } else throw new Error('P12 private key unreadable');
    const certBags =
      parsed.getBags({ bagType: forge.pki.oids.certBag! })[forge.pki.oids.certBag!] ?? [];
    const ders = certBags
      .map((b) =>
        b.cert ? forge.pki.certificateToAsn1(b.cert) : (b as { asn1?: forge.asn1.Asn1 }).asn1,
      )
      .filter((a): a is forge.asn1.Asn1 => !!a)
      .map((a) => Buffer.from(forge.asn1.toDer(a).getBytes(), 'binary'));
    const leaf = ders.find((d) => new X509Certificate(d).checkPrivateKey(privateKey));
    if (!leaf) throw new Error('P12 contains no certificate for its private key');
    return new PdfSigner(
      privateKey,
      leaf,
      ders.filter((d) => d !== leaf),
    );
  }

  /** CMS SignedData (detached) over `data`. */
  signDetached(data: Uint8Array): Buffer {
    const digest = crypto.createHash('sha256').update(data).digest();
    const attrs = setOf(
      seq(oid(OID.contentType), setOf(oid(OID.data))),
      seq(oid(OID.messageDigest), setOf(octets(digest))),
      this.essAttr,
    );
    // Signed over the SET OF encoding; stored with the [0] IMPLICIT tag.
    const signature = crypto.sign('sha256', attrs, this.privateKey);
    attrs[0] = 0xa0;
    const signerInfo = seq(
      int(1),
      this.sid,
      seq(oid(OID.sha256), NULL),
      attrs,
      this.sigAlg,
      octets(signature),
    );
    const signedData = seq(
      int(1),
      setOf(seq(oid(OID.sha256), NULL)),
      seq(oid(OID.data)),
      this.certsField,
      setOf(signerInfo),
    );
    return seq(oid(OID.signedData), tlv(0xa0, signedData));
  }

  override async sign(pdfBuffer: Buffer): Promise<Buffer> {
    return this.signDetached(pdfBuffer);
  }
}

export interface DevP12 {
  p12: Uint8Array;
  passphrase: string;
  certificatePem: string;
}

/**
 * A self-signed RSA-2048 certificate + P12 for development and tests.
 * The subject DN is ASCII on purpose: node-forge double-encodes non-ASCII DNs.
 */
export function createDevP12(
  opts: { commonName?: string; passphrase?: string; years?: number } = {},
): DevP12 {
  const passphrase = opts.passphrase ?? 'dev';
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }); // native: ~50 ms vs seconds in forge
  const key = forge.pki.privateKeyFromPem(
    privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
  );
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(
    publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  );
  cert.serialNumber = '01' + crypto.randomBytes(15).toString('hex');
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 24 * 3600e3);
  cert.validity.notAfter = new Date(now + (opts.years ?? 5) * 365 * 24 * 3600e3);
  const attrs = [
    { shortName: 'CN', value: opts.commonName ?? 'EQI Registry Document Signing (development)' },
    { shortName: 'O', value: 'EQI Registry (development)' },
    { shortName: 'C', value: 'CN' },
  ];
  for (const a of attrs)
    if (!/^[\x20-\x7e]+$/.test(a.value)) throw new Error('keep the signing certificate DN ASCII');
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, nonRepudiation: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(key, forge.md.sha256.create());
  const p12Asn1 = forge.pkcs12.toPkcs12Asn1(key, [cert], passphrase, {
    algorithm: '3des',
    friendlyName: 'eqi-dev-signing',
  });
  return {
    p12: Buffer.from(forge.asn1.toDer(p12Asn1).getBytes(), 'binary'),
    passphrase,
    certificatePem: forge.pki.certificateToPem(cert),
  };
}

export interface PlaceholderOptions {
  /** ASCII only: placeholder-pdf-lib garbles other text */
  reason?: string;
  name?: string;
  location?: string;
  contactInfo?: string;
  signingTime?: Date;
}

const ascii = (s: string): string => s.replace(/[^\x20-\x7e]/g, '?');

/** Adds the /Sig dictionary and invisible widget to an in-memory document. */
export function addSignaturePlaceholder(
  doc: PDFDocument,
  signer: PdfSigner,
  o: PlaceholderOptions = {},
): void {
  pdflibAddPlaceholder({
    pdfDoc: doc,
    reason: ascii(o.reason ?? 'Certificate issued by the EQI registry'),
    name: ascii(o.name ?? 'EQI Registry'),
    location: ascii(o.location ?? 'CN'),
    contactInfo: ascii(o.contactInfo ?? ''),
    signingTime: o.signingTime,
    signatureLength: signer.signatureLength,
    subFilter: SUBFILTER_ETSI_CADES_DETACHED,
  });
}

/** Fills the placeholder of a saved PDF (useObjectStreams: false) with the CMS signature. */
export async function signPdf(pdf: Uint8Array, signer: PdfSigner): Promise<Buffer> {
  return signpdf.sign(Buffer.from(pdf.buffer, pdf.byteOffset, pdf.byteLength), signer);
}

export interface PdfSignatureCheck {
  present: boolean;
  /** ByteRange starts at 0, skips exactly the /Contents hex string and ends at EOF */
  coversWholeFile: boolean;
  /** the CMS messageDigest equals the hash of the ByteRange bytes */
  digestValid: boolean;
  /** the CMS signature over the signed attributes verifies with the embedded certificate */
  signatureValid: boolean;
  signerSubject?: string;
  signerCertSha256?: string;
  byteRange?: [number, number, number, number];
  /** why a check failed */
  reason?: string;
  /** the same, stable for programs and translations */
  reasonCode?: PdfSignatureFailure;
}

export type PdfSignatureFailure =
  | 'signature-missing'
  | 'signature-malformed'
  | 'signature-unreadable'
  | 'signature-partial'
  | 'digest-mismatch'
  | 'signature-invalid';

const BYTE_RANGE_RE = /\/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]/g;

/**
 * Checks the (last) PDF signature in pure code: ByteRange shape, the CMS
 * messageDigest against the covered bytes, and the CMS signature against the
 * certificate embedded in it. Does not judge whether that certificate is
 * trusted: compare signerCertSha256 with a pinned value for that.
 */
export function checkPdfSignature(pdfBytes: Uint8Array): PdfSignatureCheck {
  const res: PdfSignatureCheck = {
    present: false,
    coversWholeFile: false,
    digestValid: false,
    signatureValid: false,
  };
  const buf = Buffer.from(pdfBytes.buffer, pdfBytes.byteOffset, pdfBytes.byteLength);
  const text = buf.toString('latin1');
  let m: RegExpExecArray | null;
  let last: RegExpExecArray | null = null;
  BYTE_RANGE_RE.lastIndex = 0;
  while ((m = BYTE_RANGE_RE.exec(text))) last = m;
  if (!last)
    return {
      ...res,
      reason: 'no PDF signature (/ByteRange) found',
      reasonCode: 'signature-missing',
    };
  res.present = true;
  const br = last.slice(1, 5).map(Number) as [number, number, number, number];
  res.byteRange = br;
  const [a, b, c, d] = br;
  if (a !== 0 || b <= 0 || c <= b || c + d > buf.length || buf[b] !== 0x3c || buf[c - 1] !== 0x3e) {
    return { ...res, reason: 'malformed /ByteRange', reasonCode: 'signature-malformed' };
  }
  const hex = text.slice(b + 1, c - 1);
  if (!/^[0-9a-fA-F]*$/.test(hex) || hex.length % 2)
    return { ...res, reason: '/Contents is not a hex string', reasonCode: 'signature-malformed' };
  res.coversWholeFile = c + d === buf.length;
  const cms = Buffer.from(hex, 'hex');
  try {
    const ci = readNode(cms, 0);
    const [ctype, wrapped] = children(cms, ci);
    if (!ctype || oidHex(cms, ctype) !== OID.signedData || !wrapped)
      throw new Error('not a CMS SignedData');
    const sd = children(cms, children(cms, wrapped)[0]!);
    const certsNode = sd.find((n) => n.tag === 0xa0);
    const signerInfos = sd[sd.length - 1]!;
    const si = children(cms, children(cms, signerInfos)[0]!);
    const digestAlg = HASH_BY_OID[oidHex(cms, children(cms, si[2]!)[0]!)];
    if (!digestAlg) throw new Error('unsupported digest algorithm');
    const signedAttrs = si.find((n) => n.tag === 0xa0);
    if (!signedAttrs) throw new Error('CMS has no signed attributes');
    const sigNode = si[si.length - 1]!;
    let messageDigest: Buffer | undefined;
    for (const attr of children(cms, signedAttrs)) {
      const [t, vals] = children(cms, attr);
      if (t && vals && oidHex(cms, t) === OID.messageDigest)
        messageDigest = bodyOf(cms, children(cms, vals)[0]!);
    }
    if (!messageDigest) throw new Error('CMS has no messageDigest');
    // Signer certificate: the one whose issuer+serial match the SignerInfo sid.
    const sid = bytesOf(cms, si[1]!);
    let cert: X509Certificate | undefined;
    let certDer: Buffer | undefined;
    for (const n of certsNode ? children(cms, certsNode) : ([] as DerNode[])) {
      const der = bytesOf(cms, n);
      const { issuer, serial } = x509Parts(der);
      if (seq(issuer, serial).equals(sid)) {
        cert = new X509Certificate(der);
        certDer = der;
      }
    }
    if (!cert || !certDer) throw new Error('signer certificate not in the CMS');
    res.signerSubject = cert.subject.replace(/\n/g, ', ');
    res.signerCertSha256 = crypto.createHash('sha256').update(certDer).digest('hex');
    const h = crypto.createHash(digestAlg);
    h.update(buf.subarray(a, b));
    h.update(buf.subarray(c, c + d));
    res.digestValid = h.digest().equals(messageDigest);
    const attrsDer = Buffer.from(bytesOf(cms, signedAttrs));
    attrsDer[0] = 0x31;
    res.signatureValid = crypto.verify(digestAlg, attrsDer, cert.publicKey, bodyOf(cms, sigNode));
  } catch (e) {
    return {
      ...res,
      reason: `unreadable CMS signature: ${(e as Error).message}`,
      reasonCode: 'signature-unreadable',
    };
  }
  if (!res.coversWholeFile) {
    res.reason = 'the signature does not cover the whole file (bytes were appended)';
    res.reasonCode = 'signature-partial';
  } else if (!res.digestValid) {
    res.reason = 'digest mismatch: the document was changed after signing';
    res.reasonCode = 'digest-mismatch';
  } else if (!res.signatureValid) {
    res.reason = 'the CMS signature does not verify with its certificate';
    res.reasonCode = 'signature-invalid';
  }
  return res;
}
