/**
 * What the site needs from certificates besides the serial lookup (verdict.ts): the signed-in
 * company's certificate for /me and its PDF, and the check of an uploaded certificate PDF. The
 * registry plugs the certificate service in; without it no company has a certificate yet.
 */
import { Types } from 'mongoose';
import { Pledge, PledgeStatus, type PledgeDoc } from '../../models/pledge';
import { notFound, serviceUnavailable } from '../errors';
import type { CertificateService } from './service';
import type { UploadVerdict } from './verification';

/** The certificate of the company's latest pledge, as /me shows it. */
export type CompanyCertificate =
  | { state: 'none' }
  /** Active, and its (first or corrected) certificate is being issued in the background. */
  | { state: 'issuing' }
  /** `current`: the pledge is active, so the certificate is valid and offered for download. */
  | { state: 'issued'; serial: string; current: boolean };

export interface SiteCertificates {
  ofCompany(companyId: string): Promise<CompanyCertificate>;
  /** The PDF of the company's certificate; a 404 AppError when it has none. */
  pdfForCompany(companyId: string): Promise<{ serial: string; pdf: Buffer }>;
  /** Every check on an uploaded PDF (the API's POST /verify): offline proofs, then the registry's. */
  verifyUpload(bytes: Uint8Array): Promise<UploadVerdict>;
  /** A place for one upload (before reading it); gives it back when called. 503 when busy. */
  admitUpload(): () => void;
}

export const noCertificates: SiteCertificates = {
  ofCompany: async () => ({ state: 'none' }),
  pdfForCompany: async () => {
    throw notFound('Your company has no certificate yet.');
  },
  verifyUpload: async () => {
    throw serviceUnavailable('Certificates cannot be checked here.');
  },
  admitUpload: () => () => undefined,
};

/** Reads the same pledge /me shows (the company's latest). */
export async function companyCertificate(companyId: string): Promise<CompanyCertificate> {
  const p = await Pledge.findOne({ company: new Types.ObjectId(companyId) })
    .sort({ createdAt: -1 })
    .select('status certificateSerial needsCertificate')
    .lean<Pick<PledgeDoc, 'status' | 'certificateSerial' | 'needsCertificate'>>();
  if (!p) return { state: 'none' };
  const active = p.status === PledgeStatus.Active;
  // After a correction the old serial stays on the pledge until the new certificate is issued.
  if (active && (p.needsCertificate || !p.certificateSerial)) return { state: 'issuing' };
  if (p.certificateSerial) return { state: 'issued', serial: p.certificateSerial, current: active };
  return { state: 'none' };
}

export function siteCertificates(certs: CertificateService): SiteCertificates {
  return {
    ofCompany: companyCertificate,
    pdfForCompany: (companyId) => certs.pdfForCompany(companyId),
    verifyUpload: (bytes) => certs.verifyUpload(bytes),
    admitUpload: () => certs.admitUpload(),
  };
}
