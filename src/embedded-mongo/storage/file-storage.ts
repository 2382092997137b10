/**
 * Durable storage on disk: an append-only journal of CRC-framed BSON records with group commit,
 * periodic snapshots ("compaction"), crash recovery and a lock.
 *
 * Files:
 *   snapshot-00000N.bson  records from the engine's dump(), then an end marker: the state at the
 *                         moment journal N was started
 *   journal-00000N.log    records appended since journal N-1 was closed
 * Compaction first switches appends to journal N+1 (the engine's view of the state is taken in the
 * same step), then writes snapshot N+1 in slices, yielding to the event loop, while writes go on
 * into journal N+1. The snapshot is renamed into place only once complete and fsync'ed; until then
 * recovery replays snapshot N and journals N, N+1, ... in order, so a crash at any point leaves an
 * exact state. Recovery uses the newest complete snapshot and the journals from its number up.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { calculateObjectSize, type DeserializeOptions, type Document } from 'bson';
import type { DurableStorage, RecoveryStats } from './types';
import {
  ChunkedReader,
  DEFAULT_DESERIALIZE,
  HEADER_BYTES,
  checkFrame,
  decodePayload,
  encodeFrame,
  encodeFrameInto,
  fdatasync,
  findValidFrame,
  fsyncDir,
  fsyncDirAsync,
  writeFully,
  yieldToLoop,
} from './frames';
import { acquireLock, type DirLock } from './lock';
import { BlobFile, notifyCommitted, notifyPlaced, type Placement } from './blob-file';

export interface FileStorageOptions {
  /** BSON deserialize options for replayed records, merged over {promoteValues, promoteLongs: true, promoteBuffers, bsonRegExp: false}. */
  deserialize?: DeserializeOptions;
  /** Read chunk for recovery and write buffer for snapshots (default 4 MiB). */
  chunkBytes?: number;
}

export interface StorageStats {
  appends: number;
  /** Journal batches written (one write + one fdatasync each). */
  flushes: number;
  /** Every fsync/fdatasync issued: journal batches, snapshots, directories. */
  fsyncs: number;
  compactions: number;
}

export interface FileStorage extends DurableStorage {
  readonly dir: string;
  /** Number of the journal appended to; 0 until the first compaction. */
  readonly generation: number;
  /** Number of the snapshot recovery would start from (0: none). */
  readonly snapshotGeneration: number;
  readonly stats: Readonly<StorageStats>;
}

/** Opens (creating if needed) and locks `dir`. Call `recover` next, then `append`. */
export async function openDurableStorage(
  dir: string,
  opts: FileStorageOptions = {},
): Promise<FileStorage> {
  fs.mkdirSync(dir, { recursive: true });
  return new FileStore(dir, await acquireLock(dir), opts);
}

/** Marks the end of a complete snapshot; a snapshot without it is not a snapshot. */
const SNAPSHOT_END = '$snapshotEnd';
/** The marker's first element name as it is in its BSON. */
const END_NAME = Buffer.from(SNAPSHOT_END + '\0');

const snapshotName = (gen: number): string => `snapshot-${String(gen).padStart(6, '0')}.bson`;
const tmpSnapshotName = (gen: number): string => `snapshot-${String(gen).padStart(6, '0')}.tmp`;
const journalName = (gen: number): string => `journal-${String(gen).padStart(6, '0')}.log`;
const FILE_RE = /^(snapshot|journal)-(\d{6,})\.(bson|log|tmp)$/;

interface Pending {
  record: Document;
  frame: Buffer;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** Queued by a compaction: records before it go to the current journal, records after it to a new one. */
interface Switch {
  /** Called with the new journal's number, or the reason there is none. */
  switched: (err: Error | null, gen?: number) => void;
}

type Queued = Pending | Switch;
const isSwitch = (q: Queued): q is Switch => 'switched' in q;

/** Longest stretch of snapshot encoding between two turns of the event loop. */
const SLICE_MS = 8;

class FileStore implements FileStorage {
  readonly stats: StorageStats = { appends: 0, flushes: 0, fsyncs: 0, compactions: 0 };
  generation = 0;
  snapshotGeneration = 0;
  journalBytes = 0;

  private readonly deserializeOptions: DeserializeOptions;
  private readonly chunkBytes: number;
  private state: 'opened' | 'recovering' | 'ready' | 'closed' = 'opened';
  private fd: number | null = null;
  /** Records waiting for the flush loop, and journal switches between them, in append order. */
  private pending: Queued[] = [];
  private flushing: Promise<void> | null = null;
  private compacting: Promise<void> | null = null;
  private closing: Promise<void> | null = null;
  /** Set by the first failed write/fsync; from then on nothing is acknowledged. */
  private failure: Error | null = null;
  /** Read descriptors of the files large documents are read from, by file name. */
  private readonly blobFiles = new Map<string, BlobFile>();

  constructor(
    readonly dir: string,
    private readonly lock: DirLock,
    opts: FileStorageOptions,
  ) {
    this.deserializeOptions = { ...DEFAULT_DESERIALIZE, ...opts.deserialize };
    this.chunkBytes = opts.chunkBytes ?? 4 << 20;
  }

  // ---- recovery ------------------------------------------------------------------------------

  recover(
    apply: (record: Document, place?: Placement) => void,
    applyBytes?: (payload: Buffer, place?: Placement) => boolean,
  ): RecoveryStats {
    if (this.state !== 'opened')
      throw new Error('recover() must be called exactly once, right after open');
    this.state = 'recovering'; // a failed recovery leaves the store unusable (apply saw part of the data); close() it
    const started = performance.now();

    const snapshots = new Map<number, string>();
    const journals = new Map<number, string>();
    const leftovers: string[] = []; // deleted once the state has replayed
    for (const name of fs.readdirSync(this.dir)) {
      const m = FILE_RE.exec(name);
      if (!m) continue;
      const gen = Number(m[2]);
      if (m[3] === 'tmp') leftovers.push(name); // from a compaction that crashed before its rename
      if (m[1] === 'snapshot' && m[3] === 'bson') snapshots.set(gen, name);
      if (m[1] === 'journal' && m[3] === 'log') journals.set(gen, name);
    }
    // A snapshot is renamed into place only once complete and fsync'ed: the newest one is the
    // base, and every journal from its number up holds what happened after it, in order.
    const base = Math.max(0, ...snapshots.keys());
    for (const [g, name] of snapshots) if (g < base) leftovers.push(name);
    const chain: number[] = [];
    for (const [g, name] of journals) {
      if (g < base) leftovers.push(name);
      else chain.push(g);
    }
    chain.sort((a, b) => a - b);
    const last = chain.at(-1) ?? base;
    for (let g = base; g <= last; g++) {
      // Journal `base` is missing only after a crash between an older-format rename and its
      // journal's creation; a hole after it means files were lost.
      if (!journals.has(g) && (g !== base || chain.length > 0)) {
        throw new Error(
          `${path.join(this.dir, journalName(g))} is missing between ${snapshots.get(base) ?? 'the start'} ` +
            `and ${journalName(last)}; refusing to guess the state`,
        );
      }
    }

    const snapshot = snapshots.get(base);
    const snapshotRecords = snapshot
      ? this.replaySnapshot(path.join(this.dir, snapshot), apply, applyBytes)
      : 0;
    let journalRecords = 0;
    let truncatedBytes = 0;
    for (let g = base; g <= last; g++) {
      const journal = this.replayJournal(g, apply, g === last, applyBytes);
      journalRecords += journal.records;
      truncatedBytes += journal.truncatedBytes;
    }

    // Only now that the state has proved complete are the older files garbage.
    for (const name of leftovers) fs.unlinkSync(path.join(this.dir, name));
    if (leftovers.length > 0) this.syncDir();

    this.generation = last;
    this.snapshotGeneration = base;
    this.state = 'ready';
    return {
      snapshotRecords,
      journalRecords,
      truncatedBytes,
      millis: performance.now() - started,
    };
  }

  private replaySnapshot(
    file: string,
    apply: (record: Document, place?: Placement) => void,
    applyBytes?: (payload: Buffer, place?: Placement) => boolean,
  ): number {
    const fd = fs.openSync(file, 'r');
    try {
      const r = new ChunkedReader(fd, fs.fstatSync(fd).size, this.chunkBytes);
      if (applyBytes)
        return this.replaySnapshotBytes(file, r, apply, applyBytes, this.blobFile(file));
      // Hold each record back by one so the last one (the end marker) is never applied.
      let held: Document | null = null;
      let records = 0;
      let pos = 0;
      while (pos < r.size) {
        const check = checkFrame(r, pos);
        if (!check.ok)
          throw new Error(`snapshot ${file} is corrupt at byte offset ${pos}: ${check.problem}`);
        const record = this.decode(r, pos, check.payloadLength, file);
        if (held !== null) {
          this.apply(apply, held, file, pos);
          records++;
        }
        held = record;
        pos += HEADER_BYTES + check.payloadLength;
      }
      // Number(): the marker must read the same whatever deserialize options the caller chose.
      if (held === null || Number(held[SNAPSHOT_END]) !== 1 || Number(held.records) !== records) {
        throw new Error(`snapshot ${file} is incomplete: no valid end marker`);
      }
      return records;
    } finally {
      fs.closeSync(fd);
    }
  }

  /**
   * replaySnapshot with `applyBytes` offered each record first: the end marker is told from a
   * record by its first field's name, so records need not be decoded to be held back by one
   * (and no copy of each payload is made only to be thrown away).
   */
  private replaySnapshotBytes(
    file: string,
    r: ChunkedReader,
    apply: (record: Document, place?: Placement) => void,
    applyBytes: (payload: Buffer, place?: Placement) => boolean,
    blob: BlobFile,
  ): number {
    let records = 0;
    let end: Document | null = null;
    let pos = 0;
    while (pos < r.size) {
      const check = checkFrame(r, pos);
      if (!check.ok)
        throw new Error(`snapshot ${file} is corrupt at byte offset ${pos}: ${check.problem}`);
      if (end !== null) throw new Error(`snapshot ${file} has records after its end marker`);
      const payload = r.bytes(pos + HEADER_BYTES, check.payloadLength);
      if (payload.subarray(5, 5 + END_NAME.length).equals(END_NAME))
        end = this.decode(r, pos, check.payloadLength, file);
      else {
        if (!this.applyRaw(applyBytes, r, pos, check.payloadLength, file, blob))
          this.applyAt(apply, r, pos, check.payloadLength, file, blob);
        records++;
      }
      pos += HEADER_BYTES + check.payloadLength;
    }
    if (end === null || Number(end[SNAPSHOT_END]) !== 1 || Number(end.records) !== records) {
      throw new Error(`snapshot ${file} is incomplete: no valid end marker`);
    }
    return records;
  }

  /** Replays a journal; the last one gets a torn tail cut and its fd kept open for appends. */
  private replayJournal(
    gen: number,
    apply: (record: Document, place?: Placement) => void,
    isLast: boolean,
    applyBytes?: (payload: Buffer, place?: Placement) => boolean,
  ): { records: number; truncatedBytes: number } {
    const file = path.join(this.dir, journalName(gen));
    let fd: number;
    try {
      fd = fs.openSync(file, isLast ? 'r+' : 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      fd = fs.openSync(file, 'wx+'); // first open, or a crash between snapshot rename and journal creation
      this.syncDir();
    }
    try {
      const r = new ChunkedReader(fd, fs.fstatSync(fd).size, this.chunkBytes);
      const blob = this.blobFile(file);
      let records = 0;
      let pos = 0;
      while (pos < r.size) {
        const check = checkFrame(r, pos);
        if (!check.ok) {
          // A crash mid-write leaves a bad frame at the very end. A bad frame with a valid one
          // after it means bytes changed under acknowledged records: stop, do not guess.
          if (!isLast) {
            throw new Error(
              `journal ${file} is corrupt at byte offset ${pos} (${check.problem}), and a newer journal follows it; ` +
                `only the newest journal can have a torn tail`,
            );
          }
          const next = findValidFrame(r, pos + 1);
          if (next >= 0) {
            throw new Error(
              `journal ${file} is corrupt at byte offset ${pos} (${check.problem}), ` +
                `yet a valid record follows at byte offset ${next}; not a torn tail, refusing to truncate`,
            );
          }
          break;
        }
        // Journal records are most of a restart (an insertMany of 10,000 documents is one record
        // of 10,000 ops): the engine may apply them from their bytes, without decoding each op.
        if (!applyBytes || !this.applyRaw(applyBytes, r, pos, check.payloadLength, file, blob))
          this.applyAt(apply, r, pos, check.payloadLength, file, blob);
        records++;
        pos += HEADER_BYTES + check.payloadLength;
      }
      const truncatedBytes = r.size - pos;
      if (!isLast) {
        fs.closeSync(fd);
        return { records, truncatedBytes };
      }
      if (truncatedBytes > 0) {
        fs.ftruncateSync(fd, pos);
        this.syncFile(fd);
      }
      this.fd = fd;
      this.journalBytes = pos;
      return { records, truncatedBytes };
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
  }

  private decode(r: ChunkedReader, pos: number, len: number, file: string): Document {
    try {
      return decodePayload(r.bytes(pos + HEADER_BYTES, len), this.deserializeOptions);
    } catch (err) {
      throw new Error(
        `${file}: record at byte offset ${pos} has a valid CRC but is not valid BSON: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  }

  private applyRaw(
    applyBytes: (payload: Buffer, place?: Placement) => boolean,
    r: ChunkedReader,
    pos: number,
    len: number,
    file: string,
    blob: BlobFile,
  ): boolean {
    try {
      const payload = r.bytes(pos + HEADER_BYTES, len);
      return applyBytes(payload, { file: blob, offset: pos + HEADER_BYTES, payload });
    } catch (err) {
      throw new Error(
        `replaying the record at ${file} byte offset ${pos} failed: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  /** Decodes and applies the record at `pos`, telling `apply` where its payload is. */
  private applyAt(
    apply: (record: Document, place?: Placement) => void,
    r: ChunkedReader,
    pos: number,
    len: number,
    file: string,
    blob: BlobFile,
  ): void {
    const record = this.decode(r, pos, len, file);
    // The same bytes decode just read (still in the reader's chunk).
    const payload = r.bytes(pos + HEADER_BYTES, len);
    this.apply(apply, record, file, pos, { file: blob, offset: pos + HEADER_BYTES, payload });
  }

  private apply(
    apply: (record: Document, place?: Placement) => void,
    record: Document,
    file: string,
    pos: number,
    place?: Placement,
  ): void {
    try {
      apply(record, place);
    } catch (err) {
      throw new Error(
        `replaying the record at ${file} byte offset ${pos} failed: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  // ---- appends (group commit) --------------------------------------------------------------

  append(record: Document): Promise<void> {
    const unusable = this.unusable();
    if (unusable) return Promise.reject(unusable);
    let frame: Buffer;
    try {
      frame = encodeFrame(record);
    } catch (err) {
      return Promise.reject(err);
    }
    this.stats.appends++;
    return new Promise((resolve, reject) => {
      this.pending.push({ record, frame, resolve, reject });
      this.kick();
    });
  }

  /** Starts the flush loop unless it runs already. Compactions do not stop it: they queue a journal switch. */
  private kick(): void {
    if (this.flushing || this.failure || this.pending.length === 0) return;
    this.flushing = (async () => {
      // Let every append of this turn of the event loop (other connections too) join the first batch.
      await new Promise((resolve) => setImmediate(resolve));
      try {
        await this.flushLoop();
      } finally {
        this.flushing = null;
        this.kick(); // appends made while the loop was finishing
      }
    })();
  }

  private async flushLoop(): Promise<void> {
    while (this.pending.length > 0 && !this.failure) {
      const head = this.pending[0]!;
      if (isSwitch(head)) {
        this.pending.shift();
        await this.switchJournal(head);
        continue;
      }
      // Everything appended so far (up to a switch) goes out in one write + one fdatasync;
      // appends arriving meanwhile queue up for the next batch. One loop keeps records in order.
      let n = 1;
      while (n < this.pending.length && !isSwitch(this.pending[n]!)) n++;
      const batch = this.pending.splice(0, n) as Pending[];
      const bytes = batch.length === 1 ? batch[0]!.frame : Buffer.concat(batch.map((p) => p.frame));
      const fd = this.fd!;
      const at = this.journalBytes;
      try {
        await writeFully(fd, bytes, at);
        this.journalBytes += bytes.length;
        await fdatasync(fd);
      } catch (err) {
        this.fail(
          err as Error,
          `journal write/fsync to ${path.join(this.dir, journalName(this.generation))} failed`,
          batch,
        );
        return;
      }
      this.stats.flushes++;
      this.stats.fsyncs++;
      this.placeJournalRecords(batch, at);
      for (const p of batch) p.resolve();
    }
  }

  /** Tells the engine where the durable records' payloads are (large documents are then read from there). */
  private placeJournalRecords(batch: Pending[], at: number): void {
    let file: BlobFile;
    try {
      file = this.blobFile(path.join(this.dir, journalName(this.generation)));
    } catch {
      return; // the documents simply stay in memory
    }
    let pos = at;
    for (const p of batch) {
      notifyPlaced(p.record, {
        file,
        offset: pos + HEADER_BYTES,
        payload: p.frame.subarray(HEADER_BYTES),
      });
      pos += p.frame.length;
    }
  }

  /** Every record before the switch is durable in the current journal: start the next one. */
  private async switchJournal(sw: Switch): Promise<void> {
    const gen = this.generation + 1;
    const file = path.join(this.dir, journalName(gen));
    let fd: number;
    try {
      fd = await new Promise<number>((resolve, reject) =>
        fs.open(file, 'wx+', (err, f) => (err ? reject(err) : resolve(f))),
      );
    } catch (err) {
      // Nothing changed: later records stay in this journal and the compaction gives up.
      sw.switched(new Error(`could not create ${file}: ${(err as Error).message}`, { cause: err }));
      return;
    }
    try {
      await fsyncDirAsync(this.dir);
      this.stats.fsyncs++;
    } catch (err) {
      fs.close(fd, () => undefined);
      this.fail(err as Error, `creating ${file} could not be made durable`, []);
      sw.switched(this.failure!);
      return;
    }
    fs.close(this.fd!, () => undefined);
    this.fd = fd;
    this.generation = gen;
    this.journalBytes = 0;
    sw.switched(null, gen);
  }

  /**
   * After a failed write or fsync the kernel may have dropped the dirty pages, so a retry could
   * "succeed" without the data: reject the waiting appends and every later one.
   */
  private fail(cause: Error, what: string, waiting: Pending[]): void {
    this.failure ??= new Error(
      `${what}: ${cause.message}; embedded-mongo storage can no longer guarantee durability`,
      { cause },
    );
    const err = this.failure;
    for (const q of [...waiting, ...this.pending.splice(0)]) {
      if (isSwitch(q)) q.switched(err);
      else q.reject(err);
    }
  }

  private unusable(): Error | null {
    if (this.failure)
      return new Error(`storage is failed and accepts no writes: ${this.failure.message}`, {
        cause: this.failure,
      });
    if (this.state === 'closed' || this.closing) return new Error('storage is closed');
    if (this.state === 'recovering') return new Error('recover() failed; close() this store');
    if (this.state !== 'ready') return new Error('call recover() before append() or compact()');
    return null;
  }

  // ---- compaction --------------------------------------------------------------------------

  /** A call while a compaction runs shares it: records appended after its switch are in the new journal, so nothing is lost. */
  compact(dump: () => Iterable<Document>): Promise<void> {
    const unusable = this.unusable();
    if (unusable) return Promise.reject(unusable);
    if (!this.compacting) {
      this.compacting = this.runCompaction(dump).finally(() => {
        this.compacting = null;
      });
    }
    return this.compacting;
  }

  private async runCompaction(dump: () => Iterable<Document>): Promise<void> {
    // The switch point, in one synchronous step: the engine's view of the state now, and a mark
    // in the queue after every record appended so far. Those records go to the current journal,
    // later ones to the next, which so starts from exactly this state.
    const records = dump();
    const switched = new Promise<number>((resolve, reject) =>
      this.pending.push({ switched: (err, gen) => (err ? reject(err) : resolve(gen!)) }),
    );
    switched.catch(() => undefined); // awaited below; a snapshot failure must not leave it unhandled
    this.kick();
    const tmp = path.join(this.dir, tmpSnapshotName(this.generation + 1));
    let next: number;
    let blob: BlobFile | undefined;
    try {
      blob = new BlobFile(await this.createEmpty(tmp));
      await this.writeSnapshot(tmp, records, blob);
      next = await switched;
      // The rename is the commit point: from here recovery starts from snapshot `next`.
      await fs.promises.rename(tmp, path.join(this.dir, snapshotName(next)));
    } catch (err) {
      // Recovery still starts from the old snapshot and replays every journal since.
      blob?.close();
      await fs.promises.rm(tmp, { force: true }).catch(() => undefined);
      throw err;
    }
    blob.name = path.join(this.dir, snapshotName(next));
    this.blobFiles.set(snapshotName(next), blob);
    try {
      await fsyncDirAsync(this.dir);
      this.stats.fsyncs++;
    } catch (err) {
      this.fail(
        err as Error,
        `compaction to generation ${next}: the snapshot's rename could not be made durable`,
        [],
      );
      throw this.failure;
    }
    const old = this.snapshotGeneration;
    this.snapshotGeneration = next;
    this.stats.compactions++;
    // Harmless if this fails: the old files are no longer read, and the next recovery deletes them.
    const garbage = [snapshotName(old)];
    for (let g = old; g < next; g++) garbage.push(journalName(g));
    // Large documents read from the old files move to the snapshot before those are deleted.
    try {
      notifyCommitted(records);
    } finally {
      this.retireBlobFiles(garbage);
    }
    await Promise.all(
      garbage.map((name) =>
        fs.promises.rm(path.join(this.dir, name), { force: true }).catch(() => undefined),
      ),
    );
  }

  /**
   * Encodes the records in slices of at most SLICE_MS, yielding to the event loop between them,
   * and writes them asynchronously; the end marker and an fsync make the file a snapshot.
   */
  /** Creates `file` empty (so a read descriptor can be opened beside the writer's); returns its path. */
  private async createEmpty(file: string): Promise<string> {
    await (await fs.promises.open(file, 'w')).close();
    return file;
  }

  private async writeSnapshot(
    file: string,
    records: Iterable<Document>,
    blob: BlobFile,
  ): Promise<void> {
    const fh = await fs.promises.open(file, 'r+');
    try {
      // One buffer for the whole snapshot, written out whenever it is full.
      let buf = Buffer.allocUnsafe(this.chunkBytes);
      let used = 0;
      let written = 0;
      const flush = async (): Promise<void> => {
        await writeFully(fh.fd, buf.subarray(0, used), written);
        written += used;
        used = 0;
      };
      const put = async (record: Document): Promise<void> => {
        let n = encodeFrameInto(record, buf, used);
        if (n === 0 && used > 0) {
          await flush();
          n = encodeFrameInto(record, buf, 0);
        }
        if (n === 0) {
          // A record bigger than the buffer (a batch of very large documents): grow it for good.
          buf = Buffer.allocUnsafe(HEADER_BYTES + calculateObjectSize(record) + 1024);
          n = encodeFrameInto(record, buf, 0);
        }
        notifyPlaced(record, {
          file: blob,
          offset: written + used + HEADER_BYTES,
          payload: buf.subarray(used + HEADER_BYTES, used + n),
        });
        used += n;
      };
      let count = 0;
      let sliceStart = performance.now();
      for (const record of records) {
        await put(record);
        count++;
        if (performance.now() - sliceStart >= SLICE_MS) {
          await yieldToLoop();
          sliceStart = performance.now();
        }
      }
      await put({ [SNAPSHOT_END]: 1, records: count });
      await flush();
      await fh.sync();
      this.stats.fsyncs++;
    } finally {
      await fh.close();
    }
  }

  // ---- close -------------------------------------------------------------------------------

  close(): Promise<void> {
    this.closing ??= this.runClose();
    return this.closing;
  }

  private async runClose(): Promise<void> {
    // Appends accepted before close() still get flushed (or rejected); new ones are refused.
    await this.compacting?.catch(() => undefined);
    while (this.flushing) await this.flushing;
    try {
      if (this.fd !== null) {
        if (!this.failure) this.syncFile(this.fd);
        fs.closeSync(this.fd);
        this.fd = null;
      }
    } finally {
      for (const b of this.blobFiles.values()) b.close();
      this.blobFiles.clear();
      this.state = 'closed';
      this.lock.release();
    }
  }

  // ---- helpers -----------------------------------------------------------------------------

  /** The read descriptor of a journal or snapshot file (opened once, kept until retired). */
  private blobFile(file: string): BlobFile {
    const name = path.basename(file);
    let b = this.blobFiles.get(name);
    if (!b) this.blobFiles.set(name, (b = new BlobFile(file)));
    return b;
  }

  /** Files a compaction replaced: their locations have moved; closed once nothing refers to them. */
  private retireBlobFiles(names: string[]): void {
    for (const name of names) {
      this.blobFiles.get(name)?.retire();
      this.blobFiles.delete(name);
    }
  }

  private syncFile(fd: number): void {
    fs.fsyncSync(fd);
    this.stats.fsyncs++;
  }

  private syncDir(): void {
    fsyncDir(this.dir);
    this.stats.fsyncs++;
  }
}
