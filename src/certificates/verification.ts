/**
 * Checking an uploaded certificate PDF: the offline checks of certificates/ (in a worker of
 * the verify pool, off the event loop), then the registry's: the serial is known, the certified
 * data equals the registry record, and the certificate is still valid.
 */
import { buildCredential, type VerificationCheck } from '../../certificates';
import { Certificate, CertificateStatus, type CertificateDoc } from '../../models/certificate';
import type { KeyRing } from './keys';
import type { VerifyPool } from './verify-pool';
import { certificateView, type CertificateView } from './views';

export interface UploadVerdict {
  valid: boolean;
  status: CertificateStatus | null;
  serial: string | null;
  checks: VerificationCheck[];
  certificate: CertificateView | null;
}

/**
 * A 422 VerificationRefused for a file over a cap and a 503 when no worker could check it
 * (both from the pool); every other problem is a failed check.
 */
export async function verifyUpload(pool: VerifyPool, keys: KeyRing, publicUrl: string, bytes: Uint8Array): Promise<UploadVerdict> {
  const offline = await pool.verify(bytes, await keys.jwks());
  const checks = [...offline.checks];
  const serial = offline.credential?.serialNumber ?? null;
  const cert = serial ? await Certificate.findOne({ serial }).lean<CertificateDoc>() : null;
  checks.push(cert ? { name: 'serial-known', ok: true } : { name: 'serial-known', ok: false, reason: serial ? `no certificate ${serial} in the registry` : 'no verified credential to read a serial from' });
  if (cert && offline.credential) {
    const expected = buildCredential(cert.data, { publicUrl, renderDigest: offline.credential.renderDigest });
    const same = JSON.stringify(expected.credentialSubject) === JSON.stringify(offline.credential.credentialSubject) && expected.validFrom === offline.credential.validFrom;
    checks.push(same ? { name: 'registry-match', ok: true } : { name: 'registry-match', ok: false, reason: 'the certified data differs from the registry record' });
  } else checks.push({ name: 'registry-match', ok: false, reason: 'nothing to compare' });
  checks.push(cert?.status === CertificateStatus.Valid ? { name: 'status', ok: true } : { name: 'status', ok: false, reason: cert ? `the certificate is ${cert.status}${cert.statusReason ? `: ${cert.statusReason}` : ''}` : 'unknown certificate' });
  return { valid: checks.every((c) => c.ok), status: cert?.status ?? null, serial, checks, certificate: cert ? certificateView(cert) : null };
}
