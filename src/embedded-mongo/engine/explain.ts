/**
 * Explain plans in mongod 7's classic-engine shapes (queryPlanner.winningPlan, executionStats),
 * built from the access path the planner actually takes (Collection.accessPath) and figures
 * measured while running the query: documents the matcher examined, index keys visited, results.
 * There is one candidate plan, so rejectedPlans is always empty.
 */
import type { AccessPath, Collection } from './collection';
import type { KeyBound, KeyRange } from './indexes';
import { PAUSE, type Scan, type Sliced } from './slices';
import { Codes, MongoServerError } from '../errors';
import { compareValues, isPlainObject, type Doc } from './values';

export interface QueryShape {
  filter: Doc;
  sort?: Doc;
  skip?: number;
  limit?: number;
  projection?: Doc;
}

/** What running the query measured. */
export interface Measured {
  nReturned: number;
  docsExamined: number;
  millis: number;
}

export type Verbosity = 'queryPlanner' | 'executionStats' | 'allPlansExecution';

export function parseVerbosity(v: unknown): Verbosity {
  if (v === undefined || v === true) return 'allPlansExecution';
  if (v === false) return 'queryPlanner';
  if (v === 'queryPlanner' || v === 'executionStats' || v === 'allPlansExecution') return v;
  throw new MongoServerError(
    Codes.FailedToParse,
    "verbosity string must be one of {'queryPlanner', 'executionStats', 'allPlansExecution'}",
  );
}

/** The winning plan's stage tree, innermost first: access stage, FETCH, SORT, SKIP, LIMIT, PROJECTION. */
export function winningPlan(access: AccessPath, q: QueryShape): Doc {
  const skip = q.skip ?? 0;
  let stage = accessStage(access, q.filter, skip);
  const limit = Math.abs(q.limit ?? 0);
  if (q.sort && Object.keys(q.sort).length && !access.sorted) {
    stage = {
      stage: 'SORT',
      sortPattern: q.sort,
      memLimit: 104857600,
      ...(limit ? { limitAmount: limit + skip } : {}),
      type: 'simple',
      inputStage: stage,
    };
  }
  if (skip) stage = { stage: 'SKIP', skipAmount: skip, inputStage: stage };
  // IDHACK returns one document at most: mongod adds no LIMIT over it.
  if (limit && stage.stage !== 'IDHACK')
    stage = { stage: 'LIMIT', limitAmount: limit, inputStage: stage };
  if (q.projection && Object.keys(q.projection).length) {
    const simple = Object.entries(q.projection).every(
      ([k, v]) => !k.includes('.') && !isPlainObject(v),
    );
    stage = {
      stage: simple ? 'PROJECTION_SIMPLE' : 'PROJECTION_DEFAULT',
      transformBy: q.projection,
      inputStage: stage,
    };
  }
  return stage;
}

function accessStage(access: AccessPath, filter: Doc, skip: number): Doc {
  const hasFilter = Object.keys(filter).length > 0;
  if (access.stage === 'COLLSCAN')
    return {
      stage: 'COLLSCAN',
      ...(hasFilter ? { filter } : {}),
      direction: access.direction === 1 ? 'forward' : 'backward',
    };
  // mongod's IDHACK serves a query on _id alone (no skip); otherwise it is an _id index scan.
  if (isIdHack(access, filter, skip)) return { stage: 'IDHACK' };
  const index = access.stage === 'IDHACK' ? '_id' : access.index;
  const ranges: Array<KeyRange | null> =
    access.stage === 'IDHACK' ? access.ids.map((v) => ({ eq: [v] })) : access.ranges;
  const direction = access.stage === 'IDHACK' ? 1 : access.direction;
  const keyPattern = index === '_id' ? { _id: 1 } : index.spec.key;
  const fields = Object.keys(keyPattern);
  const residual = residualFilter(filter, ranges, fields);
  const ixscan: Doc = {
    stage: 'IXSCAN',
    keyPattern,
    indexName: index === '_id' ? '_id_' : index.spec.name,
    isMultiKey: index === '_id' ? false : index.multikey,
    isUnique: index === '_id' ? true : index.spec.unique === true,
    isSparse: index === '_id' ? false : index.spec.sparse === true,
    isPartial: index === '_id' ? false : index.partial !== null,
    indexVersion: 2,
    direction: direction === 1 ? 'forward' : 'backward',
    indexBounds: indexBounds(keyPattern, ranges, direction),
  };
  return {
    stage: 'FETCH',
    ...(Object.keys(residual).length ? { filter: residual } : {}),
    inputStage: ixscan,
  };
}

function isIdHack(access: AccessPath, filter: Doc, skip: number): boolean {
  return (
    access.stage === 'IDHACK' &&
    Object.keys(filter).length === 1 &&
    access.ids.length === 1 &&
    !skip
  );
}

/** The filter's conditions the index bounds do not already decide (checked on the fetched document). */
function residualFilter(filter: Doc, ranges: Array<KeyRange | null>, fields: string[]): Doc {
  const bounded = new Set<string>();
  for (const r of ranges) {
    if (!r) continue;
    r.eq.forEach((_, i) => bounded.add(fields[i]!));
    if (r.lo || r.hi) bounded.add(fields[r.eq.length]!);
  }
  const out: Doc = {};
  for (const [k, v] of Object.entries(filter)) if (!bounded.has(k)) out[k] = v;
  return out;
}

function indexBounds(
  keyPattern: Record<string, number>,
  ranges: Array<KeyRange | null>,
  direction: 1 | -1,
): Doc {
  const out: Doc = {};
  Object.entries(keyPattern).forEach(([field, dir], i) => {
    const walk = dir * direction;
    const intervals: string[] = [];
    const ordered = [...ranges].sort((a, b) =>
      a && b && i < a.eq.length && i < b.eq.length ? compareValues(a.eq[i], b.eq[i]) * walk : 0,
    );
    for (const r of ordered) {
      let iv: string;
      if (r && i < r.eq.length) iv = `[${fmt(r.eq[i])}, ${fmt(r.eq[i])}]`;
      else if (r && i === r.eq.length && (r.lo || r.hi)) iv = rangeInterval(r.lo, r.hi, walk);
      else iv = walk === 1 ? '[MinKey, MaxKey]' : '[MaxKey, MinKey]';
      if (!intervals.includes(iv)) intervals.push(iv);
    }
    out[field] = intervals;
  });
  return out;
}

function rangeInterval(lo: KeyBound | undefined, hi: KeyBound | undefined, walk: number): string {
  const low = lo ? (lo.typeEdge ? typeStart(lo.value) : fmt(lo.value)) : 'MinKey';
  const high = hi ? (hi.typeEdge ? typeEnd(hi.value) : fmt(hi.value)) : 'MaxKey';
  const open = !lo || lo.inclusive || lo.typeEdge ? '[' : '(';
  const close = !hi || hi.inclusive || (hi.typeEdge && !isString(hi.value)) ? ']' : ')';
  if (walk === 1) return `${open}${low}, ${high}${close}`;
  return `${close === ']' ? '[' : '('}${high}, ${low}${open === '[' ? ']' : ')'}`;
}

const isString = (v: unknown): boolean => typeof v === 'string';

/** The lower edge of a value's BSON type, as mongod prints type-bracketed bounds. */
function typeStart(v: unknown): string {
  if (typeof v === 'number' || isNumberType(v)) return '-inf.0';
  if (typeof v === 'string') return '""';
  if (v instanceof Date) return 'new Date(-9223372036854775808)';
  return 'MinKey';
}

function typeEnd(v: unknown): string {
  if (typeof v === 'number' || isNumberType(v)) return 'inf.0';
  if (typeof v === 'string') return '{}';
  if (v instanceof Date) return 'new Date(9223372036854775807)';
  return 'MaxKey';
}

function isNumberType(v: unknown): boolean {
  return ['Long', 'Int32', 'Double'].includes(
    (v as { _bsontype?: string } | null)?._bsontype ?? '',
  );
}

/** A value as mongod prints it in index bounds. */
function fmt(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'number') {
    if (v === Infinity) return 'inf.0';
    if (v === -Infinity) return '-inf.0';
    return String(v);
  }
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'boolean') return String(v);
  if (v instanceof Date) return `new Date(${v.getTime()})`;
  const t = (v as { _bsontype?: string })._bsontype;
  if (t === 'ObjectId') return `ObjectId('${String(v)}')`;
  if (t === 'Long' || t === 'Int32' || t === 'Double') return String(v);
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

/** executionStats for the one plan: the stage tree with the measured figures at the stages that produced them. */
export function executionStats(plan: Doc, access: AccessPath, m: Measured): Doc {
  const keysExamined = access.stage === 'COLLSCAN' ? 0 : m.docsExamined;
  const stages = withStats(plan, m, keysExamined, true);
  return {
    executionSuccess: true,
    nReturned: m.nReturned,
    executionTimeMillis: Math.round(m.millis),
    totalKeysExamined: keysExamined,
    totalDocsExamined: m.docsExamined,
    executionStages: stages,
  };
}

function withStats(stage: Doc, m: Measured, keys: number, top: boolean): Doc {
  // mongod's order: the stage name, its figures, its own fields, then its input.
  const { stage: name, inputStage, ...fields } = stage;
  const out: Doc = { stage: name };
  if (top) {
    out.nReturned = m.nReturned;
    out.executionTimeMillisEstimate = Math.round(m.millis);
  }
  if (name === 'COLLSCAN' || name === 'FETCH' || name === 'IDHACK')
    out.docsExamined = m.docsExamined;
  if (name === 'IXSCAN' || name === 'IDHACK') out.keysExamined = keys;
  Object.assign(out, fields);
  if (isPlainObject(inputStage)) out.inputStage = withStats(inputStage, m, keys, false);
  return out;
}

export function queryPlanner(ns: string, filter: Doc, plan: Doc): Doc {
  return {
    namespace: ns,
    indexFilterSet: false,
    parsedQuery: filter,
    maxIndexedOrSolutionsReached: false,
    maxIndexedAndSolutionsReached: false,
    maxScansToExplodeReached: false,
    winningPlan: plan,
    rejectedPlans: [],
  };
}

/** Runs a scan to its end in slices, counting its results and the documents it examined (in its own steps only). */
export function* measure(coll: Collection | undefined, scan: Scan<unknown>): Sliced<Measured> {
  const start = performance.now();
  let nReturned = 0;
  let docsExamined = 0;
  let mark = coll?.docsExamined ?? 0;
  for (const x of scan) {
    if (x !== PAUSE) {
      nReturned++;
      continue;
    }
    docsExamined += (coll?.docsExamined ?? 0) - mark;
    yield PAUSE;
    mark = coll?.docsExamined ?? 0;
  }
  docsExamined += (coll?.docsExamined ?? 0) - mark;
  return { nReturned, docsExamined, millis: performance.now() - start };
}

/** The reply around an explained command (mongod's top-level fields). */
export function explainReply(body: Doc, command: Doc, version: string): Doc {
  return {
    explainVersion: '1',
    ...body,
    command,
    serverInfo: { host: 'embedded', port: 0, version, gitVersion: 'embedded' },
    serverParameters: {
      internalQueryFacetBufferSizeBytes: 104857600,
      internalQueryFacetMaxOutputDocSizeBytes: 104857600,
      internalLookupStageIntermediateDocumentMaxSizeBytes: 104857600,
      internalDocumentSourceGroupMaxMemoryBytes: 104857600,
      internalQueryMaxBlockingSortMemoryUsageBytes: 104857600,
      internalQueryProhibitBlockingMergeOnMongoS: 0,
      internalQueryMaxAddToSetBytes: 104857600,
      internalDocumentSourceSetWindowFieldsMaxMemoryBytes: 104857600,
    },
    ok: 1,
  };
}

/** A collection that does not exist: mongod plans an EOF stage. */
export const EOF_PLAN: Doc = { stage: 'EOF' };

/** The plan of a query that finds nothing to run on (a missing collection). */
export function planOnly(ns: string, filter: Doc, plan: Doc, verbosity: Verbosity): Doc {
  const body: Doc = { queryPlanner: queryPlanner(ns, filter, plan) };
  if (verbosity !== 'queryPlanner')
    body.executionStats = withAllPlans(
      {
        executionSuccess: true,
        nReturned: 0,
        executionTimeMillis: 0,
        totalKeysExamined: 0,
        totalDocsExamined: 0,
        executionStages: { ...plan, nReturned: 0, executionTimeMillisEstimate: 0 },
      },
      verbosity,
    );
  return body;
}

/** allPlansExecution adds the other candidates' runs: there are none. */
export function withAllPlans(stats: Doc, verbosity: Verbosity): Doc {
  return verbosity === 'allPlansExecution' ? { ...stats, allPlansExecution: [] } : stats;
}
