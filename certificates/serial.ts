// Certificate serial numbers: EQI-YYYY-NNNNNN-C
//
//   EQI     fixed prefix
//   YYYY    issue year (2000–2999)
//   NNNNNN  sequence within the registry, 000001–999999, zero padded
//   C       check character
//
// Check character: the GB 32100-2015 (USCC) scheme applied to the ten digits
// YYYYNNNNNN, over the same 31-character alphabet as the USCC (no I, O, S, V, Z,
// so it cannot be confused with 1, 0, 5, U, 2):
//   sum = Σ d_i · 3^i mod 31   (i = 0..9, left to right)
//   C   = ALPHABET[(31 − sum mod 31) mod 31]
// 31 is prime and 3 is a primitive root mod 31, so the ten weights are distinct
// and non-zero: every single-digit substitution and every transposition of two
// digits (adjacent or not) changes the check character.
//
// Parsing is lenient about what people type: surrounding spaces, lower case,
// missing dashes and spaces in place of dashes are accepted (`eqi2026000123f`,
// `EQI 2026 000123 F`), and so are the full-width forms a Chinese input method
// produces (`ＥＱＩ－２０２６…`, the ideographic space). Any other separator, length
// or character is a 'format' error. A well-formed serial whose check character
// does not match is a 'checksum' error (a mistyped serial).

export const SERIAL_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29]; // 3^i mod 31

export type SerialParse =
  | { ok: true; serial: string; year: number; seq: number }
  | { ok: false; error: 'format' | 'checksum' };

function checkChar(digits: string): string {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) sum += (digits.charCodeAt(i) - 48) * WEIGHTS[i]!;
  return SERIAL_ALPHABET[(31 - (sum % 31)) % 31]!;
}

export function makeSerial(year: number, seq: number): string {
  if (!Number.isInteger(year) || year < 2000 || year > 2999)
    throw new RangeError(`serial year out of range: ${year}`);
  if (!Number.isInteger(seq) || seq < 1 || seq > 999_999)
    throw new RangeError(`serial sequence out of range: ${seq}`);
  const y = String(year);
  const n = String(seq).padStart(6, '0');
  return `EQI-${y}-${n}-${checkChar(y + n)}`;
}

// Between the parts: nothing, one dash, or a run of spaces.
const SERIAL_RE = /^EQI(?:-| +)?(2\d{3})(?:-| +)?(\d{6})(?:-| +)?([0-9A-Z])$/;

/** Full-width ASCII (U+FF01–U+FF5E) and the ideographic space to their ASCII forms; nothing else. */
function halfWidth(s: string): string {
  return s.replace(/[\uff01-\uff5e\u3000]/g, (ch) =>
    ch === '\u3000' ? ' ' : String.fromCharCode(ch.charCodeAt(0) - 0xfee0),
  );
}

export function parseSerial(input: string): SerialParse {
  if (typeof input !== 'string' || input.length > 40) return { ok: false, error: 'format' };
  // ASCII only: toUpperCase() would otherwise fold look-alikes such as 'ı' into 'I'.
  const t = halfWidth(input).trim();
  if (!/^[\x20-\x7e]*$/.test(t)) return { ok: false, error: 'format' };
  const m = SERIAL_RE.exec(t.toUpperCase());
  if (!m) return { ok: false, error: 'format' };
  const [, y, n, c] = m as unknown as [string, string, string, string];
  const seq = Number(n);
  if (seq === 0) return { ok: false, error: 'format' };
  if (checkChar(y + n) !== c) return { ok: false, error: 'checksum' };
  const year = Number(y);
  return { ok: true, serial: `EQI-${y}-${n}-${c}`, year, seq };
}
