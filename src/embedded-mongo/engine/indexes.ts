/**
 * Secondary indexes: ordered key tuples -> document ids, with unique, sparse and partial
 * variants. Null and missing are the same key (as in MongoDB), so two documents without a
 * uniquely indexed field collide unless the index is sparse or partial.
 */
import { ABSENT, NOT_SCALAR_FIELD, type StoreView } from './bson-store';
import { compileFilter, type Matcher } from './query';
import { DuplicateKeyError, MongoServerError, Codes, unsupported } from '../errors';
import { SortedList } from './sorted-list';
import { PAUSE, runToEnd, sortInSlices, type Sliced } from './slices';
import { compareValues, getPathValues, pathHoldsNull, typeRank, type Doc } from './values';

export interface IndexSpec {
  v: number;
  key: Record<string, 1 | -1>;
  name: string;
  unique?: boolean;
  sparse?: boolean;
  partialFilterExpression?: Doc;
  expireAfterSeconds?: number;
  hidden?: boolean;
  [option: string]: unknown;
}

/**
 * Entries gathered for a build, in two parallel arrays: each key packed as the index stores it
 * (the value itself for a one-field index, the tuple otherwise), and the document's id key.
 */
export interface IndexEntries {
  keys: unknown[];
  ids: string[];
}

/** A bound on one key field; `typeEdge` bounds stop a range at the edge of the value's BSON type, as MongoDB's type bracketing does. */
export interface KeyBound {
  value: unknown;
  inclusive: boolean;
  typeEdge?: boolean;
}

export interface KeyRange {
  /** Equality values for the leading fields. */
  eq: unknown[];
  /** Optional range on the field right after the equality prefix. */
  lo?: KeyBound;
  hi?: KeyBound;
}

const SUPPORTED_OPTIONS = new Set([
  'v',
  'key',
  'name',
  'unique',
  'sparse',
  'partialFilterExpression',
  'expireAfterSeconds',
  'hidden',
  'background',
  'ns',
]);

export function validateIndexSpec(raw: Doc): IndexSpec {
  const key = raw.key as Doc | undefined;
  if (!key || typeof key !== 'object' || Object.keys(key).length === 0) {
    throw new MongoServerError(
      Codes.CannotCreateIndex,
      "Index keys cannot be empty: the 'key' field must be a non-empty document",
    );
  }
  const norm: Record<string, 1 | -1> = {};
  for (const [field, dir] of Object.entries(key)) {
    if (typeof dir === 'string') throw unsupported(`index type '${dir}' (on field '${field}')`);
    const n = Number(dir);
    if (!Number.isFinite(n) || n === 0) {
      throw new MongoServerError(
        Codes.CannotCreateIndex,
        `Values in the index key pattern can't be 0 or non-numeric (field '${field}')`,
      );
    }
    norm[field] = n > 0 ? 1 : -1;
  }
  if (typeof raw.name !== 'string' || raw.name === '') {
    throw new MongoServerError(
      Codes.CannotCreateIndex,
      "The 'name' field of an index must be a non-empty string",
    );
  }
  for (const opt of Object.keys(raw)) {
    if (!SUPPORTED_OPTIONS.has(opt)) throw unsupported(`index option '${opt}'`);
  }
  const spec: IndexSpec = { v: 2, key: norm, name: raw.name };
  if (raw.unique) spec.unique = true;
  if (raw.sparse) spec.sparse = true;
  if (raw.partialFilterExpression !== undefined)
    spec.partialFilterExpression = raw.partialFilterExpression as Doc;
  if (raw.expireAfterSeconds !== undefined)
    spec.expireAfterSeconds = Number(raw.expireAfterSeconds);
  // Hidden from the planner (not hintable), still maintained and still enforcing uniqueness.
  if (raw.hidden === true) spec.hidden = true;
  return spec;
}

export class Index {
  readonly fields: Array<[string, 1 | -1]>;
  readonly partial: Matcher | null;
  multikey = false;
  /** The top-level fields its keys are read from (null: a partial index reads the whole document). */
  readonly topFields: ReadonlySet<string> | null;
  /** Keys packed (see `pack`): a one-field index stores the value itself, not a 1-tuple. */
  private list: SortedList<unknown>;
  private readonly single: boolean;
  /** For a one-field index on a top-level field (not partial): the field's UTF-8 name, so a build reads keys from the stored bytes. */
  private readonly byteField: Buffer | null;

  constructor(
    readonly spec: IndexSpec,
    private readonly ns: string,
  ) {
    this.fields = Object.entries(spec.key);
    this.partial = spec.partialFilterExpression
      ? compileFilter(spec.partialFilterExpression)
      : null;
    this.single = this.fields.length === 1;
    this.topFields = this.partial ? null : new Set(this.fields.map(([f]) => f.split('.')[0]!));
    const f = this.fields[0]![0];
    this.byteField = this.single && !this.partial && !f.includes('.') ? Buffer.from(f) : null;
    this.list = new SortedList<unknown>(this.comparePacked);
  }

  get size(): number {
    return this.list.size;
  }

  /** A key tuple as the list stores it. */
  private pack(key: unknown[]): unknown {
    return this.single ? key[0] : key;
  }

  private unpack(packed: unknown): unknown[] {
    return this.single ? [packed] : (packed as unknown[]);
  }

  /** Index order of packed keys: key fields with their directions (the list orders ties by id). */
  private comparePacked = (a: unknown, b: unknown): number =>
    this.single
      ? compareValues(a, b) * this.fields[0]![1]
      : this.compareKeys(a as unknown[], b as unknown[]);

  compareKeys(a: unknown[], b: unknown[]): number {
    for (let i = 0; i < this.fields.length; i++) {
      const c = compareValues(a[i], b[i]);
      if (c !== 0) return c * this.fields[i][1];
    }
    return 0;
  }

  /** Every key tuple a document contributes, or [] when the index skips it (sparse/partial). */
  keysFor(doc: Doc): unknown[][] {
    if (this.partial && !this.partial(doc)) return [];
    const perField: unknown[][] = [];
    let anyPresent = false;
    for (const [path] of this.fields) {
      const found = getPathValues(doc, path);
      if (found.length > 0) anyPresent = true;
      const values: unknown[] = [];
      for (const v of found.length ? found : [null]) {
        if (Array.isArray(v)) {
          this.multikey = true;
          if (v.length === 0) values.push(null);
          else values.push(...v);
        } else values.push(v === undefined ? null : v);
      }
      if (found.length > 1) this.multikey = true;
      // A dotted path also holds null where an array's document lacks the rest of it
      // (`{a: [{b: 1}, {}]}` on `a.b`), as mongod's keys do: unique and null lookups depend on it.
      if (
        found.length > 0 &&
        path.includes('.') &&
        !values.includes(null) &&
        pathHoldsNull(doc, path)
      ) {
        values.push(null);
        this.multikey = true; // two keys for one document: scans must dedupe
      }
      perField.push(values);
    }
    if (this.spec.sparse && !anyPresent) return [];
    let tuples: unknown[][] = [[]];
    for (const values of perField) {
      const next: unknown[][] = [];
      for (const t of tuples) for (const v of dedupe(values)) next.push(extend(t, v));
      tuples = next;
    }
    return tuples;
  }

  /** Throws E11000 if any key of `doc` is already held by another document. */
  checkUnique(doc: Doc, id: string): void {
    if (!this.spec.unique) return;
    for (const key of this.keysFor(doc)) {
      const other = this.findOther(key, id);
      if (other !== undefined) {
        const keyValue: Doc = {};
        this.fields.forEach(([path], i) => (keyValue[path] = key[i]));
        throw new DuplicateKeyError(this.ns, this.spec.name, { ...this.spec.key }, keyValue);
      }
    }
  }

  private findOther(key: unknown[], id: string): string | undefined {
    const packed = this.pack(key);
    const cmp = (k: unknown): number => this.comparePacked(k, packed);
    for (const other of this.list.range(cmp, cmp)) if (other !== id) return other;
    return undefined;
  }

  add(doc: Doc, id: string): void {
    for (const key of this.keysFor(doc)) this.list.insert(this.pack(key), id);
  }

  remove(doc: Doc, id: string): void {
    for (const key of this.keysFor(doc)) this.list.delete(this.pack(key), id);
  }

  /** Rebuilds from scratch (after recovery or on createIndexes), checking uniqueness in one sorted pass. */
  rebuild(docs: Iterable<[string, Doc]>): void {
    const entries: IndexEntries = { keys: [], ids: [] };
    for (const [id, doc] of docs) this.collect(entries, doc, id);
    const suspects = runToEnd(this.loadSorted(entries));
    if (suspects.length) throw this.duplicateKey(suspects[0]!);
  }

  private collect(entries: IndexEntries, doc: Doc, id: string): void {
    for (const key of this.keysFor(doc)) {
      entries.keys.push(this.pack(key));
      entries.ids.push(id);
    }
  }

  /** The entries of documents (a view of a collection: id keys and documents), in slices. */
  *entriesFor(ids: string[], docAt: (i: number) => Doc): Sliced<IndexEntries> {
    const entries: IndexEntries = { keys: [], ids: [] };
    for (let i = 0; i < ids.length; i++) {
      this.collect(entries, docAt(i), ids[i]!);
      if ((i & 1023) === 1023) yield PAUSE;
    }
    return entries;
  }

  /**
   * The entries of a view's documents, in slices. A one-field index on a top-level field reads
   * each key from the stored bytes when it is a scalar (the same key keysFor gives: a scalar is
   * its own key, a missing field is null unless the index is sparse); other documents, and other
   * indexes, decode the fields they read.
   */
  *entriesOfView(view: StoreView): Sliced<IndexEntries> {
    const name = this.byteField;
    if (!name) {
      const fields = this.topFields;
      return yield* this.entriesFor(
        view.keys,
        fields ? (i) => view.decodeFields(i, fields) : view.decode,
      );
    }
    const entries: IndexEntries = { keys: [], ids: [] };
    const sparse = this.spec.sparse === true;
    for (let i = 0; i < view.length; i++) {
      const v = view.field(i, name);
      if (v === NOT_SCALAR_FIELD)
        this.collect(entries, view.decodeFields(i, this.topFields!), view.keys[i]!);
      else if (v !== ABSENT || !sparse) {
        entries.keys.push(v === ABSENT ? null : v);
        entries.ids.push(view.keys[i]!);
      }
      if ((i & 4095) === 4095) yield PAUSE;
    }
    return entries;
  }

  /**
   * Sorts the entries into this index, in slices (or `inOneStep`, when nothing else may run meanwhile). For a unique index, returns the keys held by
   * more than one document (in index order): a build fails on them unless writes made during it
   * resolved them (see checkStillUnique).
   */
  *loadSorted(entries: IndexEntries, inOneStep = false): Sliced<unknown[][]> {
    const { keys, ids } = entries;
    const cmp = yield* this.positionOrder(keys, ids);
    let sortedKeys: unknown[] = keys;
    let sortedIds: string[] = ids;
    // Keys often come in order already (a counter, a creation time): one pass checks it.
    let inOrder = true;
    for (let i = 1; i < keys.length && inOrder; i++) {
      inOrder = cmp(i - 1, i) <= 0;
      if ((i & 65535) === 0) yield PAUSE;
    }
    if (!inOrder) {
      // Sorted as a permutation of positions (small integers), so no entry objects are made.
      const order = Array.from({ length: keys.length }, (_, i) => i);
      // In one step (recovery) the engine's own sort takes the runs already in order as they are.
      const sorted = inOneStep ? order.sort(cmp) : yield* sortInSlices(order, cmp);
      sortedKeys = [];
      sortedIds = [];
      for (let i = 0; i < sorted.length; i++) {
        sortedKeys.push(keys[sorted[i]!]);
        sortedIds.push(ids[sorted[i]!]!);
        if ((i & 65535) === 65535) yield PAUSE;
      }
    }
    const suspects: unknown[][] = [];
    if (this.spec.unique) {
      let last: unknown = undefined;
      for (let i = 1; i < sortedKeys.length; i++) {
        const prev = sortedKeys[i - 1];
        const k = sortedKeys[i];
        if (sortedIds[i - 1] !== sortedIds[i] && this.comparePacked(prev, k) === 0) {
          if (suspects.length === 0 || this.comparePacked(last, k) !== 0)
            suspects.push(this.unpack(k));
          last = k;
        }
        if ((i & 4095) === 0) yield PAUSE;
      }
    }
    this.list = SortedList.fromSorted(sortedKeys, sortedIds, this.comparePacked);
    return suspects;
  }

  /**
   * Entry order of positions in a build's arrays: the list's own order (key, then id). When a
   * one-field index's keys are all numbers (no NaN) or all valid dates, they are compared as
   * doubles from a typed array, as compareValues would order them, without its type dispatch.
   */
  private *positionOrder(keys: unknown[], ids: string[]): Sliced<(a: number, b: number) => number> {
    const list = this.list;
    const general = (a: number, b: number): number =>
      list.compareEntries(keys[a], ids[a]!, keys[b], ids[b]!);
    if (!this.single || keys.length < 2) return general;
    const asNumbers = new Float64Array(keys.length);
    const numbers = typeof keys[0] === 'number';
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      const n = numbers ? (typeof k === 'number' ? k : NaN) : k instanceof Date ? k.getTime() : NaN;
      if (n !== n) return general;
      asNumbers[i] = n;
      if ((i & 65535) === 65535) yield PAUSE;
    }
    const dir = this.fields[0]![1];
    return (a, b) => {
      const x = asNumbers[a]!;
      const y = asNumbers[b]!;
      if (x !== y) return x < y ? -dir : dir;
      const ia = ids[a]!;
      const ib = ids[b]!;
      return ia < ib ? -1 : ia > ib ? 1 : 0;
    };
  }

  /** Throws E11000 for the first of these keys that more than one document still holds. */
  checkStillUnique(keys: unknown[][]): void {
    for (const key of keys) {
      const packed = this.pack(key);
      const cmp = (k: unknown): number => this.comparePacked(k, packed);
      let id: string | undefined;
      for (const other of this.list.range(cmp, cmp)) {
        if (id === undefined) id = other;
        else if (other !== id) throw this.duplicateKey(key);
      }
    }
  }

  private duplicateKey(key: unknown[]): DuplicateKeyError {
    const keyValue: Doc = {};
    this.fields.forEach(([path], i) => (keyValue[path] = key[i]));
    return new DuplicateKeyError(this.ns, this.spec.name, { ...this.spec.key }, keyValue);
  }

  /** Ids whose keys fall in the range, in index order (or reversed); materialised so writes during a cursor's life are safe. */
  scan(range: KeyRange | null, reverse = false): string[] {
    const ids: string[] = [];
    const seen = this.multikey ? new Set<string>() : null;
    const push = (id: string): void => {
      if (seen) {
        if (seen.has(id)) return;
        seen.add(id);
      }
      ids.push(id);
    };
    if (!range) {
      for (const id of this.list.range(null, null, reverse)) push(id);
      return ids;
    }
    const k = range.eq.length;
    const single = this.single;
    const at = (packed: unknown, i: number): unknown =>
      single ? packed : (packed as unknown[])[i];
    const prefix = (e: unknown): number => {
      for (let i = 0; i < k; i++) {
        const c = compareValues(at(e, i), range.eq[i]);
        if (c !== 0) return c * this.fields[i][1];
      }
      return 0;
    };
    const dir = k < this.fields.length ? this.fields[k][1] : 1;
    // In index order a descending field's upper value bound comes first.
    const first = dir === 1 ? range.lo : range.hi;
    const last = dir === 1 ? range.hi : range.lo;
    const lowerCmp = (e: unknown): number => {
      const p = prefix(e);
      if (p !== 0 || !first) return p;
      const c = compareToBound(at(e, k), first) * dir;
      return c < 0 || (c === 0 && !first.inclusive) ? -1 : 1;
    };
    const upperCmp = (e: unknown): number => {
      const p = prefix(e);
      if (p !== 0 || !last) return p;
      const c = compareToBound(at(e, k), last) * dir;
      return c > 0 || (c === 0 && !last.inclusive) ? 1 : -1;
    };
    for (const id of this.list.range(lowerCmp, upperCmp, reverse)) push(id);
    return ids;
  }
}

function compareToBound(v: unknown, bound: KeyBound): number {
  if (!bound.typeEdge) return compareValues(v, bound.value);
  // A type-edge bound stands for "the end of this BSON type": every value of the type is inside.
  return Math.sign(typeRank(v) - typeRank(bound.value));
}

/**
 * The tuple t with v appended, allocated at its exact length: a compound index keeps its tuples,
 * and `[...t, v]` reserves room for 16 more elements (about 150 bytes) in each.
 */
function extend(t: unknown[], v: unknown): unknown[] {
  const out = new Array<unknown>(t.length + 1);
  for (let i = 0; i < t.length; i++) out[i] = t[i];
  out[t.length] = v;
  return out;
}

function dedupe(values: unknown[]): unknown[] {
  if (values.length < 2) return values;
  const out: unknown[] = [];
  for (const v of values) if (!out.some((o) => compareValues(o, v) === 0)) out.push(v);
  return out;
}
