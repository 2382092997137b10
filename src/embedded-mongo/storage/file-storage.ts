/**
 * Durable storage on disk: an append-only journal of CRC-framed BSON records with group commit,
 * periodic snapshots ("compaction"), crash recovery and a lock file.
 *
 * Files of generation N (N = 0 has no snapshot):
 *   snapshot-00000N.bson  records from the engine's dump(), then an end marker
 *   journal-00000N.log    records appended since that snapshot
 * Compaction writes generation N+1 next to N and only deletes N once N+1 is durable, so a crash at
 * any point leaves one complete generation; recovery uses the newest complete snapshot.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { DeserializeOptions, Document } from 'bson';
import type { DurableStorage, RecoveryStats } from './types';
import {
  ChunkedReader,
  DEFAULT_DESERIALIZE,
  HEADER_BYTES,
  checkFrame,
  decodePayload,
  encodeFrame,
  fdatasync,
  findValidFrame,
  fsyncDir,
  writeFully,
  writeFullySync,
} from './frames';
import { acquireLock, type DirLock } from './lock';

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
  /** Current generation (file name number); 0 until the first compaction. */
  readonly generation: number;
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

const snapshotName = (gen: number): string => `snapshot-${String(gen).padStart(6, '0')}.bson`;
const tmpSnapshotName = (gen: number): string => `snapshot-${String(gen).padStart(6, '0')}.tmp`;
const journalName = (gen: number): string => `journal-${String(gen).padStart(6, '0')}.log`;
const FILE_RE = /^(snapshot|journal)-(\d{6,})\.(bson|log|tmp)$/;

interface Pending {
  frame: Buffer;
  resolve: () => void;
  reject: (err: Error) => void;
}

class FileStore implements FileStorage {
  readonly stats: StorageStats = { appends: 0, flushes: 0, fsyncs: 0, compactions: 0 };
  generation = 0;
  journalBytes = 0;

  private readonly deserializeOptions: DeserializeOptions;
  private readonly chunkBytes: number;
  private state: 'opened' | 'recovering' | 'ready' | 'closed' = 'opened';
  private fd: number | null = null;
  private pending: Pending[] = [];
  private flushing: Promise<void> | null = null;
  private compacting: Promise<void> | null = null;
  private closing: Promise<void> | null = null;
  /** Set by the first failed write/fsync; from then on nothing is acknowledged. */
  private failure: Error | null = null;

  constructor(
    readonly dir: string,
    private readonly lock: DirLock,
    opts: FileStorageOptions,
  ) {
    this.deserializeOptions = { ...DEFAULT_DESERIALIZE, ...opts.deserialize };
    this.chunkBytes = opts.chunkBytes ?? 4 << 20;
  }

  // ---- recovery ------------------------------------------------------------------------------

  recover(apply: (record: Document) => void): RecoveryStats {
    if (this.state !== 'opened')
      throw new Error('recover() must be called exactly once, right after open');
    this.state = 'recovering'; // a failed recovery leaves the store unusable (apply saw part of the data); close() it
    const started = performance.now();

    const snapshots = new Map<number, string>();
    const journals = new Map<number, string>();
    const leftovers: string[] = []; // deleted once the newest generation has replayed
    for (const name of fs.readdirSync(this.dir)) {
      const m = FILE_RE.exec(name);
      if (!m) continue;
      const gen = Number(m[2]);
      if (m[3] === 'tmp') leftovers.push(name); // from a compaction that crashed before its rename
      if (m[1] === 'snapshot' && m[3] === 'bson') snapshots.set(gen, name);
      if (m[1] === 'journal' && m[3] === 'log') journals.set(gen, name);
    }
    // A snapshot is renamed into place only once complete and fsync'ed: the newest one is the state.
    const gen = Math.max(0, ...snapshots.keys());
    for (const [g, name] of snapshots) if (g < gen) leftovers.push(name);
    for (const [g, name] of journals) {
      if (g < gen) leftovers.push(name);
      if (g > gen) {
        // Compaction creates journal N+1 only after snapshot N+1 is durable; an empty one is harmless.
        if (fs.statSync(path.join(this.dir, name)).size > 0) {
          throw new Error(
            `${path.join(this.dir, name)} has records but ${snapshotName(g)} is missing; refusing to guess the state`,
          );
        }
        leftovers.push(name);
      }
    }

    const snapshot = snapshots.get(gen);
    const snapshotRecords = snapshot
      ? this.replaySnapshot(path.join(this.dir, snapshot), apply)
      : 0;
    const journal = this.replayJournal(gen, apply);

    // Only now that the newest generation has proved complete are the older files garbage.
    for (const name of leftovers) fs.unlinkSync(path.join(this.dir, name));
    if (leftovers.length > 0) this.syncDir();

    this.generation = gen;
    this.state = 'ready';
    return {
      snapshotRecords,
      journalRecords: journal.records,
      truncatedBytes: journal.truncatedBytes,
      millis: performance.now() - started,
    };
  }

  private replaySnapshot(file: string, apply: (record: Document) => void): number {
    const fd = fs.openSync(file, 'r');
    try {
      const r = new ChunkedReader(fd, fs.fstatSync(fd).size, this.chunkBytes);
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

  /** Replays the journal, cuts a torn tail, and keeps its fd open for appends. */
  private replayJournal(
    gen: number,
    apply: (record: Document) => void,
  ): { records: number; truncatedBytes: number } {
    const file = path.join(this.dir, journalName(gen));
    let fd: number;
    try {
      fd = fs.openSync(file, 'r+');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      fd = fs.openSync(file, 'wx+'); // first open, or a crash between snapshot rename and journal creation
      this.syncDir();
    }
    try {
      const r = new ChunkedReader(fd, fs.fstatSync(fd).size, this.chunkBytes);
      let records = 0;
      let pos = 0;
      while (pos < r.size) {
        const check = checkFrame(r, pos);
        if (!check.ok) {
          // A crash mid-write leaves a bad frame at the very end. A bad frame with a valid one
          // after it means bytes changed under acknowledged records: stop, do not guess.
          const next = findValidFrame(r, pos + 1);
          if (next >= 0) {
            throw new Error(
              `journal ${file} is corrupt at byte offset ${pos} (${check.problem}), ` +
                `yet a valid record follows at byte offset ${next}; not a torn tail, refusing to truncate`,
            );
          }
          break;
        }
        this.apply(apply, this.decode(r, pos, check.payloadLength, file), file, pos);
        records++;
        pos += HEADER_BYTES + check.payloadLength;
      }
      const truncatedBytes = r.size - pos;
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

  private apply(
    apply: (record: Document) => void,
    record: Document,
    file: string,
    pos: number,
  ): void {
    try {
      apply(record);
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
      this.pending.push({ frame, resolve, reject });
      this.kick();
    });
  }

  /** Starts the flush loop unless it runs already or a compaction owns the files. */
  private kick(): void {
    if (this.flushing || this.compacting || this.failure || this.pending.length === 0) return;
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
    const fd = this.fd;
    if (fd === null) return;
    while (this.pending.length > 0 && !this.compacting && !this.failure) {
      // Everything appended so far goes out in one write + one fdatasync; appends arriving
      // meanwhile queue up for the next batch. One loop keeps records in append order.
      const batch = this.pending;
      this.pending = [];
      const bytes = batch.length === 1 ? batch[0]!.frame : Buffer.concat(batch.map((p) => p.frame));
      try {
        await writeFully(fd, bytes, this.journalBytes);
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
      for (const p of batch) p.resolve();
    }
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
    for (const p of waiting.concat(this.pending.splice(0))) p.reject(err);
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

  /** A call while a compaction runs shares it: records appended after its dump stay in the new journal, so nothing is lost. */
  compact(dump: () => Iterable<Document>): Promise<void> {
    const unusable = this.unusable();
    if (unusable) return Promise.reject(unusable);
    if (!this.compacting) {
      this.compacting = this.runCompaction(dump).finally(() => {
        this.compacting = null;
        this.kick();
      });
    }
    return this.compacting;
  }

  private async runCompaction(dump: () => Iterable<Document>): Promise<void> {
    await this.flushing; // the loop stops after its current batch because `compacting` is set
    if (this.failure) throw this.failure;
    // From here on everything is synchronous: dump() sees exactly the state whose records are
    // journaled or pending, and no append can slip in between the dump and the switch.
    const covered = this.pending.splice(0); // in the snapshot, so they never need the old journal
    const next = this.generation + 1;
    const tmp = path.join(this.dir, tmpSnapshotName(next));
    try {
      this.writeSnapshot(tmp, dump);
    } catch (err) {
      // Nothing changed for recovery yet: keep the old generation and journal the covered records there.
      this.pending.unshift(...covered);
      fs.rmSync(tmp, { force: true });
      throw err;
    }
    let newFd: number | null = null;
    try {
      // The rename is the commit point: from here recovery picks generation `next`.
      fs.renameSync(tmp, path.join(this.dir, snapshotName(next)));
      this.syncDir();
      newFd = fs.openSync(path.join(this.dir, journalName(next)), 'wx+');
      this.syncDir();
    } catch (err) {
      if (newFd !== null) fs.closeSync(newFd);
      this.fail(
        err as Error,
        `compaction to generation ${next} failed after its snapshot was renamed into place`,
        covered,
      );
      throw this.failure;
    }
    const old = this.generation;
    const oldFd = this.fd!;
    this.fd = newFd;
    this.generation = next;
    this.journalBytes = 0;
    this.stats.compactions++;
    for (const p of covered) p.resolve();
    try {
      fs.closeSync(oldFd);
      for (const name of [snapshotName(old), journalName(old)]) {
        fs.rmSync(path.join(this.dir, name), { force: true });
      }
    } catch {
      // harmless: the old generation is no longer read, and the next recovery deletes its files
    }
  }

  private writeSnapshot(file: string, dump: () => Iterable<Document>): void {
    const fd = fs.openSync(file, 'w');
    try {
      let chunks: Buffer[] = [];
      let buffered = 0;
      let written = 0;
      const flush = (): void => {
        writeFullySync(fd, Buffer.concat(chunks, buffered), written);
        written += buffered;
        chunks = [];
        buffered = 0;
      };
      let records = 0;
      for (const record of dump()) {
        const frame = encodeFrame(record);
        chunks.push(frame);
        buffered += frame.length;
        records++;
        if (buffered >= this.chunkBytes) flush();
      }
      chunks.push(encodeFrame({ [SNAPSHOT_END]: 1, records }));
      buffered += chunks[chunks.length - 1]!.length;
      flush();
      this.syncFile(fd);
    } finally {
      fs.closeSync(fd);
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
      this.state = 'closed';
      this.lock.release();
    }
  }

  // ---- helpers -----------------------------------------------------------------------------

  private syncFile(fd: number): void {
    fs.fsyncSync(fd);
    this.stats.fsyncs++;
  }

  private syncDir(): void {
    fsyncDir(this.dir);
    this.stats.fsyncs++;
  }
}
