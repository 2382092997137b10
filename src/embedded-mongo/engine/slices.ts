/**
 * Cooperative long work. Scans, sorts, index builds and multi-document writes are synchronous
 * generators that offer a checkpoint (`PAUSE`) every few hundred documents; one driver (the
 * command executor's) decides by the clock whether the slice is over, journals what the slice
 * changed and lets the event loop run before resuming. Work that fits in one slice never pauses,
 * so a short command stays one step, as before.
 */
export const PAUSE: unique symbol = Symbol('pause');
export type Pause = typeof PAUSE;

/** Documents (or entries) interleaved with checkpoints. */
export type Scan<T> = Iterable<T | Pause>;
/** Long work that returns a value, with checkpoints. */
export type Sliced<R> = Generator<Pause, R, void>;

/** Whether a handler gave sliced work (a generator) rather than its answer. */
export function isSliced<R>(v: R | Sliced<R>): v is Sliced<R> {
  return Object.prototype.toString.call(v) === '[object Generator]';
}

/** Longest stretch of store work between two turns of the event loop. */
export const SLICE_MS = 8;

/** Checkpoint interval of per-document loops (a power of two, used as a mask). */
const EVERY = 256;

/** The items of a scan, collected. */
export function* collect<T>(scan: Scan<T>): Sliced<T[]> {
  const out: T[] = [];
  for (const x of scan) {
    if (x === PAUSE) yield PAUSE;
    else out.push(x);
  }
  return out;
}

/** The first item of a scan, or undefined. */
export function* first<T>(scan: Scan<T>): Sliced<T | undefined> {
  for (const x of scan) {
    if (x === PAUSE) yield PAUSE;
    else return x;
  }
  return undefined;
}

/** Items of a plain array with a checkpoint every few hundred (for loops that do real work per item). */
export function* withPauses<T>(items: Iterable<T>): Generator<T | Pause, void, void> {
  let i = 0;
  for (const x of items) {
    yield x;
    if ((++i & (EVERY - 1)) === 0) yield PAUSE;
  }
}

const RUN = 2048;

/**
 * A stable sort in slices: runs of RUN items sorted at once, then merged pairwise with a
 * checkpoint every few thousand items. Sorts `items` in place or returns a new array.
 */
export function* sortInSlices<T>(items: T[], cmp: (a: T, b: T) => number): Sliced<T[]> {
  const n = items.length;
  if (n <= RUN) return items.sort(cmp);
  let src = items;
  for (let lo = 0; lo < n; lo += RUN) {
    const run = src.slice(lo, lo + RUN).sort(cmp);
    for (let i = 0; i < run.length; i++) src[lo + i] = run[i]!;
    yield PAUSE;
  }
  for (let width = RUN; width < n; width *= 2) {
    // Each pass writes its output in order, so it grows by push (allocating a million slots at once is itself a stall).
    const dst: T[] = [];
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(lo + width, n);
      const hi = Math.min(lo + 2 * width, n);
      if (mid < hi && cmp(src[mid - 1]!, src[mid]!) <= 0) {
        // The two runs are in order already (keys that mostly came sorted): copied as they are.
        for (let k = lo; k < hi; k++) {
          dst.push(src[k]!);
          if ((k & 65535) === 65535) yield PAUSE;
        }
        continue;
      }
      let i = lo;
      let j = mid;
      for (let k = lo; k < hi; k++) {
        dst.push(j >= hi || (i < mid && cmp(src[i]!, src[j]!) <= 0) ? src[i++]! : src[j++]!);
        if ((k & 4095) === 4095) yield PAUSE;
      }
    }
    src = dst;
  }
  return src;
}

/** Runs sliced work to its end synchronously (recovery, tests): the checkpoints are ignored. */
export function runToEnd<R>(work: Sliced<R>): R {
  for (;;) {
    const r = work.next();
    if (r.done) return r.value;
  }
}

export const CHECK_EVERY = EVERY;
