/**
 * The aggregate command. A leading $match/$sort/$skip/$limit runs on the collection's planner;
 * the rest runs in mingo, per-document stages in chunks (a slice each), the others once.
 */
import { ProcessingMode } from 'mingo';
import { Aggregator, isKnownStage } from '../engine/mingo';
import type { Document } from 'bson';
import { Codes, MongoServerError, unsupported } from '../errors';
import { validateNamespace, type WriteBatch } from '../engine/catalog';
import type { Collection } from '../engine/collection';
import { asBadValue, compileFilter, rejectUnsupportedOperators } from '../engine/query';
import { prepareStage } from '../engine/pipeline';
import { isPlainObject, type Doc } from '../engine/values';
import { collect, PAUSE, type Scan, type Sliced } from '../engine/slices';
import {
  EOF_PLAN,
  executionStats,
  explainReply,
  measure,
  parseVerbosity,
  planOnly,
  queryPlanner,
  winningPlan,
  withAllPlans,
  type Verbosity,
} from '../engine/explain';
import { SERVER_VERSION, scaleOf, storageStats } from './admin';
import { outTarget, writeOut } from './out';
import { batchSizeOf, compileAndEmpty, type Handlers, type Store } from './shared';

/** A Map, so a stage named like an inherited key (`constructor`) is not found here. */
const UNSUPPORTED_STAGES: ReadonlyMap<string, string> = new Map([
  ['$out', 'the $out aggregation stage'],
  ['$merge', 'the $merge aggregation stage'],
  ['$changeStream', 'change streams'],
  ['$search', 'Atlas Search ($search)'],
  ['$searchMeta', 'Atlas Search ($searchMeta)'],
  ['$vectorSearch', 'vector search ($vectorSearch)'],
  ['$geoNear', 'the $geoNear aggregation stage (geospatial)'],
  ['$currentOp', 'the $currentOp aggregation stage'],
  ['$listSessions', 'the $listSessions aggregation stage'],
  ['$listLocalSessions', 'the $listLocalSessions aggregation stage'],
  ['$indexStats', 'the $indexStats aggregation stage'],
  ['$planCacheStats', 'the $planCacheStats aggregation stage'],
]);

function* aggregate(store: Store, cmd: Document, db: string, batch: WriteBatch): Sliced<Document> {
  if (typeof cmd.aggregate !== 'string')
    throw unsupported('database-level aggregation (aggregate: 1)');
  const name = cmd.aggregate;
  validateNamespace(db, name);
  if (cmd.explain) return yield* explainAggregate(store, cmd, db, parseVerbosity(false));
  if (cmd.let !== undefined) throw unsupported("the aggregate option 'let'");
  if (!isPlainObject(cmd.cursor))
    throw new MongoServerError(
      Codes.FailedToParse,
      "The 'cursor' option is required, except for aggregate with the explain argument",
    );
  const collStats = collStatsStage(cmd.pipeline);
  const out = outTarget(cmd.pipeline, db);
  const given = out ? (cmd.pipeline as Doc[]).slice(0, -1) : cmd.pipeline;
  const stages = checkPipeline(collStats ? (given as Doc[]).slice(1) : given);
  const ns = `${db}.${name}`;
  const coll = store.catalog.get(db, name);
  const results = collStats
    ? runStages(stages, [yield* collStatsDocument(coll, ns, collStats)], mingoOptions(store, db))
    : yield* runPipeline(store, coll, db, stages, cmd.hint);
  if (out) {
    const docs = yield* collect(results);
    writeOut(store, batch, out, docs);
    return yield* store.cursors.start(ns, [], null, batchSizeOf(cmd.cursor), false);
  }
  return yield* store.cursors.start(ns, results, null, batchSizeOf(cmd.cursor), false);
}

/** Checks a pipeline's stages (refusing unsupported ones by name) and prepares them for mingo. */
function checkPipeline(pipeline: unknown): Doc[] {
  if (!Array.isArray(pipeline))
    throw new MongoServerError(
      Codes.TypeMismatch,
      "'pipeline' option must be specified as an array",
    );
  for (const stage of pipeline) {
    if (!isPlainObject(stage) || Object.keys(stage).length !== 1)
      throw new MongoServerError(
        Codes.Location40324,
        'A pipeline stage specification object must contain exactly one field.',
      );
    const stageName = Object.keys(stage)[0];
    const refused = UNSUPPORTED_STAGES.get(stageName);
    if (refused) throw unsupported(refused);
    if (!isKnownStage(stageName))
      throw new MongoServerError(
        Codes.Location40324,
        `Unrecognized pipeline stage name: '${stageName}'`,
      );
  }
  for (const stage of pipeline as Doc[]) rejectNestedWrites(Object.values(stage)[0]);
  const stages = (pipeline as Doc[]).flatMap(prepareStage);
  rejectUnsupportedOperators(stages);
  return stages;
}

/** mingo would run a $out/$merge inside $lookup, $facet or $unionWith as a no-op; mongod fails. */
function rejectNestedWrites(spec: unknown): void {
  if (Array.isArray(spec)) for (const v of spec) rejectNestedWrites(v);
  else if (isPlainObject(spec))
    for (const [k, v] of Object.entries(spec)) {
      if (k === '$out' || k === '$merge')
        throw unsupported(`${k} inside a sub-pipeline ($lookup, $facet, $unionWith)`);
      rejectNestedWrites(v);
    }
}

/** A leading $match/$sort/$skip/$limit, which runs on the collection's planner (and its indexes). */
interface CursorPrefix {
  filter: unknown;
  sort: unknown;
  skip: number;
  limit: number;
  rest: Doc[];
}

function cursorPrefix(pipeline: Doc[]): CursorPrefix {
  let i = 0;
  let filter: unknown = {};
  let sort: unknown;
  let skip = 0;
  let limit = 0;
  if (pipeline[i]?.$match !== undefined) filter = pipeline[i++].$match;
  if (pipeline[i]?.$sort !== undefined) sort = pipeline[i++].$sort;
  if (sort !== undefined && pipeline[i]?.$skip !== undefined) skip = Number(pipeline[i++].$skip);
  if (pipeline[i]?.$limit !== undefined) limit = Number(pipeline[i++].$limit);
  return { filter, sort, skip, limit, rest: pipeline.slice(i) };
}

/**
 * explain of an aggregate: a pipeline the query layer runs whole is explained as a find; otherwise
 * the $cursor stage carries the query's plan and the remaining stages follow as given.
 */
export function* explainAggregate(
  store: Store,
  cmd: Document,
  db: string,
  verbosity: Verbosity,
): Sliced<Document> {
  if (typeof cmd.aggregate !== 'string')
    throw unsupported('database-level aggregation (aggregate: 1)');
  const name = cmd.aggregate;
  validateNamespace(db, name);
  if (collStatsStage(cmd.pipeline)) throw unsupported('explain of a $collStats pipeline');
  const stages = checkPipeline(cmd.pipeline);
  const { filter, sort, skip, limit, rest } = cursorPrefix(stages);
  const coll = store.catalog.get(db, name);
  const ns = `${db}.${name}`;
  const match = (isPlainObject(filter) ? filter : {}) as Doc;
  const command = { ...cmd, $db: db };
  let cursor: Doc;
  if (!coll) cursor = planOnly(ns, match, EOF_PLAN, verbosity);
  else {
    const access = coll.accessPath(match, sort, cmd.hint);
    const plan = winningPlan(access, { filter: match, sort: sort as Doc, skip, limit });
    cursor = { queryPlanner: queryPlanner(ns, match, plan) };
    if (verbosity !== 'queryPlanner') {
      const m = yield* measure(coll, coll.find(match, { sort, skip, limit, hint: cmd.hint }));
      cursor.executionStats = withAllPlans(executionStats(plan, access, m), verbosity);
    }
  }
  if (rest.length === 0) return explainReply(cursor, command, SERVER_VERSION);
  return explainReply({ stages: [{ $cursor: cursor }, ...rest] }, command, SERVER_VERSION);
}

function mingoOptions(store: Store, db: string): AggregatorOptions {
  return {
    scriptEnabled: false,
    processingMode: ProcessingMode.CLONE_INPUT,
    collectionResolver: (other: string) => [...(store.catalog.get(db, other)?.docs.values() ?? [])],
  };
}

/** The $collStats specification when the pipeline starts with one; refused anywhere else. */
function collStatsStage(pipeline: unknown): Doc | null {
  if (!Array.isArray(pipeline)) return null;
  pipeline.forEach((stage, i) => {
    if (i > 0 && isPlainObject(stage) && stage.$collStats !== undefined)
      throw new MongoServerError(
        Codes.Location40602,
        '$collStats is only valid as the first stage in a pipeline.',
      );
  });
  const first = pipeline[0];
  if (!isPlainObject(first) || first.$collStats === undefined) return null;
  if (!isPlainObject(first.$collStats))
    throw new MongoServerError(
      Codes.FailedToParse,
      '$collStats must take a nested object but found: ' + JSON.stringify(first.$collStats),
    );
  for (const k of Object.keys(first.$collStats))
    if (k !== 'storageStats' && k !== 'count')
      throw unsupported(`the $collStats option '${k}' (storageStats and count are supported)`);
  return first.$collStats;
}

/** The one document $collStats produces: storageStats (collStats' fields) and/or count. */
function* collStatsDocument(coll: Collection | undefined, ns: string, spec: Doc): Sliced<Doc> {
  const out: Doc = { ns, host: 'embedded', localTime: new Date() };
  if (spec.storageStats === undefined && spec.count === undefined) return out;
  if (!coll)
    throw new MongoServerError(
      Codes.NamespaceNotFound,
      `Unable to retrieve storageStats in $collStats stage :: caused by :: Collection [${ns}] not found.`,
    );
  if (spec.storageStats !== undefined) {
    const opts = isPlainObject(spec.storageStats) ? spec.storageStats : {};
    const stats = yield* storageStats(coll, scaleOf(opts));
    delete stats.ns;
    out.storageStats = stats;
  }
  if (spec.count !== undefined) out.count = coll.docs.size;
  return out;
}

function* runPipeline(
  store: Store,
  coll: Collection | undefined,
  db: string,
  pipeline: Doc[],
  hint: unknown,
): Sliced<Scan<Doc>> {
  const { filter, sort, skip, limit, rest } = cursorPrefix(pipeline);
  // countDocuments(): [{$match}, ({$skip}, {$limit},)? {$group: {_id: 1, n: {$sum: 1}}}]
  if (rest.length === 1 && isCountGroup(rest[0])) {
    const n = coll ? yield* coll.count(filter, skip, limit, hint) : 0;
    return n > 0 ? [{ _id: (rest[0].$group as Doc)._id, [countField(rest[0])]: n }] : [];
  }
  // countDocuments() as $count: the same count, without materialising the matches.
  if (rest.length === 1 && isCountStage(rest[0])) {
    const n = coll ? yield* coll.count(filter, skip, limit, hint) : (compileFilter(filter), 0);
    return n > 0 ? [{ [rest[0].$count as string]: n }] : [];
  }
  const source = coll ? coll.find(filter, { sort, skip, limit, hint }) : compileAndEmpty(filter);
  if (rest.length === 0) return source;
  const options = mingoOptions(store, db);
  // Stages that look at one document at a time run over the source in chunks, a slice each;
  // the rest (grouping, sorting, lookups) runs once over what they produced.
  let streaming = 0;
  while (streaming < rest.length && PER_DOCUMENT_STAGES.has(Object.keys(rest[streaming])[0]))
    streaming++;
  try {
    let docs: Doc[];
    // Stages see the stored values (int64 as Long…): the store's operators in mingo.ts and
    // agg-numbers.ts compute with them as mongod does.
    if (streaming === 0) docs = yield* collect(source);
    else {
      docs = [];
      let chunk: Doc[] = [];
      for (const d of source) {
        if (d !== PAUSE) chunk.push(d);
        if (chunk.length < STREAM_CHUNK && d !== PAUSE) continue;
        if (chunk.length)
          for (const out of runStages(rest.slice(0, streaming), chunk, options)) docs.push(out);
        chunk = [];
        yield PAUSE;
      }
      for (const out of runStages(rest.slice(0, streaming), chunk, options)) docs.push(out);
    }
    return runStages(rest.slice(streaming), docs, options);
  } catch (e) {
    throw asBadValue(e);
  }
}
/** Pipeline stages whose output for a document depends on that document alone. */
const PER_DOCUMENT_STAGES = new Set([
  '$match',
  '$project',
  '$addFields',
  '$set',
  '$unset',
  '$unwind',
  '$replaceRoot',
  '$replaceWith',
]);
const STREAM_CHUNK = 500;

type AggregatorOptions = ConstructorParameters<typeof Aggregator>[1];

function runStages(stages: Doc[], input: Doc[], options: AggregatorOptions): Doc[] {
  if (stages.length === 0) return input;
  // mingo's $project orders its output by its own key order; each $project runs on its own so
  // its output can be put in mongod's order from its input (one output per input document).
  let docs = input;
  let segment: Doc[] = [];
  for (const stage of stages) {
    if (stage.$project === undefined) {
      segment.push(stage);
      continue;
    }
    if (segment.length) docs = new Aggregator(segment, options).run(docs) as Doc[];
    segment = [];
    const before = docs;
    docs = (new Aggregator([stage], options).run(before) as Doc[]).map((out, i) =>
      projectOrder(before[i]!, stage.$project as Doc, out),
    );
  }
  return segment.length ? (new Aggregator(segment, options).run(docs) as Doc[]) : docs;
}

/**
 * mongod's $project output order: _id first, then the included fields in the input document's
 * order, then the computed fields in the order of the specification; the same within embedded
 * documents (dotted paths and nested specifications alike).
 */
function projectOrder(input: Doc, spec: Doc, out: Doc): Doc {
  return orderLevel(input, specTree(spec), out, true);
}

type SpecTree = Map<string, SpecTree | 'include' | 'compute'>;

function specTree(spec: Doc, tree: SpecTree = new Map()): SpecTree {
  for (const [path, v] of Object.entries(spec)) {
    const parts = path.split('.');
    let level = tree;
    for (const part of parts.slice(0, -1)) {
      let next = level.get(part);
      if (!(next instanceof Map)) level.set(part, (next = new Map()));
      level = next;
    }
    const last = parts[parts.length - 1]!;
    if (isPlainObject(v) && !Object.keys(v)[0]?.startsWith('$')) {
      const sub = level.get(last);
      level.set(last, specTree(v, sub instanceof Map ? sub : new Map()));
    } else if (v === 1 || v === true || (typeof v === 'number' && v !== 0))
      level.set(last, 'include');
    else if (v !== 0 && v !== false) level.set(last, 'compute');
  }
  return tree;
}

function onlyIncludes(node: SpecTree | 'include' | 'compute'): boolean {
  return node === 'include' || (node instanceof Map && [...node.values()].every(onlyIncludes));
}

function orderLevel(input: Doc, tree: SpecTree, out: Doc, top: boolean): Doc {
  const ordered: Doc = {};
  const own = (d: Doc, k: string): boolean => Object.prototype.hasOwnProperty.call(d, k);
  const put = (k: string): void => {
    if (!own(out, k) || own(ordered, k)) return;
    const node = tree.get(k);
    const v = out[k];
    const from = own(input, k) ? input[k] : undefined;
    if (node instanceof Map && isPlainObject(v))
      ordered[k] = orderLevel(isPlainObject(from) ? from : {}, node, v, false);
    else if (node instanceof Map && Array.isArray(v)) {
      ordered[k] = v.map((el, i) =>
        isPlainObject(el)
          ? orderLevel(
              Array.isArray(from) && isPlainObject(from[i]) ? from[i] : {},
              node,
              el,
              false,
            )
          : el,
      );
    } else ordered[k] = v;
  };
  if (top) put('_id');
  for (const k of Object.keys(input)) {
    const node = tree.get(k);
    if (node && onlyIncludes(node)) put(k);
  }
  for (const k of tree.keys()) put(k);
  for (const k of Object.keys(out)) put(k);
  return ordered;
}

function isCountStage(stage: Doc): boolean {
  const f = stage.$count;
  return (
    typeof f === 'string' && f !== '' && !f.startsWith('$') && !f.includes('.') && !f.includes('\0')
  );
}

function isCountGroup(stage: Doc): boolean {
  const g = stage.$group;
  if (!isPlainObject(g) || Object.keys(g).length !== 2) return false;
  const field = countField(stage);
  const acc = g[field];
  return (
    (g._id === 1 || g._id === null) &&
    isPlainObject(acc) &&
    Object.keys(acc).length === 1 &&
    acc.$sum === 1
  );
}

function countField(stage: Doc): string {
  return Object.keys(stage.$group as Doc).find((k) => k !== '_id') ?? 'n';
}

export const aggregateCommands: Handlers = {
  aggregate: (s, c, db, batch) => aggregate(s, c, db, batch),
};
