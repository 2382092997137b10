/** Queries and their cursors: find (lazy, batched), getMore, killCursors. */
import { Long, type Document } from 'bson';
import { Codes, MongoServerError, badValue, unsupported } from '../errors';
import { parseSort } from '../engine/query';
import { compileProjection } from '../engine/projection';
import type { Sliced } from '../engine/slices';
import { collectionName, compileAndEmpty, type Handlers, type Store } from './shared';

function find(store: Store, cmd: Document, db: string): Sliced<Document> {
  const name = collectionName(cmd, 'find');
  for (const f of ['tailable', 'awaitData', 'min', 'max', 'returnKey', 'showRecordId', 'let']) {
    if (cmd[f] !== undefined && cmd[f] !== false) throw unsupported(`the find option '${f}'`);
  }
  const coll = store.catalog.get(db, name);
  const ns = `${db}.${name}`;
  const project = compileProjection(cmd.projection, cmd.filter);
  const limit = cmd.limit === undefined ? 0 : Number(cmd.limit);
  if (!Number.isInteger(limit)) throw badValue('limit must be an integer');
  if (
    cmd.batchSize !== undefined &&
    (!Number.isInteger(Number(cmd.batchSize)) || Number(cmd.batchSize) < 0)
  )
    throw badValue('batchSize must be a non-negative integer');
  if (!coll) parseSort(cmd.sort); // still report a malformed sort on a missing collection
  const results = coll
    ? coll.find(cmd.filter, { sort: cmd.sort, skip: cmd.skip, limit, hint: cmd.hint })
    : compileAndEmpty(cmd.filter);
  const singleBatch = cmd.singleBatch === true || limit < 0;
  let batchSize = cmd.batchSize === undefined ? undefined : Number(cmd.batchSize);
  if (limit !== 0 && (batchSize === undefined || batchSize > Math.abs(limit)))
    batchSize = Math.abs(limit);
  return store.cursors.start(ns, results, project, batchSize, singleBatch);
}

function getMore(store: Store, cmd: Document, db: string): Sliced<Document> {
  const id = cmd.getMore;
  const big = typeof id === 'number' ? BigInt(id) : id instanceof Long ? id.toBigInt() : null;
  if (big === null)
    throw new MongoServerError(Codes.TypeMismatch, "Field 'getMore' must be of type long");
  if (typeof cmd.collection !== 'string')
    throw new MongoServerError(Codes.TypeMismatch, "Field 'collection' must be of type string");
  return store.cursors.more(
    big,
    `${db}.${cmd.collection}`,
    cmd.batchSize === undefined ? undefined : Number(cmd.batchSize),
  );
}

function killCursors(store: Store, cmd: Document): Document {
  if (!Array.isArray(cmd.cursors)) throw badValue("'cursors' must be an array");
  const ids = (cmd.cursors as unknown[]).map((c) =>
    c instanceof Long ? c.toBigInt() : BigInt(Number(c)),
  );
  const { killed, notFound } = store.cursors.kill(ids);
  return {
    cursorsKilled: killed.map((i) => Long.fromBigInt(i)),
    cursorsNotFound: notFound.map((i) => Long.fromBigInt(i)),
    cursorsAlive: [],
    cursorsUnknown: [],
    ok: 1,
  };
}

export const cursorCommands: Handlers = {
  find: (s, c, db) => find(s, c, db),
  getMore: (s, c, db) => getMore(s, c, db),
  killCursors: (s, c) => killCursors(s, c),
};
