// Pure certificate library: rendering, serials, credentials (JWS), PAdES signing and verification.
// No express, no mongoose, no app imports.
export type { Association, Bilingual, CertificateData, RenderOptions } from './types';
export { DEFAULT_ASSOCIATION } from './types';
export { makeSerial, parseSerial, SERIAL_ALPHABET, type SerialParse } from './serial';
export {
  CERTIFICATE_LAYOUT,
  PAGE,
  buildCertificate,
  renderCertificate,
  unsupportedCharacters,
  verifyUrl,
  type BuiltCertificate,
  type RenderedLayout,
} from './render';
export {
  CredentialError,
  decodeJws,
  exportSigningKeyPem,
  generateSigningKey,
  JWKS_PATH,
  jwkThumbprint,
  keyFingerprint,
  keyUrl,
  loadSigningKey,
  publicJwkOf,
  signCredential,
  toJwks,
  verifyCredential,
  type CredentialFailure,
  type Ed25519Jwk,
  type Jwks,
  type SigningKey,
} from './jws';
export { EQI_CONTEXT_MEDIA_TYPE, EQI_CONTEXT_PATH, eqiContext, eqiContextUrl } from './context';
export {
  CREDENTIAL_FILENAME,
  LOG_PROOF_FILENAME,
  assertCredentialShape,
  buildCredential,
  extractAttachment,
  extractCredential,
  type CertificateCredential,
} from './credential';
export {
  PdfSigner,
  addSignaturePlaceholder,
  checkPdfSignature,
  createDevP12,
  signPdf,
  type DevP12,
  type PdfSignatureCheck,
  type PdfSignatureFailure,
  type PdfSignerParts,
} from './pades';
export {
  issueCertificate,
  issueCertificatePdf,
  REASON_CODES,
  renderDigestOf,
  verifyCertificatePdf,
  type CheckName,
  type IssueOptions,
  type IssuedCertificate,
  type PdfVerification,
  type ReasonCode,
  type VerificationCheck,
} from './issue';
export { loadSubsetEngine } from './fonts';
export {
  DEFAULT_PDF_LIMITS,
  PdfLimitError,
  pdfLimits,
  setPdfLimits,
  type PdfLimitKind,
  type PdfLimits,
} from './limits';
