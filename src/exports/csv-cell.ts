/** One CSV cell, the escaping every CSV export shares (formula injection, RFC 4180 quotes). */
const FORMULA_START = new Set([
  0x3d /* = */, 0x2b /* + */, 0x2d /* - */, 0x40 /* @ */, 0x09 /* tab */, 0x0d /* CR */,
]);
const NEEDS_QUOTES = /[",\r\n]/;

/**
 * A CSV cell: RFC 4180 quoting, and text a spreadsheet would run as a formula (starting with
 * = + - @ or a tab / carriage return) is prefixed with an apostrophe (OWASP's advice). Numbers
 * are data, written as they are.
 */
export function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return String(v);
  let s = String(v);
  if (FORMULA_START.has(s.charCodeAt(0))) s = `'${s}`;
  return NEEDS_QUOTES.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
