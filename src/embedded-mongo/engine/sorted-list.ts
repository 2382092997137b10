/**
 * An ordered multiset kept as a list of small sorted chunks: O(log n) search, inserts and
 * deletes move at most one chunk's worth of entries, and in-order scans are plain array walks.
 * Simpler than a B-tree and fast enough for millions of index entries.
 */
const MAX_CHUNK = 512;

export class SortedList<T> {
  private chunks: T[][] = [];
  private count = 0;

  constructor(private readonly compare: (a: T, b: T) => number) {}

  get size(): number {
    return this.count;
  }

  /** Builds from entries in any order (used for bulk index builds, e.g. after recovery). */
  static from<T>(items: T[], compare: (a: T, b: T) => number): SortedList<T> {
    return SortedList.fromSorted(items.sort(compare), compare);
  }

  /** Builds from entries already in order. */
  static fromSorted<T>(items: T[], compare: (a: T, b: T) => number): SortedList<T> {
    const list = new SortedList<T>(compare);
    for (let i = 0; i < items.length; i += MAX_CHUNK / 2)
      list.chunks.push(items.slice(i, i + MAX_CHUNK / 2));
    list.count = items.length;
    return list;
  }

  insert(item: T): void {
    if (this.chunks.length === 0) {
      this.chunks.push([item]);
      this.count = 1;
      return;
    }
    const ci = this.chunkFor(item);
    const chunk = this.chunks[ci];
    chunk.splice(upperBound(chunk, item, this.compare), 0, item);
    this.count++;
    if (chunk.length > MAX_CHUNK) this.chunks.splice(ci + 1, 0, chunk.splice(MAX_CHUNK / 2));
  }

  /** Removes one entry equal (compare === 0) to item; returns whether one was found. */
  delete(item: T): boolean {
    if (this.chunks.length === 0) return false;
    const [ci, i] = this.lowerBoundPos(item);
    if (ci >= this.chunks.length) return false;
    const chunk = this.chunks[ci];
    if (i >= chunk.length || this.compare(chunk[i], item) !== 0) return false;
    chunk.splice(i, 1);
    this.count--;
    if (chunk.length === 0) this.chunks.splice(ci, 1);
    return true;
  }

  /**
   * Entries e with lower <= e (or < when exclusive) and e <= upper, in order. `lowerCmp(e)` must be
   * negative while e is below the range; `upperCmp(e)` positive once e is above it.
   */
  *range(
    lowerCmp: ((e: T) => number) | null,
    upperCmp: ((e: T) => number) | null,
    reverse = false,
  ): Generator<T> {
    if (!reverse) {
      let [ci, i] = lowerCmp ? this.firstPos(lowerCmp) : [0, 0];
      for (; ci < this.chunks.length; ci++, i = 0) {
        const chunk = this.chunks[ci];
        for (; i < chunk.length; i++) {
          if (upperCmp && upperCmp(chunk[i]) > 0) return;
          yield chunk[i];
        }
      }
    } else {
      let [ci, i] = upperCmp
        ? this.lastPos(upperCmp)
        : [this.chunks.length - 1, (this.chunks.at(-1)?.length ?? 0) - 1];
      for (; ci >= 0; ci--, i = ci >= 0 ? this.chunks[ci].length - 1 : 0) {
        const chunk = this.chunks[ci];
        for (; i >= 0; i--) {
          if (lowerCmp && lowerCmp(chunk[i]) < 0) return;
          yield chunk[i];
        }
      }
    }
  }

  *[Symbol.iterator](): Generator<T> {
    for (const chunk of this.chunks) yield* chunk;
  }

  private chunkFor(item: T): number {
    // Last chunk whose first element is <= item.
    let lo = 0;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.compare(this.chunks[mid][0], item) <= 0) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private lowerBoundPos(item: T): [number, number] {
    return this.firstPos((e) => this.compare(e, item));
  }

  /** Position of the first entry e with cmp(e) >= 0. */
  private firstPos(cmp: (e: T) => number): [number, number] {
    let lo = 0;
    let hi = this.chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const chunk = this.chunks[mid];
      if (cmp(chunk[chunk.length - 1]) < 0) lo = mid + 1;
      else hi = mid;
    }
    if (lo === this.chunks.length) return [lo, 0];
    const chunk = this.chunks[lo];
    let a = 0;
    let b = chunk.length;
    while (a < b) {
      const m = (a + b) >> 1;
      if (cmp(chunk[m]) < 0) a = m + 1;
      else b = m;
    }
    return [lo, a];
  }

  /** Position of the last entry e with cmp(e) <= 0. */
  private lastPos(cmp: (e: T) => number): [number, number] {
    let lo = -1;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (cmp(this.chunks[mid][0]) <= 0) lo = mid;
      else hi = mid - 1;
    }
    if (lo < 0) return [-1, -1];
    const chunk = this.chunks[lo];
    let a = 0;
    let b = chunk.length;
    while (a < b) {
      const m = (a + b) >> 1;
      if (cmp(chunk[m]) <= 0) a = m + 1;
      else b = m;
    }
    return [lo, a - 1];
  }
}

function upperBound<T>(arr: T[], item: T, compare: (a: T, b: T) => number): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compare(arr[mid], item) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
