/**
 * C2SP tlog-tiles (https://c2sp.org/tlog-tiles): tile coordinates and paths, which tiles exist for
 * a tree size, tile contents from leaf hashes, entry bundles, and a HashReader backed by tiles.
 *
 * - `tile/<L>/<N>[.p/<W>]`: level L (0–63) holds hashes at tree level 8·L; hash i of tile N is
 *   MTH(D[(N·256 + i)·256^L : (N·256 + i + 1)·256^L]); a full tile has 256 hashes (8,192 bytes), a
 *   partial one W = 1–255 ("Merkle Tree", "Partial Tiles").
 * - `tile/entries/<N>[.p/<W>]`: the entries of level-0 tile N, each prefixed by its length as a
 *   big-endian uint16 ("Log entries"), so an entry is at most 65,535 bytes.
 * - N is written in zero-padded 3-digit path elements, all but the last prefixed `x`
 *   (1234067 → `x001/x234/067`). Parsing is strict: only the canonical form of a coordinate is
 *   accepted (no leading zeros in L or W, no `.p/256`, no extra `x000/` groups), as golang.org/x/mod
 *   sumdb/tlog's ParseTilePath does by re-encoding.
 */
import { HASH_SIZE, ProofError, leafHash, nodeHash, type HashReader, type NodeId } from './merkle';

export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 256;
export const MAX_TILE_LEVEL = 63;
/** Largest entry an entry bundle can carry: its length must fit a uint16. */
export const MAX_ENTRY_SIZE = 0xffff;

/** A hash tile (level 0–63) or, with level 'entries', an entry bundle. width is 1–256; 256 = full. */
export interface TileCoord {
  level: number | 'entries';
  index: number;
  width: number;
}

export class TilePathError extends Error {
  override name = 'TilePathError';
}

export class BundleError extends Error {
  override name = 'BundleError';
}

/** N in 3-digit path elements: 1234067 → "x001/x234/067". */
export function formatTileIndex(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0)
    throw new RangeError(`tile index must be a non-negative safe integer, got ${n}`);
  let s = String(n % 1000).padStart(3, '0');
  for (let rest = Math.floor(n / 1000); rest > 0; rest = Math.floor(rest / 1000)) {
    s = `x${String(rest % 1000).padStart(3, '0')}/${s}`;
  }
  return s;
}

function checkCoord(t: TileCoord): void {
  if (
    t.level !== 'entries' &&
    (!Number.isInteger(t.level) || t.level < 0 || t.level > MAX_TILE_LEVEL)
  ) {
    throw new RangeError(`tile level must be 0–${MAX_TILE_LEVEL}, got ${t.level}`);
  }
  if (!Number.isInteger(t.width) || t.width < 1 || t.width > TILE_WIDTH)
    throw new RangeError(`tile width must be 1–256, got ${t.width}`);
}

/** The path of a tile or bundle relative to the log prefix, e.g. "tile/0/x001/x234/067.p/89". */
export function tilePath(t: TileCoord): string {
  checkCoord(t);
  const partial = t.width === TILE_WIDTH ? '' : `.p/${t.width}`;
  return `tile/${t.level}/${formatTileIndex(t.index)}${partial}`;
}

const DECIMAL = /^(?:0|[1-9][0-9]*)$/;
const GROUP = /^x[0-9]{3}$/;
const LAST = /^[0-9]{3}$/;

/**
 * Parses a path relative to the log prefix ("tile/…"); throws TilePathError for anything that is
 * not the canonical path of a coordinate. Indexes above 2^53 − 1 are refused (no log reaches them).
 */
export function parseTilePath(path: string): TileCoord {
  const bad = (why: string): never => {
    throw new TilePathError(`not a tile path (${why}): ${JSON.stringify(path.slice(0, 200))}`);
  };
  if (typeof path !== 'string' || path.length > 200) bad('too long');
  const parts = path.split('/');
  if (parts.length < 3 || parts[0] !== 'tile') bad('shape');
  let level: number | 'entries';
  if (parts[1] === 'entries') level = 'entries';
  else if (DECIMAL.test(parts[1]) && Number(parts[1]) <= MAX_TILE_LEVEL) level = Number(parts[1]);
  else return bad('level');
  let rest = parts.slice(2);
  let width = TILE_WIDTH;
  const pAt = rest.length - 2;
  if (pAt >= 0 && rest[pAt].endsWith('.p')) {
    const w = rest[rest.length - 1];
    if (!DECIMAL.test(w) || Number(w) < 1 || Number(w) >= TILE_WIDTH) bad('width');
    width = Number(w);
    rest = [...rest.slice(0, pAt), rest[pAt].slice(0, -2)];
  }
  if (!LAST.test(rest[rest.length - 1]) || !rest.slice(0, -1).every((g) => GROUP.test(g)))
    bad('index');
  let index = 0;
  for (const g of rest) {
    index = index * 1000 + Number(g.replace('x', ''));
    if (!Number.isSafeInteger(index)) bad('index out of range');
  }
  const t: TileCoord = { level, index, width };
  if (tilePath(t) !== path) bad('not canonical');
  return t;
}

/** Hashes at tree level 8·level in a tree of `size`: floor(size / 256^level). */
function hashesAtLevel(size: number, level: number): number {
  return Math.floor(size / TILE_WIDTH ** level);
}

/** Width of hash tile (level, index) in a tree of `size`; 0 if that tile does not exist yet. */
export function tileWidthAt(size: number, level: number, index: number): number {
  const n = hashesAtLevel(size, level) - index * TILE_WIDTH;
  return Math.max(0, Math.min(TILE_WIDTH, n));
}

/**
 * Every hash tile of a tree of `size` (full ones, then the partial one, level by level), and with
 * `entries` the bundles too. Empty tiles are never listed. The spec's example, a tree of 70,000:
 * 273 full level-0 tiles and one of width 112, one full level-1 tile and one of width 17, and one
 * level-2 tile of width 1.
 */
export function tilesForSize(size: number, opts: { entries?: boolean } = {}): TileCoord[] {
  return newTiles(0, size, opts);
}

/** The tiles (and bundles) to publish when a tree grows from oldSize to newSize (sumdb/tlog NewTiles). */
export function newTiles(
  oldSize: number,
  newSize: number,
  opts: { entries?: boolean } = {},
): TileCoord[] {
  if (
    !Number.isSafeInteger(oldSize) ||
    !Number.isSafeInteger(newSize) ||
    oldSize < 0 ||
    oldSize > newSize
  ) {
    throw new RangeError(`tree sizes must satisfy 0 ≤ old ≤ new, got ${oldSize} → ${newSize}`);
  }
  const out: TileCoord[] = [];
  for (let level = 0; hashesAtLevel(newSize, level) > 0; level++) {
    const oldN = hashesAtLevel(oldSize, level);
    const newN = hashesAtLevel(newSize, level);
    if (oldN === newN) continue;
    const tiles: TileCoord[] = [];
    for (let n = Math.floor(oldN / TILE_WIDTH); n < Math.floor(newN / TILE_WIDTH); n++)
      tiles.push({ level, index: n, width: TILE_WIDTH });
    const last = Math.floor(newN / TILE_WIDTH);
    const w = newN - last * TILE_WIDTH;
    if (w > 0) tiles.push({ level, index: last, width: w });
    out.push(...tiles);
    if (level === 0 && opts.entries)
      out.push(...tiles.map((t) => ({ ...t, level: 'entries' as const })));
  }
  return out;
}

/** The hash tile, or bundle, that holds leaf `index` in a tree of `size` (tessera EntriesPathForLogIndex). */
export function tileForLeaf(index: number, size: number, level: 0 | 'entries' = 0): TileCoord {
  if (!Number.isSafeInteger(index) || index < 0 || index >= size)
    throw new RangeError(`leaf ${index} is not in a tree of size ${size}`);
  const n = Math.floor(index / TILE_WIDTH);
  return { level, index: n, width: tileWidthAt(size, 0, n) };
}

/** MTH of 2^k consecutive hashes at one level (the subtree a run of tile hashes spans). */
export function hashRun(hashes: readonly Uint8Array[]): Buffer {
  if (hashes.length === 0 || (hashes.length & (hashes.length - 1)) !== 0)
    throw new RangeError('hashRun needs a power-of-two count');
  let level: Buffer[] = hashes.map((h) => Buffer.from(h));
  while (level.length > 1) {
    const up: Buffer[] = [];
    for (let i = 0; i < level.length; i += 2) up.push(nodeHash(level[i], level[i + 1]));
    level = up;
  }
  return level[0];
}

/** Splits tile data into its 32-byte hashes; throws unless the length is exactly width × 32. */
export function tileHashes(data: Uint8Array, width: number): Buffer[] {
  if (data.length !== width * HASH_SIZE)
    throw new ProofError(`tile data is ${data.length} bytes, expected ${width * HASH_SIZE}`);
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Array.from({ length: width }, (_, i) => b.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE));
}

/**
 * All tile levels of a tree from its leaf hashes: levels[L] lists the hashes at tree level 8·L
 * (levels[0] = leaf hashes; levels[L][i] = MTH of the full tile i at level L − 1). Only full tiles
 * are hashed upwards, as the spec requires.
 */
export function tileLevels(leafHashes: readonly Uint8Array[]): Buffer[][] {
  const levels: Buffer[][] = [leafHashes.map((h) => Buffer.from(h))];
  for (let below = levels[0]; below.length >= TILE_WIDTH;) {
    const up: Buffer[] = [];
    for (let i = 0; i + TILE_WIDTH <= below.length; i += TILE_WIDTH)
      up.push(hashRun(below.slice(i, i + TILE_WIDTH)));
    levels.push(up);
    below = up;
  }
  return levels;
}

/** Contents of hash tile `t` (width × 32 bytes) from tileLevels(...). */
export function tileData(levels: readonly (readonly Uint8Array[])[], t: TileCoord): Buffer {
  checkCoord(t);
  if (t.level === 'entries')
    throw new RangeError('tileData is for hash tiles; use encodeBundle for entries');
  const row = levels[t.level] ?? [];
  const start = t.index * TILE_WIDTH;
  if (start + t.width > row.length) throw new RangeError(`tile ${tilePath(t)} is beyond the tree`);
  return Buffer.concat(row.slice(start, start + t.width));
}

/** An entry bundle: each entry as a big-endian uint16 length then its bytes. */
export function encodeBundle(entries: readonly Uint8Array[]): Buffer {
  if (entries.length < 1 || entries.length > TILE_WIDTH)
    throw new BundleError(`a bundle holds 1–256 entries, got ${entries.length}`);
  const parts: Buffer[] = [];
  for (const e of entries) {
    if (e.length > MAX_ENTRY_SIZE)
      throw new BundleError(`an entry is at most ${MAX_ENTRY_SIZE} bytes, got ${e.length}`);
    const len = Buffer.alloc(2);
    len.writeUInt16BE(e.length);
    parts.push(len, Buffer.from(e));
  }
  return Buffer.concat(parts);
}

/**
 * Parses a bundle strictly: whole length-prefixed entries only, nothing after the last, and
 * exactly `width` of them when given (256 for a full bundle).
 */
export function parseBundle(data: Uint8Array, width?: number): Buffer[] {
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const entries: Buffer[] = [];
  let at = 0;
  while (at < b.length) {
    if (entries.length === TILE_WIDTH) throw new BundleError('a bundle holds at most 256 entries');
    if (at + 2 > b.length) throw new BundleError(`truncated length prefix at byte ${at}`);
    const len = b.readUInt16BE(at);
    if (at + 2 + len > b.length) throw new BundleError(`entry ${entries.length} is truncated`);
    entries.push(b.subarray(at + 2, at + 2 + len));
    at += 2 + len;
  }
  if (entries.length === 0) throw new BundleError('an empty bundle is never served');
  if (width !== undefined && entries.length !== width)
    throw new BundleError(`expected ${width} entries, got ${entries.length}`);
  return entries;
}

/** Does a bundle hash to its level-0 tile, entry by entry? */
export function bundleMatchesTile(entries: readonly Uint8Array[], tile: Uint8Array): boolean {
  if (tile.length !== entries.length * HASH_SIZE) return false;
  const t = Buffer.from(tile.buffer, tile.byteOffset, tile.byteLength);
  return entries.every((e, i) =>
    leafHash(e).equals(t.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE)),
  );
}

/** Reads hash tile `t` (full, or partial of width t.width) from wherever tiles live. */
export type TileFetcher = (t: TileCoord & { level: number }) => Uint8Array | Promise<Uint8Array>;

/**
 * The subtree hashes inside one tile: pyramid[r][j] = MTH of tile hashes [j·2^r, (j+1)·2^r), for
 * the runs the tile's width completes. Tiles are immutable, so a pyramid can be kept and reused.
 */
export function tilePyramid(data: Uint8Array, width: number): Buffer[][] {
  const pyramid: Buffer[][] = [tileHashes(data, width)];
  for (let below = pyramid[0]; below.length >= 2;) {
    const up: Buffer[] = [];
    for (let i = 0; i + 1 < below.length; i += 2) up.push(nodeHash(below[i], below[i + 1]));
    pyramid.push(up);
    below = up;
  }
  return pyramid;
}

/** A bounded cache of tile pyramids by tile path (least recently used goes first). */
export class TileCache {
  private readonly map = new Map<string, Promise<Buffer[][]>>();
  constructor(readonly maxTiles = 4096) {}

  get(key: string, load: () => Promise<Buffer[][]>): Promise<Buffer[][]> {
    let p = this.map.get(key);
    if (p) {
      this.map.delete(key);
    } else {
      p = load();
      // A failed read is not remembered.
      p.catch(() => this.map.get(key) === p && this.map.delete(key));
    }
    this.map.set(key, p);
    while (this.map.size > this.maxTiles) this.map.delete(this.map.keys().next().value!);
    return p;
  }
}

/**
 * A HashReader for a tree of `size` backed by its hash tiles: node {level, index} is the subtree
 * hash of 2^(level mod 8) hashes of one tile at level ⌊level/8⌋. Each tile is fetched once per
 * call (or once per `cache`), at the width the tree of `size` has, and its length checked.
 */
export function tileHashReader(size: number, fetch: TileFetcher, cache?: TileCache): HashReader {
  return {
    async readHashes(nodes: readonly NodeId[]): Promise<Buffer[]> {
      const wanted = nodes.map((node) => {
        if ((node.index + 1) * 2 ** node.level > size)
          throw new ProofError(
            `node ${node.level}/${node.index} is not complete in a tree of size ${size}`,
          );
        const level = Math.floor(node.level / TILE_HEIGHT);
        const r = node.level % TILE_HEIGHT;
        const first = node.index * 2 ** r;
        const index = Math.floor(first / TILE_WIDTH);
        const tile = { level, index, width: tileWidthAt(size, level, index) };
        return { tile, path: tilePath(tile), r, j: (first - index * TILE_WIDTH) / 2 ** r };
      });
      const load = (t: TileCoord & { level: number }) => async () =>
        tilePyramid(await fetch(t), t.width);
      const byPath = new Map<string, Promise<Buffer[][]>>();
      for (const w of wanted) {
        if (!byPath.has(w.path))
          byPath.set(w.path, cache ? cache.get(w.path, load(w.tile)) : load(w.tile)());
      }
      const pyramids = new Map(
        await Promise.all([...byPath].map(async ([k, p]) => [k, await p] as const)),
      );
      return wanted.map((w) => pyramids.get(w.path)![w.r][w.j]);
    },
  };
}
