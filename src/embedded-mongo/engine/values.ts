/**
 * BSON-aware value semantics: MongoDB's cross-type sort order, numeric comparison across
 * int32/int64/double, "null equals missing", canonical keys and cloning.
 *
 * Documents are decoded (see bson-store.ts) with int32 and double as JS numbers, except an
 * integer-valued double, which stays a bson Double (a JS number of that value would go back as
 * int32); int64 stays a bson Long and Decimal128 a Decimal128, so every number goes back to the
 * client with the type it came in with. All numbers compare with each other here by value (two
 * int64s exactly).
 */
import { Long, ObjectId } from 'bson';

export type Doc = Record<string, unknown>;

// MongoDB's comparison/sort order of BSON types (https://www.mongodb.com/docs/manual/reference/bson-type-comparison-order/).
const RANK = {
  minKey: 0,
  nullish: 1,
  number: 2,
  string: 3,
  object: 4,
  array: 5,
  binary: 6,
  objectId: 7,
  boolean: 8,
  date: 9,
  timestamp: 10,
  regex: 11,
  maxKey: 12,
} as const;

export function isLong(v: unknown): v is Long {
  return (
    v instanceof Long ||
    (v !== null && typeof v === 'object' && (v as { _bsontype?: string })._bsontype === 'Long')
  );
}

/** The bson class name of a value (`Long`, `Double`, `ObjectId`, …), undefined for others. */
export function bsonType(v: unknown): string | undefined {
  return v !== null && typeof v === 'object' ? (v as { _bsontype?: string })._bsontype : undefined;
}

export function typeRank(v: unknown): number {
  if (v === undefined || v === null) return RANK.nullish;
  switch (typeof v) {
    case 'number':
    case 'bigint':
      return RANK.number;
    case 'string':
      return RANK.string;
    case 'boolean':
      return RANK.boolean;
    case 'object':
      break;
    default:
      return RANK.object;
  }
  if (Array.isArray(v)) return RANK.array;
  if (v instanceof Date) return RANK.date;
  if (v instanceof RegExp) return RANK.regex;
  if (v instanceof Uint8Array) return RANK.binary;
  switch (bsonType(v)) {
    case 'ObjectId':
      return RANK.objectId;
    case 'Binary':
      return RANK.binary;
    case 'Long':
    case 'Int32':
    case 'Double':
    case 'Decimal128':
      return RANK.number;
    case 'Timestamp':
      return RANK.timestamp;
    case 'BSONRegExp':
      return RANK.regex;
    case 'BSONSymbol':
      return RANK.string;
    case 'MinKey':
      return RANK.minKey;
    case 'MaxKey':
      return RANK.maxKey;
    default:
      return RANK.object;
  }
}

export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (isLong(v)) return v.toNumber();
  if (bsonType(v) === 'Decimal128') return Number(String(v));
  return Number((v as { valueOf(): unknown }).valueOf?.() ?? NaN);
}

function cmp<T extends number | string | bigint>(a: T, b: T): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function bytesOf(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  const b = v as { buffer: Uint8Array; position?: number; sub_type?: number };
  return b.buffer.subarray(0, b.position ?? b.buffer.length);
}

/** Compares two values as MongoDB does for sorting and range queries (not for arrays-in-sort; see sortKey). */
export function compareValues(a: unknown, b: unknown): number {
  // Two numbers, the common case of index builds and sorts (NaN is left to the general path).
  if (typeof a === 'number' && typeof b === 'number' && a === a && b === b)
    return a < b ? -1 : a > b ? 1 : 0;
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra - rb;
  switch (ra) {
    case RANK.nullish:
    case RANK.minKey:
    case RANK.maxKey:
      return 0;
    case RANK.number:
      return compareNumbers(a, b);
    case RANK.string:
      return cmp(String(a), String(b));
    case RANK.boolean:
      return cmp(Number(a), Number(b));
    case RANK.date:
      return cmp((a as Date).getTime(), (b as Date).getTime());
    case RANK.objectId:
      return cmp((a as ObjectId).toHexString(), (b as ObjectId).toHexString());
    case RANK.timestamp:
      return cmp(BigInt((a as object).toString()), BigInt((b as object).toString()));
    case RANK.binary: {
      const x = bytesOf(a);
      const y = bytesOf(b);
      // Binary compares by length first, then subtype, then bytes.
      if (x.length !== y.length) return x.length - y.length;
      const sa = (a as { sub_type?: number }).sub_type ?? 0;
      const sb = (b as { sub_type?: number }).sub_type ?? 0;
      if (sa !== sb) return sa - sb;
      return Buffer.compare(x, y);
    }
    case RANK.regex: {
      const x = a as { source: string; flags?: string; pattern?: string; options?: string };
      const y = b as { source: string; flags?: string; pattern?: string; options?: string };
      return (
        cmp(x.source ?? x.pattern ?? '', y.source ?? y.pattern ?? '') ||
        cmp(x.flags ?? x.options ?? '', y.flags ?? y.options ?? '')
      );
    }
    case RANK.array: {
      const x = a as unknown[];
      const y = b as unknown[];
      const n = Math.min(x.length, y.length);
      for (let i = 0; i < n; i++) {
        const c = compareValues(x[i], y[i]);
        if (c !== 0) return c;
      }
      return x.length - y.length;
    }
    default: {
      // Embedded documents compare field by field: type, then name, then value.
      const ka = Object.keys(a as Doc);
      const kb = Object.keys(b as Doc);
      const n = Math.min(ka.length, kb.length);
      for (let i = 0; i < n; i++) {
        const va = (a as Doc)[ka[i]];
        const vb = (b as Doc)[kb[i]];
        const c = typeRank(va) - typeRank(vb) || cmp(ka[i], kb[i]) || compareValues(va, vb);
        if (c !== 0) return c;
      }
      return ka.length - kb.length;
    }
  }
}

/**
 * Two numbers by their exact values, as mongod compares across int32/int64/double/Decimal128:
 * an int64 is compared as a bigint (JS compares a bigint with a number exactly; the nearest double
 * of an int64 beyond 2^53 is not its value), a Decimal128 as m·10^q. NaN sorts before every other
 * number.
 */
function compareNumbers(a: unknown, b: unknown): number {
  if (isLong(a) && isLong(b)) return a.compare(b);
  if (isDecimal(a) || isDecimal(b)) return compareExact(exactOf(a), exactOf(b));
  const x = isLong(a) ? a.toBigInt() : typeof a === 'bigint' ? a : toNumber(a);
  const y = isLong(b) ? b.toBigInt() : typeof b === 'bigint' ? b : toNumber(b);
  if (x !== x) return y !== y ? 0 : -1;
  if (y !== y) return 1;
  return x < y ? -1 : x > y ? 1 : 0;
}

function isDecimal(v: unknown): boolean {
  return v !== null && typeof v === 'object' && bsonType(v) === 'Decimal128';
}

/** A number exactly: NaN or ±Infinity as a JS number, otherwise m·2^p·10^q. */
type Exact = number | { m: bigint; p: number; q: number };

function exactOf(v: unknown): Exact {
  if (isDecimal(v)) {
    const text = String(v);
    const g = /^(-)?(\d+)(?:\.(\d*))?(?:E([+-]?\d+))?$/i.exec(text);
    if (!g) return text.includes('NaN') ? NaN : text.startsWith('-') ? -Infinity : Infinity;
    const frac = g[3] ?? '';
    const m = BigInt(g[2]! + frac);
    return { m: g[1] ? -m : m, p: 0, q: Number(g[4] ?? 0) - frac.length };
  }
  if (isLong(v)) return { m: v.toBigInt(), p: 0, q: 0 };
  if (typeof v === 'bigint') return { m: v, p: 0, q: 0 };
  let x = toNumber(v);
  if (!Number.isFinite(x)) return x;
  let p = 0;
  // Doubling is exact; a double has at most 1074 binary fraction digits.
  for (; !Number.isInteger(x); p--) x *= 2;
  return { m: BigInt(x), p, q: 0 };
}

function compareExact(a: Exact, b: Exact): number {
  if (typeof a === 'number' && a !== a) return typeof b === 'number' && b !== b ? 0 : -1;
  if (typeof b === 'number' && b !== b) return 1;
  if (typeof a === 'number' || typeof b === 'number') {
    // At least one infinity: a finite value counts as 0 against it.
    const x = typeof a === 'number' ? a : 0;
    const y = typeof b === 'number' ? b : 0;
    return x < y ? -1 : x > y ? 1 : 0;
  }
  const p = Math.min(a.p, b.p);
  const q = Math.min(a.q, b.q);
  const x = a.m * 2n ** BigInt(a.p - p) * 10n ** BigInt(a.q - q);
  const y = b.m * 2n ** BigInt(b.p - p) * 10n ** BigInt(b.q - q);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function valuesEqual(a: unknown, b: unknown): boolean {
  return compareValues(a, b) === 0;
}

/**
 * The value a document contributes to a sort on one field: arrays sort by their smallest element
 * ascending and their largest descending; an empty array sorts before null.
 */
export function sortKey(v: unknown, direction: 1 | -1): unknown {
  if (!Array.isArray(v)) return v;
  if (v.length === 0) return EMPTY_ARRAY_SORT;
  let best = v[0];
  for (let i = 1; i < v.length; i++) {
    const c = compareValues(v[i], best);
    if (direction === 1 ? c < 0 : c > 0) best = v[i];
  }
  return best;
}
const EMPTY_ARRAY_SORT = { _bsontype: 'MinKey' };

/** Reads a dotted path; arrays along the way fan out (as MongoDB does), returning every value found. */
export function getPathValues(doc: unknown, path: string): unknown[] {
  const out: unknown[] = [];
  // A one-part path on a document is the common case (index keys, simple filters).
  if (!path.includes('.')) {
    walkPath(doc, [path], 0, out);
    return out;
  }
  walkPath(doc, path.split('.'), 0, out);
  return out;
}

// A module-level function, not a closure per call: under tsx every closure made is also named.
function walkPath(v: unknown, parts: string[], i: number, out: unknown[]): void {
  if (i === parts.length) {
    out.push(v);
    return;
  }
  if (v === null || typeof v !== 'object') return;
  if (Array.isArray(v)) {
    const idx = /^\d+$/.test(parts[i]!) ? Number(parts[i]) : -1;
    if (idx >= 0) {
      if (idx < v.length) walkPath(v[idx], parts, i + 1, out);
      return;
    }
    for (const el of v)
      if (el !== null && typeof el === 'object' && !Array.isArray(el)) walkPath(el, parts, i, out);
    return;
  }
  if (bsonType(v) !== undefined || v instanceof Date) return;
  const next = own(v as Doc, parts[i]!);
  if (next === undefined) return;
  walkPath(next, parts, i + 1, out);
}

/**
 * Whether `path` is null or missing in `doc` as mongod's `{path: null}` decides: a null (or a null
 * element of a leaf array), a document along the way that lacks the next field, or a scalar where
 * a document was needed. Arrays along the way fan out into their document elements only, so
 * `a.b` finds no null in `{a: [42]}`, `{a: []}` or `{a: [null]}` but does in `{a: [{}]}`.
 */
export function pathHoldsNull(doc: unknown, path: string): boolean {
  return holdsNull(doc, path.split('.'), 0);
}

function holdsNull(v: unknown, parts: string[], i: number): boolean {
  if (i === parts.length)
    return v === null || v === undefined || (Array.isArray(v) && v.some((el) => el == null));
  if (Array.isArray(v)) {
    if (/^\d+$/.test(parts[i]!)) {
      const idx = Number(parts[i]);
      return idx >= v.length || holdsNull(v[idx], parts, i + 1);
    }
    return v.some((el) => isPlainObject(el) && holdsNull(el, parts, i));
  }
  if (!isPlainObject(v)) return true; // a scalar, null or BSON value has no fields
  const next = own(v, parts[i]!);
  return next === undefined || holdsNull(next, parts, i + 1);
}

/**
 * An id key as a flat string. `'s' + id` of 13 or more characters is a concatenated string in V8
 * (a 32-byte node over its parts) which the Map and every index entry would keep for the
 * document's life; decoding it from bytes makes one sequential string.
 */
export function flatKey(tag: number, bytes: Uint8Array, start = 0, end = bytes.length): string {
  const n = end - start + 1;
  if (keyScratch.length < n) keyScratch = Buffer.allocUnsafe(Math.max(n, keyScratch.length * 2));
  keyScratch[0] = tag;
  keyScratch.set(bytes.subarray(start, end), 1);
  return keyScratch.toString('latin1', 0, n);
}

let keyScratch = Buffer.allocUnsafe(64);
const TAG_O = 0x6f; // 'o'

/** Key of an ObjectId: 'o' then its 12 bytes as Latin-1 characters (13 characters, byte order kept). */
export function objectIdKey(bytes: Uint8Array, start = 0): string {
  return flatKey(TAG_O, bytes, start, start + 12);
}

/** Key of a string id: 's' then the string, flat (short concatenations are flat already). */
export function stringIdKey(id: string): string {
  const key = 's' + id;
  if (key.length < 13) return key;
  const flat = Buffer.from(key, 'utf8').toString('utf8');
  return flat === key ? flat : key; // a lone surrogate does not survive UTF-8: keep the original
}

/** Canonical string for an _id so that 1, 1.0 and Long(1) address the same document. */
export function idKey(id: unknown): string {
  if (typeof id === 'string') return stringIdKey(id);
  if (typeof id === 'number') return 'n' + (Object.is(id, -0) ? 0 : id);
  if (id instanceof ObjectId) return objectIdKey(id.id);
  if (id instanceof Date) return 'd' + id.getTime();
  if (id === null || id === undefined) return 'z';
  if (typeof id === 'boolean') return 'b' + id;
  switch (typeRank(id)) {
    case RANK.number:
      // An int64 beyond 2^53 has no exact double: keyed by its digits (smaller ones meet 1 and 1.0).
      if (isLong(id) && !Number.isSafeInteger(id.toNumber())) return 'l' + id.toString();
      return 'n' + toNumber(id);
    case RANK.objectId:
      return objectIdKey((id as ObjectId).id);
    case RANK.binary:
      return (
        'x' +
        ((id as { sub_type?: number }).sub_type ?? 0) +
        ':' +
        Buffer.from(bytesOf(id)).toString('base64')
      );
    default:
      return 'j' + stableString(id);
  }
}

function stableString(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'undefined';
  if (Array.isArray(v)) return '[' + v.map(stableString).join(',') + ']';
  const t = bsonType(v);
  if (t !== undefined || v instanceof Date) return idKey(v);
  return (
    '{' +
    Object.keys(v)
      .map((k) => JSON.stringify(k) + ':' + stableString((v as Doc)[k]))
      .join(',') +
    '}'
  );
}

/**
 * Deep-copies plain objects and arrays. BSON value classes are treated as immutable and shared;
 * Dates are copied because they are mutable.
 */
export function cloneDeep<T>(v: T): T {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(cloneDeep) as T;
  if (v instanceof Date) return new Date(v.getTime()) as T;
  if (bsonType(v) !== undefined || v instanceof Uint8Array || v instanceof RegExp) return v;
  const out: Doc = {};
  for (const k of Object.keys(v)) out[k] = cloneDeep((v as Doc)[k]);
  return out as T;
}

/** Structural equality that also respects field order (an update that reorders fields did modify the document). */
export function sameDocument(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeRank(a) !== typeRank(b)) return false;
  if (Array.isArray(a)) {
    const y = b as unknown[];
    return a.length === y.length && a.every((x, i) => sameDocument(x, y[i]));
  }
  if (a !== null && typeof a === 'object' && typeRank(a) === RANK.object) {
    const ka = Object.keys(a);
    const kb = Object.keys(b as Doc);
    if (ka.length !== kb.length) return false;
    for (let i = 0; i < ka.length; i++) {
      if (ka[i] !== kb[i] || !sameDocument((a as Doc)[ka[i]], (b as Doc)[kb[i]])) return false;
    }
    return true;
  }
  // Same rank scalars: equal value and same JS type (5 vs 5.0 are both numbers here).
  return compareValues(a, b) === 0 && typeof a === typeof b;
}

/**
 * mingo knows JS numbers only: the value with int64 and Decimal128 as their (nearest) numbers,
 * copied only along the way to one; a value holding none is returned as it is.
 */
export function asMingoValue(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (isLong(v)) return v.toNumber();
  const t = bsonType(v);
  if (t === 'Decimal128') return Number(String(v));
  if (t === 'Double' || t === 'Int32') return (v as { value: number }).value;
  if (Array.isArray(v)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < v.length; i++) {
      const x = asMingoValue(v[i]);
      if (x !== v[i]) (out ??= v.slice())[i] = x;
    }
    return out ?? v;
  }
  if (t !== undefined || v instanceof Date || v instanceof Uint8Array || v instanceof RegExp)
    return v;
  let out: Doc | null = null;
  for (const k of Object.keys(v)) {
    const x = asMingoValue((v as Doc)[k]);
    if (x !== (v as Doc)[k]) (out ??= { ...(v as Doc) })[k] = x;
  }
  return out ?? v;
}

/** A document as mingo should see it, converting only the top-level fields named (null: all). */
export function mingoView(doc: Doc, fields: readonly string[] | null): Doc {
  if (fields === null) return asMingoValue(doc) as Doc;
  let out: Doc | null = null;
  for (const f of fields) {
    const v = own(doc, f);
    const x = asMingoValue(v);
    if (x !== v) (out ??= { ...doc })[f] = x;
  }
  return out ?? doc;
}

/** A document's own field (never one every JS object inherits, like `constructor`). */
export function own(doc: Doc, field: string): unknown {
  return Object.prototype.hasOwnProperty.call(doc, field) ? doc[field] : undefined;
}

export function isPlainObject(v: unknown): v is Doc {
  return (
    v !== null &&
    typeof v === 'object' &&
    !Array.isArray(v) &&
    typeRank(v) === RANK.object &&
    !(v instanceof Date)
  );
}

export function isOperatorObject(v: unknown): v is Doc {
  if (!isPlainObject(v)) return false;
  const keys = Object.keys(v);
  return keys.length > 0 && keys[0].startsWith('$');
}
