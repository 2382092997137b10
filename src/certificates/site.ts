/**
 * What the site needs from certificates besides the serial lookup (verdict.ts): the signed-in
 * company's certificate for /me and its PDF, and the check of an uploaded certificate PDF. The
 * registry plugs the certificate service in; without it no company has a certificate yet.
 */
import { PledgeStatus, type PledgeDoc } from '../../models/pledge';
import { notFound, serviceUnavailable } from '../errors';
import { pledgeCertificatePdf } from './records';
import type { CertificateService } from './service';
import type { UploadVerdict } from './verification';

/** The certificate of the company's latest pledge, as /me shows it. */
export type CompanyCertificate =
  | { state: 'none' }
  /** Active, and its (first or corrected) certificate is being issued in the background. */
  | { state: 'issuing' }
  /** `current`: the pledge is active, so the certificate is valid and offered for download. */
  | { state: 'issued'; serial: string; current: boolean };

/** The fields of a pledge /me's certificate box reads. */
export type CertificateOfPledge = Pick<
  PledgeDoc,
  'status' | 'certificateSerial' | 'needsCertificate'
>;

export interface SiteCertificates {
  /** The certificate of the pledge the company session was granted for (src/pledges/access.ts). */
  ofPledge(pledge: CertificateOfPledge): Promise<CompanyCertificate>;
  /** The PDF of that pledge's certificate; a 404 AppError when it has none. */
  pdfForPledge(pledge: CertificateOfPledge): Promise<{ serial: string; pdf: Buffer }>;
  /** Every check on an uploaded PDF (the API's POST /verify): offline proofs, then the registry's. */
  verifyUpload(bytes: Uint8Array): Promise<UploadVerdict>;
  /** A place for one upload (before reading it); gives it back when called. 503 when busy. */
  admitUpload(): () => void;
}

export const noCertificates: SiteCertificates = {
  ofPledge: async () => ({ state: 'none' }),
  pdfForPledge: async () => {
    throw notFound('Your company has no certificate yet.');
  },
  verifyUpload: async () => {
    throw serviceUnavailable('Certificates cannot be checked here.');
  },
  admitUpload: () => () => undefined,
};

/** The certificate box of the pledge /me shows. */
export async function pledgeCertificate(p: CertificateOfPledge): Promise<CompanyCertificate> {
  const active = p.status === PledgeStatus.Active;
  // After a correction the old serial stays on the pledge until the new certificate is issued.
  if (active && (p.needsCertificate || !p.certificateSerial)) return { state: 'issuing' };
  if (p.certificateSerial) return { state: 'issued', serial: p.certificateSerial, current: active };
  return { state: 'none' };
}

export function siteCertificates(certs: CertificateService): SiteCertificates {
  return {
    ofPledge: pledgeCertificate,
    pdfForPledge: (pledge) => pledgeCertificatePdf(pledge),
    verifyUpload: (bytes) => certs.verifyUpload(bytes),
    admitUpload: () => certs.admitUpload(),
  };
}
