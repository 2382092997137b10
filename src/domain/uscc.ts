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

/** Which part of the rule a code breaks, in the order they are checked. */
export type UsccFailure =
  'length' | 'charset' | 'authority' | 'type' | 'region' | 'org-check' | 'checksum';

export type UsccResult =
  | { ok: true; uscc: string; provinceCode: string }
  | { ok: false; reason: UsccFailure; message: string };

/**
 * GB 32100-2015 table of registration authorities (character 1) and the organisation types
 * (character 2) each may register, with the later A (military) and N (agriculture) codes.
 */
export const USCC_AUTHORITY_TYPES: Readonly<Record<string, string>> = Object.freeze({
  '1': '1239', // institutional staffing: organs, public institutions, mass organisations, other
  '2': '19', // foreign affairs: resident foreign news agencies, other
  '3': '123459', // justice: law firms, notaries, legal services, forensics, arbitration, other
  '4': '19', // culture: foreign cultural centres, other
  '5': '1239', // civil affairs: social organisations, private non-enterprise units, foundations, other
  '6': '129', // tourism: foreign and HK/Macao/Taiwan tourism offices, other
  '7': '129', // religion: places of worship, religious schools, other
  '8': '19', // trade unions: basic-level unions, other
  '9': '123', // market regulation: enterprises, individual businesses, farmers' co-operatives
  A: '19', // Central Military Commission staffing: military public institutions, other
  N: '1239', // agriculture: group, village and township collective economic organisations, other
  Y: '1', // other authorities
});

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

// GB 11714 organisation code: 8 characters and a check digit (USCC positions 9–16 and 17).
const ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2];
function orgCodeValue(ch: string): number {
  return /[0-9]/.test(ch) ? Number(ch) : ch.charCodeAt(0) - 55; // A = 10 … Z = 35 (GB 11714)
}

/** The GB 11714 check digit for an organisation code's first 8 characters: 0–9 or X. */
export function orgCodeCheckChar(first8: string): string {
  if (!/^[0-9A-Z]{8}$/.test(first8))
    throw new RangeError(`orgCodeCheckChar needs 8 characters, got ${first8}`);
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += orgCodeValue(first8[i]) * ORG_WEIGHTS[i];
  const c = 11 - (sum % 11);
  return c === 10 ? 'X' : c === 11 ? '0' : String(c);
}

const fail = (reason: UsccFailure, message: string): UsccResult => ({ ok: false, reason, message });

/**
 * Checks a USCC: length, alphabet, registration authority, organisation type, region, the
 * organisation code's check digit, then the final check character. Lower case and surrounding
 * spaces are accepted (normalised); anything else is rejected with a reason a form can show.
 * A typo in 9–17 breaks both checks; the organisation code's is named, being the nearer one.
 */
export function validateUscc(input: string): UsccResult {
  const uscc = normalizeUscc(input);
  if (uscc.length !== USCC_LENGTH) {
    return fail('length', `A USCC has 18 characters; this one has ${uscc.length}.`);
  }
  for (let i = 0; i < uscc.length; i++) {
    if (charValue(uscc[i]) < 0) {
      const shown = JSON.stringify(uscc[i]);
      return fail(
        'charset',
        `Character ${shown} at position ${i + 1} is not allowed: a USCC uses only digits and the letters A–Y except I, O, S, V and Z.`,
      );
    }
  }
  const types = USCC_AUTHORITY_TYPES[uscc[0]];
  if (types === undefined) {
    return fail(
      'authority',
      `Character 1 ("${uscc[0]}") is not a registration authority code (1–9, A, N or Y).`,
    );
  }
  if (!types.includes(uscc[1])) {
    return fail(
      'type',
      `Character 2 ("${uscc[1]}") is not an organisation type under registration authority ${uscc[0]}.`,
    );
  }
  const division = uscc.slice(2, 8);
  if (!/^\d{6}$/.test(division) || !isProvinceCode(division.slice(0, 2))) {
    return fail(
      'region',
      `Characters 3–8 ("${division}") are not an administrative division code of a known province.`,
    );
  }
  if (!/^[0-9X]$/.test(uscc[16]) || orgCodeCheckChar(uscc.slice(8, 16)) !== uscc[16]) {
    return fail(
      'org-check',
      'Character 17 (the check digit of the organisation code in characters 9–16) does not match: the code is probably mistyped.',
    );
  }
  if (usccCheckChar(uscc.slice(0, 17)) !== uscc[17]) {
    return fail(
      'checksum',
      'The check character (the last one) does not match: the code is probably mistyped.',
    );
  }
  return { ok: true, uscc, provinceCode: uscc.slice(2, 4) };
}

/** Boolean convenience for schema refinements. */
export function isValidUscc(input: string): boolean {
  return validateUscc(input).ok;
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
  if (kind.length !== 2 || !USCC_AUTHORITY_TYPES[kind[0]]?.includes(kind[1])) {
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
  const first17 = `${kind}${division}${org}${orgCodeCheckChar(org)}`;
  return first17 + usccCheckChar(first17);
}
