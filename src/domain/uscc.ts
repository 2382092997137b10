/**
 * Unified Social Credit Code (统一社会信用代码), GB 32100-2015, as described in docs/DOMAIN.md.
 *
 * Layout (1-based): 1 registration authority · 2 organisation type · 3–8 administrative division
 * (GB/T 2260; 3–4 = province) · 9–17 organisation code (GB 11714, 17 is its own check digit) ·
 * 18 check character over the first 17.
 */
import { isProvinceCode, type ProvinceCode } from './provinces';

/** The 31 code characters; a character's value is its index here (no I, O, S, V, Z). */
export const USCC_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
export const USCC_LENGTH = 18;

/** Weight of position i (1-based) is 3^(i-1) mod 31. */
export const USCC_WEIGHTS: readonly number[] = Object.freeze(
  Array.from({ length: USCC_LENGTH - 1 }, (_, i) => {
    let w = 1;
    for (let k = 0; k < i; k++) w = (w * 3) % 31;
    return w;
  }),
);

export type UsccResult =
  | { ok: true; uscc: string; provinceCode: string }
  | { ok: false; reason: 'length' | 'charset' | 'checksum'; message: string };

export function normalizeUscc(input: string): string {
  return input.trim().toUpperCase();
}

function charValue(ch: string): number {
  return USCC_ALPHABET.indexOf(ch);
}

/** The check character (position 18) for the first 17 characters. Throws on malformed input. */
export function usccCheckChar(first17: string): string {
  const body = normalizeUscc(first17);
  if (body.length !== USCC_LENGTH - 1) {
    throw new RangeError(`usccCheckChar needs 17 characters, got ${body.length}`);
  }
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    const v = charValue(body[i]);
    if (v < 0) throw new RangeError(`usccCheckChar: '${body[i]}' is not a USCC character`);
    sum += v * USCC_WEIGHTS[i];
  }
  return USCC_ALPHABET[(31 - (sum % 31)) % 31];
}

/**
 * Checks a USCC: length, alphabet, then the check character. Lower case and surrounding spaces
 * are accepted (normalised); anything else is rejected with a reason a form can show.
 */
export function validateUscc(input: string): UsccResult {
  const uscc = normalizeUscc(input);
  if (uscc.length !== USCC_LENGTH) {
    return {
      ok: false,
      reason: 'length',
      message: `A USCC has 18 characters; this one has ${uscc.length}.`,
    };
  }
  for (let i = 0; i < uscc.length; i++) {
    if (charValue(uscc[i]) < 0) {
      const shown = JSON.stringify(uscc[i]);
      return {
        ok: false,
        reason: 'charset',
        message: `Character ${shown} at position ${i + 1} is not allowed: a USCC uses only digits and the letters A–Y except I, O, S, V and Z.`,
      };
    }
  }
  if (usccCheckChar(uscc.slice(0, 17)) !== uscc[17]) {
    return {
      ok: false,
      reason: 'checksum',
      message: 'The check character (the last one) does not match: the code is probably mistyped.',
    };
  }
  return { ok: true, uscc, provinceCode: uscc.slice(2, 4) };
}

/** Boolean convenience for schema refinements. */
export function isValidUscc(input: string): boolean {
  return validateUscc(input).ok;
}

// GB 11714 organisation code check digit over its first 8 characters. Real codes carry it at
// USCC position 17, so generated codes look like real ones.
const ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2];
function orgCodeValue(ch: string): number {
  return /[0-9]/.test(ch) ? Number(ch) : ch.charCodeAt(0) - 55; // A = 10 … Z = 35
}
function orgCheckChar(first8: string): string {
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += orgCodeValue(first8[i]) * ORG_WEIGHTS[i];
  const c = 11 - (sum % 11);
  return c === 10 ? 'X' : c === 11 ? '0' : String(c);
}

export interface MakeUsccOptions {
  /** Two-digit GB/T 2260 province code (default '11', Beijing). */
  provinceCode?: ProvinceCode;
  /** Full six-digit division code; overrides provinceCode's default `<province>0100`. */
  divisionCode?: string;
  /** Registration authority and organisation type (default '91': market regulation, enterprise). */
  kind?: string;
  /** Deterministic organisation code body: distinct serials give distinct codes (per division). */
  serial?: number;
  /** Random source for the organisation code when no serial is given (default Math.random). */
  random?: () => number;
}

/** A valid USCC for seeds and tests (fictional: the organisation code part is made up). */
export function makeUscc(options: MakeUsccOptions = {}): string {
  const province = options.provinceCode ?? '11';
  if (!isProvinceCode(province)) throw new RangeError(`makeUscc: unknown province ${province}`);
  const division = options.divisionCode ?? `${province}0100`;
  if (!/^\d{6}$/.test(division) || !isProvinceCode(division.slice(0, 2))) {
    throw new RangeError(`makeUscc: bad division code ${division}`);
  }
  const kind = options.kind ?? '91';
  if (kind.length !== 2 || [...kind].some((c) => charValue(c) < 0)) {
    throw new RangeError(`makeUscc: bad kind ${kind}`);
  }

  let org: string;
  if (options.serial !== undefined) {
    const serial = options.serial;
    if (!Number.isSafeInteger(serial) || serial < 0 || serial >= 31 ** 6) {
      throw new RangeError(`makeUscc: serial out of range: ${serial}`);
    }
    // "MA" prefix as in post-2015 codes, then the serial in base 31 over the USCC alphabet.
    let rest = '';
    for (let n = serial, k = 0; k < 6; k++, n = Math.floor(n / 31)) {
      rest = USCC_ALPHABET[n % 31] + rest;
    }
    org = `MA${rest}`;
  } else {
    const random = options.random ?? Math.random;
    org = Array.from({ length: 8 }, () => USCC_ALPHABET[Math.floor(random() * 31) % 31]).join('');
  }
  const first17 = `${kind}${division}${org}${orgCheckChar(org)}`;
  return first17 + usccCheckChar(first17);
}
