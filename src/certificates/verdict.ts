/**
 * What the verify page shows for a certificate serial. The certificate registry plugs in a
 * `VerifyLookup`; until then every serial is unknown, and the page says so plainly.
 */

export type VerdictKind = 'valid' | 'revoked' | 'withdrawn' | 'superseded' | 'not_found';

export interface Verdict {
  kind: VerdictKind;
  /** The serial as the visitor sent it (normalised when it could be parsed). */
  serial: string;
  /** Present when a certificate was found. */
  details?: {
    companyName: string;
    companyNameEn?: string | null;
    uscc: string;
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
