/**
 * The $mod query operator with mongod's rules (https://www.mongodb.com/docs/manual/reference/operator/query/mod/):
 * only finite numbers match; the value, divisor and remainder are truncated toward zero to
 * int64 (a value beyond int64 saturates) and the remainder takes the dividend's sign. mingo
 * applied JS `%` to anything, so false, empty binary or the epoch date matched `[2, 0]` and
 * 42.13 did not.
 */
import { badValue } from '../errors';
import { bsonType, getPathValues, isLong, type Doc } from './values';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function clamp(n: bigint): bigint {
  return n < INT64_MIN ? INT64_MIN : n > INT64_MAX ? INT64_MAX : n;
}

/** A finite number truncated toward zero to int64; null for NaN, ±Infinity or a non-number. */
function truncated(v: unknown): bigint | null {
  if (isLong(v)) return BigInt(v.toString());
  const t = bsonType(v);
  if (typeof v === 'number' || t === 'Double' || t === 'Int32') {
    const x = Number((v as { valueOf(): number }).valueOf());
    return Number.isFinite(x) ? clamp(BigInt(Math.trunc(x))) : null;
  }
  if (t === 'Decimal128') {
    const m = /^([+-]?)(\d+)(?:\.(\d*))?(?:E([+-]?\d+))?$/i.exec(String(v));
    if (!m) return null; // NaN, Infinity
    const digits = m[2]! + (m[3] ?? '');
    const exponent = Number(m[4] ?? 0) - (m[3] ?? '').length;
    let n: bigint;
    if (/^0+$/.test(digits)) n = 0n;
    else if (exponent > 40) n = INT64_MAX + 1n;
    else if (exponent >= 0) n = BigInt(digits) * 10n ** BigInt(exponent);
    else {
      const cut = digits.length + exponent;
      n = cut > 0 ? BigInt(digits.slice(0, cut)) : 0n;
    }
    return clamp(m[1] === '-' ? -n : n);
  }
  return null;
}

export function modOperator(selector: string, operand: unknown): (doc: Doc) => boolean {
  if (!Array.isArray(operand)) throw badValue('malformed mod, needs to be an array');
  if (operand.length < 2) throw badValue('malformed mod, not enough elements');
  if (operand.length > 2) throw badValue('malformed mod, too many elements');
  const divisor = truncated(operand[0]);
  const remainder = truncated(operand[1]);
  if (divisor === null) throw badValue('malformed mod, divisor value is invalid');
  if (remainder === null) throw badValue('malformed mod, remainder value is invalid');
  if (divisor === 0n) throw badValue('divisor cannot be 0');
  const holds = (v: unknown): boolean => {
    const n = truncated(v);
    return n !== null && n % divisor === remainder; // BigInt % truncates, as C++'s does
  };
  return (doc) =>
    getPathValues(doc, selector).some((v) => (Array.isArray(v) ? v.some(holds) : holds(v)));
}
