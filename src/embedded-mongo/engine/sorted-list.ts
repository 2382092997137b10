/**
 * An ordered multiset of (key, id) pairs kept as a list of small sorted chunks: O(log n) search,
 * inserts and deletes move at most one chunk's worth of entries, and in-order scans are plain
 * array walks. Simpler than a B-tree and fast enough for millions of index entries.
 *
 * Each chunk holds its keys and ids in two parallel arrays, so an entry costs two array slots
 * (a small-integer key is stored inline) instead of an object per entry: at a million entries
 * that is the difference between ~16 and ~100 bytes each.
 */
const MAX_CHUNK = 512;

interface Chunk<K> {
  keys: K[];
  ids: string[];
}

export class SortedList<K> {
  private chunks: Chunk<K>[] = [];
  private count = 0;

  /** `compare` orders keys; entries with equal keys are ordered by id. */
  constructor(private readonly compare: (a: K, b: K) => number) {}

  get size(): number {
    return this.count;
  }

  /** Builds from entries already in (key, id) order. */
  static fromSorted<K>(keys: K[], ids: string[], compare: (a: K, b: K) => number): SortedList<K> {
    const list = new SortedList<K>(compare);
    for (let i = 0; i < keys.length; i += MAX_CHUNK / 2)
      list.chunks.push({
        keys: keys.slice(i, i + MAX_CHUNK / 2),
        ids: ids.slice(i, i + MAX_CHUNK / 2),
      });
    list.count = keys.length;
    return list;
  }

  /** Entry order: key, then id. */
  compareEntries(ka: K, ia: string, kb: K, ib: string): number {
    const c = this.compare(ka, kb);
    if (c !== 0) return c;
    return ia < ib ? -1 : ia > ib ? 1 : 0;
  }

  insert(key: K, id: string): void {
    if (this.chunks.length === 0) {
      this.chunks.push({ keys: [key], ids: [id] });
      this.count = 1;
      return;
    }
    const ci = this.chunkFor(key, id);
    const chunk = this.chunks[ci]!;
    let lo = 0;
    let hi = chunk.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.compareEntries(chunk.keys[mid]!, chunk.ids[mid]!, key, id) <= 0) lo = mid + 1;
      else hi = mid;
    }
    chunk.keys.splice(lo, 0, key);
    chunk.ids.splice(lo, 0, id);
    this.count++;
    if (chunk.keys.length > MAX_CHUNK) {
      // An entry appended after the last one (keys that grow, as counters and times do) leaves the
      // full chunk full; otherwise it splits in halves. Both halves are copied to their exact
      // length: a split array keeps the capacity it grew to, and chunks filled in key order used
      // to stay half full with twice that capacity (about 40 bytes an entry instead of 16).
      const at = lo === MAX_CHUNK && ci === this.chunks.length - 1 ? MAX_CHUNK : MAX_CHUNK / 2;
      const { keys, ids } = chunk;
      this.chunks[ci] = { keys: keys.slice(0, at), ids: ids.slice(0, at) };
      this.chunks.splice(ci + 1, 0, { keys: keys.slice(at), ids: ids.slice(at) });
    }
  }

  /** Removes the entry equal to (key, id); returns whether one was found. */
  delete(key: K, id: string): boolean {
    if (this.chunks.length === 0) return false;
    const [ci, i] = this.firstPos((k, d) => this.compareEntries(k, d, key, id));
    if (ci >= this.chunks.length) return false;
    const chunk = this.chunks[ci]!;
    if (i >= chunk.keys.length || this.compareEntries(chunk.keys[i]!, chunk.ids[i]!, key, id) !== 0)
      return false;
    chunk.keys.splice(i, 1);
    chunk.ids.splice(i, 1);
    this.count--;
    if (chunk.keys.length === 0) this.chunks.splice(ci, 1);
    return true;
  }

  /**
   * Ids of the entries whose keys lie in a range, in order (or reversed). `lowerCmp(k)` must be
   * negative while k is below the range; `upperCmp(k)` positive once k is above it.
   */
  *range(
    lowerCmp: ((k: K) => number) | null,
    upperCmp: ((k: K) => number) | null,
    reverse = false,
  ): Generator<string> {
    if (!reverse) {
      let [ci, i] = lowerCmp ? this.firstPos(lowerCmp) : [0, 0];
      for (; ci < this.chunks.length; ci++, i = 0) {
        const { keys, ids } = this.chunks[ci]!;
        for (; i < keys.length; i++) {
          if (upperCmp && upperCmp(keys[i]!) > 0) return;
          yield ids[i]!;
        }
      }
    } else {
      let [ci, i] = upperCmp
        ? this.lastPos(upperCmp)
        : [this.chunks.length - 1, (this.chunks.at(-1)?.keys.length ?? 0) - 1];
      for (; ci >= 0; ci--, i = ci >= 0 ? this.chunks[ci]!.keys.length - 1 : 0) {
        const { keys, ids } = this.chunks[ci]!;
        for (; i >= 0; i--) {
          if (lowerCmp && lowerCmp(keys[i]!) < 0) return;
          yield ids[i]!;
        }
      }
    }
  }

  /** Every entry in order, as [key, id] pairs (for tests and diagnostics). */
  *entries(): Generator<[K, string]> {
    for (const { keys, ids } of this.chunks)
      for (let i = 0; i < keys.length; i++) yield [keys[i]!, ids[i]!];
  }

  /** Last chunk whose first entry is <= (key, id). */
  private chunkFor(key: K, id: string): number {
    let lo = 0;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      const c = this.chunks[mid]!;
      if (this.compareEntries(c.keys[0]!, c.ids[0]!, key, id) <= 0) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Position of the first entry with cmp(key, id) >= 0. */
  private firstPos(cmp: (k: K, id: string) => number): [number, number] {
    let lo = 0;
    let hi = this.chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const { keys, ids } = this.chunks[mid]!;
      const last = keys.length - 1;
      if (cmp(keys[last]!, ids[last]!) < 0) lo = mid + 1;
      else hi = mid;
    }
    if (lo === this.chunks.length) return [lo, 0];
    const { keys, ids } = this.chunks[lo]!;
    let a = 0;
    let b = keys.length;
    while (a < b) {
      const m = (a + b) >> 1;
      if (cmp(keys[m]!, ids[m]!) < 0) a = m + 1;
      else b = m;
    }
    return [lo, a];
  }

  /** Position of the last entry with cmp(key) <= 0. */
  private lastPos(cmp: (k: K) => number): [number, number] {
    let lo = -1;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (cmp(this.chunks[mid]!.keys[0]!) <= 0) lo = mid;
      else hi = mid - 1;
    }
    if (lo < 0) return [-1, -1];
    const { keys } = this.chunks[lo]!;
    let a = 0;
    let b = keys.length;
    while (a < b) {
      const m = (a + b) >> 1;
      if (cmp(keys[m]!) <= 0) a = m + 1;
      else b = m;
    }
    return [lo, a - 1];
  }
}
