/**
 * Reading the stored log: hash tiles (full ones stored, partial ones computed from what is
 * stored below them), entry bundles, the latest checkpoint, and proofs over the tiles. Every
 * tile (L, N, W) is immutable once the tree reaches it, so pyramids can be cached freely.
 */
import {
  LogCheckpoint,
  LogEntryRecord,
  LogTile,
  type LogCheckpointDoc,
} from '../../models/transparency-log';
import {
  consistencyProof,
  inclusionProof,
  tileHashReader,
  TileCache,
  treeRoot,
  TILE_WIDTH,
  tileWidthAt,
  type HashReader,
  type TileCoord,
} from '../tlog';

export class TileMissingError extends Error {
  override name = 'TileMissingError';
}

export const tileId = (level: number, index: number): string => `${level}/${index}`;

/** The hashes at level 8·L from N·256 to N·256 + W, in order; throws TileMissingError if any is not stored. */
export async function readTile(t: TileCoord & { level: number }): Promise<Buffer> {
  if (t.width === TILE_WIDTH) {
    const doc = await LogTile.findById(tileId(t.level, t.index)).lean();
    if (!doc) throw new TileMissingError(`tile ${t.level}/${t.index} is not stored`);
    return Buffer.from(doc.data.buffer ?? doc.data);
  }
  const from = t.index * TILE_WIDTH;
  if (t.level === 0) {
    const rows = await LogEntryRecord.find(
      { _id: { $gte: from, $lt: from + t.width } },
      { hash: 1 },
    )
      .sort({ _id: 1 })
      .lean();
    if (rows.length !== t.width)
      throw new TileMissingError(`entries ${from}…${from + t.width - 1} are not all stored`);
    return Buffer.concat(rows.map((r) => bytes(r.hash)));
  }
  const rows = await LogTile.find(
    { level: t.level - 1, index: { $gte: from, $lt: from + t.width } },
    { root: 1 },
  )
    .sort({ index: 1 })
    .lean();
  if (rows.length !== t.width)
    throw new TileMissingError(`tiles ${t.level - 1}/${from}… are not all stored`);
  return Buffer.concat(rows.map((r) => bytes(r.root)));
}

/** The entries of level-0 tile N, W of them, as stored. */
export async function readEntries(index: number, width: number): Promise<Buffer[]> {
  const from = index * TILE_WIDTH;
  const rows = await LogEntryRecord.find({ _id: { $gte: from, $lt: from + width } }, { data: 1 })
    .sort({ _id: 1 })
    .lean();
  if (rows.length !== width)
    throw new TileMissingError(`entries ${from}…${from + width - 1} are not all stored`);
  return rows.map((r) => bytes(r.data));
}

/** Mongoose hands Buffers back as BSON Binary from lean(); either way, the bytes. */
export function bytes(b: unknown): Buffer {
  if (Buffer.isBuffer(b)) return b;
  const bin = b as { buffer?: Uint8Array } | Uint8Array;
  if (bin instanceof Uint8Array) return Buffer.from(bin);
  return Buffer.from(bin.buffer!);
}

export async function latestCheckpoint(): Promise<LogCheckpointDoc | null> {
  const doc = await LogCheckpoint.findOne({}).sort({ _id: -1 }).lean<LogCheckpointDoc>();
  return doc ? { ...doc, root: bytes(doc.root) } : null;
}

/** Proofs and roots over the stored tiles, with a shared cache of tile pyramids. */
export class LogReader {
  private readonly cache = new TileCache(2048);

  reader(size: number): HashReader {
    return tileHashReader(size, (t) => readTile(t), this.cache);
  }

  root(size: number): Promise<Buffer> {
    return treeRoot(size, this.reader(size));
  }

  inclusion(index: number, size: number): Promise<Buffer[]> {
    return inclusionProof(index, size, this.reader(size));
  }

  consistency(from: number, to: number): Promise<Buffer[]> {
    return consistencyProof(from, to, this.reader(to));
  }
}

/** Whether tile (L, N, W) exists in a tree of `size` (any width up to the current one is served). */
export function tileInTree(size: number, t: TileCoord): boolean {
  const level = t.level === 'entries' ? 0 : t.level;
  return t.width <= tileWidthAt(size, level, t.index);
}
