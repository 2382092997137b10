/**
 * Id key -> document location, in insertion order: what a `Map<string, number>` gave the store,
 * in typed arrays. A Map of a million string keys cost about 28 MiB of JS heap that every major
 * GC marks, and inserting into it was most of a recovery's time (about 1.3 µs per key); here a
 * key costs one slot of each typed array, one table cell and its string (shared with the indexes).
 *
 * Slots are numbered in insertion order; a key set again keeps its slot (as a Map keeps its
 * position), a deleted one leaves a hole that walks skip. When the slots run out and holes are at
 * least half of them, they are squeezed out instead of growing; walks under way are moved to the
 * same place in the new numbering,
 * so a walk sees what a Map iterator would: every key present throughout, keys added meanwhile
 * (at the end), never a removed one.
 */

const EMPTY = 0;
/** A table cell whose slot was deleted: probing goes on past it. */
const TOMBSTONE = -1;
const MIN_SLOTS = 64;

/** FNV-1a over the UTF-16 code units. */
function hashOf(key: string): number {
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h;
}

/** A walk's position (the next slot to read), kept up to date when slots are renumbered. */
interface WalkState {
  pos: number;
}

export class IdTable {
  /** Per slot: the key (undefined: deleted), its hash and its location. */
  private keyAt: (string | undefined)[] = [];
  private hashAt = new Int32Array(MIN_SLOTS);
  private locAt = new Float64Array(MIN_SLOTS);
  private slots = 0;
  private live = 0;
  /** Open addressing, linear probing: slot + 1, EMPTY or TOMBSTONE. Never more than half used. */
  private table = new Int32Array(MIN_SLOTS * 2);
  private usedCells = 0;
  /** Walks under way, held weakly: an abandoned walk must not be kept (or renumbered) forever. */
  private readonly walks = new Set<WeakRef<WalkState>>();

  /** `minHoles`: holes tolerated whatever the live count (small in tests, to renumber often). */
  constructor(private readonly minHoles = 4096) {}

  get size(): number {
    return this.live;
  }

  has(key: string): boolean {
    return this.cellOf(key, hashOf(key)) >= 0;
  }

  get(key: string): number | undefined {
    const c = this.cellOf(key, hashOf(key));
    return c < 0 ? undefined : this.locAt[this.table[c]! - 1];
  }

  /** Sets a key's location: in its slot if present, else in a new slot at the end. */
  set(key: string, loc: number): void {
    const h = hashOf(key);
    const c = this.cellOf(key, h);
    if (c >= 0) {
      this.locAt[this.table[c]! - 1] = loc;
      return;
    }
    this.append(key, h, loc);
  }

  /** Adds a key known to be absent (the caller checked with `has`). */
  private append(key: string, h: number, loc: number): void {
    // Out of slots: squeeze the holes out if they are as many as the live keys, else grow. Both
    // cost a pass over the slots, so deletes themselves never do (a deleteMany stays in slices).
    if (this.slots === this.hashAt.length) {
      const holes = this.slots - this.live;
      if (holes >= this.live && holes >= this.minHoles) this.squeeze();
      else this.growSlots();
    }
    const s = this.slots++;
    this.keyAt[s] = key;
    this.hashAt[s] = h;
    this.locAt[s] = loc;
    this.live++;
    this.place(h, s);
    if (this.usedCells * 2 > this.table.length) this.rehash();
  }

  /** Adds the key unless present; returns whether it was added. */
  add(key: string, loc: number): boolean {
    const h = hashOf(key);
    if (this.cellOf(key, h) >= 0) return false;
    this.append(key, h, loc);
    return true;
  }

  /** Removes the key; returns its location, or undefined if it was not there. */
  delete(key: string): number | undefined {
    const c = this.cellOf(key, hashOf(key));
    if (c < 0) return undefined;
    const s = this.table[c]! - 1;
    this.table[c] = TOMBSTONE;
    this.keyAt[s] = undefined;
    this.live--;
    return this.locAt[s]!;
  }

  /**
   * Live slots in order; see the class comment for writes meanwhile. A slot number is valid only
   * until the walk is resumed (a delete may renumber), so readers use it at once.
   */
  private *slotWalk(): Generator<number, void, void> {
    const state: WalkState = { pos: 0 };
    const ref = new WeakRef(state);
    this.walks.add(ref);
    try {
      while (state.pos < this.slots) {
        const s = state.pos++;
        if (this.keyAt[s] !== undefined) yield s;
      }
    } finally {
      this.walks.delete(ref);
    }
  }

  *keys(): Generator<string, void, void> {
    for (const s of this.slotWalk()) yield this.keyAt[s]!;
  }

  *values(): Generator<number, void, void> {
    for (const s of this.slotWalk()) yield this.locAt[s]!;
  }

  *entries(): Generator<[string, number], void, void> {
    for (const s of this.slotWalk()) yield [this.keyAt[s]!, this.locAt[s]!];
  }

  /** Keys and locations now, in slot order (arrays of exactly `size`). */
  snapshot(): { keys: string[]; locs: Float64Array } {
    const keys = new Array<string>(this.live);
    const locs = new Float64Array(this.live);
    let w = 0;
    for (let s = 0; s < this.slots; s++) {
      const key = this.keyAt[s];
      if (key === undefined) continue;
      keys[w] = key;
      locs[w++] = this.locAt[s]!;
    }
    return { keys, locs };
  }

  /** The table cell holding `key`, or -1. */
  private cellOf(key: string, h: number): number {
    const mask = this.table.length - 1;
    for (let c = h & mask; ; c = (c + 1) & mask) {
      const v = this.table[c]!;
      if (v === EMPTY) return -1;
      if (v !== TOMBSTONE && this.hashAt[v - 1] === h && this.keyAt[v - 1] === key) return c;
    }
  }

  private place(h: number, s: number): void {
    const mask = this.table.length - 1;
    let c = h & mask;
    while (this.table[c] !== EMPTY) c = (c + 1) & mask;
    this.table[c] = s + 1;
    this.usedCells++;
  }

  /** A fresh table for the live slots, under half full. */
  private rehash(): void {
    let cells = MIN_SLOTS * 2;
    while (cells <= this.live * 2) cells *= 2;
    this.table = new Int32Array(cells);
    this.usedCells = 0;
    for (let s = 0; s < this.slots; s++)
      if (this.keyAt[s] !== undefined) this.place(this.hashAt[s]!, s);
  }

  private growSlots(): void {
    const n = this.hashAt.length * 2;
    const hashAt = new Int32Array(n);
    hashAt.set(this.hashAt.subarray(0, this.slots));
    const locAt = new Float64Array(n);
    locAt.set(this.locAt.subarray(0, this.slots));
    this.hashAt = hashAt;
    this.locAt = locAt;
  }

  /** Squeezes out the holes, keeping order, and moves the walks under way to their new slots. */
  private squeeze(): void {
    const newPos = new Int32Array(this.slots + 1);
    let w = 0;
    for (let s = 0; s < this.slots; s++) {
      newPos[s] = w;
      const key = this.keyAt[s];
      if (key === undefined) continue;
      this.keyAt[w] = key;
      this.hashAt[w] = this.hashAt[s]!;
      this.locAt[w] = this.locAt[s]!;
      w++;
    }
    newPos[this.slots] = w;
    for (const ref of this.walks) {
      const state = ref.deref();
      if (state) state.pos = newPos[Math.min(state.pos, this.slots)]!;
      else this.walks.delete(ref);
    }
    this.keyAt.length = w;
    this.slots = w;
    let n = MIN_SLOTS;
    while (n < w * 2) n *= 2;
    if (n < this.hashAt.length) {
      this.hashAt = this.hashAt.slice(0, n);
      this.locAt = this.locAt.slice(0, n);
    }
    this.rehash();
  }
}
