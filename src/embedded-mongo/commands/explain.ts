/**
 * explain for find, count, distinct and aggregate (verbosity queryPlanner, executionStats,
 * allPlansExecution): the plan the store's planner takes and, beyond queryPlanner, the figures
 * measured by running the query. Other explained commands are refused by name.
 */
import type { Document } from 'bson';
import { Codes, MongoServerError, unsupported } from '../errors';
import { compileFilter } from '../engine/query';
import { compileProjection } from '../engine/projection';
import {
  EOF_PLAN,
  executionStats,
  explainReply,
  measure,
  parseVerbosity,
  planOnly,
  withAllPlans,
  queryPlanner,
  winningPlan,
  type QueryShape,
  type Verbosity,
} from '../engine/explain';
import { isPlainObject, type Doc } from '../engine/values';
import type { Sliced } from '../engine/slices';
import { SERVER_VERSION } from './admin';
import { explainAggregate } from './aggregate';
import { collectionName, type Handlers, type Store } from './shared';

function* explain(store: Store, cmd: Document, db: string): Sliced<Document> {
  if (!isPlainObject(cmd.explain)) throw unsupported('explain of a non-document command');
  const verbosity = parseVerbosity(cmd.verbosity);
  const inner: Doc = { ...cmd.explain, $db: db };
  const name = Object.keys(cmd.explain)[0];
  let body: Doc;
  switch (name) {
    case 'find':
      body = yield* explainFind(store, inner, db, verbosity);
      break;
    case 'count':
      body = yield* explainCount(store, inner, db, verbosity);
      break;
    case 'distinct':
      body = yield* explainDistinct(store, inner, db, verbosity);
      break;
    case 'aggregate':
      return yield* explainAggregate(store, inner, db, verbosity);
    default:
      throw unsupported(
        `explain of ${name ?? 'an empty command'} (find, count, distinct and aggregate can be explained)`,
      );
  }
  return explainReply(body, inner, SERVER_VERSION);
}

function* explainFind(store: Store, cmd: Doc, db: string, verbosity: Verbosity): Sliced<Doc> {
  const name = collectionName(cmd, 'find');
  const filter = (cmd.filter ?? {}) as Doc;
  compileFilter(filter);
  compileProjection(cmd.projection, filter);
  const shape: QueryShape = {
    filter,
    sort: cmd.sort as Doc | undefined,
    skip: cmd.skip === undefined ? 0 : Number(cmd.skip),
    limit: cmd.limit === undefined ? 0 : Number(cmd.limit),
    projection: cmd.projection as Doc | undefined,
  };
  const coll = store.catalog.get(db, name);
  const ns = `${db}.${name}`;
  if (!coll) return planOnly(ns, filter, EOF_PLAN, verbosity);
  const access = coll.accessPath(filter, shape.sort, cmd.hint);
  const plan = winningPlan(access, shape);
  const body: Doc = { queryPlanner: queryPlanner(ns, filter, plan) };
  if (verbosity === 'queryPlanner') return body;
  const m = yield* measure(
    coll,
    coll.find(filter, { sort: shape.sort, skip: shape.skip, limit: shape.limit, hint: cmd.hint }),
  );
  body.executionStats = withAllPlans(executionStats(plan, access, m), verbosity);
  return body;
}

function* explainCount(store: Store, cmd: Doc, db: string, verbosity: Verbosity): Sliced<Doc> {
  const name = collectionName(cmd, 'count');
  const filter = (cmd.query ?? {}) as Doc;
  compileFilter(filter);
  const coll = store.catalog.get(db, name);
  const ns = `${db}.${name}`;
  if (!coll) return planOnly(ns, filter, { stage: 'COUNT', inputStage: EOF_PLAN }, verbosity);
  const skip = Number(cmd.skip ?? 0);
  const limit = Math.abs(Number(cmd.limit ?? 0));
  const empty = Object.keys(filter).length === 0;
  const access = coll.accessPath(filter, undefined, cmd.hint);
  // With no query mongod counts from the collection's metadata, examining nothing.
  const plan: Doc = empty
    ? { stage: 'RECORD_STORE_FAST_COUNT' }
    : { stage: 'COUNT', inputStage: winningPlan(access, { filter }) };
  const body: Doc = { queryPlanner: queryPlanner(ns, filter, plan) };
  if (verbosity === 'queryPlanner') return body;
  const start = performance.now();
  const mark = coll.docsExamined;
  const n = yield* coll.count(filter, skip, limit, cmd.hint);
  const m = {
    nReturned: 0,
    docsExamined: coll.docsExamined - mark,
    millis: performance.now() - start,
  };
  const stats = executionStats(plan, access, m);
  (stats.executionStages as Doc).nCounted = n;
  body.executionStats = withAllPlans(stats, verbosity);
  return body;
}

function* explainDistinct(store: Store, cmd: Doc, db: string, verbosity: Verbosity): Sliced<Doc> {
  const name = collectionName(cmd, 'distinct');
  const filter = (cmd.query ?? {}) as Doc;
  compileFilter(filter);
  const coll = store.catalog.get(db, name);
  const ns = `${db}.${name}`;
  if (!coll) return planOnly(ns, filter, EOF_PLAN, verbosity);
  const access = coll.accessPath(filter, undefined, cmd.hint);
  if (typeof cmd.key !== 'string' || cmd.key === '')
    throw new MongoServerError(Codes.TypeMismatch, "Field 'key' must be a non-empty string");
  const key = cmd.key;
  const plan: Doc = {
    stage: 'PROJECTION_DEFAULT',
    transformBy: { _id: 0, [key]: 1 },
    inputStage: winningPlan(access, { filter }),
  };
  const body: Doc = { queryPlanner: queryPlanner(ns, filter, plan) };
  if (verbosity === 'queryPlanner') return body;
  const m = yield* measure(coll, coll.find(filter, { hint: cmd.hint }));
  body.executionStats = withAllPlans(executionStats(plan, access, m), verbosity);
  return body;
}

export const explainCommands: Handlers = {
  explain: (s, c, db) => explain(s, c, db),
};
