/**
 * Aggregation operators with mongod's number types. Aggregation stages see stored values as
 * they are (int32 and fractional doubles as JS numbers, int64 as Long, an integer-valued double
 * as a bson Double, see bson-store.ts), so values passed through keep their types; the operators
 * that compute with or compare numbers are replaced here, following mongod's rules
 * (https://www.mongodb.com/docs/manual/reference/operator/aggregation/sum/, .../add/, …):
 * int32 with int32 is int32 and widens to int64 on overflow, anything with an int64 is int64 and
 * widens to a double on overflow, anything with a double is a double; $divide and $avg are
 * doubles. Operators mingo computes on JS numbers only are given the numbers (when their result
 * is a double anyway) or refuse a BSON number wrapper by name (never a silently different type).
 */
import { Double, Long, type ObjectId } from 'bson';
import { evalExpr } from 'mingo/core';
import type { Options } from 'mingo/types';
import { MongoServerError, unsupported } from '../errors';
import { exactDecimalSum } from './decimal';
import { formatDoubleAsMongod } from './format-double';
import {
  bsonType,
  compareValues,
  idKey,
  isLong,
  isPlainObject,
  toNumber,
  typeRank,
} from './values';

type Expression = (obj: unknown, expr: unknown, options: Options) => unknown;
type Accumulator = (coll: unknown[], expr: unknown, options: Options) => unknown;

const INT32_MIN = -(2n ** 31n);
const INT32_MAX = 2n ** 31n - 1n;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const NUMBER = typeRank(0);

type Kind = 'int' | 'long' | 'double';

/** A number's BSON type, or null for a non-number. Decimal128 cannot be computed with. */
function kindOf(v: unknown): Kind | null {
  if (typeof v === 'number')
    return Number.isInteger(v) && v >= -(2 ** 31) && v <= 2 ** 31 - 1 ? 'int' : 'double';
  if (isLong(v)) return 'long';
  switch (bsonType(v)) {
    case 'Double':
      return 'double';
    case 'Int32':
      return 'int';
    case 'Decimal128':
      throw unsupported('arithmetic on Decimal128 values in an aggregation');
  }
  return null;
}

/** mongod's $type alias of each BSON wrapper type (https://www.mongodb.com/docs/manual/reference/bson-types/). */
const BSON_TYPE_ALIAS: Record<string, string> = {
  Binary: 'binData',
  ObjectId: 'objectId',
  BSONRegExp: 'regex',
  Timestamp: 'timestamp',
  Int32: 'int',
  MinKey: 'minKey',
  MaxKey: 'maxKey',
  BSONSymbol: 'symbol',
  DBRef: 'object',
};

function codeAlias(v: unknown): string {
  return (v as { scope?: unknown }).scope ? 'javascriptWithScope' : 'javascript';
}

function wider(a: Kind, b: Kind): Kind {
  return a === 'double' || b === 'double'
    ? 'double'
    : a === 'long' || b === 'long'
      ? 'long'
      : 'int';
}

function big(v: unknown): bigint {
  return isLong(v) ? v.toBigInt() : BigInt(toNumber(v));
}

/** A double as it goes back to the client: an integer value must be a bson Double (not int32). */
export function asDouble(r: number): unknown {
  return Number.isInteger(r) ? new Double(r) : r;
}

/** An integer result of `kind`, widened as mongod widens: int32 → int64 → double. */
function integer(r: bigint, kind: Kind): unknown {
  if (kind === 'int' && r >= INT32_MIN && r <= INT32_MAX) return Number(r);
  if (r >= INT64_MIN && r <= INT64_MAX) return Long.fromBigInt(r);
  return new Double(Number(r));
}

/** True if `v` holds an int64, an integer-valued double or a Decimal128 anywhere. */
export function holdsWrapper(v: unknown): boolean {
  if (v === null || typeof v !== 'object') return false;
  if (Array.isArray(v)) return v.some(holdsWrapper);
  const t = bsonType(v);
  if (t === 'Long' || t === 'Double' || t === 'Decimal128' || t === 'Int32') return true;
  if (t !== undefined || !isPlainObject(v)) return false;
  return Object.values(v).some(holdsWrapper);
}

/** A value with its number wrappers as JS numbers (for operators whose result is a double). */
function plainNumbers(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(plainNumbers);
  const t = bsonType(v);
  if (t === 'Decimal128') throw unsupported('Decimal128 values in aggregation arithmetic');
  if (t === 'Long' || t === 'Double' || t === 'Int32') return toNumber(v);
  if (t !== undefined || !isPlainObject(v)) return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plainNumbers(x)]));
}

/**
 * A key that is the same for equal values, numbers of any type included (5, 5.0 and Long 5 are
 * one group; Decimal128 0.1 and the double 0.1 are not): $group, $addToSet and $lookup use it.
 */
export function groupKey(v: unknown): string {
  if (Array.isArray(v)) return '[' + v.map(groupKey).join(',') + ']';
  if (typeRank(v) === NUMBER && v !== null && v !== undefined) {
    if (isLong(v)) return 'n' + v.toString();
    const x = toNumber(v);
    if (bsonType(v) === 'Decimal128' && compareValues(v, x) !== 0) return decimalKey(String(v));
    return 'n' + (Number.isInteger(x) ? BigInt(x).toString() : String(x));
  }
  if (isPlainObject(v))
    return (
      '{' +
      Object.keys(v)
        .map((k) => JSON.stringify(k) + ':' + groupKey(v[k]))
        .join(',') +
      '}'
    );
  if (v instanceof RegExp) return 'r' + String(v);
  const t = bsonType(v);
  // idKey knows ObjectId and Binary among the BSON classes; the others by their text.
  if (t !== undefined && t !== 'ObjectId' && t !== 'Binary') {
    const text = String(v);
    return 't' + t + ':' + (text === '[object Object]' ? JSON.stringify(v) : text);
  }
  return idKey(v);
}

/** A Decimal128 with no equal double, by its normalised digits (2.50 and 2.5 are one key). */
function decimalKey(text: string): string {
  const g = /^(-)?(\d+)(?:\.(\d*))?(?:E([+-]?\d+))?$/i.exec(text);
  if (!g) return 'd' + text;
  const frac = g[3] ?? '';
  let m = BigInt(g[2]! + frac);
  let q = Number(g[4] ?? 0) - frac.length;
  while (m !== 0n && m % 10n === 0n) {
    m /= 10n;
    q++;
  }
  return 'd' + (g[1] ? '-' : '') + m.toString() + 'e' + q;
}

/** The sum of the numbers among `values` (others ignored), typed as $sum is. */
function sum(values: unknown[]): unknown {
  let kind: Kind = 'int';
  const nums: unknown[] = [];
  for (const v of values) {
    const k = kindOf(v);
    if (k === null) continue;
    kind = wider(kind, k);
    nums.push(v);
  }
  if (kind === 'double') {
    let r = 0;
    for (const v of nums) r += toNumber(v);
    return asDouble(r);
  }
  let r = 0n;
  for (const v of nums) r += big(v);
  return integer(r, kind);
}

function args(obj: unknown, expr: unknown, options: Options): unknown[] {
  const v = evalExpr(obj, expr, options);
  return Array.isArray(expr) ? (v as unknown[]) : [v];
}

const nullish = (v: unknown): boolean => v === null || v === undefined;

function nonNumeric(op: string, v: unknown): MongoServerError {
  return new MongoServerError(
    14,
    `${op} only supports numeric types, not ${v instanceof Date ? 'date' : typeof v}`,
  );
}

type Mingo = Record<string, unknown>;

/** The replacements for mingo's expression operators (`mingo` holds the originals). */
export function numberExpressions(mingo: Mingo): Record<string, Expression> {
  const orig = (name: string): Expression => mingo[name] as Expression;
  const literal = (vs: unknown[]): unknown[] => vs.map((v) => ({ $literal: v }));
  // The evaluated arguments as literals, in the shape the expression had (one or a list).
  const asGiven = (expr: unknown, vs: unknown[]): unknown =>
    Array.isArray(expr) ? literal(vs) : { $literal: vs[0] };

  const $add: Expression = (obj, expr, options) => {
    const vs = args(obj, expr, options);
    if (vs.some(nullish)) return null;
    if (vs.some((v) => bsonType(v) === 'Decimal128') && !vs.some((v) => v instanceof Date)) {
      const exact = exactDecimalSum(vs);
      if (exact) return exact;
      for (const v of vs)
        if (bsonType(v) !== 'Decimal128' && kindOf(v) === null) throw nonNumeric('$add', v);
      throw unsupported('$add of Decimal128 values with a double, or that needs rounding');
    }
    if (vs.some((v) => v instanceof Date))
      return orig('$add')(obj, literal(vs.map(plainNumbers)), options);
    for (const v of vs) if (kindOf(v) === null) throw nonNumeric('$add', v);
    return sum(vs);
  };

  const $subtract: Expression = (obj, expr, options) => {
    const [a, b] = args(obj, expr, options);
    if (nullish(a) || nullish(b)) return null;
    if (a instanceof Date && b instanceof Date) return Long.fromNumber(a.getTime() - b.getTime());
    if (a instanceof Date) return orig('$subtract')(obj, literal([a, toNumber(b)]), options);
    const ka = kindOf(a);
    const kb = kindOf(b);
    if (ka === null || kb === null) throw nonNumeric('$subtract', ka === null ? a : b);
    const kind = wider(ka, kb);
    if (kind === 'double') return asDouble(toNumber(a) - toNumber(b));
    return integer(big(a) - big(b), kind);
  };

  const $multiply: Expression = (obj, expr, options) => {
    const vs = args(obj, expr, options);
    if (vs.some(nullish)) return null;
    let kind: Kind = 'int';
    for (const v of vs) {
      const k = kindOf(v);
      if (k === null) throw nonNumeric('$multiply', v);
      kind = wider(kind, k);
    }
    if (kind === 'double') return asDouble(vs.reduce<number>((p, v) => p * toNumber(v), 1));
    return integer(
      vs.reduce<bigint>((p, v) => p * big(v), 1n),
      kind,
    );
  };

  const $divide: Expression = (obj, expr, options) => {
    const [a, b] = args(obj, expr, options);
    if (nullish(a) || nullish(b)) return null;
    if (kindOf(a) === null || kindOf(b) === null)
      throw nonNumeric('$divide', kindOf(a) === null ? a : b);
    if (toNumber(b) === 0) throw new MongoServerError(2, "can't $divide by zero");
    return asDouble(toNumber(a) / toNumber(b));
  };

  const $mod: Expression = (obj, expr, options) => {
    const [a, b] = args(obj, expr, options);
    if (nullish(a) || nullish(b)) return null;
    const ka = kindOf(a);
    const kb = kindOf(b);
    if (ka === null || kb === null) throw nonNumeric('$mod', ka === null ? a : b);
    if (toNumber(b) === 0) throw new MongoServerError(16610, "can't $mod by zero");
    const kind = wider(ka, kb);
    if (kind === 'double') return asDouble(toNumber(a) % toNumber(b));
    return integer(big(a) % big(b), kind);
  };

  const $abs: Expression = (obj, expr, options) => {
    const [a] = args(obj, expr, options);
    if (nullish(a)) return null;
    const k = kindOf(a);
    if (k === null) throw nonNumeric('$abs', a);
    if (k === 'double') return asDouble(Math.abs(toNumber(a)));
    const r = big(a) < 0n ? -big(a) : big(a);
    if (k === 'long' && r > INT64_MAX)
      throw new MongoServerError(28680, "can't take $abs of long long min");
    return integer(r, k);
  };

  /**
   * $ceil/$floor/$trunc/$round keep the input's type: an integer is its own result, or is
   * rounded to a negative place exactly ($round to even, as mongod).
   */
  const rounding =
    (name: string): Expression =>
    (obj, expr, options) => {
      const vs = args(obj, expr, options);
      const [a, place] = vs;
      if (nullish(a)) return null;
      const k = kindOf(a);
      if (k === null) throw nonNumeric(name, a);
      if (k === 'double') {
        const r = orig(name)(obj, asGiven(expr, vs.map(plainNumbers)), options);
        return typeof r === 'number' ? asDouble(r) : r;
      }
      if (place === undefined || nullish(place) || toNumber(place) >= 0) return a;
      const m = 10n ** BigInt(Math.min(-Math.trunc(toNumber(place)), 20));
      const x = big(a);
      const q = x / m;
      const rest = x - q * m;
      let r = q;
      if (name === '$round') {
        const twice = (rest < 0n ? -rest : rest) * 2n;
        if (twice > m || (twice === m && q % 2n !== 0n)) r += x < 0n ? -1n : 1n;
      }
      return integer(r * m, k);
    };

  /** Comparisons in BSON order; mingo's compare sees a Long and a number as different types. */
  const comparison =
    (name: string, test: (c: number) => boolean): Expression =>
    (obj, expr, options) => {
      const vs = args(obj, expr, options);
      if (vs.length !== 2 || !vs.some(holdsWrapper))
        return orig(name)(obj, asGiven(expr, vs), options);
      const c = compareValues(vs[0], vs[1]);
      return name === '$cmp' ? Math.sign(c) : test(c);
    };

  const $type: Expression = (obj, expr, options) => {
    const [v] = args(obj, expr, options);
    if (isLong(v)) return 'long';
    const t = bsonType(v);
    if (t === 'Double') return 'double';
    if (t === 'Decimal128') return 'decimal';
    if (typeof v === 'number') return kindOf(v) === 'int' ? 'int' : 'double';
    // mingo names some BSON types its own way ('binary', 'objectid'); mongod's aliases instead.
    const alias = t === 'Code' ? codeAlias(v) : t && BSON_TYPE_ALIAS[t];
    if (alias) return alias;
    if (v instanceof Uint8Array) return 'binData';
    return orig('$type')(obj, asGiven(expr, [v]), options);
  };

  const $isNumber: Expression = (obj, expr, options) => {
    const [v] = args(obj, expr, options);
    return typeRank(v) === NUMBER && v !== undefined && v !== null;
  };

  const converting =
    (name: string, to: (v: unknown) => unknown): Expression =>
    (obj, expr, options) => {
      const [v] = args(obj, expr, options);
      if (nullish(v)) return null;
      if (kindOf(v) !== null) return to(v);
      return orig(name)(obj, asGiven(expr, [v]), options);
    };

  /** Operators whose result is a double: computed on the JS numbers of their arguments. */
  const toDouble =
    (name: string): Expression =>
    (obj, expr, options) => {
      const vs = args(obj, expr, options);
      const r = orig(name)(obj, asGiven(expr, vs.map(plainNumbers)), options);
      return typeof r === 'number' ? asDouble(r) : r;
    };

  /** Operators reading numbers as positions or lengths: given JS numbers (results are not numbers passed on). */
  const positional =
    (name: string): Expression =>
    (obj, expr, options) => {
      const vs = args(obj, expr, options);
      return orig(name)(
        obj,
        asGiven(
          expr,
          vs.map((v, i) =>
            (i === 0 && name === '$arrayElemAt') || (i === 0 && name === '$slice')
              ? v
              : plainNumbers(v),
          ),
        ),
        options,
      );
    };

  /** mongod's truth: false, null, missing and a zero of any number type are false. */
  const truth = (v: unknown): boolean => {
    if (bsonType(v) === 'Decimal128') return !/^-?0*(\.0*)?(E[+-]?\d+)?$/i.test(String(v));
    return !(v === false || nullish(v) || (kindOf(v) !== null && toNumber(v) === 0));
  };

  const $and: Expression = (obj, expr, options) =>
    (Array.isArray(expr) ? expr : [expr]).every((e) => truth(evalExpr(obj, e, options)));
  const $or: Expression = (obj, expr, options) =>
    (Array.isArray(expr) ? expr : [expr]).some((e) => truth(evalExpr(obj, e, options)));
  const $not: Expression = (obj, expr, options) => !truth(args(obj, expr, options)[0]);
  const $cond: Expression = (obj, expr, options) => {
    const [c, then, otherwise] = Array.isArray(expr)
      ? expr
      : isPlainObject(expr)
        ? [expr.if, expr.then, expr.else]
        : [];
    if (!Array.isArray(expr) && !isPlainObject(expr)) return orig('$cond')(obj, expr, options);
    return evalExpr(obj, truth(evalExpr(obj, c, options)) ? then : otherwise, options);
  };

  const $in: Expression = (obj, expr, options) => {
    const vs = args(obj, expr, options);
    if (!vs.some(holdsWrapper)) return orig('$in')(obj, asGiven(expr, vs), options);
    const [v, list] = vs;
    if (!Array.isArray(list))
      throw new MongoServerError(40081, '$in requires an array as a second argument');
    return list.some((x) => compareValues(x, v) === 0 && !nullish(x) === !nullish(v));
  };

  /** mongod's string for the values whose string mingo writes differently (numbers, ObjectId). */
  const mongodString = (v: unknown): string | undefined => {
    const t = bsonType(v);
    if (t === 'Decimal128') return String(v);
    if (t === 'ObjectId') return (v as ObjectId).toHexString();
    const kind = kindOf(v);
    if (kind === 'double') return formatDoubleAsMongod(toNumber(v));
    if (kind !== null) return isLong(v) ? v.toString() : String(toNumber(v));
    return undefined;
  };
  const $toString: Expression = (obj, expr, options) => {
    const [v] = args(obj, expr, options);
    return mongodString(v) ?? orig('$toString')(obj, asGiven(expr, [v]), options);
  };
  // $convert to a string writes numbers as $toString does; other conversions stay guarded.
  const $convert: Expression = (obj, expr, options) => {
    if (isPlainObject(expr) && [2, 'string'].includes(evalExpr(obj, expr.to, options) as never)) {
      const s = mongodString(evalExpr(obj, expr.input, options));
      if (s !== undefined) return s;
    }
    return guarded('$convert')(obj, expr, options);
  };

  /** Operators mingo would answer on a Long or Double as an object: refused by name with one. */
  const guarded =
    (name: string): Expression =>
    (obj, expr, options) => {
      if (holdsWrapper(evalExpr(obj, expr, options)))
        throw unsupported(
          `${name} on int64, integer-valued double or Decimal128 values in an aggregation`,
        );
      return orig(name)(obj, expr, options);
    };

  const out: Record<string, Expression> = {
    $add,
    $subtract,
    $multiply,
    $divide,
    $mod,
    $abs,
    $ceil: rounding('$ceil'),
    $floor: rounding('$floor'),
    $trunc: rounding('$trunc'),
    $round: rounding('$round'),
    $cmp: comparison('$cmp', () => true),
    $eq: comparison('$eq', (c) => c === 0),
    $ne: comparison('$ne', (c) => c !== 0),
    $gt: comparison('$gt', (c) => c > 0),
    $gte: comparison('$gte', (c) => c >= 0),
    $lt: comparison('$lt', (c) => c < 0),
    $lte: comparison('$lte', (c) => c <= 0),
    $type,
    $isNumber,
    $toLong: converting('$toLong', (v) =>
      Long.fromBigInt(inRange(bigOfNumber(v), INT64_MIN, INT64_MAX)),
    ),
    $toInt: converting('$toInt', (v) => Number(inRange(bigOfNumber(v), INT32_MIN, INT32_MAX))),
    $toDouble: converting('$toDouble', (v) => asDouble(toNumber(v))),
    $toBool: converting('$toBool', (v) => toNumber(v) !== 0),
    // mongod converts an int64 or a double to a date, not an int32 (mingo's answer stands).
    $toDate: (obj, expr, options) => {
      const [v] = args(obj, expr, options);
      if (isLong(v) || kindOf(v) === 'double') return new Date(toNumber(v));
      return orig('$toDate')(obj, asGiven(expr, [v]), options);
    },
    $toString,
    $convert,
    $in,
    $and,
    $or,
    $not,
    $cond,
  };
  // $firstN/$lastN read `n` as a count: given as a JS number, the input's elements untouched.
  for (const name of ['$firstN', '$lastN'])
    out[name] = (obj, expr, options) => {
      if (!isPlainObject(expr)) return orig(name)(obj, expr, options);
      const n = plainNumbers(evalExpr(obj, expr.n, options));
      return orig(name)(obj, { ...expr, n: { $literal: n } }, options);
    };
  // mongod's $dateDiff is an int64; mingo's a JS number, which would be stored as an int32.
  out.$dateDiff = (obj, expr, options) => {
    const r = orig('$dateDiff')(obj, expr, options);
    return typeof r === 'number' ? Long.fromNumber(r) : r;
  };
  // mongod's $dateToParts lists the parts from the largest down; mingo starts at the hour.
  out.$dateToParts = (obj, expr, options) => {
    const r = orig('$dateToParts')(obj, expr, options);
    if (!isPlainObject(r)) return r;
    const order = 'isoWeekYear' in r ? ISO_PARTS : DATE_PARTS;
    return Object.fromEntries(order.filter((k) => k in r).map((k) => [k, r[k]]));
  };
  // mongod hashes the value's BSON with MD5 (as a hashed index does); mingo's hash is its own.
  out.$toHashedIndexKey = () => {
    throw unsupported('$toHashedIndexKey (mongod hashes with its own MD5 of the BSON value)');
  };
  for (const name of POSITIONAL) out[name] = positional(name);
  for (const name of DOUBLE_RESULT) out[name] = toDouble(name);
  for (const name of GUARDED) out[name] = guarded(name);
  // $pow: int and long powers stay integers when they fit, as the other arithmetic.
  out.$pow = (obj, expr, options) => {
    const [a, b] = args(obj, expr, options);
    if (nullish(a) || nullish(b)) return null;
    const ka = kindOf(a);
    const kb = kindOf(b);
    if (ka === null || kb === null) throw nonNumeric('$pow', ka === null ? a : b);
    if (toNumber(a) === 0 && toNumber(b) < 0)
      throw new MongoServerError(28764, '$pow cannot take a base of 0 and a negative exponent');
    const kind = wider(ka, kb);
    if (kind === 'double' || big(b) < 0n) return asDouble(toNumber(a) ** toNumber(b));
    return integer(big(a) ** big(b), kind);
  };
  return out;
}

function bigOfNumber(v: unknown): bigint {
  if (isLong(v)) return v.toBigInt();
  const n = Math.trunc(toNumber(v));
  if (!Number.isFinite(n)) throw new MongoServerError(241, `Conversion would overflow target type`);
  return BigInt(n);
}

function inRange(r: bigint, min: bigint, max: bigint): bigint {
  if (r < min || r > max)
    throw new MongoServerError(
      241,
      'Failed to parse number: Conversion would overflow target type',
    );
  return r;
}

function average(values: unknown[]): unknown {
  let n = 0;
  let total = 0;
  for (const v of values) {
    if (kindOf(v) === null) continue;
    n++;
    total += toNumber(v);
  }
  return n === 0 ? null : asDouble(total / n);
}

/** $max (sign 1) or $min (-1) in BSON order, ignoring null and missing; the value as it is. */
function extremeOf(values: unknown[], sign: 1 | -1): unknown {
  let best: unknown = null;
  for (const v of values) {
    if (nullish(v)) continue;
    if (best === null || compareValues(v, best) * sign > 0) best = v;
  }
  return best;
}

/** Math operators whose result is always a double. */
const DOUBLE_RESULT = [
  '$exp',
  '$ln',
  '$log',
  '$log10',
  '$sqrt',
  '$sigmoid',
  '$acos',
  '$acosh',
  '$asin',
  '$asinh',
  '$atan',
  '$atan2',
  '$atanh',
  '$cos',
  '$cosh',
  '$degreesToRadians',
  '$radiansToDegrees',
  '$sin',
  '$sinh',
  '$tan',
  '$tanh',
];

/** Operators taking positions or lengths (an int64 or a whole double is fine there). */
const POSITIONAL = [
  '$arrayElemAt',
  '$slice',
  '$range',
  '$substr',
  '$substrBytes',
  '$substrCP',
  '$indexOfBytes',
  '$indexOfCP',
];

const DATE_PARTS = ['year', 'month', 'day', 'hour', 'minute', 'second', 'millisecond'];
const ISO_PARTS = [
  'isoWeekYear',
  'isoWeek',
  'isoDayOfWeek',
  'hour',
  'minute',
  'second',
  'millisecond',
];

/** Operators that compare or compute with numbers inside their arguments, in mingo's way. */
const GUARDED = [
  '$indexOfArray',
  '$setUnion',
  '$setIntersection',
  '$setDifference',
  '$setEquals',
  '$setIsSubset',
  '$allElementsTrue',
  '$anyElementTrue',
  '$bitAnd',
  '$bitOr',
  '$bitXor',
  '$bitNot',
  '$median',
  '$percentile',
  '$maxN',
  '$minN',
  '$sortArray',
  '$dateAdd',
  '$dateSubtract',
  '$dateFromParts',
];

/** The replacements for mingo's accumulators (also used as expressions: mingo passes the values). */
export function numberAccumulators(mingo: Mingo): Record<string, Accumulator> {
  const push = mingo.$push as Accumulator;
  const values = (coll: unknown[], expr: unknown, options: Options): unknown[] =>
    push(coll, expr, options) as unknown[];
  const out: Record<string, Accumulator> = {
    $sum: (coll, expr, options) =>
      typeof expr === 'number' || isLong(expr) || bsonType(expr) === 'Double'
        ? sum(coll.map(() => expr))
        : sum(values(coll, expr, options)),
    $avg: (coll, expr, options) => average(values(coll, expr, options)),
    $min: (coll, expr, options) => extremeOf(values(coll, expr, options), -1),
    $max: (coll, expr, options) => extremeOf(values(coll, expr, options), 1),
  };
  // Accumulators whose result is a double: mingo's, over the values as JS numbers.
  const overNumbers =
    (name: string, input: (expr: unknown) => unknown): Accumulator =>
    (coll, expr, options) => {
      const vs = values(coll, input(expr), options).map((v) => ({ v: plainNumbers(v) }));
      const spec =
        isPlainObject(expr) && name !== '$stdDevPop' && name !== '$stdDevSamp'
          ? { ...expr, input: '$v' }
          : '$v';
      const r = (mingo[name] as Accumulator)(vs, spec, options);
      return Array.isArray(r)
        ? r.map((x) => (typeof x === 'number' ? asDouble(x) : x))
        : typeof r === 'number'
          ? asDouble(r)
          : r;
    };
  out.$stdDevPop = overNumbers('$stdDevPop', (e) => e);
  out.$stdDevSamp = overNumbers('$stdDevSamp', (e) => e);
  const inputOf = (e: unknown): unknown => (isPlainObject(e) ? e.input : e);
  out.$median = overNumbers('$median', inputOf);
  out.$percentile = overNumbers('$percentile', inputOf);
  // $addToSet keeps the first of equal values (numbers equal by value across types).
  out.$addToSet = (coll, expr, options) => {
    const seen = new Set<string>();
    const set: unknown[] = [];
    for (const v of values(coll, expr, options)) {
      const k = groupKey(v);
      if (!seen.has(k)) {
        seen.add(k);
        set.push(v);
      }
    }
    return set;
  };
  return out;
}
