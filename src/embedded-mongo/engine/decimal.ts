/**
 * Exact Decimal128 sums, for $add over Decimal128, int32 and int64 values: IEEE 754-2008 decimal
 * addition takes the smaller exponent (42.13 + 10 is 52.13, -0.0 + 10 is 10.0), so while the
 * coefficient fits in 34 digits no rounding happens and the result is exact. Anything that would
 * round, or a double (which mongod converts to a decimal first), gives null: callers refuse it.
 */
import { Decimal128, Long } from 'bson';

const MAX_COEFFICIENT = 10n ** 34n;

interface Finite {
  negative: boolean;
  coefficient: bigint;
  exponent: number;
}
type Parsed = Finite | 'NaN' | 'Infinity' | '-Infinity';

function parse(v: unknown): Parsed | null {
  if (typeof v === 'number')
    return Number.isInteger(v) && Math.abs(v) < 2 ** 31
      ? { negative: v < 0 || Object.is(v, -0), coefficient: BigInt(Math.abs(v)), exponent: 0 }
      : null;
  if (Long.isLong(v)) {
    const n = v.toBigInt();
    return { negative: n < 0n, coefficient: n < 0n ? -n : n, exponent: 0 };
  }
  if ((v as { _bsontype?: string } | null)?._bsontype === 'Int32')
    return parse((v as { value: number }).value);
  if ((v as { _bsontype?: string } | null)?._bsontype !== 'Decimal128') return null;
  const s = String(v);
  if (s === 'NaN' || s === 'Infinity' || s === '-Infinity') return s;
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:E([+-]\d+))?$/.exec(s);
  if (!m) return null;
  const frac = m[3] ?? '';
  return {
    negative: m[1] === '-',
    coefficient: BigInt(m[2]! + frac),
    exponent: Number(m[4] ?? 0) - frac.length,
  };
}

/** The exact sum as a Decimal128, or null when it cannot be computed exactly here. */
export function exactDecimalSum(values: unknown[]): Decimal128 | null {
  const parsed = values.map(parse);
  if (parsed.some((p) => p === null)) return null;
  const ps = parsed as Parsed[];
  if (ps.includes('NaN') || (ps.includes('Infinity') && ps.includes('-Infinity')))
    return Decimal128.fromString('NaN');
  if (ps.includes('Infinity')) return Decimal128.fromString('Infinity');
  if (ps.includes('-Infinity')) return Decimal128.fromString('-Infinity');
  const finite = ps as Finite[];
  const exponent = Math.min(...finite.map((p) => p.exponent));
  let total = 0n;
  for (const p of finite) {
    const scaled = p.coefficient * 10n ** BigInt(p.exponent - exponent);
    total += p.negative ? -scaled : scaled;
  }
  const magnitude = total < 0n ? -total : total;
  if (magnitude >= MAX_COEFFICIENT || exponent < -6176) return null;
  // A zero sum is negative only when every addend is a negative zero (round-half-even).
  const negative = total < 0n || (total === 0n && finite.every((p) => p.negative));
  return Decimal128.fromString(`${negative ? '-' : ''}${magnitude}E${exponent}`);
}
