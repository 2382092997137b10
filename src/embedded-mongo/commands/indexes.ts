/** Secondary indexes: createIndexes (built in slices, made visible all at once), listIndexes, dropIndexes, collMod. */
import type { Document } from 'bson';
import { Codes, MongoServerError, badValue, unsupported } from '../errors';
import type { WriteBatch } from '../engine/catalog';
import type { Collection, IndexBuild } from '../engine/collection';
import { validateIndexSpec, type IndexSpec } from '../engine/indexes';
import { isPlainObject, type Doc } from '../engine/values';
import type { Sliced } from '../engine/slices';
import {
  GENERIC_FIELDS,
  batchSizeOf,
  collectionName,
  stillLive,
  type Handlers,
  type Store,
} from './shared';

/**
 * Builds every requested index in slices while writes go on, then makes them visible together in
 * one step (all or none, as mongod): a duplicate key present at that moment fails the command.
 */
function* createIndexes(
  store: Store,
  cmd: Document,
  db: string,
  batch: WriteBatch,
): Sliced<Document> {
  const name = collectionName(cmd, 'createIndexes');
  if (!Array.isArray(cmd.indexes) || cmd.indexes.length === 0)
    throw badValue("'indexes' must be a non-empty array");
  const existed = store.catalog.get(db, name) !== undefined;
  const coll = store.catalog.getOrCreate(batch, db, name);
  const before = coll.indexes.size + 1;
  const wanted = new Map<string, IndexSpec>();
  for (const raw of cmd.indexes as Doc[]) {
    if (!isPlainObject(raw)) throw badValue('each index specification must be an object');
    const spec = validateIndexSpec(raw);
    if (spec.name === '_id_' || JSON.stringify(spec.key) === '{"_id":1}') continue;
    if (isExistingIndex(coll, spec, wanted)) continue;
    wanted.set(spec.name, spec);
  }
  const builds: IndexBuild[] = [];
  try {
    for (const spec of wanted.values()) {
      builds.push(yield* coll.buildIndex(spec as unknown as Doc));
      stillLive(store, coll);
    }
    // The commit step: nothing else runs until the indexes are visible and journaled.
    stillLive(store, coll);
    const fresh = builds.filter((b) => !isExistingIndex(coll, b.index.spec, new Map())); // built meanwhile by another command
    for (const b of builds) if (!fresh.includes(b)) b.abandon();
    for (const b of fresh) b.commit();
    for (const b of fresh) {
      b.install();
      batch.createIndex(coll, b.index.spec as unknown as Doc);
    }
  } finally {
    for (const b of builds) b.abandon();
  }
  const after = coll.indexes.size + 1;
  const reply: Doc = {
    numIndexesBefore: before,
    numIndexesAfter: after,
    createdCollectionAutomatically: !existed,
  };
  if (before === after) reply.note = 'all indexes already exist';
  reply.ok = 1;
  return reply;
}

function listIndexes(store: Store, cmd: Document, db: string): Document {
  const name = collectionName(cmd, 'listIndexes');
  const coll = store.catalog.get(db, name);
  if (!coll)
    throw new MongoServerError(Codes.NamespaceNotFound, `ns does not exist: ${db}.${name}`);
  return store.cursors.start(
    `${db}.${name}`,
    coll.listIndexSpecs() as unknown as Doc[],
    null,
    batchSizeOf(cmd.cursor),
    false,
  );
}

function dropIndexes(store: Store, cmd: Document, db: string, batch: WriteBatch): Document {
  const name = String(cmd.dropIndexes ?? cmd.deleteIndexes);
  const coll = store.catalog.get(db, name);
  if (!coll) throw new MongoServerError(Codes.NamespaceNotFound, `ns not found ${db}.${name}`);
  const was = coll.indexes.size + 1;
  const target = cmd.index;
  let names: string[];
  if (target === '*') names = [...coll.indexes.keys()];
  else if (typeof target === 'string') names = [target];
  else if (Array.isArray(target)) names = target.map(String);
  else if (isPlainObject(target)) {
    const ix = coll.findIndexByKey(target);
    if (!ix)
      throw new MongoServerError(
        Codes.IndexNotFound,
        `can't find index with key: ${JSON.stringify(target)}`,
      );
    names = [ix.spec.name];
  } else throw badValue("'index' must be a name, a key pattern, an array of names or '*'");
  for (const n of names) {
    if (n === '_id_') throw new MongoServerError(72, 'cannot drop _id index');
    if (!coll.indexes.has(n))
      throw new MongoServerError(Codes.IndexNotFound, `index not found with name [${n}]`);
  }
  for (const n of names) {
    coll.indexes.delete(n);
    batch.dropIndex(coll, n);
  }
  return { nIndexesWas: was, ok: 1 };
}
/**
 * collMod, for what it changes on an index: `hidden` (the planner stops using it and it cannot be
 * hinted, while it is still maintained and still enforces uniqueness) and `expireAfterSeconds`.
 * The reply carries the old and new values, omitted for an unchanged `hidden`, as in mongod.
 * Every other collMod option is refused by name. Journaled as the index's new specification.
 */
function collMod(store: Store, cmd: Document, db: string, batch: WriteBatch): Document {
  const name = collectionName(cmd, 'collMod');
  for (const k of Object.keys(cmd)) {
    if (k === 'collMod' || k === 'index' || GENERIC_FIELDS.has(k)) continue;
    throw unsupported(`the collMod option '${k}'`);
  }
  const coll = store.catalog.get(db, name);
  if (!coll)
    throw new MongoServerError(Codes.NamespaceNotFound, `ns does not exist: ${db}.${name}`);
  const opts = cmd.index;
  if (opts === undefined) return { ok: 1 };
  if (!isPlainObject(opts)) throw badValue("'index' must be an object");
  for (const k of Object.keys(opts))
    if (!['keyPattern', 'name', 'hidden', 'expireAfterSeconds'].includes(k))
      throw unsupported(`the collMod index option '${k}'`);
  if ((opts.keyPattern === undefined) === (opts.name === undefined))
    throw new MongoServerError(
      Codes.InvalidOptions,
      'must specify either index name or key pattern',
    );
  const label = typeof opts.name === 'string' ? opts.name : JSON.stringify(opts.keyPattern ?? null);
  const isId =
    opts.name === '_id_' ||
    (isPlainObject(opts.keyPattern) && JSON.stringify(opts.keyPattern) === '{"_id":1}');
  const ix = isId
    ? undefined
    : typeof opts.name === 'string'
      ? coll.indexes.get(opts.name)
      : isPlainObject(opts.keyPattern)
        ? coll.findIndexByKey(opts.keyPattern)
        : undefined;
  if (isId)
    throw new MongoServerError(
      Codes.InvalidOptions,
      'cannot modify hidden or TTL options of the _id index',
    );
  if (!ix)
    throw new MongoServerError(Codes.IndexNotFound, `cannot find index ${label} for ns ${coll.ns}`);
  if (opts.hidden === undefined && opts.expireAfterSeconds === undefined)
    throw new MongoServerError(Codes.InvalidOptions, 'no expireAfterSeconds or hidden field');
  if (opts.hidden !== undefined && typeof opts.hidden !== 'boolean')
    throw new MongoServerError(Codes.TypeMismatch, "'hidden' must be a boolean");
  let ttl: number | undefined;
  if (opts.expireAfterSeconds !== undefined) {
    ttl = Number(opts.expireAfterSeconds);
    if (!Number.isInteger(ttl) || ttl < 0 || ttl > 2147483647)
      throw new MongoServerError(
        Codes.InvalidOptions,
        "TTL index 'expireAfterSeconds' option must be within an acceptable range, try a lower number",
      );
    if (ix.fields.length !== 1)
      throw new MongoServerError(
        Codes.InvalidOptions,
        'TTL indexes are single-field indexes, compound indexes do not support TTL',
      );
  }
  const reply: Doc = {};
  const spec = ix.spec;
  if (ttl !== undefined) {
    if (spec.expireAfterSeconds !== undefined)
      reply.expireAfterSeconds_old = spec.expireAfterSeconds;
    reply.expireAfterSeconds_new = ttl;
    spec.expireAfterSeconds = ttl;
  }
  if (opts.hidden !== undefined && (spec.hidden === true) !== opts.hidden) {
    reply.hidden_old = spec.hidden === true;
    reply.hidden_new = opts.hidden;
    if (opts.hidden) spec.hidden = true;
    else delete spec.hidden;
  }
  // The journal has no op for changing an index: the new specification replaces the old one.
  batch.dropIndex(coll, spec.name);
  batch.createIndex(coll, { ...spec } as unknown as Doc);
  reply.ok = 1;
  return reply;
}

/** True if `coll` has this index already (or it is requested twice); throws if a different one has its name or key. */
function isExistingIndex(
  coll: Collection,
  spec: IndexSpec,
  requested: Map<string, IndexSpec>,
): boolean {
  const sameName = coll.indexes.get(spec.name)?.spec ?? requested.get(spec.name);
  if (sameName) {
    if (JSON.stringify(sameName) === JSON.stringify(spec)) return true;
    throw new MongoServerError(
      Codes.IndexKeySpecsConflict,
      `An existing index has the same name as the requested index but different options or key. Requested index: ${JSON.stringify(spec)}, existing index: ${JSON.stringify(sameName)}`,
    );
  }
  const want = JSON.stringify(spec.key);
  const sameKey =
    coll.findIndexByKey(spec.key)?.spec ??
    [...requested.values()].find((r) => JSON.stringify(r.key) === want);
  if (sameKey)
    throw new MongoServerError(
      Codes.IndexOptionsConflict,
      `Index already exists with a different name: ${sameKey.name}`,
    );
  return false;
}

export const indexCommands: Handlers = {
  createIndexes,
  listIndexes: (s, c, db) => listIndexes(s, c, db),
  dropIndexes,
  deleteIndexes: dropIndexes,
  collMod,
};
