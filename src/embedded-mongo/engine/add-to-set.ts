/**
 * $addToSet as mongod applies it: each given value ($each, deduplicated among themselves) not
 * already in the array is appended; what the array already holds, duplicates included, stays.
 * mingo's updater replaced the array with its unique values and, when that came out as long as
 * before ([10, 10, 20] plus 100), reported no change and added nothing. Values are equal as BSON
 * values are (numbers by value across types).
 */
import { badValue } from '../errors';
import { cloneDeep, isPlainObject, own, valuesEqual, type Doc } from './values';

function valuesToAdd(spec: unknown): unknown[] {
  if (!isPlainObject(spec) || !Object.prototype.hasOwnProperty.call(spec, '$each')) return [spec];
  const each = spec.$each;
  if (!Array.isArray(each))
    throw badValue(
      `The argument to $each in $addToSet must be an array but it was of type ${typeof each}`,
    );
  const out: unknown[] = [];
  for (const v of each) if (!out.some((o) => valuesEqual(o, v))) out.push(v);
  return out;
}

/**
 * Applies the `$addToSet` fields whose path has no positional part and reaches through
 * documents (or existing array elements) to `doc` in place; returns the fields left for mingo.
 * Targets that are not arrays were refused before (update.ts checkTargets).
 */
export function applyAddToSet(doc: Doc, fields: Doc): Doc {
  const rest: Doc = {};
  for (const [path, spec] of Object.entries(fields)) {
    if (path.includes('$')) {
      rest[path] = spec;
      continue;
    }
    const parts = path.split('.');
    let holder: unknown = doc;
    for (let i = 0; i < parts.length - 1 && holder !== undefined; i++) {
      const part = parts[i]!;
      let next = child(holder, part);
      if (next === undefined && isPlainObject(holder)) next = holder[part] = {};
      holder = next;
    }
    const last = parts[parts.length - 1]!;
    if (!(isPlainObject(holder) || Array.isArray(holder))) {
      rest[path] = spec;
      continue;
    }
    const values = valuesToAdd(spec);
    const arr = child(holder, last);
    if (arr === undefined && Array.isArray(holder)) {
      rest[path] = spec; // past an array's end: mingo pads as mongod does
      continue;
    }
    const target = Array.isArray(arr) ? arr : [];
    for (const v of values) if (!target.some((el) => valuesEqual(el, v))) target.push(cloneDeep(v));
    if (arr === undefined) (holder as Doc)[last] = target;
  }
  return rest;
}

function child(v: unknown, part: string): unknown {
  if (Array.isArray(v)) return /^\d+$/.test(part) ? v[Number(part)] : undefined;
  return isPlainObject(v) ? own(v, part) : undefined;
}
