/**
 * Checking an uploaded certificate PDF: the offline checks of certificates/ (in a worker of
 * the verify pool, off the event loop), its log-proof.json against the registry's own
 * transparency log key (as `npm run verify` checks it), then the registry's: the serial is
 * known, the certified data equals the registry record, and the certificate is still valid.
 */
import { buildCredential, type VerificationCheck } from '../../certificates';
import { isDevelopmentCredential } from '../../certificates/credential';
import { Certificate, CertificateStatus, type CertificateDoc } from '../../models/certificate';
import { checkLogProof } from '../transparency/offline';
import type { KeyRing } from './keys';
import type { VerifyPool } from './verify-pool';
import { certificateView, type CertificateView } from './views';

/** Why a registry check failed (the offline checks' codes are certificates' REASON_CODES). */
export const REGISTRY_REASON_CODES = [
  'no-log-proof',
  'log-proof-malformed',
  'no-vkey',
  'bad-vkey',
  'checkpoint-unverified',
  'inclusion-invalid',
  'entry-malformed',
  'entry-mismatch',
  'serial-unknown',
  'no-serial',
  'registry-mismatch',
  'nothing-to-compare',
  'certificate-revoked',
  'certificate-withdrawn',
  'certificate-superseded',
  'unknown-certificate',
] as const;

/** Every check an upload gets, in the order it is reported (the site explains each by name). */
export const UPLOAD_CHECKS = [
  'credential-present',
  'credential-signature',
  'credential-matches-document',
  'pdf-signature',
  'pdf-signer-trusted',
  'log-proof',
  'serial-known',
  'registry-match',
  'status',
] as const;

/**
 * log-proof.json as one check: the CLI's four log checks (src/transparency/offline.ts: proof
 * present, checkpoint signed by the log key, inclusion, entry naming this serial and credential)
 * must all pass; a failure reports the first failing one's code and reason.
 */
function logProofCheck(log: VerificationCheck[]): VerificationCheck {
  const failed = log.find((c) => !c.ok);
  if (failed) return { name: 'log-proof', ok: false, code: failed.code, reason: failed.reason };
  return { name: 'log-proof', ok: true, detail: log.map((c) => c.detail).join('; ') };
}

export interface UploadVerdict {
  valid: boolean;
  status: CertificateStatus | null;
  serial: string | null;
  checks: VerificationCheck[];
  certificate: CertificateView | null;
  /**
   * The file's verified credential says it was signed with development keys: whatever the
   * checks say, it is a sample of no validity.
   */
  development: boolean;
}

/**
 * A 422 VerificationRefused for a file over a cap and a 503 when no worker could check it
 * (both from the pool); every other problem is a failed check.
 */
export async function verifyUpload(
  pool: VerifyPool,
  keys: KeyRing,
  publicUrl: string,
  bytes: Uint8Array,
  logVkey?: string,
): Promise<UploadVerdict> {
  const offline = await pool.verify(bytes, await keys.jwks());
  const checks = [...offline.checks];
  // The registry's own log key, never the one a file brings along.
  const log = checkLogProof({
    proofText: offline.logProof,
    jws: offline.jws,
    credential: offline.credential,
    vkey: logVkey,
    vkeySource: 'this registry',
  });
  checks.push(logProofCheck(log.checks));
  const serial = offline.credential?.serialNumber ?? null;
  const cert = serial ? await Certificate.findOne({ serial }).lean<CertificateDoc>() : null;
  checks.push(
    cert
      ? { name: 'serial-known', ok: true }
      : serial
        ? {
            name: 'serial-known',
            ok: false,
            code: 'serial-unknown',
            reason: `no certificate ${serial} in the registry`,
          }
        : {
            name: 'serial-known',
            ok: false,
            code: 'no-serial',
            reason: 'no verified credential to read a serial from',
          },
  );
  // Compares the embedded credential (not the page: credential-matches-document does that) with the record.
  if (cert && offline.credential) {
    const expected = buildCredential(cert.data, {
      publicUrl,
      renderDigest: offline.credential.renderDigest,
    });
    const same =
      JSON.stringify(expected.credentialSubject) ===
        JSON.stringify(offline.credential.credentialSubject) &&
      expected.validFrom === offline.credential.validFrom;
    checks.push(
      same
        ? { name: 'registry-match', ok: true }
        : {
            name: 'registry-match',
            ok: false,
            code: 'registry-mismatch',
            reason: 'the certified data differs from the registry record',
          },
    );
  } else
    checks.push({
      name: 'registry-match',
      ok: false,
      code: 'nothing-to-compare',
      reason: 'nothing to compare',
    });
  checks.push(
    cert?.status === CertificateStatus.Valid
      ? { name: 'status', ok: true }
      : cert
        ? {
            name: 'status',
            ok: false,
            code: `certificate-${cert.status}`,
            reason: `the certificate is ${cert.status}${cert.statusReason ? `: ${cert.statusReason}` : ''}`,
          }
        : { name: 'status', ok: false, code: 'unknown-certificate', reason: 'unknown certificate' },
  );
  const development = offline.credential ? isDevelopmentCredential(offline.credential) : false;
  return {
    valid: checks.every((c) => c.ok),
    status: cert?.status ?? null,
    serial,
    checks,
    certificate: cert ? certificateView(cert) : null,
    development,
  };
}
