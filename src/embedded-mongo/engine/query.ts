/**
 * Filters and sorts. Matching is mingo's; this layer refuses what the store does not support
 * (by name) and orders with MongoDB's BSON type order. Projections are in projection.ts.
 */
import { Query, recordOrigins, useFilterCompiler } from './mingo';
import { badValue, unsupported, MongoServerError } from '../errors';
import {
  asMingoValue,
  compareValues,
  getPathValues,
  isLong,
  isOperatorObject,
  isPlainObject,
  mingoView,
  sortKey,
  type Doc,
} from './values';
import type { KeyBound } from './indexes';
import { refusedProto } from './collection';
import { PAUSE, sortInSlices, withPauses, type Sliced } from './slices';

/** A Map, so a field named like an inherited key (`constructor`) is not found here. */
const UNSUPPORTED_QUERY_OPERATORS: ReadonlyMap<string, string> = new Map([
  ['$text', 'the $text query operator (text search)'],
  ['$where', 'the $where query operator (server-side JavaScript)'],
  ['$jsonSchema', 'the $jsonSchema query operator (JSON Schema validation)'],
  ['$function', 'the $function operator (server-side JavaScript)'],
  ['$accumulator', 'the $accumulator operator (server-side JavaScript)'],
  ['$near', 'the $near query operator (geospatial)'],
  ['$nearSphere', 'the $nearSphere query operator (geospatial)'],
  ['$geoWithin', 'the $geoWithin query operator (geospatial)'],
  ['$geoIntersects', 'the $geoIntersects query operator (geospatial)'],
  ['$meta', 'the $meta operator (text search scores)'],
  ['$toDecimal', 'Decimal128 ($toDecimal)'],
]);

/**
 * Throws naming the first unsupported operator (or Decimal128 value) used anywhere in an
 * expression. Decimal128 is stored and returned as it is, but the store cannot compute or compare
 * with it exactly, so a filter, pipeline or arithmetic holding one is refused; `storing` allows
 * it where the value is only stored ($set, $push…).
 */
export function rejectUnsupportedOperators(expr: unknown, storing = false): void {
  if (!storing && (expr as { _bsontype?: string } | null)?._bsontype === 'Decimal128')
    throw unsupported(
      'a Decimal128 value in a filter, pipeline or arithmetic (Decimal128 values are stored and returned, not computed with)',
    );
  if (Array.isArray(expr)) {
    for (const e of expr) rejectUnsupportedOperators(e, storing);
    return;
  }
  if (!isPlainObject(expr)) return;
  for (const [k, v] of Object.entries(expr)) {
    if (k === '__proto__' || k.split('.').includes('__proto__')) throw refusedProto();
    const refused = UNSUPPORTED_QUERY_OPERATORS.get(k);
    if (refused) throw unsupported(refused);
    rejectUnsupportedOperators(v, storing);
  }
}

/** Calls `fn` for each top-level field condition, looking inside `$and` (other operators are skipped). */
export function forEachFieldCondition(
  filter: Doc,
  fn: (field: string, cond: unknown) => void,
): void {
  for (const [field, cond] of Object.entries(filter)) {
    if (field === '$and' && Array.isArray(cond)) {
      for (const sub of cond) if (isPlainObject(sub)) forEachFieldCondition(sub, fn);
      continue;
    }
    if (!field.startsWith('$')) fn(field, cond);
  }
}

export type Matcher = (doc: Doc) => boolean;

export function compileFilter(filter: unknown): Matcher {
  if (filter === undefined || filter === null) return () => true;
  if (!isPlainObject(filter)) throw badValue('filter must be an object');
  if (Object.keys(filter).length === 0) return () => true;
  rejectUnsupportedOperators(withoutExactDecimals(filter));
  let q: Query;
  try {
    q = new Query(mingoFilter(rewriteAll(filter)) as Doc, { scriptEnabled: false });
  } catch (e) {
    throw asBadValue(e);
  }
  const fields = filterFields(filter);
  const test = (doc: Doc): boolean => {
    const view = mingoView(doc, fields);
    recordOrigins(view, doc);
    return q.test(view);
  };
  const strict = strictEqualities(filter);
  if (strict.length === 0) return test;
  return (doc) => test(doc) && strict.every(([path, wanted]) => holdsOneOf(doc, path, wanted));
}

const RANGE_OPERATORS = new Set(['$gt', '$gte', '$lt', '$lte']);

/**
 * A filter as mingo should see it (int64 values as numbers), except a range operator's scalar
 * operand: the store's range operators (mingo.ts) compare it exactly with the stored values.
 * (An array operand may be an aggregation expression's arguments, as in $expr: converted.)
 */
function mingoFilter(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(mingoFilter);
  if (!isPlainObject(v)) return asMingoValue(v);
  const out: Doc = {};
  for (const [k, x] of Object.entries(v))
    out[k] = RANGE_OPERATORS.has(k) && !Array.isArray(x) && !isPlainObject(x) ? x : mingoFilter(x);
  return out;
}

const isDecimal = (v: unknown): boolean =>
  (v as { _bsontype?: string } | null)?._bsontype === 'Decimal128';
const DECIMAL_EXACT_OPERATORS = new Set(['$eq', '$gt', '$gte', '$lt', '$lte']);

/**
 * The filter with the Decimal128 values the store compares exactly left out (for the check that
 * refuses the others): a field's equality, $in list (without null or a regex, which skip the exact
 * re-check) and range bounds, at the top level and under $and. Ranges compare with the original
 * values (mingo.ts), equality and $in are re-checked exactly (strictEqualities).
 */
function withoutExactDecimals(filter: Doc): Doc {
  const out: Doc = {};
  for (const [field, cond] of Object.entries(filter)) {
    if (field === '$and' && Array.isArray(cond))
      out[field] = cond.map((sub) => (isPlainObject(sub) ? withoutExactDecimals(sub) : sub));
    else if (field.startsWith('$')) out[field] = cond;
    else if (isDecimal(cond)) out[field] = 0;
    else if (isOperatorObject(cond)) {
      const ops: Doc = {};
      for (const [op, arg] of Object.entries(cond)) {
        if (DECIMAL_EXACT_OPERATORS.has(op) && isDecimal(arg)) ops[op] = 0;
        else if (
          op === '$in' &&
          Array.isArray(arg) &&
          !arg.some((v) => v === null || v instanceof RegExp || isOperatorObject(v))
        )
          ops[op] = arg.map((v) => (isDecimal(v) ? 0 : v));
        else ops[op] = arg;
      }
      out[field] = ops;
    } else out[field] = cond;
  }
  return out;
}

// Aggregation $match stages (run by mingo) match as find does.
useFilterCompiler(compileFilter);

/** The top-level fields a filter reads (null: it may read any, e.g. through $expr). */
function filterFields(filter: Doc, out = new Set<string>()): string[] | null {
  for (const [k, v] of Object.entries(filter)) {
    if (k === '$and' || k === '$or' || k === '$nor') {
      if (!Array.isArray(v)) return null;
      for (const sub of v) if (!isPlainObject(sub) || filterFields(sub, out) === null) return null;
    } else if (k === '$comment') continue;
    else if (k.startsWith('$')) return null;
    else out.add(k.split('.')[0]!);
  }
  return [...out];
}

/**
 * `{f: {$all: [a, b]}}` is `{$and: [{f: a}, {f: b}]}` in mongod, so a scalar field equal to the
 * one listed value matches; mingo's $all only looks inside arrays. Rewritten before mingo sees it
 * (at any depth of $and/$or/$nor and inside $elemMatch); an empty list matches nothing.
 */
export function rewriteAll(filter: Doc): Doc {
  const out: Doc = {};
  const extra: Doc[] = [];
  for (const [field, cond] of Object.entries(filter)) {
    if ((field === '$and' || field === '$or' || field === '$nor') && Array.isArray(cond)) {
      out[field] = cond.map((sub) => (isPlainObject(sub) ? rewriteAll(sub) : sub));
      continue;
    }
    if (field.startsWith('$') || !isOperatorObject(cond)) {
      out[field] = cond;
      continue;
    }
    const ops: Doc = {};
    for (const [op, arg] of Object.entries(cond)) {
      if (op === '$all' && Array.isArray(arg)) {
        if (arg.length === 0) extra.push({ [field]: { $in: [] } });
        for (const v of arg) {
          if (isOperatorObject(v) && Object.keys(v)[0] !== '$elemMatch')
            throw badValue('no $ expressions in $all');
          extra.push({
            [field]: isOperatorObject(v) || v instanceof RegExp ? rewriteElemMatch(v) : { $eq: v },
          });
        }
      } else ops[op] = op === '$elemMatch' && isPlainObject(arg) ? rewriteAll(arg) : arg;
    }
    if (Object.keys(ops).length) out[field] = ops;
  }
  if (extra.length) out.$and = [...(Array.isArray(out.$and) ? out.$and : []), ...extra];
  return out;
}

function rewriteElemMatch(v: unknown): unknown {
  return isPlainObject(v) && isPlainObject(v.$elemMatch)
    ? { ...v, $elemMatch: rewriteAll(v.$elemMatch) }
    : v;
}

/**
 * mingo's equality is looser than MongoDB's for two kinds of value: embedded documents (it
 * ignores field order; MongoDB compares field by field, so {a: 1, b: 2} is not {b: 2, a: 1})
 * and binary data (it compares their UTF-8 decoding, so bytes that are not valid UTF-8 all look
 * alike, and the subtype is ignored). For equality and $in conditions on such values at the top
 * level and under $and, the match is re-checked with BSON comparison. (Inside $or, $nor, $not,
 * $ne and $nin the looser comparison remains.)
 */
function strictEqualities(filter: Doc): Array<[string, unknown[]]> {
  const out: Array<[string, unknown[]]> = [];
  forEachFieldCondition(filter, (field, cond) => {
    if (!isOperatorObject(cond)) {
      if (needsStrictEquality(cond)) out.push([field, [cond]]);
      return;
    }
    if (needsStrictEquality(cond.$eq)) out.push([field, [cond.$eq]]);
    const list = cond.$in;
    if (
      Array.isArray(list) &&
      list.some(needsStrictEquality) &&
      !list.some((v) => v === null || v instanceof RegExp || isOperatorObject(v))
    ) {
      out.push([field, list]);
    }
  });
  return out;
}

function needsStrictEquality(v: unknown): boolean {
  // Binary: see above; int64 and Decimal128: mingo sees the nearest double, which values that
  // differ may share.
  if (
    v instanceof Uint8Array ||
    (v as { _bsontype?: string } | null)?._bsontype === 'Binary' ||
    isLong(v) ||
    isDecimal(v)
  )
    return true;
  return isPlainObject(v) && !isOperatorObject(v);
}

function holdsOneOf(doc: Doc, path: string, wanted: unknown[]): boolean {
  const equal = (v: unknown): boolean => wanted.some((w) => compareValues(v, w) === 0);
  for (const v of getPathValues(doc, path)) {
    if (equal(v)) return true;
    if (Array.isArray(v) && v.some(equal)) return true;
  }
  return false;
}

export function asBadValue(e: unknown): MongoServerError {
  if (e instanceof MongoServerError) return e;
  return badValue(e instanceof Error ? e.message : String(e));
}

// ---------------------------------------------------------------------------------------------
// Index selection: what a filter says about one field that an index can use.

export type FieldPredicate =
  | { kind: 'eq'; value: unknown }
  | { kind: 'in'; values: unknown[] }
  | { kind: 'range'; lo?: KeyBound; hi?: KeyBound }
  /** `$exists: true`: served by a sparse index on the field, which holds every such document. */
  | { kind: 'exists' };

/** Top-level field conditions an index can serve (ignores everything it cannot; the matcher re-checks all). */
export function indexablePredicates(filter: unknown): Map<string, FieldPredicate> {
  const out = new Map<string, FieldPredicate>();
  if (!isPlainObject(filter)) return out;
  forEachFieldCondition(filter, (field, cond) => {
    const p = predicateFor(cond);
    // A dotted null also matches `{a: [{b: 1}, {}]}`, whose index keys hold no null.
    if (p && field.includes('.') && seeksNull(p)) return;
    if (p && !out.has(field)) out.set(field, p);
  });
  return out;
}

function seeksNull(p: FieldPredicate): boolean {
  return (p.kind === 'eq' && p.value === null) || (p.kind === 'in' && p.values.includes(null));
}

function indexableValue(v: unknown): boolean {
  // Arrays and regexes match in ways an index point lookup cannot express.
  return (
    !Array.isArray(v) &&
    !(v instanceof RegExp) &&
    (v as { _bsontype?: string } | null)?._bsontype !== 'BSONRegExp'
  );
}

function predicateFor(cond: unknown): FieldPredicate | null {
  if (!isOperatorObject(cond))
    return indexableValue(cond) && !isPlainObject(cond) ? { kind: 'eq', value: cond } : null;
  let lo: KeyBound | undefined;
  let hi: KeyBound | undefined;
  let exists = false;
  for (const [op, v] of Object.entries(cond)) {
    switch (op) {
      case '$exists':
        exists = v === true || v === 1;
        break;
      case '$eq':
        if (indexableValue(v) && !isPlainObject(v)) return { kind: 'eq', value: v };
        break;
      case '$in':
        if (
          Array.isArray(v) &&
          v.length <= 1000 &&
          v.every((x) => indexableValue(x) && !isPlainObject(x))
        )
          return { kind: 'in', values: v };
        break;
      case '$gt':
      case '$gte':
        if (indexableValue(v) && v !== null) lo = { value: v, inclusive: op === '$gte' };
        break;
      case '$lt':
      case '$lte':
        if (indexableValue(v) && v !== null) hi = { value: v, inclusive: op === '$lte' };
        break;
    }
  }
  if (!lo && !hi) return exists ? { kind: 'exists' } : null;
  // Type bracketing: {$gt: 5} only reaches numbers, so stop at the end of the number type.
  lo ??= { value: hi!.value, inclusive: true, typeEdge: true };
  hi ??= { value: lo.value, inclusive: true, typeEdge: true };
  return { kind: 'range', lo, hi };
}

// ---------------------------------------------------------------------------------------------
// Sort

export type SortSpec = Array<[string, 1 | -1]>;

export function parseSort(sort: unknown): SortSpec | null {
  if (sort === undefined || sort === null) return null;
  if (!isPlainObject(sort)) throw badValue('sort must be an object');
  const spec: SortSpec = [];
  for (const [field, dir] of Object.entries(sort)) {
    if (isPlainObject(dir))
      throw unsupported(`sort by ${JSON.stringify(dir)} (e.g. $meta text score)`);
    const n = Number(dir);
    if (n !== 1 && n !== -1)
      throw badValue(
        `$sort key ordering must be 1 (for ascending) or -1 (for descending); got ${JSON.stringify(dir)} for '${field}'`,
      );
    spec.push([field, n as 1 | -1]);
  }
  return spec.length ? spec : null;
}

/** Documents in sort order, computed in slices (a large in-memory sort must not hold the event loop). */
export function* sortDocuments(docs: Doc[], spec: SortSpec): Sliced<Doc[]> {
  // Precompute each document's sort keys once (arrays reduce to their min/max element).
  const keyed: Array<{ doc: Doc; keys: unknown[] }> = [];
  for (const doc of withPauses(docs)) {
    if (doc === PAUSE) {
      yield PAUSE;
      continue;
    }
    keyed.push({
      doc,
      keys: spec.map(([path, dir]) => {
        const vals = getPathValues(doc, path);
        return sortKey(vals.length === 1 ? vals[0] : vals.length === 0 ? null : vals, dir);
      }),
    });
  }
  const sorted = yield* sortInSlices(keyed, (a, b) => {
    for (let i = 0; i < spec.length; i++) {
      const c = compareValues(a.keys[i], b.keys[i]);
      if (c !== 0) return c * spec[i][1];
    }
    return 0;
  });
  const out: Doc[] = [];
  for (let i = 0; i < sorted.length; i++) {
    out.push(sorted[i]!.doc);
    if ((i & 4095) === 4095) yield PAUSE;
  }
  return out;
}
