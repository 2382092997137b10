/**
 * `$pull` as mongod decides it. mingo treats any condition with an operator key as a condition on
 * the element itself, so `{$pull: {arr: {$or: [{a: 1}, {b: 2}]}}}` (what mongoose sends for
 * DocumentArray.pull() of subdocuments without _id) matched nothing. mongod looks at the first
 * field only: a path operator ($gt, $in, $elemMatch…) tests the element as a value; anything else
 * ($or, $and, plain fields) is a query run on each element that is a document; a non-document
 * condition removes equal elements.
 */
import { compileFilter, type Matcher } from './query';
import { compareValues, isPlainObject, own, type Doc } from './values';

/** Operators that apply to a value (mongod's parsePathAcceptingKeyword). */
const PATH_OPERATORS = new Set([
  '$eq',
  '$ne',
  '$gt',
  '$gte',
  '$lt',
  '$lte',
  '$in',
  '$nin',
  '$all',
  '$elemMatch',
  '$exists',
  '$type',
  '$mod',
  '$regex',
  '$options',
  '$not',
  '$size',
  '$bitsAllSet',
  '$bitsAllClear',
  '$bitsAnySet',
  '$bitsAnyClear',
  '$geoWithin',
  '$geoIntersects',
  '$near',
  '$nearSphere',
  '$within',
]);

export function pullPredicate(cond: unknown): (element: unknown) => boolean {
  if (isPlainObject(cond)) {
    const firstKey = Object.keys(cond)[0];
    if (firstKey === undefined || !PATH_OPERATORS.has(firstKey)) {
      const m: Matcher = compileFilter(cond);
      return (el) => isPlainObject(el) && m(el);
    }
  }
  if (
    isPlainObject(cond) ||
    cond instanceof RegExp ||
    (cond as { _bsontype?: string } | null)?._bsontype === 'BSONRegExp'
  ) {
    const m = compileFilter({ v: cond });
    return (el) => m({ v: el });
  }
  return (el) => compareValues(el, cond) === 0;
}

/**
 * Applies the `$pull` fields whose path has no positional part to `doc` in place and returns the
 * fields left for the general updater (positional paths).
 */
export function applyPlainPulls(doc: Doc, fields: Doc): Doc {
  const rest: Doc = {};
  for (const [path, cond] of Object.entries(fields)) {
    if (path.includes('$')) {
      rest[path] = cond;
      continue;
    }
    const pred = pullPredicate(cond);
    const parts = path.split('.');
    let holder: unknown = doc;
    for (let i = 0; i < parts.length - 1 && holder !== undefined; i++)
      holder = step(holder, parts[i]);
    if (holder === undefined || holder === null || typeof holder !== 'object') continue;
    const last = parts[parts.length - 1];
    const arr = step(holder, last);
    if (!Array.isArray(arr)) continue; // missing: a no-op (a non-array was refused before)
    const kept = arr.filter((el) => !pred(el));
    if (kept.length !== arr.length) (holder as Record<string, unknown>)[last] = kept;
  }
  return rest;
}

function step(v: unknown, part: string): unknown {
  if (Array.isArray(v)) return /^\d+$/.test(part) ? v[Number(part)] : undefined;
  return isPlainObject(v) ? own(v, part) : undefined;
}
