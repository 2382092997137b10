/**
 * What every command family shares: the handler shape, the store a handler works on, and the
 * small argument and reply helpers that give mongod's messages and shapes.
 */
import type { Document } from 'bson';
import { Codes, MongoServerError, badValue, unsupported } from '../errors';
import { validateNamespace, type Catalog, type WriteBatch } from '../engine/catalog';
import type { Collection } from '../engine/collection';
import { asBadValue, compileFilter } from '../engine/query';
import { isPlainObject, type Doc } from '../engine/values';
import type { Sliced } from '../engine/slices';
import type { CursorManager } from '../cursors';

export interface CommandContext {
  connectionId: number;
}

/** The state command handlers read and change. */
export interface Store {
  readonly catalog: Catalog;
  readonly cursors: CursorManager;
  readonly startedAt: number;
  readonly stats: { connections: () => number; totalConnections: () => number };
}

/** One command: a reply at once, or sliced work that returns the reply. */
export type Handler = (
  store: Store,
  cmd: Document,
  db: string,
  batch: WriteBatch,
  ctx: CommandContext,
) => Document | Sliced<Document>;

/** A family's commands by name. */
export type Handlers = Readonly<Record<string, Handler>>;

/** Fields every command may carry that do not change what it does here. */
export const GENERIC_FIELDS = new Set([
  '$db',
  'lsid',
  '$clusterTime',
  '$readPreference',
  'readConcern',
  'writeConcern',
  'comment',
  'maxTimeMS',
  'apiVersion',
  'apiStrict',
  'apiDeprecationErrors',
  'bypassDocumentValidation',
  'hint',
  'allowDiskUse',
  '$audit',
  'mayBypassWriteBlocking',
]);

export function collectionName(cmd: Document, field: string): string {
  const name = cmd[field];
  if (typeof name !== 'string')
    throw new MongoServerError(
      Codes.InvalidNamespace,
      `collection name has invalid type ${typeof name}`,
    );
  validateNamespace(typeof cmd.$db === 'string' ? cmd.$db : 'admin', name);
  return name;
}

export function batchSizeOf(cursor: unknown): number | undefined {
  if (!isPlainObject(cursor) || cursor.batchSize === undefined) return undefined;
  const n = Number(cursor.batchSize);
  if (!Number.isInteger(n) || n < 0) throw badValue('batchSize must be a non-negative integer');
  return n;
}

export function compileAndEmpty(filter: unknown): Doc[] {
  compileFilter(filter); // still report a malformed filter on a missing collection
  return [];
}

/** After a pause: the collection may have been dropped (or dropped and created again) meanwhile. */
export function stillLive(store: Store, coll: Collection): void {
  if (store.catalog.get(coll.db, coll.name) !== coll) {
    throw new MongoServerError(
      Codes.QueryPlanKilled,
      `collection ${coll.ns} was dropped during the operation`,
    );
  }
}

export function writeError(index: number, e: unknown): Doc {
  const err = e instanceof MongoServerError ? e : asBadValue(e);
  return { index, code: err.code, errmsg: err.message, ...err.extra };
}

export function withWriteErrors(reply: Doc, writeErrors: Doc[]): Doc {
  if (writeErrors.length) reply.writeErrors = writeErrors;
  return reply;
}

/**
 * mongod (standalone) answers 20 IllegalOperation, but the driver replaces code 20 on a write
 * with "This MongoDB deployment does not support retryable writes…"; 115 reaches the user as is.
 */
export function noTransactions(): MongoServerError {
  return unsupported('a transaction (startTransaction, commitTransaction, abortTransaction)');
}

export function toErrorReply(e: unknown): Document {
  if (e instanceof MongoServerError) return e.toReply();
  // Anything else is a bug in the store; report it as an ordinary error (never a retryable code).
  const message = e instanceof Error ? e.message : String(e);
  return {
    ok: 0,
    errmsg: `internal error in embedded store: ${message}`,
    code: 1,
    codeName: 'InternalError',
  };
}
