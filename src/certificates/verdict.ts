/**
 * What the verify page shows for a certificate serial. The registry plugs in a `VerifyLookup`
 * (`serialVerdicts`, over the certificate service); until then every serial is unknown, and
 * the page says so plainly.
 */
import { parseSerial } from '../../certificates';
import { CertificateStatus, type CertificateDoc } from '../../models/certificate';
import { isDevelopmentCertificate } from './views';

/** `mistyped`: the serial's check character does not match, so no certificate was looked up. */
export type VerdictKind =
  'valid' | 'revoked' | 'withdrawn' | 'superseded' | 'not_found' | 'mistyped';

export interface Verdict {
  kind: VerdictKind;
  /** The serial as the visitor sent it (normalised when it could be parsed). */
  serial: string;
  /** The certificate was signed with development keys: the page says it is of no validity. */
  development?: boolean;
  /** Present when a certificate was found. */
  details?: {
    companyName: string;
    companyNameEn?: string | null;
    uscc: string;
    /** Province and industry codes, named in the page's language. */
    province?: string;
    industry?: string;
    issuedAt?: Date;
    /** Founding number 1–100, if the pledge is one of the founders. */
    foundingNumber?: number | null;
    initiativeVersion?: number;
    /** When the certificate stopped being valid (revoked, withdrawn or superseded). */
    endedAt?: Date;
    /** Revocation or withdrawal reason, shown as given. */
    reason?: string;
    /** The serial that replaces a superseded certificate. */
    supersededBy?: string;
  };
}

export type VerifyLookup = (serial: string) => Promise<Verdict>;

/** Serials are short printable ASCII; anything else cannot be a serial. */
export const SERIAL_INPUT_MAX = 40;

export const unknownSerials: VerifyLookup = async (serial) => ({ kind: 'not_found', serial });

/**
 * The verdict for what was typed or scanned: anything that cannot be a serial is simply unknown
 * (no lookup); a serial whose check character is wrong is a typo the registry can name.
 */
export async function verdictFor(raw: string, lookup: VerifyLookup): Promise<Verdict> {
  // Typed with spaces or in lower case, a typo is still a typo (parseSerial accepts both).
  const parsed = raw.length <= SERIAL_INPUT_MAX ? parseSerial(raw) : null;
  if (parsed && !parsed.ok && parsed.error === 'checksum') return { kind: 'mistyped', serial: raw };
  const plausible = raw.length > 0 && raw.length <= SERIAL_INPUT_MAX && /^[\x21-\x7e]+$/.test(raw);
  if (!plausible) return { kind: 'not_found', serial: raw.slice(0, SERIAL_INPUT_MAX) };
  return lookup(raw);
}

/** The verdict on a stored certificate. */
export function verdictOf(c: CertificateDoc): Verdict {
  const ended = c.status === CertificateStatus.Valid ? undefined : c.history.at(-1)?.at;
  return {
    kind: c.status,
    serial: c.serial,
    development: isDevelopmentCertificate(c),
    details: {
      companyName: c.data.company.name,
      companyNameEn: c.data.company.nameEn ?? null,
      uscc: c.data.company.uscc,
      province: c.codes?.province,
      industry: c.codes?.industry,
      issuedAt: new Date(c.issuedAt),
      foundingNumber: c.data.foundingNumber ?? null,
      initiativeVersion: Number(c.data.initiative.version),
      endedAt: ended ? new Date(ended) : undefined,
      reason: c.statusReason ?? undefined,
      supersededBy: c.supersededBy ?? undefined,
    },
  };
}

/**
 * The verify page's lookup over `find` (which throws a 400 for a serial that does not parse or
 * whose check character is wrong, a 404 for an unknown one): both are "not found" on the page;
 * the API says "mistyped" in detail.
 */
export function serialVerdicts(find: (serial: string) => Promise<CertificateDoc>): VerifyLookup {
  return async (serial) => {
    let c: CertificateDoc;
    try {
      c = await find(serial);
    } catch (e) {
      if ((e as { status?: number }).status === 400 || (e as { status?: number }).status === 404)
        return { kind: 'not_found', serial };
      throw e;
    }
    return verdictOf(c);
  };
}
