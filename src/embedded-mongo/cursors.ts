/**
 * Server-side cursors: batches capped by count and by size, int64 ids, and an idle reaper,
 * because a driver that stops iterating (e.g. `break` out of a mongoose cursor) sends nothing.
 */
import { Long, type Document } from 'bson';
import { bsonSize } from './engine/collection';
import { Codes, MongoServerError } from './errors';
import type { Doc } from './engine/values';

export const DEFAULT_FIRST_BATCH = 101;
/** Keep each reply's documents under 16 MiB, like mongod. */
export const MAX_BATCH_BYTES = 16 * 1024 * 1024 - 16 * 1024;

interface OpenCursor {
  ns: string;
  iterator: Peekable;
  project: ((d: Doc) => Doc) | null;
  lastUsed: number;
}

export interface Batch {
  docs: Doc[];
  exhausted: boolean;
}

export class CursorManager {
  private readonly open = new Map<bigint, OpenCursor>();

  constructor(private readonly idleTimeoutMs: number) {}

  get size(): number {
    return this.open.size;
  }

  /** Runs the first batch; returns the cursor reply document. */
  start(ns: string, results: Iterable<Doc>, project: ((d: Doc) => Doc) | null, batchSize: number | undefined, singleBatch: boolean): Document {
    const iterator = new Peekable(results[Symbol.iterator]());
    const batch = takeBatch(iterator, project, batchSize ?? DEFAULT_FIRST_BATCH);
    let id = 0n;
    if (!batch.exhausted && !singleBatch) {
      id = this.newId();
      this.open.set(id, { ns, iterator, project, lastUsed: Date.now() });
    } else if (!batch.exhausted) iterator.return();
    return { cursor: { firstBatch: batch.docs, id: Long.fromBigInt(id), ns }, ok: 1 };
  }

  more(id: bigint, ns: string, batchSize: number | undefined): Document {
    const c = this.open.get(id);
    if (!c) throw new MongoServerError(Codes.CursorNotFound, `cursor id ${id} not found`);
    if (c.ns !== ns) {
      throw new MongoServerError(13, `Requested getMore on namespace '${ns}', but cursor belongs to a different namespace ${c.ns}`);
    }
    const batch = takeBatch(c.iterator, c.project, batchSize && batchSize > 0 ? batchSize : Infinity);
    if (batch.exhausted) this.open.delete(id);
    else c.lastUsed = Date.now();
    return { cursor: { nextBatch: batch.docs, id: Long.fromBigInt(batch.exhausted ? 0n : id), ns }, ok: 1 };
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
      if (now - c.lastUsed > this.idleTimeoutMs) {
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
      id = BigInt.asIntN(64, BigInt(Math.floor(Math.random() * 2 ** 53)) * 1024n + BigInt(Math.floor(Math.random() * 1024)));
      if (id < 0n) id = -id;
    }
    return id;
  }
}

/** An iterator with one element of look-ahead, so a batch knows whether it was the last. */
class Peekable {
  private head: IteratorResult<Doc> | null = null;
  constructor(private readonly it: Iterator<Doc>) {}
  next(): IteratorResult<Doc> {
    if (this.head) {
      const h = this.head;
      this.head = null;
      return h;
    }
    return this.it.next();
  }
  done(): boolean {
    this.head ??= this.it.next();
    return this.head.done === true;
  }
  return(): void {
    this.it.return?.();
  }
}

function takeBatch(iterator: Peekable, project: ((d: Doc) => Doc) | null, max: number): Batch {
  const docs: Doc[] = [];
  let bytes = 0;
  while (docs.length < max) {
    const r = iterator.next();
    if (r.done) return { docs, exhausted: true };
    const d = project ? project(r.value) : r.value;
    docs.push(d);
    // A projection is never larger than its source document, whose size is remembered.
    bytes += bsonSize(r.value);
    if (bytes >= MAX_BATCH_BYTES) break;
  }
  return { docs, exhausted: iterator.done() };
}
