/**
 * Server-side cursors: batches capped by count and by size, int64 ids, and an idle reaper,
 * because a driver that stops iterating (e.g. `break` out of a mongoose cursor) sends nothing.
 * Results are lazy scans: a batch reads only as far as it needs (with checkpoints, so a filter
 * that matches little does not hold the event loop while it looks for the next match).
 * Without a projection a batch holds the documents' stored BSON, which the reply splices in.
 */
import { Long, type Document } from 'bson';
import { bsonSize } from './engine/collection';
import { Codes, MongoServerError } from './errors';
import { PAUSE, type Pause, type Scan, type Sliced } from './engine/slices';
import type { Doc } from './engine/values';

export const DEFAULT_FIRST_BATCH = 101;
/** Keep each reply's documents under 16 MiB, like mongod. */
export const MAX_BATCH_BYTES = 16 * 1024 * 1024 - 16 * 1024;

/** A batch entry: a document, or a stored document's BSON sent as it is. */
export type BatchDoc = Doc | Uint8Array;

interface OpenCursor {
  ns: string;
  iterator: Peekable;
  project: ((d: Doc) => Doc) | null;
  lastUsed: number;
  /** A getMore is reading its batch (over several slices). */
  busy: boolean;
}

export interface Batch {
  docs: BatchDoc[];
  exhausted: boolean;
}

export class CursorManager {
  private readonly open = new Map<bigint, OpenCursor>();

  constructor(private readonly idleTimeoutMs: number) {}

  get size(): number {
    return this.open.size;
  }

  /** Runs the first batch; returns the cursor reply document. */
  *start(
    ns: string,
    results: Scan<Doc>,
    project: ((d: Doc) => Doc) | null,
    batchSize: number | undefined,
    singleBatch: boolean,
  ): Sliced<Document> {
    const raw = project === null ? (results as { raw?: () => Scan<Uint8Array> }).raw : undefined;
    const iterator = new Peekable((raw ? raw() : results)[Symbol.iterator]());
    const batch = yield* takeBatch(iterator, project, batchSize ?? DEFAULT_FIRST_BATCH);
    let id = 0n;
    if (!batch.exhausted && !singleBatch) {
      id = this.newId();
      this.open.set(id, { ns, iterator, project, lastUsed: Date.now(), busy: false });
    } else if (!batch.exhausted) iterator.return();
    return { cursor: { firstBatch: batch.docs, id: Long.fromBigInt(id), ns }, ok: 1 };
  }

  more(id: bigint, ns: string, batchSize: number | undefined): Sliced<Document> {
    const c = this.open.get(id);
    if (!c) throw new MongoServerError(Codes.CursorNotFound, `cursor id ${id} not found`);
    if (c.ns !== ns) {
      throw new MongoServerError(
        13,
        `Requested getMore on namespace '${ns}', but cursor belongs to a different namespace ${c.ns}`,
      );
    }
    if (c.busy) throw new MongoServerError(Codes.CursorInUse, `cursor id ${id} is already in use`);
    return this.continue(id, c, batchSize);
  }

  private *continue(id: bigint, c: OpenCursor, batchSize: number | undefined): Sliced<Document> {
    c.busy = true;
    let batch: Batch;
    try {
      batch = yield* takeBatch(
        c.iterator,
        c.project,
        batchSize && batchSize > 0 ? batchSize : Infinity,
      );
    } finally {
      c.busy = false;
    }
    // Killed or reaped while the batch was read: the batch is still the client's, the cursor is gone.
    const exhausted = batch.exhausted || !this.open.has(id);
    if (exhausted) this.open.delete(id);
    else c.lastUsed = Date.now();
    return {
      cursor: { nextBatch: batch.docs, id: Long.fromBigInt(exhausted ? 0n : id), ns: c.ns },
      ok: 1,
    };
  }

  kill(ids: bigint[]): { killed: bigint[]; notFound: bigint[] } {
    const killed: bigint[] = [];
    const notFound: bigint[] = [];
    for (const id of ids) {
      const c = this.open.get(id);
      if (c) {
        c.iterator.return();
        this.open.delete(id);
        killed.push(id);
      } else notFound.push(id);
    }
    return { killed, notFound };
  }

  /** Closes cursors idle longer than the timeout; returns how many. */
  reap(now = Date.now()): number {
    let n = 0;
    for (const [id, c] of this.open) {
      if (now - c.lastUsed > this.idleTimeoutMs && !c.busy) {
        c.iterator.return();
        this.open.delete(id);
        n++;
      }
    }
    return n;
  }

  closeAll(): void {
    this.kill([...this.open.keys()]);
  }

  private newId(): bigint {
    // Positive, non-zero, unpredictable int64.
    let id = 0n;
    while (id === 0n || this.open.has(id)) {
      id = BigInt.asIntN(
        64,
        BigInt(Math.floor(Math.random() * 2 ** 53)) * 1024n +
          BigInt(Math.floor(Math.random() * 1024)),
      );
      if (id < 0n) id = -id;
    }
    return id;
  }
}

/** A scan with one document of look-ahead, so a batch knows whether it was the last. */
class Peekable {
  private head: IteratorResult<BatchDoc | Pause> | null = null;
  constructor(private readonly it: Iterator<BatchDoc | Pause>) {}
  next(): IteratorResult<BatchDoc | Pause> {
    if (this.head) {
      const h = this.head;
      this.head = null;
      return h;
    }
    return this.it.next();
  }
  /** Looks ahead past checkpoints (passing them on) to the next document or the end. */
  *done(): Sliced<boolean> {
    for (;;) {
      this.head ??= this.it.next();
      if (this.head.value !== PAUSE || this.head.done) return this.head.done === true;
      this.head = null;
      yield PAUSE;
    }
  }
  return(): void {
    this.it.return?.();
  }
}

function* takeBatch(
  iterator: Peekable,
  project: ((d: Doc) => Doc) | null,
  max: number,
): Sliced<Batch> {
  const docs: BatchDoc[] = [];
  let bytes = 0;
  while (docs.length < max) {
    const r = iterator.next();
    if (r.done) return { docs, exhausted: true };
    const v = r.value;
    if (v === PAUSE) {
      yield PAUSE;
      continue;
    }
    if (v instanceof Uint8Array) {
      docs.push(v);
      bytes += v.length;
    } else {
      docs.push(project ? project(v) : v);
      // A projection is never larger than its source document, whose size is remembered.
      bytes += bsonSize(v);
    }
    if (bytes >= MAX_BATCH_BYTES) break;
  }
  return { docs, exhausted: yield* iterator.done() };
}
