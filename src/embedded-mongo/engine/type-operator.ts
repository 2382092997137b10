/**
 * The $type query operator by stored BSON type (https://www.mongodb.com/docs/manual/reference/operator/query/type/).
 * mingo decides by JS type, so {$type: 'double'} matched every number but NaN. Stored values:
 * int32 and fractional (or non-finite) doubles are JS numbers, an integer-valued double is a bson
 * Double, int64 a Long (see bson-store.ts).
 */
import { badValue } from '../errors';
import { getPathValues, isLong, type Doc } from './values';

const CODES: Record<number, string> = {
  1: 'double',
  2: 'string',
  3: 'object',
  4: 'array',
  5: 'binData',
  6: 'undefined',
  7: 'objectId',
  8: 'bool',
  9: 'date',
  10: 'null',
  11: 'regex',
  12: 'dbPointer',
  13: 'javascript',
  14: 'symbol',
  15: 'javascriptWithScope',
  16: 'int',
  17: 'timestamp',
  18: 'long',
  19: 'decimal',
  [-1]: 'minKey',
  127: 'maxKey',
};
const ALIASES = new Set([...Object.values(CODES), 'number']);
const NUMBER_TYPES = new Set(['double', 'int', 'long', 'decimal']);

const WRAPPERS: Record<string, string> = {
  Double: 'double',
  Int32: 'int',
  Long: 'long',
  Decimal128: 'decimal',
  Binary: 'binData',
  ObjectId: 'objectId',
  BSONRegExp: 'regex',
  Timestamp: 'timestamp',
  MinKey: 'minKey',
  MaxKey: 'maxKey',
  BSONSymbol: 'symbol',
  DBRef: 'object',
  DBPointer: 'dbPointer',
};

/** mongod's type alias of a stored value. */
export function bsonTypeAlias(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (isLong(v) || typeof v === 'bigint') return 'long';
  switch (typeof v) {
    case 'number':
      return Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31 ? 'int' : 'double';
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
  }
  if (Array.isArray(v)) return 'array';
  if (v instanceof Date) return 'date';
  if (v instanceof RegExp) return 'regex';
  if (v instanceof Uint8Array) return 'binData';
  const t = (v as { _bsontype?: string })._bsontype;
  if (t === 'Code') return (v as { scope?: unknown }).scope ? 'javascriptWithScope' : 'javascript';
  return (t && WRAPPERS[t]) || 'object';
}

function aliasOf(operand: unknown): string {
  if (typeof operand === 'string') {
    if (!ALIASES.has(operand)) throw badValue(`Unknown type name alias: ${operand}`);
    return operand;
  }
  const code = Number((operand as { valueOf(): unknown } | null)?.valueOf?.());
  const alias = Number.isInteger(code) ? CODES[code] : undefined;
  if (!alias) throw badValue(`Invalid numerical type code: ${String(operand)}`);
  return alias;
}

/** The operator: selector and operand to a test of one (original, stored) document. */
export function typeOperator(selector: string, operand: unknown): (doc: Doc) => boolean {
  const wanted = new Set((Array.isArray(operand) ? operand : [operand]).map(aliasOf));
  const is = (v: unknown): boolean => {
    const t = bsonTypeAlias(v);
    return wanted.has(t) || (wanted.has('number') && NUMBER_TYPES.has(t));
  };
  return (doc) =>
    getPathValues(doc, selector).some((v) => is(v) || (Array.isArray(v) && v.some(is)));
}
