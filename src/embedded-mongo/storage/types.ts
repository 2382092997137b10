import type { Document } from 'bson';
import type { Placement } from './blob-file';

/**
 * The contract between the embedded store's engine (in memory) and its durable files.
 *
 * The engine applies every write to memory first, then calls `append` with one record that
 * describes the whole command (so a command is replayed all-or-nothing) or, for a long command
 * run in slices, one record per slice (each replayed all-or-nothing; documents, as in mongod, are
 * the unit), and replies to the client only after every record is fsync'ed (group commit).
 *
 * Records are plain BSON documents whose meaning belongs to the engine. A snapshot is just a
 * sequence of the same kind of records (produced by the engine's `dump`), so recovery is
 * "apply snapshot records, then journal records" with one `apply` function.
 */
export interface DurableStorage {
  /**
   * Replays snapshot + journal through `apply`, truncating a torn journal tail. Call once, before
   * any append. `applyBytes`, if given, is offered each record's BSON first (a view valid only
   * during the call): it applies the record and returns true, or returns false having changed
   * nothing, and the record is decoded for `apply`. A file-backed storage passes both where the
   * record's payload is in its file (`place`), so large documents can be read from there.
   */
  recover(
    apply: (record: Document, place?: Placement) => void,
    applyBytes?: (payload: Buffer, place?: Placement) => boolean,
  ): RecoveryStats;
  /**
   * Resolves once the record is on disk (fsync); many appends share one fsync. Call it in the same
   * synchronous step that changed memory (no await in between), or a compaction's dump could
   * contain the change and the new journal the record too, replaying it twice. After a failed
   * write/fsync this and every later append rejects: memory is then ahead of disk.
   */
  append(record: Document): Promise<void>;
  /** Bytes in the current journal file (the engine uses it to decide when to compact). */
  readonly journalBytes: number;
  /**
   * Starts a new journal and writes a snapshot of the state at that moment (records from `dump`)
   * without blocking the event loop; appends go on meanwhile into the new journal. `dump` is called
   * once, synchronously, and must return a view of the state at the call, which is iterated over
   * later turns of the loop while the state keeps changing. A call during a running compaction
   * shares it. Records must not have a top-level `$snapshotEnd` key (reserved for the end marker).
   */
  compact(dump: () => Iterable<Document>): Promise<void>;
  /** Flushes pending records, closes files and releases the lock. */
  close(): Promise<void>;
}

export interface RecoveryStats {
  snapshotRecords: number;
  journalRecords: number;
  /** Bytes cut off a torn journal tail (0 when the journal ended cleanly). */
  truncatedBytes: number;
  millis: number;
}
