/**
 * The sequencer: one at a time across app instances (a lease), it takes pending intents in
 * batches, gives them the next leaf indexes, stores the full tiles they complete and signs a
 * checkpoint over the stored tree. Crash-safe without transactions, because every step derives
 * from what is stored and can be repeated:
 * - entries are inserted with unique leaf index and unique intent key, so a second sequencer
 *   (a paused holder whose lease ran out) cannot fork the log or integrate an intent twice;
 * - an intent already in log_entries (a crash before it was marked) is only marked;
 * - full tiles are a function of the entries below them (written idempotently);
 * - a checkpoint is signed only after the tree at the previous checkpoint's size, re-read from
 *   storage, still has that checkpoint's root: checkpoint N+1 extends N, or nothing is signed.
 */
import { randomUUID } from 'node:crypto';
import { LogCheckpoint, LogEntryRecord, LogIntent, LogTile } from '../../models/transparency-log';
import { isDuplicateKey } from '../db/errors';
import { takeLease } from '../db/lease';
import { hashRun, leafHash, newTiles, signCheckpoint, TILE_WIDTH, type NoteSigner } from '../tlog';
import { bytes, latestCheckpoint, tileId, type LogReader } from './store';

export const SEQUENCER_LEASE = 'transparency-log-sequencer';

export class LogForkError extends Error {
  override name = 'LogForkError';
}

export interface SequencerOptions {
  origin: string;
  signer: NoteSigner;
  reader: LogReader;
  /** Intents integrated per pass at most. */
  batch?: number;
  leaseMs?: number;
}

/** An entry this process integrated, and the checkpoint it signed last. */
export interface Integrated {
  index: number;
  data: Buffer;
}

export class Sequencer {
  readonly owner = randomUUID();
  /**
   * What the last two passes here integrated and the last checkpoint signed here, so that a
   * waiter in this process builds its proof without reading back what was just written (a
   * waiter woken by a pass looks before the pass after next can end).
   */
  private integratedNow = new Map<string, Integrated>();
  private integratedBefore = new Map<string, Integrated>();
  private signedHere: { size: number; note: string } | null = null;

  constructor(private readonly o: SequencerOptions) {}

  /** The entry `key` got in a recent pass in this process, if it did. */
  integrated(key: string): Integrated | undefined {
    return this.integratedNow.get(key) ?? this.integratedBefore.get(key);
  }

  /** The last checkpoint signed by this process (it covers everything integrated here before it). */
  get signed(): { size: number; note: string } | null {
    return this.signedHere;
  }

  /** One pass; returns the number of entries integrated (0 without the lease or work). */
  async integrate(): Promise<number> {
    if (!(await takeLease(SEQUENCER_LEASE, this.owner, this.o.leaseMs ?? 5000))) return 0;
    const head = await latestCheckpoint();
    const last = await LogEntryRecord.findOne({}, { _id: 1 }).sort({ _id: -1 }).lean();
    const stored = last ? last._id + 1 : 0;
    // The driver's collections, not the models: no per-document casting on the hot path.
    const pending = await LogIntent.collection
      .find({ pending: true }, { projection: { entry: 1 } })
      .sort({ createdAt: 1, _id: 1 })
      .limit(this.o.batch ?? 5000)
      .toArray();
    let size = stored;
    if (pending.length) {
      // Entries stored past the last checkpoint are a pass cut short (by a crash) after its
      // insert: their intents may still be pending, and are only to be marked.
      const done = new Map<string, number>();
      if (stored > (head?._id ?? 0))
        for (const e of await LogEntryRecord.find(
          { _id: { $gte: head?._id ?? 0 } },
          { key: 1 },
        ).lean())
          done.set(e.key, e._id);
      const fresh = pending.filter((p) => !done.has(p._id as unknown as string));
      const docs = fresh.map((p, i) => {
        const data = bytes(p.entry);
        return { _id: stored + i, key: p._id as unknown as string, data, hash: leafHash(data) };
      });
      if (docs.length) {
        try {
          await LogEntryRecord.collection.insertMany(docs as never[], { ordered: true });
        } catch (e) {
          // Another sequencer wrote these indexes or keys meanwhile: its entries stand; re-read next pass.
          if (isDuplicateKey(e)) return 0;
          throw e;
        }
      }
      for (const d of docs) done.set(d.key, d._id);
      this.integratedBefore = this.integratedNow;
      this.integratedNow = new Map(docs.map((d) => [d.key, { index: d._id, data: d.data }]));
      await LogIntent.collection.bulkWrite(
        [...done].map(([key, index]) => ({
          updateOne: {
            filter: { _id: key as never },
            update: { $set: { index }, $unset: { pending: '' } },
          },
        })),
        { ordered: false },
      );
      size = stored + docs.length;
    }
    if (head && size === head._id) return 0;
    if (!head && size === 0) return 0;
    await this.storeTiles(head?._id ?? 0, size);
    await this.sign(head, size);
    return size - (head?._id ?? 0);
  }

  /** Stores the full tiles completed between the last checkpoint and `size`, level by level. */
  private async storeTiles(from: number, size: number): Promise<void> {
    const full = newTiles(from, size).filter(
      (t) => t.width === TILE_WIDTH && t.level !== 'entries',
    ) as Array<{ level: number; index: number; width: number }>;
    full.sort((a, b) => a.level - b.level || a.index - b.index);
    for (const t of full) {
      const start = t.index * TILE_WIDTH;
      const hashes =
        t.level === 0
          ? (
              await LogEntryRecord.find(
                { _id: { $gte: start, $lt: start + TILE_WIDTH } },
                { hash: 1 },
              )
                .sort({ _id: 1 })
                .lean()
            ).map((r) => bytes(r.hash))
          : (
              await LogTile.find(
                { level: t.level - 1, index: { $gte: start, $lt: start + TILE_WIDTH } },
                { root: 1 },
              )
                .sort({ index: 1 })
                .lean()
            ).map((r) => bytes(r.root));
      if (hashes.length !== TILE_WIDTH)
        throw new Error(`tile ${t.level}/${t.index}: ${hashes.length} of 256 hashes are stored`);
      await LogTile.updateOne(
        { _id: tileId(t.level, t.index) },
        {
          $setOnInsert: {
            level: t.level,
            index: t.index,
            data: Buffer.concat(hashes),
            root: hashRun(hashes),
          },
        },
        { upsert: true },
      ).catch((e) => {
        if (!isDuplicateKey(e)) throw e;
      });
    }
  }

  private async sign(head: { _id: number; root: Buffer } | null, size: number): Promise<void> {
    if (head && head._id > 0) {
      const again = await this.o.reader.root(head._id);
      if (!again.equals(head.root))
        throw new LogForkError(
          `the stored tree at size ${head._id} no longer has the root of its checkpoint: refusing to sign`,
        );
    }
    const root = await this.o.reader.root(size);
    const note = signCheckpoint({ origin: this.o.origin, size, rootHash: root }, [this.o.signer]);
    try {
      await LogCheckpoint.create({ _id: size, root, note, at: new Date() });
      this.signedHere = { size, note };
    } catch (e) {
      if (!isDuplicateKey(e)) throw e; // signed by another sequencer over the same stored tree
    }
  }
}
