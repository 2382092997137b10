/**
 * The bitwise query operators ($bitsAllSet, $bitsAllClear, $bitsAnySet, $bitsAnyClear) with
 * mongod's rules (https://www.mongodb.com/docs/manual/reference/operator/query-bitwise/): only
 * numbers that are integers representable as an int64 (two's complement, sign-extended past bit
 * 63) and binary data (bit n is bit n%8 of byte n/8; missing bytes are clear) can match. mingo
 * applies JS bit operators to any value, so booleans, dates or fractional numbers matched.
 */
import type { Binary } from 'bson';
import { badValue } from '../errors';
import { bsonType, getPathValues, isLong, type Doc } from './values';

type Quantifier = 'AllSet' | 'AllClear' | 'AnySet' | 'AnyClear';
export type BitOperator = (selector: string, operand: unknown) => (doc: Doc) => boolean;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function bytesOf(v: unknown): Uint8Array | null {
  if (bsonType(v) === 'Binary') {
    const b = v as Binary;
    return b.buffer.subarray(0, b.position);
  }
  return v instanceof Uint8Array ? v : null;
}

/** A number's exact integer value if it is one that fits an int64; null otherwise. */
function int64Of(v: unknown): bigint | null {
  let n: bigint | null = null;
  if (isLong(v)) n = BigInt(v.toString());
  else if (typeof v === 'number' || bsonType(v) === 'Double' || bsonType(v) === 'Int32') {
    const x = Number((v as { valueOf(): number }).valueOf());
    n = Number.isInteger(x) ? BigInt(x) : null;
  } else if (bsonType(v) === 'Decimal128') n = decimalInteger(String(v));
  return n !== null && n >= INT64_MIN && n <= INT64_MAX ? n : null;
}

/** A Decimal128's string as an exact integer, or null when it has a fraction or is not finite. */
function decimalInteger(s: string): bigint | null {
  const m = /^([+-]?)(\d+)(?:\.(\d*))?(?:E([+-]?\d+))?$/i.exec(s);
  if (!m) return null; // NaN, Infinity
  const digits = m[2]! + (m[3] ?? '');
  const exponent = Number(m[4] ?? 0) - (m[3] ?? '').length;
  if (exponent > 40) return /^0+$/.test(digits) ? 0n : null; // far beyond int64 unless zero
  let n: bigint;
  if (exponent >= 0) n = BigInt(digits) * 10n ** BigInt(exponent);
  else {
    const cut = digits.length + exponent;
    const frac = cut > 0 ? digits.slice(cut) : digits;
    if (!/^0*$/.test(frac)) return null;
    n = cut > 0 ? BigInt(digits.slice(0, cut)) : 0n;
  }
  return m[1] === '-' ? -n : n;
}

/** The operand's bit positions: a non-negative integer, a BinData mask or an array of positions. */
function positionsOf(name: string, operand: unknown): number[] {
  const bytes = bytesOf(operand);
  if (bytes) {
    const out: number[] = [];
    for (let i = 0; i < bytes.length * 8; i++) if ((bytes[i >> 3]! >> (i & 7)) & 1) out.push(i);
    return out;
  }
  if (Array.isArray(operand)) {
    return operand.map((p) => {
      const n = int64Of(p);
      if (n === null || n < 0n || n > 2n ** 31n)
        throw badValue(`${name} bit positions must be non-negative integers, got ${String(p)}`);
      return Number(n);
    });
  }
  const mask = int64Of(operand);
  if (mask === null || mask < 0n)
    throw badValue(
      `${name} takes a non-negative integer bitmask, a BinData bitmask or an array of bit positions`,
    );
  const out: number[] = [];
  for (let i = 0; i < 63; i++) if ((mask >> BigInt(i)) & 1n) out.push(i);
  return out;
}

function bitOperator(q: Quantifier): BitOperator {
  const name = `$bits${q}`;
  const wantSet = q.endsWith('Set');
  const every = q.startsWith('All');
  return (selector, operand) => {
    const positions = positionsOf(name, operand);
    const holds = (v: unknown): boolean => {
      let bit: (p: number) => boolean;
      const bytes = bytesOf(v);
      if (bytes)
        bit = (p) => (p >> 3 < bytes.length ? ((bytes[p >> 3]! >> (p & 7)) & 1) === 1 : false);
      else {
        const n = int64Of(v);
        if (n === null) return false;
        // BigInt shifts are arithmetic: positions past 63 read the sign, as mongod's do.
        bit = (p) => ((n >> BigInt(p)) & 1n) === 1n;
      }
      const ok = (p: number): boolean => bit(p) === wantSet;
      return every ? positions.every(ok) : positions.some(ok);
    };
    return (doc) =>
      getPathValues(doc, selector).some((v) => (Array.isArray(v) ? v.some(holds) : holds(v)));
  };
}

export const BITWISE_QUERY_OPERATORS: Record<string, BitOperator> = {
  $bitsAllSet: bitOperator('AllSet'),
  $bitsAllClear: bitOperator('AllClear'),
  $bitsAnySet: bitOperator('AnySet'),
  $bitsAnyClear: bitOperator('AnyClear'),
};
