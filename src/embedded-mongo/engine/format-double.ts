/**
 * A double as mongod's $toString and $convert write it: C's printf "%g" (six significant
 * digits, exponent form below 1e-4 and from 1e6), with "-0", "NaN", "Infinity" and "-Infinity"
 * spelled out (mongod's performFormatDouble over StringBuilder's `%g`). JS's String() keeps every
 * digit, so 1e20 or 1.23456789 would come back as a different string.
 *
 * printf rounds the exact binary value half to even; toExponential(99) gives enough exact digits
 * of it to round here the same way.
 */
const DIGITS = 6;

export function formatDoubleAsMongod(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const sign = x < 0 ? '-' : '';
  const [mantissa, exp] = Math.abs(x).toExponential(99).split('e') as [string, string];
  const all = mantissa.replace('.', '');
  let exponent = Number(exp);
  let kept = BigInt(all.slice(0, DIGITS));
  const rest = all.slice(DIGITS);
  const half = rest[0]! > '5' || (rest[0] === '5' && /[1-9]/.test(rest.slice(1)));
  const tie = rest[0] === '5' && !/[1-9]/.test(rest.slice(1));
  if (half || (tie && kept % 2n === 1n)) kept += 1n;
  let digits = kept.toString();
  if (digits.length > DIGITS) {
    digits = digits.slice(0, DIGITS);
    exponent += 1;
  }
  if (exponent < -4 || exponent >= DIGITS) {
    const m = trimZeros(`${digits[0]}.${digits.slice(1)}`);
    const e = Math.abs(exponent).toString().padStart(2, '0');
    return `${sign}${m}e${exponent < 0 ? '-' : '+'}${e}`;
  }
  const fixed =
    exponent >= 0
      ? `${digits.slice(0, exponent + 1)}.${digits.slice(exponent + 1)}`
      : `0.${'0'.repeat(-exponent - 1)}${digits}`;
  return sign + trimZeros(fixed);
}

function trimZeros(s: string): string {
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}
