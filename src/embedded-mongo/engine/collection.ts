/**
 * One collection in memory: documents by canonical _id (as BSON bytes, see bson-store.ts),
 * secondary indexes, and the query planner that picks an index for equality, $in and range
 * predicates or for the sort. Scans walk id keys and decode a document only to test it; a
 * cursor without a projection sends the stored bytes as they are.
 */
import { calculateObjectSize, ObjectId } from 'bson';
import { badValue, unsupported, MongoServerError, Codes, DuplicateKeyError } from '../errors';
import { Index, validateIndexSpec, type IndexSpec, type KeyRange } from './indexes';
import {
  compileFilter,
  indexablePredicates,
  parseSort,
  sortDocuments,
  type FieldPredicate,
  type Matcher,
  type SortSpec,
} from './query';
import {
  CHECK_EVERY,
  collect,
  PAUSE,
  runToEnd,
  type Pause,
  type Scan,
  type Sliced,
} from './slices';
import { idKey, isPlainObject, typeRank, type Doc } from './values';
import { BsonStore, decodeBson } from './bson-store';

export const MAX_BSON_SIZE = 16 * 1024 * 1024;

/** An index built in slices, not yet visible: `commit` (one synchronous step) catches up with the writes made meanwhile. */
export interface IndexBuild {
  index: Index;
  /** Throws E11000 when a duplicate key exists now; the build is over either way. */
  commit: () => void;
  install: () => void;
  abandon: () => void;
}

export interface FindOptions {
  sort?: unknown;
  skip?: number;
  limit?: number;
  /** An index name or key pattern, or {$natural: ±1}: decides the index, as in mongod. */
  hint?: unknown;
}

/** A find's results, which can also be read as the documents' stored BSON (no projection). */
export type FindScan = Scan<Doc> & { raw: () => Scan<Uint8Array> };

interface Plan {
  /** Id keys of the candidate documents (some may be gone by the time they are reached). */
  candidates: Iterable<string>;
  /** The candidates come in the requested sort order. */
  sorted: boolean;
  /** Order the results take without a sort (a hinted _id index). */
  order?: SortSpec;
  /** The candidates are the store's own live key iterator: each one exists when it is reached. */
  live?: boolean;
  /** The top-level fields the filter reads (null: the whole document), see filterFields. */
  fields?: ReadonlySet<string> | null;
}

/** How find() reaches its candidates, for explain (see Collection.accessPath). */
export type AccessPath =
  | { stage: 'IDHACK'; ids: unknown[]; sorted: boolean }
  | {
      stage: 'IXSCAN';
      index: Index | '_id';
      /** null: the whole index. */
      ranges: Array<KeyRange | null>;
      direction: 1 | -1;
      /** The candidates come in the requested sort order (no in-memory sort). */
      sorted: boolean;
    }
  | { stage: 'COLLSCAN'; direction: 1 | -1; sorted: boolean };

export class Collection {
  readonly docs = new BsonStore();
  readonly indexes = new Map<string, Index>();
  readonly uuid: string;
  /** Read-only statistic for tests and benchmarks: documents the matcher has tested in find/count. */
  docsExamined = 0;
  /**
   * Index builds under way, each with the documents written since it started: id key -> the
   * document as the build's view has it (null: not in the view). Every write records itself here.
   */
  private readonly builds = new Set<Map<string, Doc | null>>();
  /** The document a scan decoded last, so handing it on does not decode it again. */
  private memoKey: string | undefined;
  private memoDoc: Doc | undefined;

  constructor(
    /** Changed only by the catalog's rename. */
    public db: string,
    public name: string,
    readonly options: Doc = {},
    uuid?: string,
  ) {
    this.uuid = uuid ?? crypto.randomUUID();
  }

  get ns(): string {
    return `${this.db}.${this.name}`;
  }

  static idIndexSpec(): IndexSpec {
    return { v: 2, key: { _id: 1 }, name: '_id_' };
  }

  listIndexSpecs(): IndexSpec[] {
    return [Collection.idIndexSpec(), ...[...this.indexes.values()].map((i) => i.spec)];
  }

  // ---- writes (callers journal them) ---------------------------------------------------------

  /** Validates and prepares a document for insertion: _id first, generated when missing. */
  prepareInsert(doc: unknown): Doc {
    if (doc instanceof Uint8Array) {
      // A document as it came over the wire (see wire.ts): kept byte for byte when _id leads.
      const decoded = decodeBson(doc);
      if (Object.keys(decoded)[0] === '_id') {
        validateDocument(decoded);
        wireBytes.set(decoded, doc);
        return decoded;
      }
      doc = decoded;
    }
    if (!isPlainObject(doc)) throw badValue('document to insert must be an object');
    let out = doc;
    if (out._id === undefined) out = { _id: new ObjectId(), ...out };
    else if (Object.keys(out)[0] !== '_id') {
      const { _id, ...rest } = out;
      out = { _id, ...rest };
    }
    validateDocument(out);
    return out;
  }

  insert(doc: Doc, indexing = true, bson?: Uint8Array): void {
    const key = idKey(doc._id);
    if (this.docs.has(key)) {
      throw new DuplicateKeyError(this.ns, '_id_', { _id: 1 }, { _id: doc._id });
    }
    if (indexing) {
      for (const ix of this.indexes.values()) ix.checkUnique(doc, key);
      for (const ix of this.indexes.values()) ix.add(doc, key);
    }
    this.touch(key);
    this.memoKey = undefined;
    this.docs.set(key, doc, bson ?? wireBytes.get(doc));
  }

  /** Stored bytes of a document inserted or replaced last (journaled as they are). */
  bytesOf(doc: Doc): Uint8Array | undefined {
    return this.docs.bytes(idKey(doc._id));
  }

  replace(oldDoc: Doc, newDoc: Doc): void {
    validateDocument(newDoc);
    const key = idKey(oldDoc._id);
    for (const ix of this.indexes.values()) ix.checkUnique(newDoc, key);
    for (const ix of this.indexes.values()) {
      ix.remove(oldDoc, key);
      ix.add(newDoc, key);
    }
    this.touch(key);
    this.memoKey = undefined;
    this.docs.set(key, newDoc);
  }

  remove(doc: Doc): void {
    const key = idKey(doc._id);
    for (const ix of this.indexes.values()) ix.remove(doc, key);
    this.touch(key);
    this.memoKey = undefined;
    this.docs.delete(key);
  }

  getById(id: unknown): Doc | undefined {
    return this.docs.get(idKey(id));
  }

  /** Called before a document changes: the first change since a build started records the build's view of it. */
  private touch(key: string): void {
    for (const changed of this.builds)
      if (!changed.has(key)) changed.set(key, this.docs.get(key) ?? null);
  }

  /** Creates an index over the existing documents; throws E11000 (and creates nothing) on duplicates. */
  createIndex(raw: Doc): IndexSpec {
    const spec = validateIndexSpec(raw);
    const ix = new Index(spec, this.ns);
    ix.rebuild(this.docs.entries());
    this.indexes.set(spec.name, ix);
    return spec;
  }

  /**
   * Builds an index in slices while writes go on; returns a `commit` to run in one synchronous step
   * (with the collection still live), which applies the writes made meanwhile and throws E11000
   * if a duplicate key exists at that moment, as mongod decides at the end of its build too.
   * The index joins `indexes` only when `install` is called.
   */
  *buildIndex(raw: Doc): Sliced<IndexBuild> {
    const spec = validateIndexSpec(raw);
    const ix = new Index(spec, this.ns);
    // The view: stored documents are never mutated, so references taken now stay this moment's state.
    const changed = new Map<string, Doc | null>();
    const view = this.docs.view();
    this.builds.add(changed);
    let handedOver = false;
    try {
      const entries = yield* ix.entriesOfView(view);
      const suspects = yield* ix.loadSorted(entries);
      handedOver = true;
      return {
        index: ix,
        commit: () => {
          try {
            // Documents written during the build: take out what the view gave them, index their state now.
            for (const [key, was] of changed) if (was) ix.remove(was, key);
            for (const key of changed.keys()) {
              const now = this.docs.get(key);
              if (!now) continue;
              ix.checkUnique(now, key);
              ix.add(now, key);
            }
            ix.checkStillUnique(suspects);
          } finally {
            this.builds.delete(changed);
          }
        },
        install: () => void this.indexes.set(spec.name, ix),
        abandon: () => void this.builds.delete(changed),
      };
    } finally {
      // A build that failed or was abandoned stops recording writes.
      if (!handedOver) this.builds.delete(changed);
    }
  }

  /** Adds an index without building it (recovery builds all indexes once at the end). */
  registerIndex(raw: Doc): void {
    const spec = validateIndexSpec(raw);
    this.indexes.set(spec.name, new Index(spec, this.ns));
  }

  rebuildIndexes(): void {
    if (this.indexes.size === 0) return;
    const view = this.docs.view();
    // Each index reads what it needs of the stored bytes (see Index.entriesOfView), then sorts in bulk.
    for (const ix of this.indexes.values()) {
      const suspects = runToEnd(ix.loadSorted(runToEnd(ix.entriesOfView(view)), true));
      ix.checkStillUnique(suspects);
    }
  }

  findIndexByKey(key: Doc): Index | undefined {
    const want = JSON.stringify(key);
    for (const ix of this.indexes.values()) if (JSON.stringify(ix.spec.key) === want) return ix;
    return undefined;
  }

  // ---- reads ---------------------------------------------------------------------------------

  /**
   * Matching documents in result order. Lazy where it can be (unsorted scans, index order),
   * so a large cursor does not materialise the collection up front.
   */
  find(filter: unknown, opts: FindOptions = {}): FindScan {
    const matcher = isEmptyFilter(filter) ? null : compileFilter(filter);
    const sort = parseSort(opts.sort);
    const skip = nonNegative(opts.skip, 'skip');
    const limit = Math.abs(Number(opts.limit ?? 0)) || Infinity;
    const plan =
      opts.hint === undefined ? this.plan(filter, sort) : this.hintedPlan(filter, sort, opts.hint);
    plan.fields = matcher ? filterFields(filter) : null;
    const keys = (): Scan<string> => this.results(plan, matcher, sort, skip, limit);
    const docs = mapScan(keys(), (k) => this.docOf(k));
    // The whole collection in natural order, as stored: bytes straight from the store's own walk.
    const whole = plan.live && !matcher && !sort && !plan.order;
    const raw = (): Scan<Uint8Array> =>
      whole
        ? sliceIterable(this.allBytes(), skip, limit)
        : mapScan(keys(), (k) => this.docs.bytes(k)!);
    return Object.assign(docs, { raw });
  }

  /** Every stored document's bytes (counted as examined, as filterKeys counts them), with checkpoints. */
  private *allBytes(): Generator<Uint8Array | Pause, void, void> {
    let n = 0;
    for (const b of this.docs.allBytes()) {
      this.docsExamined++;
      yield b;
      if ((++n & (CHECK_EVERY - 1)) === 0) yield PAUSE;
    }
  }

  /** The document under a key a scan just reached (decoded once). */
  private docOf(key: string): Doc {
    if (this.memoKey === key) return this.memoDoc!;
    return this.docs.get(key)!;
  }

  /** Decodes a candidate for testing, remembering it for `docOf`. */
  private peek(key: string): Doc | undefined {
    if (this.memoKey === key) return this.memoDoc;
    const d = this.docs.decode(key);
    this.memoKey = d ? key : undefined;
    this.memoDoc = d;
    return d;
  }

  private *results(
    plan: Plan,
    matcher: Matcher | null,
    sort: SortSpec | null,
    skip: number,
    limit: number,
  ): Generator<string | Pause, void, void> {
    let results: Scan<string> = this.filterKeys(
      plan.candidates,
      matcher,
      plan.live,
      plan.fields ?? null,
    );
    const order = sort ?? plan.order;
    if (order && !plan.sorted) {
      const keys = yield* collect(results);
      const byDoc = new Map<Doc, string>();
      const matched: Doc[] = [];
      for (let i = 0; i < keys.length; i++) {
        const d = this.docs.get(keys[i]!)!;
        byDoc.set(d, keys[i]!);
        matched.push(d);
        if ((i & (CHECK_EVERY - 1)) === CHECK_EVERY - 1) yield PAUSE;
      }
      const sorted = yield* sortDocuments(matched, order);
      results = this.stillMatching(sorted, byDoc, matcher);
    }
    yield* sliceIterable(results, skip, limit);
  }

  /** Sorted documents as they are now: the sort took slices, and writes went on meanwhile. */
  private *stillMatching(
    docs: Doc[],
    keys: Map<Doc, string>,
    matcher: Matcher | null,
  ): Generator<string, void, void> {
    for (const d of docs) {
      const key = keys.get(d)!;
      const now = this.peek(key);
      if (now && (now === d || !matcher || matcher(now))) yield key;
    }
  }

  *count(filter: unknown, skip = 0, limit = 0, hint?: unknown): Sliced<number> {
    const isEmpty =
      filter === undefined ||
      filter === null ||
      (isPlainObject(filter) && Object.keys(filter).length === 0);
    let n = 0;
    if (hint !== undefined) this.hintedIndex(hint); // a hint naming no index fails, also on an empty filter
    if (isEmpty) n = this.docs.size;
    else {
      const matcher = compileFilter(filter);
      const plan =
        hint === undefined ? this.plan(filter, null) : this.hintedPlan(filter, null, hint);
      for (const d of this.filterKeys(plan.candidates, matcher, plan.live, filterFields(filter))) {
        if (d === PAUSE) yield PAUSE;
        else n++;
      }
    }
    n = Math.max(0, n - skip);
    return limit > 0 ? Math.min(n, limit) : n;
  }

  /** The index a hint names: an Index, '_id' (the _id index), or a natural-order direction. */
  private hintedIndex(hint: unknown): Index | '_id' | { natural: 1 | -1 } {
    if (isPlainObject(hint) && Object.keys(hint).length === 1 && hint.$natural !== undefined) {
      const dir = Number(hint.$natural);
      if (dir !== 1 && dir !== -1) throw badValue('$natural hint must be 1 or -1');
      return { natural: dir };
    }
    if (typeof hint !== 'string' && !isPlainObject(hint))
      throw badValue('hint must be a string or an object');
    if (hint === '_id_' || (isPlainObject(hint) && JSON.stringify(hint) === '{"_id":1}'))
      return '_id';
    const ix = typeof hint === 'string' ? this.indexes.get(hint) : this.findIndexByKey(hint);
    // A hidden index cannot be hinted (mongod answers as for a missing one).
    if (!ix || ix.spec.hidden)
      throw badValue(
        `error processing query: ns=${this.ns} planner returned error :: caused by :: hint provided does not correspond to an existing index`,
      );
    return ix;
  }

  /**
   * For explain: the access path find() takes for this filter, sort and hint, decided with the
   * planner's own steps (hintedIndex, chooseIndex, sortDirectionOn) in plan()'s order.
   */
  accessPath(filter: unknown, sortSpec?: unknown, hint?: unknown): AccessPath {
    const sort = parseSort(sortSpec);
    const preds = indexablePredicates(filter);
    if (hint !== undefined) {
      const target = this.hintedIndex(hint);
      if (target === '_id')
        return { stage: 'IXSCAN', index: '_id', ranges: [null], direction: 1, sorted: !sort };
      if ('natural' in target)
        return { stage: 'COLLSCAN', direction: target.natural, sorted: !sort };
      const choice = this.chooseIndex(preds, [target]);
      const ranges = choice ? choice.ranges : [null];
      const reverse = sort ? this.sortDirectionOn(target, sort, choice?.range ?? null) : null;
      const sorted = !sort || (reverse !== null && ranges.length === 1);
      return { stage: 'IXSCAN', index: target, ranges, direction: reverse ?? 1, sorted };
    }
    const idPred = preds.get('_id');
    if (idPred && (idPred.kind === 'eq' || idPred.kind === 'in')) {
      const ids = idPred.kind === 'eq' ? [idPred.value] : idPred.values;
      return { stage: 'IDHACK', ids, sorted: ids.length <= 1 || !sort };
    }
    const choice = this.chooseIndex(preds);
    if (choice) {
      const reverse = sort ? this.sortDirectionOn(choice.index, sort, choice.range) : null;
      const sorted = !sort || (reverse !== null && choice.ranges.length === 1);
      return {
        stage: 'IXSCAN',
        index: choice.index,
        ranges: choice.ranges,
        direction: reverse ?? 1,
        sorted,
      };
    }
    if (sort) {
      for (const ix of this.indexes.values()) {
        if (ix.multikey || ix.spec.sparse || ix.partial || ix.spec.hidden) continue;
        const dir = this.sortDirectionOn(ix, sort, null);
        if (dir !== null)
          return { stage: 'IXSCAN', index: ix, ranges: [null], direction: dir, sorted: true };
      }
    }
    return { stage: 'COLLSCAN', direction: 1, sorted: !sort };
  }

  /** The plan a hint imposes: that index (its ranges for the filter, or all of it), or a collection scan. */
  private hintedPlan(filter: unknown, sort: SortSpec | null, hint: unknown): Plan {
    const target = this.hintedIndex(hint);
    if (target === '_id')
      return { candidates: this.docs.keys(), sorted: false, order: [['_id', 1]] };
    if ('natural' in target) {
      const docs = target.natural === 1 ? this.docs.keys() : [...this.docs.keys()].reverse();
      return { candidates: docs, sorted: !sort };
    }
    const choice = this.chooseIndex(indexablePredicates(filter), [target]);
    const ranges = choice ? choice.ranges : [null];
    const reverse = sort ? this.sortDirectionOn(target, sort, choice?.range ?? null) : null;
    const ids = ranges.flatMap((r) => target.scan(r, reverse === -1));
    if (ranges.length > 1 || target.multikey) dedupeInPlace(ids);
    return {
      candidates: ids,
      sorted: !sort || (reverse !== null && ranges.length === 1),
    };
  }

  private plan(filter: unknown, sort: SortSpec | null): Plan {
    const preds = indexablePredicates(filter);
    const idPred = preds.get('_id');
    if (idPred && (idPred.kind === 'eq' || idPred.kind === 'in')) {
      const ids = idPred.kind === 'eq' ? [idPred.value] : idPred.values;
      const keys: string[] = [];
      const seen = new Set<string>();
      for (const id of ids) {
        const k = idKey(id);
        if (this.docs.has(k) && !seen.has(k)) {
          seen.add(k);
          keys.push(k);
        }
      }
      return { candidates: keys, sorted: keys.length <= 1 || !sort };
    }
    const choice = this.chooseIndex(preds);
    if (choice) {
      const reverse = sort ? this.sortDirectionOn(choice.index, sort, choice.range) : null;
      const ids = choice.ranges.flatMap((r) => choice.index.scan(r, reverse === -1));
      if (choice.ranges.length > 1) dedupeInPlace(ids);
      return {
        candidates: ids,
        sorted: !sort || (reverse !== null && choice.ranges.length === 1),
      };
    }
    if (sort) {
      for (const ix of this.indexes.values()) {
        if (ix.multikey || ix.spec.sparse || ix.partial || ix.spec.hidden) continue;
        const dir = this.sortDirectionOn(ix, sort, null);
        if (dir !== null) return { candidates: ix.scan(null, dir === -1), sorted: true };
      }
    }
    return { candidates: this.docs.keys(), sorted: !sort, live: true };
  }

  /** 1 or -1 when walking `ix` forwards/backwards yields `sort` order (after the equality prefix), else null. */
  private sortDirectionOn(ix: Index, sort: SortSpec, range: KeyRange | null): 1 | -1 | null {
    if (ix.multikey) return null;
    const eqCount = range ? range.eq.length : 0;
    const rest = ix.fields.slice(eqCount);
    // Sort fields that are pinned by equality are free; the others must follow the index.
    const sortRest = sort.filter(([f]) => !ix.fields.slice(0, eqCount).some(([g]) => g === f));
    if (sortRest.length === 0) return 1;
    if (sortRest.length > rest.length) return null;
    let dir: 1 | -1 | null = null;
    for (let i = 0; i < sortRest.length; i++) {
      if (sortRest[i][0] !== rest[i][0]) return null;
      const d = sortRest[i][1] === rest[i][1] ? 1 : -1;
      if (dir === null) dir = d;
      else if (dir !== d) return null;
    }
    return dir;
  }

  private chooseIndex(
    preds: Map<string, FieldPredicate>,
    hinted?: Index[],
  ): { index: Index; ranges: KeyRange[]; range: KeyRange } | null {
    let best: { index: Index; ranges: KeyRange[]; range: KeyRange; score: number } | null = null;
    for (const ix of hinted ?? this.indexes.values()) {
      if ((ix.partial || ix.spec.hidden) && !hinted) continue;
      const eq: unknown[] = [];
      let inValues: unknown[] | null = null;
      let range: KeyRange | null = null;
      for (const [field] of ix.fields) {
        const p = preds.get(field);
        if (!p) break;
        if (p.kind === 'eq') {
          if (ix.spec.sparse && p.value === null) break;
          eq.push(p.value);
          continue;
        }
        if (
          p.kind === 'in' &&
          eq.length === 0 &&
          !inValues &&
          !(ix.spec.sparse && p.values.includes(null))
        ) {
          inValues = p.values;
          break;
        }
        if (p.kind === 'range') range = { eq: [...eq], lo: p.lo, hi: p.hi };
        // A sparse index holds every document where one of its fields exists (matched after).
        if (p.kind === 'exists' && eq.length === 0 && ix.spec.sparse) range = { eq: [] };
        break;
      }
      let ranges: KeyRange[];
      let score: number;
      if (inValues) {
        ranges = inValues.map((v) => ({ eq: [v] }));
        score = 2;
      } else if (range) {
        ranges = [range];
        score = 1 + eq.length * 3;
      } else if (eq.length > 0) {
        ranges = [{ eq }];
        score = eq.length * 3 + (ix.spec.unique && eq.length === ix.fields.length ? 100 : 0);
      } else continue;
      // On a tie, the smaller index wins: a sparse index on a rare flag beats one on a common status.
      if (!best || score > best.score || (score === best.score && ix.size < best.index.size))
        best = { index: ix, ranges, range: ranges[0], score };
    }
    return best;
  }

  /** Keys of the candidates that (still) exist and match; without a filter nothing is decoded. */
  private *filterKeys(
    keys: Iterable<string>,
    matcher: Matcher | null,
    live = false,
    fields: ReadonlySet<string> | null = null,
  ): Generator<string | Pause, void, void> {
    let examined = 0;
    for (const k of keys) {
      if (matcher) {
        // Only the filter's fields are decoded; such a partial document is never handed on.
        const d = fields ? this.docs.decodeFields(k, fields) : this.peek(k);
        if (d) {
          this.docsExamined++;
          if (matcher(d)) yield k;
        }
      } else if (live || this.docs.has(k)) {
        this.docsExamined++;
        yield k;
      }
      if ((++examined & (CHECK_EVERY - 1)) === 0) yield PAUSE;
    }
  }
}

/**
 * The top-level fields a filter reads, or null when it may read the whole document ($expr,
 * $where, $jsonSchema, $text or anything not recognised here).
 */
export function filterFields(filter: unknown): ReadonlySet<string> | null {
  const out = new Set<string>();
  const walk = (f: unknown): boolean => {
    if (!isPlainObject(f)) return false;
    for (const k of Object.keys(f)) {
      const v = f[k];
      if (k === '$and' || k === '$or' || k === '$nor') {
        if (!Array.isArray(v) || !v.every(walk)) return false;
      } else if (k === '$comment') continue;
      else if (k.startsWith('$')) return false;
      else out.add(k.split('.')[0]!);
    }
    return true;
  };
  return walk(filter) ? out : null;
}

/** Documents that came as BSON and are stored as those bytes. */
const wireBytes = new WeakMap<Doc, Uint8Array>();

function isEmptyFilter(filter: unknown): boolean {
  return (
    filter === undefined ||
    filter === null ||
    (isPlainObject(filter) && Object.keys(filter).length === 0)
  );
}

function* mapScan<T>(scan: Scan<string>, f: (key: string) => T): Generator<T | Pause, void, void> {
  for (const k of scan) yield k === PAUSE ? PAUSE : f(k);
}

function* sliceIterable<T>(
  it: Scan<T>,
  skip: number,
  limit: number,
): Generator<T | Pause, void, void> {
  if (limit <= 0) return;
  let i = 0;
  let n = 0;
  for (const x of it) {
    if (x === PAUSE) {
      yield PAUSE;
      continue;
    }
    if (i++ < skip) continue;
    yield x;
    if (++n >= limit) return;
  }
}

function dedupeInPlace(ids: string[]): void {
  const seen = new Set<string>();
  let w = 0;
  for (const id of ids)
    if (!seen.has(id)) {
      seen.add(id);
      ids[w++] = id;
    }
  ids.length = w;
}

function nonNegative(v: unknown, name: string): number {
  if (v === undefined || v === null) return 0;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw badValue(`${name} must be a non-negative integer`);
  return n;
}

// Stored documents are never mutated, so their BSON size can be remembered: cursor batches are
// capped by size, and measuring every document again on each scan was a large share of its cost.
const sizes = new WeakMap<object, number>();

/** BSON size of a document (remembered for stored ones; projections are never larger). */
export function bsonSize(doc: Doc): number {
  let n = sizes.get(doc);
  if (n === undefined) {
    n = calculateObjectSize(doc);
    sizes.set(doc, n);
  }
  return n;
}

/**
 * mongod stores a field named `__proto__` like any other; here it would become an object's
 * prototype wherever a document is copied, so it is refused by name.
 */
export function refusedProto(): MongoServerError {
  return unsupported("the field name '__proto__'");
}

/** Rejects what MongoDB rejects on insert, and values this store cannot compare correctly. */
export function validateDocument(doc: Doc): void {
  const id = doc._id;
  if (Array.isArray(id))
    throw new MongoServerError(Codes.BadValue, "The '_id' value cannot be of type array");
  if (id instanceof RegExp)
    throw new MongoServerError(Codes.BadValue, "The '_id' value cannot be of type regex");
  for (const k of Object.keys(doc)) {
    if (k.startsWith('$'))
      throw new MongoServerError(
        Codes.BadValue,
        `Document can't have $ prefixed field names: ${k}`,
      );
  }
  checkValues(doc, 0);
  if (bsonSize(doc) > MAX_BSON_SIZE) {
    throw new MongoServerError(
      Codes.BSONObjectTooLarge,
      `object to insert too large. size in bytes exceeds ${MAX_BSON_SIZE}`,
    );
  }
}

function checkValues(v: unknown, depth: number): void {
  if (depth > 100) throw badValue('document nesting is too deep (over 100 levels)');
  if (v === null || typeof v !== 'object') return;
  if (Array.isArray(v)) {
    for (const x of v) checkValues(x, depth + 1);
    return;
  }
  const t = (v as { _bsontype?: string })._bsontype;
  if (t !== undefined || v instanceof Date) return;
  if (typeRank(v) !== 4) return;
  for (const [k, x] of Object.entries(v)) {
    if (k === '__proto__') throw refusedProto();
    checkValues(x, depth + 1);
  }
}
