/**
 * All databases and collections, and the one place where changes are recorded for the journal.
 *
 * A command applies its changes to memory through a `WriteBatch`, which collects journal ops;
 * the server then appends the batch as one record and replies once it is durable. Recovery
 * replays the same ops through `applyOp`, so the journal format has exactly one interpreter.
 */
import { Binary, serialize, type Document } from 'bson';
import { Codes, MongoServerError } from '../errors';
import { Collection } from './collection';
import { decodeBson, type BsonStore } from './bson-store';
import { applyDelta, makeDelta, type Delta } from './delta';
import { LargeWrites, SnapshotMoves, binaryStarts, blobIn, largeDocBytes } from './large-docs';
import type { Placement } from '../storage/blob-file';
import { idKey, objectIdKey, stringIdKey, type Doc } from './values';

/**
 * Journal ops (short keys: they are written for every change). Documents travel as their stored
 * BSON (`b`, or `bs`: several concatenated), so replay copies bytes instead of decoding and
 * re-encoding them; `d`/`ds` (decoded documents) are read from files written before.
 */
export type Op =
  | { o: 'i'; ns: string; d?: Doc; b?: Binary } // insert
  | { o: 'ib'; ns: string; ds?: Doc[]; bs?: Binary } // insert batch (snapshots)
  | { o: 'u'; ns: string; d?: Doc; b?: Binary } // replace by _id
  | ({ o: 'd'; ns: string; id: unknown } & Delta) // change by _id (see delta.ts)
  | { o: 'r'; ns: string; id: unknown } // remove by _id
  | { o: 'cc'; ns: string; opts: Doc; uuid: string } // create collection
  | { o: 'dc'; ns: string } // drop collection
  | { o: 'ci'; ns: string; spec: Doc } // create index
  | { o: 'di'; ns: string; name: string } // drop index
  | { o: 'dd'; db: string } // drop database
  | { o: 'rn'; ns: string; to: string }; // rename collection

const SNAPSHOT_BATCH = 1000;
const SNAPSHOT_BATCH_BYTES = 1 << 20;

export class Catalog {
  private readonly dbs = new Map<string, Map<string, Collection>>();
  /** During recovery, index maintenance is deferred to one bulk build at the end. */
  private recovering = false;

  databaseNames(): string[] {
    return [...this.dbs.keys()].sort();
  }

  collections(db: string): Collection[] {
    return [...(this.dbs.get(db)?.values() ?? [])];
  }

  get(db: string, name: string): Collection | undefined {
    return this.dbs.get(db)?.get(name);
  }

  /** The collection, created (and journaled) if missing, as inserts and upserts do implicitly. */
  getOrCreate(batch: WriteBatch, db: string, name: string): Collection {
    return this.get(db, name) ?? this.createCollection(batch, db, name, {});
  }

  createCollection(batch: WriteBatch, db: string, name: string, opts: Doc): Collection {
    validateNamespace(db, name);
    if (this.get(db, name))
      throw new MongoServerError(Codes.NamespaceExists, `Collection ${db}.${name} already exists.`);
    const coll = new Collection(db, name, opts);
    this.put(coll);
    batch.ops.push({ o: 'cc', ns: coll.ns, opts, uuid: coll.uuid });
    return coll;
  }

  private put(coll: Collection): void {
    let db = this.dbs.get(coll.db);
    if (!db) this.dbs.set(coll.db, (db = new Map()));
    db.set(coll.name, coll);
  }

  dropCollection(batch: WriteBatch, db: string, name: string): Collection | undefined {
    const coll = this.get(db, name);
    if (!coll) return undefined;
    this.dbs.get(db)!.delete(name);
    if (this.dbs.get(db)!.size === 0) this.dbs.delete(db);
    coll.docs.dispose();
    batch.ops.push({ o: 'dc', ns: coll.ns });
    return coll;
  }

  /**
   * Moves a collection (documents, indexes, uuid) to another name, in this or another database,
   * in one step, as mongod does; `dropTarget` drops an existing target first.
   */
  renameCollection(batch: WriteBatch, from: string, to: string, dropTarget: boolean): void {
    const [db, name] = splitNs(from);
    const [toDb, toName] = splitNs(to);
    validateNamespace(toDb, toName);
    const coll = this.get(db, name);
    if (!coll)
      throw new MongoServerError(
        Codes.NamespaceNotFound,
        `Source collection ${from} does not exist`,
      );
    if (from === to)
      throw new MongoServerError(Codes.IllegalOperation, "Can't rename a collection to itself");
    if (this.get(toDb, toName)) {
      if (!dropTarget) throw new MongoServerError(Codes.NamespaceExists, 'target namespace exists');
      this.dropCollection(batch, toDb, toName);
    }
    this.move(coll, toDb, toName);
    batch.ops.push({ o: 'rn', ns: from, to });
  }

  private move(coll: Collection, db: string, name: string): void {
    this.dbs.get(coll.db)!.delete(coll.name);
    if (this.dbs.get(coll.db)!.size === 0) this.dbs.delete(coll.db);
    coll.db = db;
    coll.name = name;
    this.put(coll);
  }

  dropDatabase(batch: WriteBatch, db: string): void {
    if (!this.dbs.has(db)) return;
    this.disposeDb(db);
    this.dbs.delete(db);
    batch.ops.push({ o: 'dd', db });
  }

  private disposeDb(db: string): void {
    for (const coll of this.dbs.get(db)?.values() ?? []) coll.docs.dispose();
  }

  // ---- recovery ------------------------------------------------------------------------------

  beginRecovery(): void {
    this.recovering = true;
  }

  endRecovery(): void {
    this.recovering = false;
    for (const db of this.dbs.values()) for (const coll of db.values()) coll.rebuildIndexes();
  }

  /** Applies one journal/snapshot record (a list of ops) during recovery. */
  applyRecord(record: Document, place?: Placement): void {
    // Where each op's document bytes are in the payload, so large ones can stay in the file.
    const starts = place ? binaryStarts(place.payload) : [];
    (record.ops as Op[]).forEach((op, i) => {
      const start = starts[i];
      const bin = 'b' in op ? op.b : 'bs' in op ? op.bs : undefined;
      const view =
        start !== undefined && bin
          ? place!.payload.subarray(start, start + bin.position)
          : undefined;
      this.applyOp(op, view, place);
    });
  }

  /**
   * Applies a journal or snapshot record from its BSON when it holds only inserts and
   * replacements carried as stored bytes ({o: 'i', ns, b} and {o: 'u', ns, b}, what WriteBatch
   * writes; {o: 'ib', ns, bs}, a snapshot's batch of concatenated documents),
   * so a batch of 10,000 inserts makes no object per op; returns false, having changed nothing,
   * for any other record (it is then decoded and applied by applyRecord). Recovery only.
   */
  applyRecordBytes(b: Buffer, place?: Placement): boolean {
    if (!this.recovering) return false;
    const ops = parseByteOps(b);
    if (!ops) return false;
    let ns = '';
    let coll: Collection | undefined;
    for (let i = 0; i < ops.length; i += 5) {
      const nsStart = ops[i + 1]!;
      const nsEnd = ops[i + 2]!;
      const start = ops[i + 3]!;
      if (i === 0 || b.compare(b, ops[i - 4]!, ops[i - 3]!, nsStart, nsEnd) !== 0) {
        ns = b.toString('utf8', nsStart, nsEnd);
        const [db, name] = splitNs(ns);
        coll = this.get(db, name);
      }
      const bytes = b.subarray(start, ops[i + 4]!);
      if (ops[i] === OP_U) {
        // As rare as updates: the decoded path's own code, on a Binary over the view.
        this.applyOp({ o: 'u', ns, b: new Binary(bytes) }, bytes, place);
        continue;
      }
      if (!coll) throw new Error(`journal refers to missing collection ${ns}`);
      if (ops[i] === OP_I) this.putBytes(coll, bytes, place);
      else
        for (let p = 0; p < bytes.length;) {
          const n = readInt32(bytes, p);
          this.putBytes(coll, bytes.subarray(p, p + n), place);
          p += n;
        }
    }
    return true;
  }

  /** `view`: the op's document bytes as a view of the placed payload (recovery from a file). */
  private applyOp(op: Op, view?: Uint8Array, place?: Placement): void {
    if (op.o === 'dd') {
      this.disposeDb(op.db);
      this.dbs.delete(op.db);
      return;
    }
    const [db, name] = splitNs(op.ns);
    const coll = this.get(db, name);
    const need = (): Collection => {
      if (!coll) throw new Error(`journal refers to missing collection ${op.ns}`);
      return coll;
    };
    switch (op.o) {
      case 'cc':
        this.put(new Collection(db, name, op.opts, op.uuid));
        break;
      case 'dc':
        coll?.docs.dispose();
        this.dbs.get(db)?.delete(name);
        if (this.dbs.get(db)?.size === 0) this.dbs.delete(db);
        break;
      case 'i':
        if (op.b) this.putBytes(need(), view ?? bytesOf(op.b), place);
        else need().insert(op.d!, !this.recovering);
        break;
      case 'ib':
        if (op.bs) {
          const all = view ?? bytesOf(op.bs);
          const c = need();
          for (let p = 0; p < all.length;) {
            const n = readInt32(all, p);
            this.putBytes(c, all.subarray(p, p + n), place);
            p += n;
          }
        } else for (const d of op.ds!) need().insert(d, !this.recovering);
        break;
      case 'u': {
        const c = need();
        const bytes = op.b ? (view ?? bytesOf(op.b)) : undefined;
        const d = op.d ?? decodeBson(bytes!);
        const old = c.getById(d._id);
        const blob = this.recovering && bytes ? blobIn(place, bytes) : undefined;
        if (old) {
          if (blob) c.docs.setBlob(idKey(d._id), blob);
          else if (this.recovering) c.docs.set(idKey(d._id), null, bytes ?? encodeDoc(d));
          else c.replace(old, d);
        } else {
          c.insert(d, !this.recovering, bytes);
          if (blob) c.docs.setBlob(idKey(d._id), blob);
        }
        break;
      }
      case 'd': {
        const c = need();
        const key = idKey(op.id);
        const before = c.docs.bytes(key);
        if (!before) throw new Error(`journal changes ${key} in ${c.ns}, which is not there`);
        const bytes = applyDelta(before, op);
        if (this.recovering) c.docs.set(key, null, bytes);
        else c.replace(c.docs.get(key)!, decodeBson(bytes));
        break;
      }
      case 'r': {
        const c = need();
        const old = c.getById(op.id);
        if (old) {
          if (this.recovering) c.docs.delete(idKey(op.id));
          else c.remove(old);
        }
        break;
      }
      case 'ci': {
        const c = need();
        if (this.recovering) {
          // Register now, build once at the end of recovery.
          c.registerIndex(op.spec);
        } else c.createIndex(op.spec);
        break;
      }
      case 'di':
        need().indexes.delete(op.name);
        break;
      case 'rn': {
        const [toDb, toName] = splitNs(op.to);
        this.move(need(), toDb, toName);
        break;
      }
    }
  }

  /** An insert replayed from stored bytes: during recovery only its _id is read. */
  private putBytes(c: Collection, bytes: Uint8Array, place?: Placement): void {
    if (!this.recovering) {
      c.insert(decodeBson(bytes), true, bytes);
      return;
    }
    const key = idKeyOfBson(bytes) ?? idKey(decodeBson(bytes)._id);
    const blob = blobIn(place, bytes);
    if (!(blob ? c.docs.addNewBlob(key, blob) : c.docs.addNew(key, bytes)))
      throw new Error(`journal inserts ${key} twice in ${c.ns}`);
  }

  /**
   * The whole state as records, for a snapshot: taken now, iterated later (the snapshot is written
   * over many turns of the event loop while writes go on). Stored documents are never mutated
   * (updates replace them), so the references collected here stay a consistent view; collecting
   * them is a few ms per million documents.
   */
  dump(): Iterable<Document> {
    const view = [...this.dbs.values()].flatMap((db) =>
      [...db.values()].map((coll) => ({
        ops: [
          { o: 'cc', ns: coll.ns, opts: coll.options, uuid: coll.uuid },
          ...[...coll.indexes.values()].map((ix): Op => ({
            o: 'ci',
            ns: coll.ns,
            spec: ix.spec as unknown as Doc,
          })),
        ] as Op[],
        ns: coll.ns,
        store: coll.docs as BsonStore,
        docs: coll.docs.view(),
      })),
    );
    // Large documents move to the snapshot once it is committed (large-docs.ts).
    const moves = new SnapshotMoves();
    const records = (function* (): Generator<Document> {
      for (const coll of view) {
        yield { ops: coll.ops };
        // The stored bytes, concatenated: batches bounded in bytes too, so that writing one
        // record stays short however big the documents.
        let batch: Uint8Array[] = [];
        let bytes = 0;
        let large: { key: string; at: number; length: number }[] = [];
        const flush = (): Document => {
          const bs = new Binary(Buffer.concat(batch, bytes));
          const record = { ops: [{ o: 'ib', ns: coll.ns, bs }] };
          moves.attach(record, coll.store, large);
          batch = [];
          bytes = 0;
          large = [];
          return record;
        };
        for (let i = 0; i < coll.docs.length; i++) {
          const b = coll.docs.bytes(i);
          if (b.length >= largeDocBytes())
            large.push({ key: coll.docs.keys[i]!, at: bytes, length: b.length });
          batch.push(b);
          bytes += b.length;
          if (batch.length >= SNAPSHOT_BATCH || bytes >= SNAPSHOT_BATCH_BYTES) yield flush();
        }
        if (batch.length) yield flush();
      }
    })();
    moves.commitWith(records);
    return records;
  }
}

/**
 * Collects the journal ops of one command. With a journal, `flush` appends what was collected as
 * one record (a short command is one record; a long one, one per slice).
 */
export class WriteBatch {
  ops: Op[] = [];
  private readonly appended: Promise<void>[] = [];
  /** Large documents written, to be read from the journal once it has them. */
  private readonly large = new LargeWrites();
  constructor(private readonly journal?: (record: Document) => Promise<void>) {}

  /** Appends the ops collected so far; call it in the same synchronous step that made the changes. */
  flush(): void {
    if (!this.journal || this.ops.length === 0) return;
    const record = { ops: this.ops };
    this.large.attach(record);
    const p = this.journal(record);
    p.catch(() => undefined); // awaited in durable()
    this.appended.push(p);
    this.ops = [];
  }

  /** Whether anything was appended. */
  get wrote(): boolean {
    return this.appended.length > 0;
  }

  /** Resolves once every appended record is on disk; rejects with the first failure. */
  async durable(): Promise<void> {
    await Promise.all(this.appended);
  }

  /** Call right after the collection stored `d`: the op carries its stored bytes. */
  insert(coll: Collection, d: Doc): void {
    const b = coll.bytesOf(d);
    this.ops.push(b ? { o: 'i', ns: coll.ns, b: new Binary(b) } : { o: 'i', ns: coll.ns, d });
    if (b) this.large.note(this.ops.length - 1, coll.docs, idKey(d._id), b.length);
  }
  /** `before`: the stored bytes the document had, so a small change is journaled as a delta. */
  replace(coll: Collection, d: Doc, before?: Uint8Array): void {
    const b = coll.bytesOf(d);
    const delta = b && before ? makeDelta(before, b) : undefined;
    // A delta's document stays in RAM (its bytes are in no file) until a snapshot holds it.
    if (delta) this.ops.push({ o: 'd', ns: coll.ns, id: d._id, ...delta });
    else this.ops.push(b ? { o: 'u', ns: coll.ns, b: new Binary(b) } : { o: 'u', ns: coll.ns, d });
    if (b && !delta) this.large.note(this.ops.length - 1, coll.docs, idKey(d._id), b.length);
  }
  remove(coll: Collection, id: unknown): void {
    this.ops.push({ o: 'r', ns: coll.ns, id });
  }
  createIndex(coll: Collection, spec: Doc): void {
    this.ops.push({ o: 'ci', ns: coll.ns, spec });
  }
  dropIndex(coll: Collection, name: string): void {
    this.ops.push({ o: 'di', ns: coll.ns, name });
  }
}

export function splitNs(ns: string): [string, string] {
  const i = ns.indexOf('.');
  return [ns.slice(0, i), ns.slice(i + 1)];
}

const BAD_DB_CHARS = /[/\\. "$*<>:|?\0]/;

export function validateNamespace(db: string, coll: string): void {
  if (!db || BAD_DB_CHARS.test(db) || db.length > 63) {
    throw new MongoServerError(Codes.InvalidNamespace, `Invalid database name: '${db}'`);
  }
  if (
    !coll ||
    coll.includes('$') ||
    coll.includes('\0') ||
    coll.startsWith('.') ||
    coll.startsWith('system.')
  ) {
    throw new MongoServerError(Codes.InvalidNamespace, `Invalid collection name: '${coll}'`);
  }
}

function bytesOf(b: Binary): Uint8Array {
  return b.buffer.subarray(0, b.position);
}

function readInt32(b: Uint8Array, p: number): number {
  return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
}

function encodeDoc(d: Doc): Uint8Array {
  return serialize(d);
}

/**
 * The id key of a stored document read straight from its bytes when _id (always the first
 * field) is an ObjectId, a string or an int32, as idKey makes it; otherwise undefined.
 */
export function idKeyOfBson(b: Uint8Array): string | undefined {
  if (b[5] !== 0x5f || b[6] !== 0x69 || b[7] !== 0x64 || b[8] !== 0) return undefined; // "_id"
  const buf = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.length);
  switch (b[4]) {
    case 0x07:
      return objectIdKey(b, 9);
    case 0x10:
      return 'n' + buf.readInt32LE(9);
    case 0x02: {
      const n = buf.readInt32LE(9);
      return stringIdKey(buf.toString('utf8', 13, 13 + n - 1));
    }
    default:
      return undefined;
  }
}

const OP_I = 1;
const OP_U = 2;
const OP_IB = 3;

/**
 * The ops of a record {ops: [...]} whose every op is {o: 'i' | 'u', ns, b} or {o: 'ib', ns, bs}
 * with the fields in that order and a subtype-0 binary: five numbers per op (kind, ns start and
 * end, bytes start and end, offsets into `b`), or undefined for any other record.
 */
function parseByteOps(b: Buffer): number[] | undefined {
  const end = readInt32(b, 0) - 1;
  // One element: the array "ops".
  if (b[4] !== 0x04 || b.toString('latin1', 5, 9) !== 'ops\0') return undefined;
  const arrEnd = 9 + readInt32(b, 9) - 1;
  if (arrEnd + 1 !== end) return undefined;
  const out: number[] = [];
  let p = 13;
  while (p < arrEnd) {
    if (b[p++] !== 0x03) return undefined;
    while (b[p] !== 0) p++; // the index as a name
    p++;
    const opEnd = p + readInt32(b, p) - 1;
    let q = p + 4;
    // o
    if (b[q] !== 0x02 || b[q + 1] !== 0x6f || b[q + 2] !== 0) return undefined;
    q += 3;
    const oLen = readInt32(b, q);
    const o = b.toString('latin1', q + 4, q + 4 + oLen - 1);
    const kind = o === 'i' ? OP_I : o === 'u' ? OP_U : o === 'ib' ? OP_IB : 0;
    if (kind === 0) return undefined;
    q += 4 + oLen;
    // ns
    if (b[q] !== 0x02 || b.toString('latin1', q + 1, q + 4) !== 'ns\0') return undefined;
    q += 4;
    const nsLen = readInt32(b, q);
    const nsStart = q + 4;
    q = nsStart + nsLen;
    // b, or bs for a batch
    if (b[q] !== 0x05 || b[q + 1] !== 0x62) return undefined;
    if (kind === OP_IB ? b[q + 2] !== 0x73 || b[q + 3] !== 0 : b[q + 2] !== 0) return undefined;
    q += kind === OP_IB ? 4 : 3;
    const len = readInt32(b, q);
    if (b[q + 4] !== 0) return undefined;
    const start = q + 5;
    q = start + len;
    if (q !== opEnd) return undefined; // another field follows
    out.push(kind, nsStart, nsStart + nsLen - 1, start, start + len);
    p = opEnd + 1;
  }
  return out;
}
