/**
 * Writes and simple reads on one collection: insert, update, delete, findAndModify, count,
 * distinct. Multi-document work is sliced; each match is changed in the step that found it.
 */
import type { Document } from 'bson';
import { Codes, MongoServerError, badValue, unsupported } from '../errors';
import { validateNamespace, type WriteBatch } from '../engine/catalog';
import { compileFilter } from '../engine/query';
import { compileProjection } from '../engine/projection';
import { applyUpdate, buildUpsert, classifyUpdate, validateUpdate } from '../engine/update';
import {
  compareValues,
  getPathValues,
  isPlainObject,
  sameDocument,
  type Doc,
} from '../engine/values';
import { first, PAUSE, sortInSlices, type Sliced } from '../engine/slices';
import {
  collectionName,
  stillLive,
  withWriteErrors,
  writeError,
  type Handlers,
  type Store,
} from './shared';

function insertDocuments(store: Store, cmd: Document, db: string, batch: WriteBatch): Document {
  const name = collectionName(cmd, 'insert');
  const docs = cmd.documents;
  if (!Array.isArray(docs) || docs.length === 0)
    throw badValue("'documents' must be a non-empty array");
  if (docs.length > 100_000) throw badValue('Write batch sizes must be between 1 and 100000');
  const ordered = cmd.ordered !== false;
  const coll = store.catalog.getOrCreate(batch, db, name);
  const writeErrors: Doc[] = [];
  let n = 0;
  for (let i = 0; i < docs.length; i++) {
    try {
      const doc = coll.prepareInsert(docs[i]);
      coll.insert(doc);
      batch.insert(coll, doc);
      n++;
    } catch (e) {
      writeErrors.push(writeError(i, e));
      if (ordered) break;
    }
  }
  return withWriteErrors({ n, ok: 1 }, writeErrors);
}

function* updateDocuments(
  store: Store,
  cmd: Document,
  db: string,
  batch: WriteBatch,
): Sliced<Document> {
  const name = collectionName(cmd, 'update');
  const updates = cmd.updates;
  if (!Array.isArray(updates) || updates.length === 0)
    throw badValue("'updates' must be a non-empty array");
  const ordered = cmd.ordered !== false;
  const writeErrors: Doc[] = [];
  const upserted: Doc[] = [];
  let n = 0;
  let nModified = 0;
  for (let i = 0; i < updates.length; i++) {
    try {
      const spec = updates[i] as Doc;
      if (!isPlainObject(spec)) throw badValue('each update must be an object');
      if (isPlainObject(spec.collation) && spec.collation.locale !== 'simple')
        throw unsupported('collation');
      const q = (spec.q ?? {}) as Doc;
      const kind = classifyUpdate(spec.u);
      validateUpdate(spec.u);
      if (spec.multi && kind === 'replacement')
        throw new MongoServerError(
          Codes.FailedToParse,
          'multi update is not supported for replacement-style update',
        );
      const arrayFilters = spec.arrayFilters as Doc[] | undefined;
      const coll = store.catalog.get(db, name);
      let matched = 0;
      // Each match is updated as the scan reaches it (in the step that tested it), so a write
      // made between slices is never overwritten with a stale version.
      for (const doc of coll ? coll.find(q, { limit: spec.multi ? 0 : 1, hint: spec.hint }) : []) {
        if (doc === PAUSE) {
          yield PAUSE;
          stillLive(store, coll!);
          continue;
        }
        matched++;
        const next = applyUpdate(doc, spec.u, { filter: q, arrayFilters });
        if (!sameDocument(doc, next)) {
          const before = coll!.bytesOf(doc);
          coll!.replace(doc, next);
          batch.replace(coll!, next, before);
          nModified++;
        }
        // Counted only once applied: a statement that fails (e.g. E11000) matched nothing.
        n++;
      }
      if (matched === 0 && spec.upsert) {
        const target = store.catalog.getOrCreate(batch, db, name);
        const doc = target.prepareInsert(buildUpsert(q, spec.u, arrayFilters));
        target.insert(doc);
        batch.insert(target, doc);
        upserted.push({ index: i, _id: doc._id });
        n++;
      }
    } catch (e) {
      writeErrors.push(writeError(i, e));
      if (ordered) break;
    }
  }
  const reply: Doc = { n, nModified };
  if (upserted.length) reply.upserted = upserted;
  reply.ok = 1;
  return withWriteErrors(reply, writeErrors);
}

function* deleteDocuments(
  store: Store,
  cmd: Document,
  db: string,
  batch: WriteBatch,
): Sliced<Document> {
  const name = collectionName(cmd, 'delete');
  const deletes = cmd.deletes;
  if (!Array.isArray(deletes) || deletes.length === 0)
    throw badValue("'deletes' must be a non-empty array");
  const ordered = cmd.ordered !== false;
  const writeErrors: Doc[] = [];
  let n = 0;
  for (let i = 0; i < deletes.length; i++) {
    try {
      const spec = deletes[i] as Doc;
      if (!isPlainObject(spec)) throw badValue('each delete must be an object');
      if (spec.limit !== 0 && spec.limit !== 1 && spec.limit !== undefined)
        throw badValue('The limit field in delete objects must be 0 or 1');
      const coll = store.catalog.get(db, name);
      if (!coll) continue;
      for (const doc of coll.find(spec.q ?? {}, {
        limit: spec.limit === 1 ? 1 : 0,
        hint: spec.hint,
      })) {
        if (doc === PAUSE) {
          yield PAUSE;
          stillLive(store, coll);
          continue;
        }
        coll.remove(doc);
        batch.remove(coll, doc._id);
        n++;
      }
    } catch (e) {
      writeErrors.push(writeError(i, e));
      if (ordered) break;
    }
  }
  return withWriteErrors({ n, ok: 1 }, writeErrors);
}

function* findAndModify(
  store: Store,
  cmd: Document,
  db: string,
  batch: WriteBatch,
): Sliced<Document> {
  const name = String(cmd.findAndModify ?? cmd.findandmodify);
  validateNamespace(db, name);
  const remove = cmd.remove === true;
  if (remove && cmd.update !== undefined)
    throw new MongoServerError(
      Codes.FailedToParse,
      'Cannot specify both an update and remove=true',
    );
  if (!remove && cmd.update === undefined)
    throw new MongoServerError(
      Codes.FailedToParse,
      'Either an update or remove=true must be specified',
    );
  if (remove && cmd.upsert)
    throw new MongoServerError(
      Codes.FailedToParse,
      'Cannot specify both upsert=true and remove=true',
    );
  const project = compileProjection(cmd.fields, cmd.query);
  const out = (d: Doc | null): Doc | null => (d && project ? project(d) : d);
  const query = (cmd.query ?? {}) as Doc;
  const coll = store.catalog.get(db, name);
  // The match is changed in the step that found it: nothing can write it in between.
  const match = coll
    ? yield* first(coll.find(query, { sort: cmd.sort, limit: 1, hint: cmd.hint }))
    : undefined;
  if (coll) stillLive(store, coll);
  if (remove) {
    if (!coll || !match) return { lastErrorObject: { n: 0 }, value: null, ok: 1 };
    coll.remove(match);
    batch.remove(coll, match._id);
    return { lastErrorObject: { n: 1 }, value: out(match), ok: 1 };
  }
  validateUpdate(cmd.update);
  const arrayFilters = cmd.arrayFilters as Doc[] | undefined;
  if (match && coll) {
    const next = applyUpdate(match, cmd.update, { filter: query, arrayFilters });
    if (!sameDocument(match, next)) {
      const before = coll.bytesOf(match);
      coll.replace(match, next);
      batch.replace(coll, next, before);
    }
    return {
      lastErrorObject: { n: 1, updatedExisting: true },
      value: out(cmd.new ? next : match),
      ok: 1,
    };
  }
  if (cmd.upsert) {
    const target = store.catalog.getOrCreate(batch, db, name);
    const doc = target.prepareInsert(buildUpsert(query, cmd.update, arrayFilters));
    target.insert(doc);
    batch.insert(target, doc);
    return {
      lastErrorObject: { n: 1, updatedExisting: false, upserted: doc._id },
      value: out(cmd.new ? doc : null),
      ok: 1,
    };
  }
  return { lastErrorObject: { n: 0, updatedExisting: false }, value: null, ok: 1 };
}

function* count(store: Store, cmd: Document, db: string): Sliced<Document> {
  const name = collectionName(cmd, 'count');
  const coll = store.catalog.get(db, name);
  const skip = Number(cmd.skip ?? 0);
  const limit = Math.abs(Number(cmd.limit ?? 0));
  if (!coll) {
    compileFilter(cmd.query);
    return { n: 0, ok: 1 };
  }
  return { n: yield* coll.count(cmd.query, skip, limit, cmd.hint), ok: 1 };
}

function* distinct(store: Store, cmd: Document, db: string): Sliced<Document> {
  const name = collectionName(cmd, 'distinct');
  if (typeof cmd.key !== 'string' || cmd.key === '')
    throw new MongoServerError(Codes.TypeMismatch, "Field 'key' must be a non-empty string");
  const coll = store.catalog.get(db, name);
  const values: unknown[] = [];
  if (coll) {
    for (const doc of coll.find(cmd.query)) {
      if (doc === PAUSE) {
        yield PAUSE;
        continue;
      }
      for (const v of getPathValues(doc, cmd.key)) {
        for (const x of Array.isArray(v) ? v : [v]) {
          if (x === undefined) continue;
          if (!values.some((y) => compareValues(x, y) === 0)) values.push(x);
        }
      }
    }
  }
  return { values: yield* sortInSlices(values, compareValues), ok: 1 };
}

export const crudCommands: Handlers = {
  insert: insertDocuments,
  update: updateDocuments,
  delete: deleteDocuments,
  findAndModify,
  findandmodify: findAndModify,
  count,
  distinct,
};
