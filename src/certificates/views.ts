/**
 * What a stored certificate looks like to the API and the console: the record's data, its
 * status and history, with province and industry by their Chinese names as certified. (The
 * verify page names them in the reader's language from the record's codes: see verdict.ts.)
 */
import { createHash } from 'node:crypto';
import { decodeJws } from '../../certificates';
import { isDevelopmentCredential } from '../../certificates/credential';
import type { CertificateDoc, CertificateStatus } from '../../models/certificate';
import type { CompanyFields } from '../pledges/queries';

export interface CertificateView {
  serial: string;
  status: CertificateStatus;
  statusReason: string | null;
  supersededBy: string | null;
  /** Province and industry by the Chinese names the certificate carries. */
  company: CompanyFields;
  issuedAt: Date;
  activatedAt: string;
  foundingNumber: number | null;
  initiative: { version: string; sha256: string };
  history: CertificateDoc['history'];
  /** Signed with the registry's generated development keys: a sample of no validity. */
  development: boolean;
}

/** Whether the stored certificate's credential carries the developmentKey claim (certificates/credential.ts). */
export function isDevelopmentCertificate(c: Pick<CertificateDoc, 'jws'>): boolean {
  try {
    return isDevelopmentCredential(decodeJws(c.jws).payload);
  } catch {
    // The registry wrote this JWS itself; one it cannot read claims nothing.
    return false;
  }
}

export function certificateView(c: CertificateDoc): CertificateView {
  return {
    serial: c.serial,
    status: c.status,
    statusReason: c.statusReason ?? null,
    supersededBy: c.supersededBy ?? null,
    company: {
      name: c.data.company.name,
      nameEn: c.data.company.nameEn ?? null,
      uscc: c.data.company.uscc,
      province: c.data.company.province.zh,
      industry: c.data.company.industry.zh,
    },
    issuedAt: c.issuedAt,
    activatedAt: String(c.data.activatedAt),
    foundingNumber: c.data.foundingNumber ?? null,
    initiative: { version: c.data.initiative.version, sha256: c.data.initiative.sha256 },
    history: c.history,
    development: isDevelopmentCertificate(c),
  };
}

/** A view as the API sends it: its JSON bytes and their entity tag. */
export interface ViewBytes {
  json: Buffer;
  /**
   * The weak ETag express would compute for these bytes (W/"<length hex>-<SHA-1 base64, 27>"),
   * made once with them so that an answer does not hash the body again.
   */
  etag: string;
}

export function viewBytes(c: CertificateDoc): ViewBytes {
  const json = Buffer.from(JSON.stringify(certificateView(c)));
  const hash = createHash('sha1').update(json).digest('base64').slice(0, 27);
  return { json, etag: `W/"${json.length.toString(16)}-${hash}"` };
}
