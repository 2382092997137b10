/**
 * Update documents: operator updates ($set, $inc, … via mingo's updater), replacements and
 * aggregation-pipeline updates, plus what mingo lacks: $setOnInsert and the upsert seed built
 * from the query's equality fields. Stored documents are never mutated: updates work on a clone.
 */
import { Aggregator, MINGO_CONTEXT } from './mingo';
import { update as mingoUpdate } from 'mingo/updater';
import { ObjectId } from 'bson';
import { badValue, MongoServerError, Codes } from '../errors';
import { asBadValue, forEachFieldCondition, rejectUnsupportedOperators, rewriteAll } from './query';
import { applyPlainPulls } from './pull';
import { applyAddToSet } from './add-to-set';
import { applyTyped, TYPED_OPERATORS } from './arithmetic';
import {
  asMingoValue,
  cloneDeep,
  getPathValues,
  isOperatorObject,
  isPlainObject,
  own,
  typeRank,
  valuesEqual,
  type Doc,
} from './values';

const OPERATORS = new Set([
  '$set',
  '$unset',
  '$inc',
  '$mul',
  '$min',
  '$max',
  '$rename',
  '$currentDate',
  '$push',
  '$addToSet',
  '$pull',
  '$pullAll',
  '$pop',
  '$bit',
  '$setOnInsert',
]);
const PIPELINE_STAGES = new Set([
  '$set',
  '$addFields',
  '$project',
  '$unset',
  '$replaceRoot',
  '$replaceWith',
]);

export type UpdateKind = 'operators' | 'replacement' | 'pipeline';

export function classifyUpdate(u: unknown): UpdateKind {
  if (Array.isArray(u)) return 'pipeline';
  if (!isPlainObject(u))
    throw new MongoServerError(
      Codes.FailedToParse,
      'Update document must be an object or a pipeline array',
    );
  const keys = Object.keys(u);
  const ops = keys.filter((k) => k.startsWith('$'));
  if (ops.length === 0) return 'replacement';
  if (ops.length !== keys.length)
    throw badValue('Update document cannot mix update operators and plain fields');
  return 'operators';
}

export interface ApplyOptions {
  filter?: Doc;
  arrayFilters?: Doc[];
  /** True when the update creates the document (upsert): $setOnInsert applies. */
  inserting?: boolean;
}

/** Returns the updated copy of `doc`; `doc` itself is untouched. */
export function applyUpdate(doc: Doc, u: unknown, opts: ApplyOptions = {}): Doc {
  const kind = classifyUpdate(u);
  let next: Doc;
  if (kind === 'replacement') {
    const repl = u as Doc;
    if (repl._id !== undefined && doc._id !== undefined && !valuesEqual(repl._id, doc._id))
      throw immutableId();
    next = doc._id !== undefined ? { _id: doc._id } : {};
    for (const [k, v] of Object.entries(repl))
      if (k !== '_id' || doc._id === undefined) next[k] = cloneDeep(v);
  } else if (kind === 'pipeline') {
    next = applyPipeline(doc, u as Doc[]);
  } else {
    next = applyOperators(doc, u as Doc, opts);
  }
  if (doc._id !== undefined && !valuesEqual(next._id, doc._id)) throw immutableId();
  if (doc._id !== undefined && Object.keys(next)[0] !== '_id')
    next = { _id: next._id, ...withoutId(next) };
  return next;
}

function withoutId(d: Doc): Doc {
  const { _id, ...rest } = d;
  void _id;
  return rest;
}

function immutableId(): MongoServerError {
  return new MongoServerError(
    Codes.ImmutableField,
    "Performing an update on the path '_id' would modify the immutable field '_id'",
  );
}

/**
 * Checks an update's shape without a document, as MongoDB parses it before looking for matches:
 * an update that matches nothing still fails on an unknown modifier.
 */
export function validateUpdate(u: unknown): void {
  const kind = classifyUpdate(u);
  if (kind === 'operators')
    for (const [op, fields] of Object.entries(u as Doc)) checkModifier(op, fields);
  else if (kind === 'pipeline') checkPipeline(u as unknown[]);
}

function checkModifier(op: string, fields: unknown): asserts fields is Doc {
  if (!OPERATORS.has(op))
    throw badValue(
      `Unknown modifier: ${op}. Expected a valid update modifier or pipeline-style update specified as an array`,
    );
  if (!isPlainObject(fields))
    throw badValue(
      `Modifiers operate on fields but we found type ${typeof fields} instead: {${op}: ${JSON.stringify(fields)}}`,
    );
  rejectUnsupportedOperators(fields, STORING.has(op));
}

/** Modifiers that only store their values (a Decimal128 among them is fine). */
const STORING = new Set([
  '$set',
  '$setOnInsert',
  '$push',
  '$addToSet',
  '$rename',
  '$unset',
  '$currentDate',
]);

function checkPipeline(stages: unknown[]): void {
  for (const stage of stages) {
    const name = isPlainObject(stage) ? Object.keys(stage)[0] : undefined;
    if (!name || !PIPELINE_STAGES.has(name))
      throw badValue(`${name ?? 'non-object'} is not allowed to be used within an update`);
  }
  rejectUnsupportedOperators(stages);
}

function applyOperators(doc: Doc, u: Doc, opts: ApplyOptions): Doc {
  const modifier: Doc = {};
  for (const [op, fields] of Object.entries(u)) {
    checkModifier(op, fields);
    if (op === '$setOnInsert') {
      if (opts.inserting) modifier.$set = { ...((modifier.$set as Doc) ?? {}), ...fields };
      continue;
    }
    checkTargets(doc, op, fields);
    if (op === '$set' && modifier.$set) modifier.$set = { ...fields, ...(modifier.$set as Doc) };
    else modifier[op] = fields;
    if (doc._id === undefined) continue; // an upsert's new document may be given its _id
    for (const path of Object.keys(fields))
      if (path === '_id' || path.startsWith('_id.')) {
        if (op !== '$set' || !valuesEqual((fields as Doc)[path], getPathValues(doc, path)[0]))
          throw immutableId();
      }
  }
  const copy = cloneDeep(doc);
  // mongod allows $set of _id (or a part of it) to the value it has, and an upsert's new document
  // to be given one; mingo's updater refuses any. Checked above; applied here.
  if (isPlainObject(modifier.$set)) {
    const set: Doc = {};
    for (const [path, v] of Object.entries(modifier.$set)) {
      if (path !== '_id' && !path.startsWith('_id.')) set[path] = v;
      else if (doc._id === undefined) setPath(copy, path, cloneDeep(v));
    }
    if (Object.keys(set).length) modifier.$set = set;
    else delete modifier.$set;
  }
  for (const op of TYPED_OPERATORS) {
    if (!isPlainObject(modifier[op])) continue;
    const rest = applyTyped(copy, op, withPositionsResolved(copy, op, modifier[op], opts));
    if (Object.keys(rest).length) modifier[op] = rest;
    else delete modifier[op];
  }
  if (isPlainObject(modifier.$pull)) {
    const rest = applyPlainPulls(copy, modifier.$pull);
    if (Object.keys(rest).length) modifier.$pull = rest;
    else delete modifier.$pull;
  }
  // Positional paths become concrete first, decided on a view with mingo's numbers: mingo's updater
  // re-matches the filter against the document, and an int64 or Decimal128 there never equals
  // the same value in the filter, so it silently modified nothing.
  for (const op of Object.keys(modifier)) {
    if (!isPlainObject(modifier[op])) continue;
    const concrete = withPositionsResolved(copy, op, modifier[op], opts);
    if (Object.keys(concrete).length) modifier[op] = concrete;
    else delete modifier[op];
  }
  if (isPlainObject(modifier.$addToSet)) {
    const rest = applyAddToSet(copy, modifier.$addToSet);
    if (Object.keys(rest).length) modifier.$addToSet = rest;
    else delete modifier.$addToSet;
  }
  if (Object.keys(modifier).length === 0) return copy;
  const shadows = shadowInherited(copy, modifier);
  try {
    mingoUpdate(copy, modifier, undefined, undefined, {
      cloneMode: 'deep',
      queryOptions: { scriptEnabled: false, context: MINGO_CONTEXT },
    });
  } catch (e) {
    throw asBadValue(e);
  }
  for (const [holder, key] of shadows) if (holder[key] === undefined) delete holder[key];
  return copy;
}

/**
 * `fields` with each positional path (`a.$.n`, `a.$[].n`, `a.$[x].n`) replaced by the concrete
 * paths it stands for in `doc`, so $inc/$mul/$min/$max on them follow the number types of
 * arithmetic.ts (mingo's updater computes on JS numbers and narrowed an int64). Which elements
 * a positional part means is mingo's updater's answer (it knows the filter and arrayFilters):
 * it $sets a marker at each path on a copy, and the markers are looked up.
 */
function withPositionsResolved(doc: Doc, op: string, fields: Doc, opts: ApplyOptions): Doc {
  const positional = Object.keys(fields).filter((p) => p.includes('$'));
  if (positional.length === 0) return fields;
  const probe = asMingoValue(cloneDeep(doc)) as Doc;
  const marker = (i: number): string => `${POSITION_MARK}${i}`;
  const set = Object.fromEntries(positional.map((p, i) => [p, marker(i)]));
  try {
    const filter = opts.filter ? (asMingoValue(rewriteAll(opts.filter)) as Doc) : undefined;
    const arrayFilters = opts.arrayFilters?.map((f) => asMingoValue(f) as Doc);
    mingoUpdate(probe, { $set: set }, arrayFilters, filter, {
      cloneMode: 'deep',
      queryOptions: { scriptEnabled: false, context: MINGO_CONTEXT },
    });
  } catch (e) {
    throw asBadValue(e);
  }
  const out: Doc = {};
  for (const [path, v] of Object.entries(fields)) if (!path.includes('$')) out[path] = v;
  const visit = (v: unknown, path: string): void => {
    if (typeof v === 'string' && v.startsWith(POSITION_MARK)) {
      const concrete = { [path]: fields[positional[Number(v.slice(POSITION_MARK.length))]!] };
      checkTargets(doc, op, concrete);
      Object.assign(out, concrete);
    } else if (Array.isArray(v)) v.forEach((el, i) => visit(el, `${path}.${i}`));
    else if (isPlainObject(v)) for (const k of Object.keys(v)) visit(v[k], `${path}.${k}`);
  };
  for (const k of Object.keys(probe)) visit(probe[k], k);
  return out;
}
const POSITION_MARK = '\u0000embedded-mongo-position:';

/**
 * mingo's update operators read `o[k]`, so a field named like an inherited key (`toString`,
 * `valueOf`) that the document lacks looks like a function and $inc/$push skip it. An own
 * `undefined` shadows it while the updater runs; those still undefined are removed after.
 */
function shadowInherited(doc: Doc, modifier: Doc): Array<[Doc, string]> {
  const shadows: Array<[Doc, string]> = [];
  for (const fields of Object.values(modifier)) {
    if (!isPlainObject(fields)) continue;
    for (const path of Object.keys(fields)) {
      let cur: unknown = doc;
      for (const part of path.split('.')) {
        if (!isPlainObject(cur)) break;
        if (!Object.prototype.hasOwnProperty.call(cur, part)) {
          if (part in cur) {
            cur[part] = undefined;
            shadows.push([cur, part]);
          }
          break;
        }
        cur = cur[part];
      }
    }
  }
  return shadows;
}

function applyPipeline(doc: Doc, stages: Doc[]): Doc {
  checkPipeline(stages);
  try {
    const out = new Aggregator(stages, { scriptEnabled: false }).run([cloneDeep(doc)]);
    return (out[0] as Doc) ?? {};
  } catch (e) {
    throw asBadValue(e);
  }
}

const CREATING = new Set([
  '$set',
  '$setOnInsert',
  '$inc',
  '$mul',
  '$min',
  '$max',
  '$currentDate',
  '$push',
  '$addToSet',
  '$bit',
]);
const NUMERIC = new Set(['$inc', '$mul']);
const ARRAY = new Set(['$push', '$addToSet', '$pull', '$pullAll', '$pop']);

/**
 * Refuses what MongoDB refuses but mingo's updater silently skips: $inc/$mul on a non-number,
 * array operators on a non-array, and creating a field inside a scalar or an array
 * (PathNotViable). Positional paths are left to the updater.
 */
function checkTargets(doc: Doc, op: string, fields: Doc): void {
  for (const path of Object.keys(fields)) {
    if (path.includes('$')) continue;
    const parts = path.split('.');
    let cur: unknown = doc;
    let i = 0;
    for (; i < parts.length; i++) {
      const part = parts[i];
      if (Array.isArray(cur) && /^\d+$/.test(part)) cur = cur[Number(part)];
      else if (isPlainObject(cur)) cur = own(cur, part);
      else {
        // `cur` is a scalar, null, a BSON value or an array addressed by a field name.
        if (!CREATING.has(op)) break; // $unset/$pull/... of a path that cannot exist: a no-op
        throw new MongoServerError(
          Codes.PathNotViable,
          `Cannot create field '${part}' in element {${parts[i - 1]}: ${describe(cur)}}`,
        );
      }
      if (cur === undefined) break;
    }
    if (cur === undefined || i < parts.length) continue;
    if (NUMERIC.has(op) && typeRank(cur) !== typeRank(0)) {
      throw new MongoServerError(
        Codes.TypeMismatch,
        `Cannot apply ${op} to a value of non-numeric type. {_id: ${describe(doc._id)}} has the field '${parts[parts.length - 1]}' of non-numeric type ${typeName(cur)}`,
      );
    }
    if (ARRAY.has(op) && !Array.isArray(cur)) {
      throw badValue(
        `The field '${path}' must be an array but is of type ${typeName(cur)} in document {_id: ${describe(doc._id)}}`,
      );
    }
  }
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'number') return Number.isInteger(v) && Math.abs(v) < 2 ** 31 ? 'int' : 'double';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return 'array';
  if (v instanceof Date) return 'date';
  if (v instanceof RegExp) return 'regex';
  const t = (v as { _bsontype?: string })._bsontype;
  if (t === 'ObjectId') return 'objectId';
  if (t === 'Binary') return 'binData';
  if (t) return t.toLowerCase();
  return 'object';
}

function describe(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null || typeof v !== 'object' || v instanceof Date) return String(v);
  if ((v as { _bsontype?: string })._bsontype) return String(v);
  try {
    return JSON.stringify(v);
  } catch {
    return typeName(v);
  }
}

/** The document an upsert starts from: the query's equality fields (dotted paths become nested). */
export function upsertSeed(filter: Doc | undefined): Doc {
  const seed: Doc = {};
  if (!filter) return seed;
  forEachFieldCondition(filter, (field, cond) => {
    if (isOperatorObject(cond) && !('$eq' in cond)) return;
    setPath(seed, field, cloneDeep(isOperatorObject(cond) ? cond.$eq : cond));
  });
  return seed;
}

function setPath(doc: Doc, path: string, value: unknown): void {
  const parts = path.split('.');
  let cur = doc;
  for (let i = 0; i < parts.length - 1; i++) {
    const next = own(cur, parts[i]);
    if (!isPlainObject(next)) cur[parts[i]] = {};
    cur = cur[parts[i]] as Doc;
  }
  cur[parts[parts.length - 1]] = value;
}

/** Builds the document an upsert inserts. */
export function buildUpsert(filter: Doc | undefined, u: unknown, arrayFilters?: Doc[]): Doc {
  const kind = classifyUpdate(u);
  let doc: Doc;
  if (kind === 'replacement') {
    const seed = upsertSeed(filter);
    doc = applyUpdate(seed._id !== undefined ? { _id: seed._id } : {}, u);
  } else {
    doc = applyUpdate(upsertSeed(filter), u, { inserting: true, arrayFilters });
  }
  if (doc._id === undefined) doc = { _id: new ObjectId(), ...doc };
  else if (Object.keys(doc)[0] !== '_id') doc = { _id: doc._id, ...withoutId(doc) };
  return doc;
}
