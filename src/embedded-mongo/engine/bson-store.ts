/**
 * A collection's documents as BSON bytes: packed into large slabs and addressed by a number, so a
 * small document costs its bytes plus one id-table slot instead of a tree of JS objects. Documents
 * are decoded on demand (a small cache keeps the recently used ones) and go back to clients as
 * the bytes they were stored as.
 *
 * Slabs are append-only: bytes once written never change, so a view taken now (for a snapshot or
 * an index build) stays valid while writes go on. Space left by replaced and removed documents is
 * reclaimed by moving the live documents of mostly-dead slabs, a few at a time (see `reclaim`).
 *
 * A large document of a file-backed store is not in a slab but where a data file holds it (see
 * large-docs.ts): its location is negative, -(index + 1) into `blobs`, and its bytes are read on
 * demand (never kept in the decoded-document cache).
 */
import { deserialize, serialize, setInternalBufferSize, calculateObjectSize, Double } from 'bson';
import { valueSize } from './bson-bytes';
import { IdTable } from './id-table';
import { CHECK_EVERY, PAUSE, type Sliced } from './slices';
import type { Doc } from './values';
import { forgetBlob, readBlob, type BlobHolder, type BlobLoc } from './large-docs';

const SLAB_BYTES = 4 << 20;
/** Documents at least this big get a slab of their own (freed as soon as they are). */
const OWN_SLAB_BYTES = 256 << 10;
const CACHE_DOCS = 2048;

const FIDELITY = {
  promoteValues: false,
  promoteLongs: false,
  promoteBuffers: false,
  bsonRegExp: false,
  validation: { utf8: true },
} as const;

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/**
 * Decodes BSON keeping every number's type: int32 and double come back as JS numbers except an
 * integer-valued double in the int32 range (or -0), which stays a bson Double, because a plain JS
 * number of that value would be written back as int32. int64 stays Long, Decimal128 Decimal128.
 */
export function decodeBson(buf: Uint8Array, index = 0): Doc {
  const n =
    buf[index]! | (buf[index + 1]! << 8) | (buf[index + 2]! << 16) | (buf[index + 3]! << 24);
  // A view of exactly the document: bson's `index` option is several times slower on a big buffer.
  const view = index === 0 && n === buf.length ? buf : buf.subarray(index, index + n);
  return normalize(deserialize(view, FIDELITY)) as Doc;
}

/**
 * Decodes only the named top-level fields of a stored document (what a filter or an index reads),
 * as decodeBson would decode them; the other elements are stepped over by their sizes. Returns
 * undefined for an element type it cannot size, so the caller decodes the whole document.
 */
export function decodeTopFields(
  buf: Uint8Array,
  index: number,
  names: ReadonlySet<string>,
): Doc | undefined {
  const lengths = nameLengths(names);
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const end = index + b.readInt32LE(index) - 1;
  const picked: [number, number][] = [];
  let total = 5;
  let p = index + 4;
  // Scalars are decoded here; a document, array or rarer type goes through bson (below).
  const direct: Doc = {};
  let complex = false;
  while (p < end) {
    const start = p;
    const type = b[p++]!;
    const nameStart = p;
    while (b[p] !== 0) p++;
    const name = lengths.has(p - nameStart) ? b.toString('utf8', nameStart, p) : undefined;
    const wanted = name !== undefined && names.has(name);
    if (wanted && name === '__proto__') return undefined; // never a key of a plain object
    p++;
    const size = valueSize(b, p, type);
    if (size < 0) return undefined;
    if (wanted) {
      const v = complex ? NOT_SCALAR : scalarAt(b, p, type, size);
      if (v === NOT_SCALAR) complex = true;
      else direct[name] = v;
      picked.push([start, p + size]);
      total += p + size - start;
    }
    p += size;
  }
  if (!complex) return direct;
  const mini = Buffer.allocUnsafe(total);
  mini.writeInt32LE(total, 0);
  let w = 4;
  for (const [a, b] of picked) {
    mini.set(buf.subarray(a, b), w);
    w += b - a;
  }
  mini[w] = 0;
  return normalize(deserialize(mini, FIDELITY)) as Doc;
}

/** topScalar's answers besides a value: the field is absent, or not a scalar decoded here. */
export const ABSENT: unique symbol = Symbol('absent');
export const NOT_SCALAR_FIELD: unique symbol = Symbol('not a scalar');

/**
 * One top-level field of a stored document read straight from its bytes (an index build reads
 * only its key, with no object made): the value as decodeBson gives it when it is a scalar
 * scalarAt decodes, ABSENT when the document has no such field, NOT_SCALAR_FIELD otherwise
 * (arrays, documents, rarer types, non-ASCII strings: the caller decodes those).
 */
export function topScalar(
  b: Buffer,
  index: number,
  name: Buffer,
): unknown | typeof ABSENT | typeof NOT_SCALAR_FIELD {
  const end = index + b.readInt32LE(index) - 1;
  const n = name.length;
  let p = index + 4;
  while (p < end) {
    const type = b[p++]!;
    const nameStart = p;
    while (b[p] !== 0) p++;
    const match = p - nameStart === n && b.compare(name, 0, n, nameStart, p) === 0;
    p++;
    const size = valueSize(b, p, type);
    if (size < 0) return NOT_SCALAR_FIELD;
    if (match) {
      const v = scalarAt(b, p, type, size);
      return v === NOT_SCALAR ? NOT_SCALAR_FIELD : v;
    }
    p += size;
  }
  return ABSENT;
}

/** UTF-8 byte lengths of the names, so most elements are skipped without decoding their name. */
const lengthsOf = new WeakMap<ReadonlySet<string>, Set<number>>();
function nameLengths(names: ReadonlySet<string>): Set<number> {
  let l = lengthsOf.get(names);
  if (!l) {
    l = new Set([...names].map((n) => Buffer.byteLength(n)));
    lengthsOf.set(names, l);
  }
  return l;
}

const NOT_SCALAR = Symbol('not a scalar');

/** A scalar element's value as decodeBson gives it, or NOT_SCALAR. */
function scalarAt(b: Buffer, p: number, type: number, size: number): unknown {
  switch (type) {
    case 0x01: {
      const n = b.readDoubleLE(p);
      return needsDoubleWrapper(n) ? new Double(n) : n;
    }
    case 0x02:
      // Only plain ASCII is decoded here; other strings go through bson's UTF-8 validation.
      for (let i = p + 4; i < p + size - 1; i++) if (b[i]! >= 0x80) return NOT_SCALAR;
      return b.toString('latin1', p + 4, p + size - 1);
    case 0x08:
      return b[p] === 1 ? true : b[p] === 0 ? false : NOT_SCALAR;
    case 0x09:
      return new Date(Number(b.readBigInt64LE(p)));
    case 0x0a:
      return null;
    case 0x10:
      return b.readInt32LE(p);
    default:
      return NOT_SCALAR;
  }
}

/** True for a double that would not survive as a JS number (serialize would write int32). */
export function needsDoubleWrapper(n: number): boolean {
  return (Number.isInteger(n) && n >= INT32_MIN && n <= INT32_MAX) || Object.is(n, -0);
}

function normalize(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = normalize(v[i]);
    return v;
  }
  const t = (v as { _bsontype?: string })._bsontype;
  if (t === 'Int32') return (v as { value: number }).value;
  if (t === 'Double') {
    const n = (v as { value: number }).value;
    return needsDoubleWrapper(n) ? v : n;
  }
  if (t === 'BSONSymbol') return String((v as { value: string }).value);
  if (t !== undefined || v instanceof Date || v instanceof Uint8Array || v instanceof RegExp)
    return v;
  const o = v as Doc;
  for (const k in o) {
    const x = o[k];
    if (x !== null && typeof x === 'object') o[k] = normalize(x);
  }
  return o;
}

/** A document as BSON (growing bson's scratch buffer for one near the 16 MiB limit). */
export function encodeBson(doc: Doc): Uint8Array {
  try {
    return serialize(doc);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    setInternalBufferSize(calculateObjectSize(doc) + 1024);
    return serialize(doc);
  }
}

/** A consistent view of the documents at one moment: their keys and where their bytes are. */
export interface StoreView {
  keys: string[];
  bytes(i: number): Uint8Array;
  decode(i: number): Doc;
  /** Only the named top-level fields (see decodeTopFields). */
  decodeFields(i: number, names: ReadonlySet<string>): Doc;
  /** One top-level field (see topScalar); `name` is its UTF-8 bytes. */
  field(i: number, name: Buffer): unknown;
  readonly length: number;
}

interface RamVersion {
  slab: Buffer;
  loc: number;
}

export class BsonStore implements BlobHolder {
  private readonly locs = new IdTable();
  /** Large documents' places in the data files (a location < 0 is -(index + 1)). */
  private readonly blobs: (BlobLoc | null)[] = [];
  private readonly freeBlobs: number[] = [];
  private blobBytes = 0;
  private disposed = false;
  private readonly slabs: (Buffer | null)[] = [];
  /** Live bytes per slab. */
  private readonly live: number[] = [];
  private readonly freeSlabs: number[] = [];
  private current = -1;
  private fill = 0;
  private readonly cache = new Map<string, Doc>();
  private deadBytes = 0;
  private reclaiming = false;

  get size(): number {
    return this.locs.size;
  }

  has(key: string): boolean {
    return this.locs.has(key);
  }

  /** The decoded document (shared: callers never mutate it). */
  get(key: string): Doc | undefined {
    const cached = this.cache.get(key);
    if (cached) return cached;
    const loc = this.locs.get(key);
    if (loc === undefined) return undefined;
    return loc < 0 ? this.decodeAt(loc) : this.remember(key, this.decodeAt(loc));
  }

  /** The document decoded afresh, not cached (scans: each document is tested once). */
  decode(key: string): Doc | undefined {
    const cached = this.cache.get(key);
    if (cached) return cached;
    const loc = this.locs.get(key);
    return loc === undefined ? undefined : this.decodeAt(loc);
  }

  /** Only the named top-level fields of a document (never cached: it is not the document). */
  decodeFields(key: string, names: ReadonlySet<string>): Doc | undefined {
    const cached = this.cache.get(key);
    if (cached) return cached;
    const loc = this.locs.get(key);
    if (loc === undefined) return undefined;
    const [slab, off] = this.placeOf(loc);
    return decodeTopFields(slab, off, names) ?? decodeBson(slab, off);
  }

  /** The stored bytes of a document (a view into its slab). */
  bytes(key: string): Uint8Array | undefined {
    const loc = this.locs.get(key);
    return loc === undefined ? undefined : this.bytesAt(loc);
  }

  /** Byte size of a stored document. */
  sizeOf(key: string): number {
    const loc = this.locs.get(key);
    return loc === undefined ? 0 : this.lengthAt(loc);
  }

  /** Stores a document: its bytes when known (exactly as they came), or its encoding. */
  set(key: string, doc: Doc | null, bson?: Uint8Array): void {
    const bytes = bson ?? encodeBson(doc!);
    const old = this.locs.get(key);
    if (old !== undefined) this.release(old);
    this.locs.set(key, this.write(bytes));
    // Not cached: during a bulk load each written document would outlive a few thousand more in the
    // cache, be promoted to the old generation and die there, leaving the heap fragmented (the
    // heap after a full GC was twice what it held). A read decodes it again when it is wanted.
    this.cache.delete(key);
  }

  /**
   * Stores the bytes of a document that must be new (recovery replaying inserts), without `set`'s
   * release of an old location and cache upkeep. Returns false, storing nothing, for a key already there.
   */
  addNew(key: string, bson: Uint8Array): boolean {
    if (this.locs.has(key)) return false;
    this.locs.add(key, this.write(bson));
    return true;
  }

  delete(key: string): boolean {
    const old = this.locs.delete(key);
    if (old === undefined) return false;
    this.release(old);
    this.cache.delete(key);
    return true;
  }

  /**
   * Every stored document's bytes in key order, walking the table's own slots (no lookup per
   * document, which at a million documents was most of a scan's cost in the store); like
   * `keys()`, documents written during the walk may be reached, removed ones are not.
   */
  *allBytes(): Generator<Uint8Array, void, void> {
    for (const loc of this.locs.values()) yield this.bytesAt(loc);
  }

  keys(): Generator<string, void, void> {
    return this.locs.keys();
  }

  /** Decoded documents (each one decoded as it is reached). */
  *values(): Generator<Doc, void, void> {
    for (const key of this.locs.keys()) {
      const d = this.get(key);
      if (d) yield d;
    }
  }

  *entries(): Generator<[string, Doc], void, void> {
    for (const key of this.locs.keys()) {
      const d = this.get(key);
      if (d) yield [key, d];
    }
  }

  [Symbol.iterator](): Generator<[string, Doc], void, void> {
    return this.entries();
  }

  /** Keys and locations now; slabs are append-only, so the view reads this moment's bytes later too. */
  view(): StoreView {
    const { keys, locs } = this.locs.snapshot();
    const slabs = this.slabs.slice();
    const blobs = this.blobs.slice();
    const at = (i: number): [Buffer, number] => {
      const loc = locs[i]!;
      if (loc < 0) return [this.viewBlob(blobs[-loc - 1]!, keys[i]!), 0];
      return [slabs[Math.floor(loc / SLAB_BYTES)]!, loc % SLAB_BYTES];
    };
    return {
      keys,
      length: keys.length,
      bytes: (i) => {
        const [slab, off] = at(i);
        return slab.subarray(off, off + slab.readInt32LE(off));
      },
      decode: (i) => {
        const [slab, off] = at(i);
        return decodeBson(slab, off);
      },
      decodeFields: (i, names) => {
        const [slab, off] = at(i);
        return decodeTopFields(slab, off, names) ?? decodeBson(slab, off);
      },
      field: (i, name) => {
        const [slab, off] = at(i);
        return topScalar(slab, off, name);
      },
    };
  }

  /** Total bytes of the documents held (in RAM slabs and in the data files). */
  get dataBytes(): number {
    return this.ramBytes + this.blobBytes;
  }

  /** Bytes of the documents held in RAM slabs. */
  get ramBytes(): number {
    let n = 0;
    for (const b of this.live) n += b;
    return n;
  }

  /** Bytes and count of the large documents read from the data files. */
  get diskBytes(): number {
    return this.blobBytes;
  }

  get diskDocs(): number {
    return this.blobs.length - this.freeBlobs.length;
  }

  // ---- large documents in the data files (large-docs.ts) ------------------------------------

  spill(key: string, bytes: Uint8Array, loc: BlobLoc): void {
    const cur = this.locs.get(key);
    if (this.disposed || cur === undefined || cur < 0 || this.lengthAt(cur) !== bytes.length)
      return;
    if (Buffer.compare(this.bytesAt(cur), bytes) !== 0) return; // replaced since: stays
    this.locs.set(key, this.addBlob(loc));
    this.release(cur);
    this.cache.delete(key);
  }

  versionIfSame(key: string, bytes: Uint8Array): object | undefined {
    const cur = this.locs.get(key);
    if (this.disposed || cur === undefined || this.lengthAt(cur) !== bytes.length) return undefined;
    if (Buffer.compare(this.bytesAt(cur), bytes) !== 0) return undefined;
    return this.versionAt(cur);
  }

  relocate(key: string, loc: BlobLoc, version: object): void {
    const cur = this.locs.get(key);
    if (this.disposed || cur === undefined) return;
    const now = this.versionAt(cur);
    const was = version as BlobLoc | RamVersion;
    const same =
      now === was ||
      ('slab' in now && 'slab' in was && now.slab === was.slab && now.loc === was.loc);
    if (!same) return; // written again since the snapshot's copy
    if (cur < 0) this.blobs[-cur - 1]!.movedTo = loc;
    this.locs.set(key, this.addBlob(loc));
    this.release(cur);
    this.cache.delete(key);
  }

  /**
   * What identifies the stored version at `loc` exactly: its BlobLoc (a new one per move), or its
   * slab buffer and place in it (a slab's places are never reused; a freed slab's number is, with
   * a new buffer).
   */
  private versionAt(loc: number): BlobLoc | RamVersion {
    if (loc < 0) return this.blobs[-loc - 1]!;
    return { slab: this.slabs[Math.floor(loc / SLAB_BYTES)]!, loc };
  }

  /** Recovery: a new document whose bytes stay in the file replayed. False if the key is there. */
  addNewBlob(key: string, loc: BlobLoc): boolean {
    if (this.locs.has(key)) return false;
    this.locs.add(key, this.addBlob(loc));
    return true;
  }

  /** Recovery: a document (new or replaced) whose bytes stay in the file replayed. */
  setBlob(key: string, loc: BlobLoc): void {
    const old = this.locs.get(key);
    this.locs.set(key, this.addBlob(loc));
    if (old !== undefined) this.release(old);
    this.cache.delete(key);
  }

  /**
   * The collection is gone: its file locations no longer hold old files open (a reader left
   * with it, such as a cursor, still reads them until the file is closed, then gets an error).
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const b of this.blobs) b?.file.unref();
  }

  private addBlob(loc: BlobLoc): number {
    const i = this.freeBlobs.pop() ?? this.blobs.length;
    this.blobs[i] = loc;
    loc.file.ref();
    this.blobBytes += loc.length;
    return -(i + 1);
  }

  /**
   * A view's large document. A compaction may have moved it since the view was taken and closed
   * the old file: the same bytes are then where it moved them.
   */
  private viewBlob(loc: BlobLoc, key: string): Buffer {
    let at: BlobLoc | undefined = loc;
    while (at && at.file.closed) at = at.movedTo;
    if (!at) throw new Error(`document ${key} is no longer where this view read it`);
    return readBlob(at);
  }

  /** The buffer and offset of a document's bytes. */
  private placeOf(loc: number): [Buffer, number] {
    if (loc < 0) return [readBlob(this.blobs[-loc - 1]!), 0];
    return [this.slabs[Math.floor(loc / SLAB_BYTES)]!, loc % SLAB_BYTES];
  }

  private remember(key: string, doc: Doc): Doc {
    if (this.cache.size >= CACHE_DOCS) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, doc);
    return doc;
  }

  private decodeAt(loc: number): Doc {
    const [slab, off] = this.placeOf(loc);
    return decodeBson(slab, off);
  }

  private bytesAt(loc: number): Uint8Array {
    if (loc < 0) return readBlob(this.blobs[-loc - 1]!);
    const slab = this.slabs[Math.floor(loc / SLAB_BYTES)]!;
    const off = loc % SLAB_BYTES;
    return slab.subarray(off, off + slab.readInt32LE(off));
  }

  private lengthAt(loc: number): number {
    if (loc < 0) return this.blobs[-loc - 1]!.length;
    return this.slabs[Math.floor(loc / SLAB_BYTES)]!.readInt32LE(loc % SLAB_BYTES);
  }

  private newSlab(size: number): number {
    const slab = Buffer.allocUnsafeSlow(size);
    const i = this.freeSlabs.pop() ?? this.slabs.length;
    this.slabs[i] = slab;
    this.live[i] = 0;
    return i;
  }

  private write(bytes: Uint8Array): number {
    const n = bytes.length;
    let slab: number;
    let off: number;
    if (n >= OWN_SLAB_BYTES) {
      // One slab per big document; a slab index is what addresses it, so its size may exceed SLAB_BYTES
      // only in its own slot (offset 0).
      slab = this.newSlab(n);
      off = 0;
    } else {
      if (this.current < 0 || this.fill + n > SLAB_BYTES) {
        this.current = this.newSlab(SLAB_BYTES);
        this.fill = 0;
      }
      slab = this.current;
      off = this.fill;
      this.fill += n;
    }
    this.slabs[slab]!.set(bytes, off);
    this.live[slab]! += n;
    return slab * SLAB_BYTES + off;
  }

  private release(loc: number): void {
    if (loc < 0) {
      const b = this.blobs[-loc - 1]!;
      this.blobs[-loc - 1] = null;
      this.freeBlobs.push(-loc - 1);
      this.blobBytes -= b.length;
      forgetBlob(b);
      if (!this.disposed) b.file.unref();
      return;
    }
    const slab = Math.floor(loc / SLAB_BYTES);
    const n = this.lengthAt(loc);
    this.live[slab]! -= n;
    if (this.live[slab] === 0 && slab !== this.current) {
      this.slabs[slab] = null;
      this.freeSlabs.push(slab);
    } else if (this.slabs[slab]!.length === SLAB_BYTES) this.deadBytes += n;
    if (this.deadBytes > Math.max(SLAB_BYTES * 4, this.dataBytesApprox())) this.scheduleReclaim();
  }

  private dataBytesApprox(): number {
    return this.locs.size * 64;
  }

  private scheduleReclaim(): void {
    if (this.reclaiming) return;
    this.reclaiming = true;
    const job = this.reclaim();
    const step = (): void => {
      const end = Date.now() + 5;
      for (;;) {
        const r = job.next();
        if (r.done) {
          this.reclaiming = false;
          return;
        }
        if (Date.now() >= end) break;
      }
      setImmediate(step).unref?.();
    };
    setImmediate(step).unref?.();
  }

  /**
   * Moves the live documents of shared slabs that are more than half dead into the current slab,
   * in slices (the table's walk sees entries set during it in place, so writes may go on); the
   * emptied slabs are then freed by `release`.
   */
  *reclaim(): Sliced<void> {
    const condemned = new Set<number>();
    this.slabs.forEach((s, i) => {
      if (s && i !== this.current && s.length === SLAB_BYTES && this.live[i]! < SLAB_BYTES / 2)
        condemned.add(i);
    });
    this.deadBytes = 0;
    if (condemned.size === 0) return;
    let n = 0;
    for (const [key, loc] of this.locs.entries()) {
      if (condemned.has(Math.floor(loc / SLAB_BYTES))) {
        const bytes = Buffer.from(this.bytesAt(loc)); // copied: the write may free its slab
        this.release(loc);
        this.locs.set(key, this.write(bytes));
      }
      if ((++n & (CHECK_EVERY - 1)) === 0) yield PAUSE;
    }
  }
}
