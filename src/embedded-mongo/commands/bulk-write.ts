/**
 * `bulkWrite` (MongoDB 8.0): inserts, updates and deletes on several collections in one command,
 * run against `admin` (the driver's `MongoClient.bulkWrite`). Each operation is run as the
 * one-statement insert, update or delete command it stands for, so matching, update operators,
 * upserts and write errors are exactly those commands'. Results come back as mongod gives them:
 * one entry per operation (`errorsOnly`: failed ones only) in a cursor's first batch, and the
 * counts beside it. Like mongod, the operations are not one transaction: with `ordered` the first
 * failure stops the rest, without it every operation is tried.
 */
import { Long, type Document } from 'bson';
import { Codes, MongoServerError, badValue, unsupported } from '../errors';
import type { WriteBatch } from '../engine/catalog';
import { isPlainObject, type Doc } from '../engine/values';
import { isSliced, type Sliced } from '../engine/slices';
import { crudCommands } from './crud';
import { GENERIC_FIELDS, type Handlers, type Store } from './shared';

const COMMAND_FIELDS = new Set(['bulkWrite', 'ops', 'nsInfo', 'ordered', 'errorsOnly', 'cursor']);
const NS_FIELDS = new Set(['ns']);
const OP_FIELDS = {
  insert: new Set(['insert', 'document']),
  update: new Set([
    'update',
    'filter',
    'updateMods',
    'multi',
    'upsert',
    'arrayFilters',
    'hint',
    'collation',
  ]),
  delete: new Set(['delete', 'filter', 'multi', 'hint', 'collation']),
} as const;
type OpKind = keyof typeof OP_FIELDS;

/** A field this store does not do (`let`, an update's `sort`, encryption) is refused by name. */
function refuseUnknown(o: Doc, known: ReadonlySet<string>, where: string): void {
  for (const k of Object.keys(o))
    if (!known.has(k) && !GENERIC_FIELDS.has(k)) throw unsupported(`bulkWrite ${where} '${k}'`);
}

function kindOf(op: Doc): OpKind {
  const kinds = (Object.keys(OP_FIELDS) as OpKind[]).filter((k) => k in op);
  if (kinds.length !== 1)
    throw new MongoServerError(
      Codes.FailedToParse,
      'BulkWrite ops entry must have exactly one of insert, update or delete',
    );
  return kinds[0];
}

function namespaceOf(nsInfo: Doc[], index: unknown): { db: string; coll: string } {
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= nsInfo.length)
    throw badValue(
      `BulkWrite ops entry refers to nsInfo index ${String(index)}, which is out of range`,
    );
  const ns = String(nsInfo[index].ns);
  const dot = ns.indexOf('.');
  if (dot <= 0 || dot === ns.length - 1)
    throw new MongoServerError(Codes.InvalidNamespace, `Invalid namespace specified '${ns}'`);
  return { db: ns.slice(0, dot), coll: ns.slice(dot + 1) };
}

/** The one-statement command an operation stands for. */
function commandOf(kind: OpKind, op: Doc, coll: string, db: string): Doc {
  switch (kind) {
    case 'insert':
      if (!isPlainObject(op.document)) throw badValue("BulkWrite insert needs a 'document'");
      return { insert: coll, documents: [op.document], $db: db };
    case 'update':
      return {
        update: coll,
        updates: [
          {
            q: op.filter ?? {},
            u: op.updateMods,
            multi: op.multi === true,
            upsert: op.upsert === true,
            ...(op.arrayFilters !== undefined ? { arrayFilters: op.arrayFilters } : {}),
            ...(op.hint !== undefined ? { hint: op.hint } : {}),
            ...(op.collation !== undefined ? { collation: op.collation } : {}),
          },
        ],
        $db: db,
      };
    case 'delete':
      return {
        delete: coll,
        deletes: [
          {
            q: op.filter ?? {},
            limit: op.multi === true ? 0 : 1,
            ...(op.hint !== undefined ? { hint: op.hint } : {}),
            ...(op.collation !== undefined ? { collation: op.collation } : {}),
          },
        ],
        $db: db,
      };
  }
}

function* bulkWrite(store: Store, cmd: Document, db: string, batch: WriteBatch): Sliced<Document> {
  if (db !== 'admin')
    throw new MongoServerError(
      Codes.Unauthorized,
      'The bulkWrite command can only be run against the admin database',
    );
  refuseUnknown(cmd, COMMAND_FIELDS, 'field');
  const ops = cmd.ops;
  const nsInfo = cmd.nsInfo;
  if (!Array.isArray(ops) || ops.length === 0) throw badValue("'ops' must be a non-empty array");
  if (ops.length > 100_000) throw badValue('Write batch sizes must be between 1 and 100000');
  if (!Array.isArray(nsInfo) || nsInfo.length === 0)
    throw badValue("'nsInfo' must be a non-empty array");
  for (const ns of nsInfo) {
    if (!isPlainObject(ns) || typeof ns.ns !== 'string')
      throw badValue("each 'nsInfo' entry must name a namespace");
    refuseUnknown(ns, NS_FIELDS, 'nsInfo field');
  }
  const ordered = cmd.ordered !== false;
  const errorsOnly = cmd.errorsOnly === true;
  const results: Doc[] = [];
  const counts = { nErrors: 0, nInserted: 0, nMatched: 0, nModified: 0, nUpserted: 0, nDeleted: 0 };
  for (let idx = 0; idx < ops.length; idx++) {
    const op = ops[idx] as Doc;
    let reply: Doc;
    // Unknown when the operation itself is malformed (then it failed before running).
    let kind: OpKind | undefined;
    try {
      if (!isPlainObject(op)) throw badValue('each bulkWrite op must be an object');
      kind = kindOf(op);
      refuseUnknown(op, OP_FIELDS[kind], `${kind} field`);
      const ns = namespaceOf(nsInfo as Doc[], op[kind]);
      const out = crudCommands[kind](store, commandOf(kind, op, ns.coll, ns.db), ns.db, batch, {
        connectionId: 0,
      });
      reply = isSliced(out) ? yield* out : out;
    } catch (e) {
      // A malformed operation or namespace fails that operation only, as a statement's error would.
      const err = e instanceof MongoServerError ? e : badValue(String(e));
      reply = {
        n: 0,
        writeErrors: [{ index: 0, code: err.code, errmsg: err.message, ...err.extra }],
      };
    }
    const failed = (reply.writeErrors as Doc[] | undefined)?.[0];
    if (failed) {
      const { index: _index, ...error } = failed;
      counts.nErrors++;
      results.push({ ok: 0, idx, ...error, n: 0, ...(kind === 'update' ? { nModified: 0 } : {}) });
      if (ordered) break;
      continue;
    }
    const n = Number(reply.n);
    const entry: Doc = { ok: 1, idx, n };
    if (kind === 'insert') counts.nInserted += n;
    else if (kind === 'delete') counts.nDeleted += n;
    else if (kind === 'update') {
      const upserted = (reply.upserted as Doc[] | undefined)?.[0];
      entry.nModified = Number(reply.nModified);
      counts.nModified += Number(reply.nModified);
      if (upserted) {
        entry.upserted = { _id: upserted._id };
        counts.nUpserted++;
      } else counts.nMatched += n;
    }
    if (!errorsOnly) results.push(entry);
  }
  return {
    cursor: { id: Long.fromBigInt(0n), firstBatch: results, ns: 'admin.$cmd.bulkWrite' },
    ...counts,
    ok: 1,
  };
}

export const bulkWriteCommands: Handlers = { bulkWrite };
