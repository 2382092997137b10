/**
 * Secondary indexes: ordered key tuples -> document ids, with unique, sparse and partial
 * variants. Null and missing are the same key (as in MongoDB), so two documents without a
 * uniquely indexed field collide unless the index is sparse or partial.
 */
import { compileFilter, type Matcher } from './query';
import { DuplicateKeyError, MongoServerError, Codes, unsupported } from '../errors';
import { SortedList } from './sorted-list';
import { PAUSE, runToEnd, sortInSlices, type Sliced } from './slices';
import { compareValues, getPathValues, typeRank, type Doc } from './values';

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

export interface IndexEntry {
  key: unknown[];
  id: string;
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
  private list: SortedList<IndexEntry>;

  constructor(
    readonly spec: IndexSpec,
    private readonly ns: string,
  ) {
    this.fields = Object.entries(spec.key);
    this.partial = spec.partialFilterExpression
      ? compileFilter(spec.partialFilterExpression)
      : null;
    this.list = new SortedList<IndexEntry>(this.compareEntries);
  }

  get size(): number {
    return this.list.size;
  }

  /** Index order: key fields with their directions, then id so entries are unique. */
  private compareEntries = (a: IndexEntry, b: IndexEntry): number => {
    const c = this.compareKeys(a.key, b.key);
    if (c !== 0) return c;
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  };

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
      perField.push(values);
    }
    if (this.spec.sparse && !anyPresent) return [];
    let tuples: unknown[][] = [[]];
    for (const values of perField) {
      const next: unknown[][] = [];
      for (const t of tuples) for (const v of dedupe(values)) next.push([...t, v]);
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
    const cmp = (e: IndexEntry): number => this.compareKeys(e.key, key);
    for (const e of this.list.range(cmp, cmp)) if (e.id !== id) return e.id;
    return undefined;
  }

  add(doc: Doc, id: string): void {
    for (const key of this.keysFor(doc)) this.list.insert({ key, id });
  }

  remove(doc: Doc, id: string): void {
    for (const key of this.keysFor(doc)) this.list.delete({ key, id });
  }

  /** Rebuilds from scratch (after recovery or on createIndexes), checking uniqueness in one sorted pass. */
  rebuild(docs: Iterable<[string, Doc]>): void {
    const entries: IndexEntry[] = [];
    for (const [id, doc] of docs) for (const key of this.keysFor(doc)) entries.push({ key, id });
    const suspects = runToEnd(this.loadSorted(entries));
    if (suspects.length) throw this.duplicateKey(suspects[0]!);
  }

  /** The entries of documents (a view of a collection: id keys and documents), in slices. */
  *entriesFor(ids: string[], docAt: (i: number) => Doc): Sliced<IndexEntry[]> {
    const entries: IndexEntry[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      for (const key of this.keysFor(docAt(i))) entries.push({ key, id });
      if ((i & 1023) === 1023) yield PAUSE;
    }
    return entries;
  }

  /**
   * Sorts the entries into this index, in slices. For a unique index, returns the keys held by
   * more than one document (in index order): a build fails on them unless writes made during it
   * resolved them (see checkStillUnique).
   */
  *loadSorted(entries: IndexEntry[]): Sliced<unknown[][]> {
    const sorted = yield* sortInSlices(entries, this.compareEntries);
    const suspects: unknown[][] = [];
    if (this.spec.unique) {
      for (let i = 1; i < sorted.length; i++) {
        const prev = sorted[i - 1]!;
        const e = sorted[i]!;
        if (
          prev.id !== e.id &&
          this.compareKeys(prev.key, e.key) === 0 &&
          suspects.at(-1) !== prev.key
        )
          suspects.push(e.key);
        if ((i & 4095) === 0) yield PAUSE;
      }
    }
    this.list = SortedList.fromSorted(sorted, this.compareEntries);
    return suspects;
  }

  /** Throws E11000 for the first of these keys that more than one document still holds. */
  checkStillUnique(keys: unknown[][]): void {
    for (const key of keys) {
      const cmp = (e: IndexEntry): number => this.compareKeys(e.key, key);
      let id: string | undefined;
      for (const e of this.list.range(cmp, cmp)) {
        if (id === undefined) id = e.id;
        else if (e.id !== id) throw this.duplicateKey(key);
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
    const push = (e: IndexEntry): void => {
      if (seen) {
        if (seen.has(e.id)) return;
        seen.add(e.id);
      }
      ids.push(e.id);
    };
    if (!range) {
      for (const e of this.list.range(null, null, reverse)) push(e);
      return ids;
    }
    const k = range.eq.length;
    const prefix = (e: IndexEntry): number => {
      for (let i = 0; i < k; i++) {
        const c = compareValues(e.key[i], range.eq[i]);
        if (c !== 0) return c * this.fields[i][1];
      }
      return 0;
    };
    const dir = k < this.fields.length ? this.fields[k][1] : 1;
    // In index order a descending field's upper value bound comes first.
    const first = dir === 1 ? range.lo : range.hi;
    const last = dir === 1 ? range.hi : range.lo;
    const lowerCmp = (e: IndexEntry): number => {
      const p = prefix(e);
      if (p !== 0 || !first) return p;
      const c = compareToBound(e.key[k], first) * dir;
      return c < 0 || (c === 0 && !first.inclusive) ? -1 : 1;
    };
    const upperCmp = (e: IndexEntry): number => {
      const p = prefix(e);
      if (p !== 0 || !last) return p;
      const c = compareToBound(e.key[k], last) * dir;
      return c > 0 || (c === 0 && !last.inclusive) ? 1 : -1;
    };
    for (const e of this.list.range(lowerCmp, upperCmp, reverse)) push(e);
    return ids;
  }
}

function compareToBound(v: unknown, bound: KeyBound): number {
  if (!bound.typeEdge) return compareValues(v, bound.value);
  // A type-edge bound stands for "the end of this BSON type": every value of the type is inside.
  return Math.sign(typeRank(v) - typeRank(bound.value));
}

function dedupe(values: unknown[]): unknown[] {
  if (values.length < 2) return values;
  const out: unknown[] = [];
  for (const v of values) if (!out.some((o) => compareValues(o, v) === 0)) out.push(v);
  return out;
}
