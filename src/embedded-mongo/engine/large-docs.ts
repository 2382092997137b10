/**
 * Large documents out of RAM (issue #14 §3). In a file-backed store, a document of at least
 * `largeDocBytes()` (16 KiB by default: certificate PDFs, GridFS chunks) is not kept in a slab:
 * the store keeps where the journal or a snapshot wrote its bytes (file, offset, length, CRC) and
 * reads them back with a positioned read when needed, through a small byte-bounded LRU cache.
 *
 * How a document gets there: a journal record's large documents move out of RAM once the record
 * is durable (the storage says where its payload landed: storage/blob-file.ts); recovery points
 * them at the file it replays; a compaction's snapshot, once committed, takes over every large
 * document still stored in the version it wrote (in RAM or in the files it replaces), before the
 * old files are deleted. A store without files (memory
 * storage) is never told a place, so it keeps every document in RAM.
 */
import { crc32 } from 'node:zlib';
import type { BlobFile, Placement } from '../storage/blob-file';
import { onCommitted, onPlaced } from '../storage/blob-file';

const DEFAULT_THRESHOLD = 16 << 10;
const DEFAULT_CACHE_BYTES = 8 << 20;

let threshold = Number(process.env.EMBEDDED_MONGO_LARGE_DOC_BYTES) || DEFAULT_THRESHOLD;

/** Documents of at least this many bytes are read from the data files instead of kept in RAM. */
export function largeDocBytes(): number {
  return threshold;
}

/** Changes the threshold and cache size (tests; the env var EMBEDDED_MONGO_LARGE_DOC_BYTES too). */
export function configureLargeDocs(opts: { thresholdBytes?: number; cacheBytes?: number }): void {
  if (opts.thresholdBytes !== undefined) threshold = opts.thresholdBytes;
  if (opts.cacheBytes !== undefined) cache.resize(opts.cacheBytes);
}

/** Where a document's bytes are in a data file. Immutable: a move makes a new one. */
export interface BlobLoc {
  readonly file: BlobFile;
  readonly offset: number;
  readonly length: number;
  readonly crc: number;
  /** Where a compaction moved these same bytes (a view taken before reads them there). */
  movedTo?: BlobLoc;
}

/** What a store needs to hand its large documents over to a file. */
export interface BlobHolder {
  /** Points `key` at `loc` if its bytes in RAM are `bytes` (a newer version stays). */
  spill(key: string, bytes: Uint8Array, loc: BlobLoc): void;
  /** A token of the version stored now if its bytes are `bytes`, else undefined. */
  versionIfSame(key: string, bytes: Uint8Array): object | undefined;
  /** Points `key` at `loc` if the version stored now is still `version`. */
  relocate(key: string, loc: BlobLoc, version: object): void;
}

/** A byte-bounded LRU of recently read documents (Map order is recency). */
class BlobCache {
  private readonly map = new Map<BlobLoc, Buffer>();
  bytes = 0;
  reads = 0;
  hits = 0;
  constructor(private max: number) {}

  get(loc: BlobLoc): Buffer {
    const hit = this.map.get(loc);
    if (hit) {
      this.hits++;
      this.map.delete(loc);
      this.map.set(loc, hit);
      return hit;
    }
    this.reads++;
    const buf = loc.file.read(loc.offset, loc.length, loc.crc);
    if (buf.length <= this.max / 4) {
      this.map.set(loc, buf);
      this.bytes += buf.length;
      this.trim();
    }
    return buf;
  }

  forget(loc: BlobLoc): void {
    const hit = this.map.get(loc);
    if (!hit) return;
    this.map.delete(loc);
    this.bytes -= hit.length;
  }

  resize(max: number): void {
    this.max = max;
    this.trim();
  }

  private trim(): void {
    while (this.bytes > this.max) {
      const [loc, buf] = this.map.entries().next().value as [BlobLoc, Buffer];
      this.map.delete(loc);
      this.bytes -= buf.length;
    }
  }
}

const cache = new BlobCache(DEFAULT_CACHE_BYTES);

/** The document's bytes (a fresh buffer or a cached one; callers never write to it). */
export function readBlob(loc: BlobLoc): Buffer {
  return cache.get(loc);
}

export function forgetBlob(loc: BlobLoc): void {
  cache.forget(loc);
}

export function blobCacheStats(): { bytes: number; reads: number; hits: number } {
  return { bytes: cache.bytes, reads: cache.reads, hits: cache.hits };
}

/** A location for `bytes` at `offset` in `file`. */
export function blobLoc(file: BlobFile, offset: number, bytes: Uint8Array): BlobLoc {
  return { file, offset, length: bytes.length, crc: crc32(bytes) };
}

/**
 * Where `bytes` is in the file when it is a large document lying inside the placed payload
 * (recovery hands views of the payload), else undefined (it stays in RAM).
 */
export function blobIn(place: Placement | undefined, bytes: Uint8Array): BlobLoc | undefined {
  if (!place || bytes.length < threshold) return undefined;
  const p = place.payload;
  const rel = bytes.byteOffset - p.byteOffset;
  if (bytes.buffer !== p.buffer || rel < 0 || rel + bytes.length > p.length) return undefined;
  return blobLoc(place.file, place.offset + rel, bytes);
}

/** One large document written by a journal record: its op's index in the record. */
interface Written {
  op: number;
  holder: BlobHolder;
  key: string;
  length: number;
}

/**
 * The large documents of one journal record being collected (WriteBatch): once the record is
 * durable, each one whose RAM bytes are still those is pointed at the journal instead.
 */
export class LargeWrites {
  private items: Written[] = [];

  note(op: number, holder: BlobHolder, key: string, length: number): void {
    if (length >= threshold) this.items.push({ op, holder, key, length });
  }

  /** Hooks the collected documents to `record` (about to be appended) and starts afresh. */
  attach(record: object): void {
    if (this.items.length === 0) return;
    const items = this.items;
    this.items = [];
    onPlaced(record, (place) => {
      const starts = binaryStarts(place.payload);
      for (const w of items) {
        const start = starts[w.op];
        if (start === undefined) continue;
        const bytes = place.payload.subarray(start, start + w.length);
        if (bytes.length !== w.length) continue;
        w.holder.spill(w.key, bytes, blobLoc(place.file, place.offset + start, bytes));
      }
    });
  }
}

/**
 * The large documents of a snapshot being dumped: where the snapshot writes each one, applied
 * when the snapshot is committed (the old files then stop being read).
 */
export class SnapshotMoves {
  private readonly moves: { holder: BlobHolder; key: string; loc: BlobLoc; version: object }[] = [];

  /** `docs`: a batch record's large documents, at byte `at` of its one op's concatenated bytes. */
  attach(record: object, holder: BlobHolder, docs: { key: string; at: number; length: number }[]) {
    if (docs.length === 0) return;
    onPlaced(record, (place) => {
      const start = binaryStarts(place.payload)[0];
      if (start === undefined) return;
      for (const d of docs) {
        const bytes = place.payload.subarray(start + d.at, start + d.at + d.length);
        // The snapshot has the dump's version; moved only if that is still the stored one.
        const version = bytes.length === d.length && holder.versionIfSame(d.key, bytes);
        if (!version) continue;
        this.moves.push({
          holder,
          key: d.key,
          loc: blobLoc(place.file, place.offset + start + d.at, bytes),
          version,
        });
      }
    });
  }

  /** Hooks the moves to the dump (`records`): run once the snapshot is the recovery base. */
  commitWith(records: object): void {
    onCommitted(records, () => {
      for (const m of this.moves) m.holder.relocate(m.key, m.loc, m.version);
      this.moves.length = 0;
    });
  }
}

/**
 * For a record {ops: [...]} (what WriteBatch and dump write), the payload offset of each op's
 * `b` or `bs` binary data, by op index (undefined where an op has none or the shape is other).
 */
export function binaryStarts(p: Buffer): (number | undefined)[] {
  const out: (number | undefined)[] = [];
  const end = p.readInt32LE(0) - 1;
  let q = 4;
  while (q < end) {
    const type = p[q]!;
    const nameStart = q + 1;
    let z = nameStart;
    while (p[z] !== 0) z++;
    const name = p.toString('latin1', nameStart, z);
    const v = z + 1;
    if (type === 0x04 && name === 'ops') {
      const arrEnd = v + p.readInt32LE(v) - 1;
      let a = v + 4;
      while (a < arrEnd) {
        if (p[a] !== 0x03) return out;
        let y = a + 1;
        while (p[y] !== 0) y++;
        const doc = y + 1;
        out.push(binaryIn(p, doc));
        a = doc + p.readInt32LE(doc);
      }
      return out;
    }
    const size = elementSize(p, v, type);
    if (size < 0) return out;
    q = v + size;
  }
  return out;
}

/** Data offset of the `b` or `bs` binary element of the document at `d`. */
function binaryIn(p: Buffer, d: number): number | undefined {
  const end = d + p.readInt32LE(d) - 1;
  let q = d + 4;
  while (q < end) {
    const type = p[q]!;
    let z = q + 1;
    while (p[z] !== 0) z++;
    const v = z + 1;
    if (type === 0x05) {
      const name = p.toString('latin1', q + 1, z);
      if (name === 'b' || name === 'bs') return v + 5;
    }
    const size = elementSize(p, v, type);
    if (size < 0) return undefined;
    q = v + size;
  }
  return undefined;
}

function elementSize(p: Buffer, v: number, type: number): number {
  switch (type) {
    case 0x01:
    case 0x09:
    case 0x11:
    case 0x12:
      return 8;
    case 0x02:
    case 0x0d:
    case 0x0e:
      return 4 + p.readInt32LE(v);
    case 0x03:
    case 0x04:
    case 0x0f:
      return p.readInt32LE(v);
    case 0x05:
      return 5 + p.readInt32LE(v);
    case 0x06:
    case 0x0a:
    case 0xff:
    case 0x7f:
      return 0;
    case 0x07:
      return 12;
    case 0x08:
      return 1;
    case 0x10:
      return 4;
    case 0x13:
      return 16;
    default:
      return -1;
  }
}
