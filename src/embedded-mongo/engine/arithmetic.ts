/**
 * $inc, $mul, $min and $max with MongoDB's number types: int32 + int32 stays int32 (an overflow
 * becomes int64), anything with an int64 is int64 (an overflow fails), anything with a double is
 * a double. mingo's updater knows JS numbers only and skipped an int64 field without a word.
 * Paths may go through array elements by index (update.ts turns positional parts into those);
 * a path with a positional part left, or an index past an array's end, is left to mingo.
 */
import { Double, Long } from 'bson';
import { needsDoubleWrapper } from './bson-store';
import { MongoServerError, unsupported } from '../errors';
import { compareValues, isLong, isPlainObject, own, type Doc } from './values';

export const TYPED_OPERATORS = new Set(['$inc', '$mul', '$min', '$max', '$bit']);

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

type Kind = 'int' | 'long' | 'double';

function kindOf(v: unknown): Kind {
  if (isLong(v)) return 'long';
  const t = (v as { _bsontype?: string } | null)?._bsontype;
  if (t === 'Decimal128') throw unsupported('arithmetic on Decimal128 values');
  // A stored integer-valued double is a bson Double (see bson-store.ts).
  if (t === 'Double') return 'double';
  return typeof v === 'number' && Number.isInteger(v) && v >= INT32_MIN && v <= INT32_MAX
    ? 'int'
    : 'double';
}

function plain(v: unknown): number {
  if (isLong(v)) return v.toNumber();
  if (v instanceof Double) return v.value;
  return v as number;
}

/** A numeric operand as this module computes with it (an Int32 wrapper as its number). */
function operandOf(v: unknown): unknown {
  const t = (v as { _bsontype?: string } | null)?._bsontype;
  return t === 'Int32' ? (v as { value: number }).value : v;
}

function asBig(v: unknown): bigint {
  return isLong(v) ? v.toBigInt() : BigInt(v as number);
}

function arith(op: '$inc' | '$mul', a: unknown, b: unknown): unknown {
  const ka = kindOf(a);
  const kb = kindOf(b);
  if (ka === 'double' || kb === 'double') {
    const r = op === '$inc' ? plain(a) + plain(b) : plain(a) * plain(b);
    // A double stays a double even when its value is whole (2.5 + 0.5 is the double 3).
    return needsDoubleWrapper(r) ? new Double(r) : r;
  }
  const r = op === '$inc' ? asBig(a) + asBig(b) : asBig(a) * asBig(b);
  if (ka === 'int' && kb === 'int' && r >= BigInt(INT32_MIN) && r <= BigInt(INT32_MAX))
    return Number(r);
  if (r < INT64_MIN || r > INT64_MAX) {
    throw new MongoServerError(
      2,
      `Failed to apply ${op} operations to current value: the result overflows a 64-bit integer`,
    );
  }
  return Long.fromBigInt(r);
}

/** $mul of a missing field: zero of the operand's type. */
function zeroLike(v: unknown): unknown {
  if (isLong(v)) return Long.fromNumber(0);
  return kindOf(v) === 'double' ? new Double(0) : 0;
}

/** Applies `op`'s fields that address plain objects only to `doc` in place; returns the rest. */
export function applyTyped(doc: Doc, op: string, fields: Doc): Doc {
  const rest: Doc = {};
  for (const [path, operand] of Object.entries(fields)) {
    if (path.includes('$')) {
      rest[path] = operand;
      continue;
    }
    const parts = path.split('.');
    let holder: Doc | null = doc;
    for (let i = 0; i < parts.length - 1 && holder; i++) {
      const next = childOf(holder, parts[i]!);
      if (next === undefined && !Array.isArray(holder)) {
        const created: Doc = {};
        holder[parts[i]!] = created;
        holder = created;
      } else holder = isPlainObject(next) || Array.isArray(next) ? (next as Doc) : null;
    }
    const last = parts[parts.length - 1]!;
    if (!holder || (Array.isArray(holder) && childOf(holder, last) === undefined)) {
      rest[path] = operand;
      continue;
    }
    const cur = childOf(holder, last);
    const arg = operandOf(operand);
    if (
      (op === '$inc' || op === '$mul') &&
      typeof arg !== 'number' &&
      !isLong(arg) &&
      !(arg instanceof Double)
    ) {
      throw new MongoServerError(
        14,
        `Cannot ${op === '$inc' ? 'increment' : 'multiply'} with non-numeric argument: {${path}: ${JSON.stringify(operand)}}`,
      );
    }
    if (op === '$bit') holder[last] = bitUpdate(path, cur, operand);
    else if (op === '$inc') holder[last] = cur === undefined ? arg : arith('$inc', cur, arg);
    else if (op === '$mul')
      holder[last] = cur === undefined ? zeroLike(arg) : arith('$mul', cur, arg);
    else if (
      cur === undefined ||
      (op === '$min' ? compareValues(operand, cur) < 0 : compareValues(operand, cur) > 0)
    )
      holder[last] = operand;
  }
  return rest;
}

const BIT_OPS = new Set(['and', 'or', 'xor']);

/**
 * $bit as mongod applies it: on int32 or int64 only (a missing field starts as the int32 0),
 * each of and/or/xor in turn, an int64 operand making the result an int64. mingo's updater
 * skipped an int64 field and silently left a double or string alone.
 */
function bitUpdate(path: string, cur: unknown, spec: unknown): unknown {
  if (!isPlainObject(spec) || Object.keys(spec).length === 0)
    throw new MongoServerError(
      2,
      `The $bit modifier is not compatible with a ${typeName(spec)}. You must pass in an embedded document: {$bit: {${path}: {and/or/xor: <integer>}}}`,
    );
  const integral = (v: unknown): boolean =>
    isLong(v) || (typeof v === 'number' && kindOf(v) === 'int') || isInt32Wrapper(v);
  if (cur !== undefined && !integral(cur))
    throw new MongoServerError(
      2,
      `Cannot apply $bit to a value of non-integral type. The field ${path} has non-integer type ${typeName(cur)}`,
    );
  let long = isLong(cur);
  let r = cur === undefined ? 0n : asBig(operandOf(cur));
  for (const [name, operand] of Object.entries(spec)) {
    if (!BIT_OPS.has(name))
      throw new MongoServerError(
        2,
        `The $bit modifier only supports 'and', 'or', and 'xor', not '${name}' which is an unknown operator: {${name}: ${String(operand)}}`,
      );
    if (!integral(operand))
      throw new MongoServerError(
        2,
        `The $bit modifier field must be an Integer(32/64 bit); a '${typeName(operand)}' is not supported here: {${name}: ${String(operand)}}`,
      );
    long ||= isLong(operand);
    const b = asBig(operandOf(operand));
    r = name === 'and' ? r & b : name === 'or' ? r | b : r ^ b;
  }
  return long ? Long.fromBigInt(BigInt.asIntN(64, r)) : Number(BigInt.asIntN(32, r));
}

function isInt32Wrapper(v: unknown): boolean {
  return (v as { _bsontype?: string } | null)?._bsontype === 'Int32';
}

function typeName(v: unknown): string {
  if (isLong(v)) return 'long';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  const t = (v as { _bsontype?: string } | null)?._bsontype;
  if (t === 'Double') return 'double';
  if (t) return t.toLowerCase();
  if (typeof v === 'number') return kindOf(v) === 'int' ? 'int' : 'double';
  if (typeof v === 'boolean') return 'bool';
  return typeof v;
}

/** A field of a document, or an element of an array by its index (undefined past the end). */
function childOf(holder: Doc | unknown[], part: string): unknown {
  if (!Array.isArray(holder)) return own(holder, part);
  return /^\d+$/.test(part) ? holder[Number(part)] : undefined;
}
