/**
 * The one place mingo is configured. mingo's package entry merges a caller's operators *under*
 * its own, so operators are replaced here on its base classes with a context built in full:
 * range query operators ($gt, $gte, $lt, $lte) use MongoDB's BSON order, because mingo compares
 * only values of the same JS class and BinData by its text (BinData ranges and ranges across BSON
 * number classes came out wrong). Type bracketing as in mongod: a value is compared only with an
 * operand of its own canonical type (all numbers are one type).
 */
import { Context } from 'mingo';
import { OpType } from 'mingo/core';
import { Aggregator as AggregatorBase } from 'mingo/aggregator';
import { Query as QueryBase } from 'mingo/query';
import * as accumulatorOperators from 'mingo/operators/accumulator';
import * as expressionOperators from 'mingo/operators/expression';
import * as pipelineOperators from 'mingo/operators/pipeline';
import * as projectionOperators from 'mingo/operators/projection';
import * as queryOperators from 'mingo/operators/query';
import * as windowOperators from 'mingo/operators/window';
import { evalExpr } from 'mingo/core';
import { Lazy, type Iterator } from 'mingo/lazy';
import type {
  AccumulatorOperator,
  ExpressionOperator,
  Options,
  PipelineOperator,
  QueryOperator,
} from 'mingo/types';
import { Long } from 'bson';
import { MongoServerError, unsupported } from '../errors';
import { BITWISE_QUERY_OPERATORS } from './bitwise';
import { modOperator } from './mod-operator';
import { typeOperator } from './type-operator';
import { groupKey, holdsWrapper, numberAccumulators, numberExpressions } from './agg-numbers';
import {
  cloneDeep,
  compareValues,
  getPathValues,
  isPlainObject,
  pathHoldsNull,
  sortKey,
  toNumber,
  typeRank,
  type Doc,
} from './values';

const NULLISH = typeRank(null);
const NUMBER = typeRank(0);
const MIN_KEY = typeRank({ _bsontype: 'MinKey' });
const MAX_KEY = typeRank({ _bsontype: 'MaxKey' });

type RangeOperator = (
  selector: string,
  operand: unknown,
  options: Options,
) => (doc: Doc) => boolean;

function isNaNValue(v: unknown): boolean {
  if (typeof v === 'number') return Number.isNaN(v);
  const t = (v as { _bsontype?: string } | null)?._bsontype;
  if (t === 'Double') return Number.isNaN((v as { value: number }).value);
  return t === 'Decimal128' && String(v) === 'NaN';
}

function range(test: (c: number) => boolean, mingo: QueryOperator): QueryOperator {
  const op: RangeOperator = (selector, operand, options) => {
    const rank = typeRank(operand);
    // null bounds mean "null or missing", which mingo already answers as mongod does.
    if (rank === NULLISH) return (mingo as RangeOperator)(selector, operand, options);
    const bracketed = rank !== MIN_KEY && rank !== MAX_KEY;
    // NaN sorts first but is neither less nor greater than any number: mongod's $lte/$gte
    // match NaN only against NaN, its $lt/$gt never.
    const nanOperand = isNaNValue(operand);
    const holds = (v: unknown): boolean => {
      if (bracketed && typeRank(v) !== rank) return false;
      if (nanOperand || isNaNValue(v)) return nanOperand && isNaNValue(v) && test(0);
      return test(compareValues(v, operand));
    };
    return (doc) =>
      getPathValues(ORIGINALS.get(doc) ?? doc, selector).some((v) =>
        Array.isArray(v) ? v.some(holds) || holds(v) : holds(v),
      );
  };
  return op as QueryOperator;
}

/**
 * mingo sees documents with int64 values as their nearest doubles (see values.ts mingoView); a
 * range operator compares with the original values, so an int64 beyond 2^53 compares exactly.
 * The view's objects that are copies map to the objects they were copied from.
 */
const ORIGINALS = new WeakMap<object, Doc>();

/** Records which objects of `view` (as made by mingoView from `original`) are copies of which. */
export function recordOrigins(view: unknown, original: unknown): void {
  if (view === original || view === null || typeof view !== 'object') return;
  if (original === null || typeof original !== 'object') return;
  if (Array.isArray(view)) {
    if (!Array.isArray(original)) return;
    ORIGINALS.set(view, original as unknown as Doc);
    for (let i = 0; i < view.length; i++) recordOrigins(view[i], original[i]);
    return;
  }
  if (!isPlainObject(view)) return;
  ORIGINALS.set(view, original as Doc);
  for (const k of Object.keys(view)) recordOrigins(view[k], (original as Doc)[k]);
}

/**
 * mingo's $elemMatch tests a scalar element as a new object ({field: element}) of the view's
 * element, which has no original. When the conditions are only ranges, which handle every BSON
 * number exactly, the elements are taken from the original document instead.
 */
const elemMatch = ((selector: string, operand: unknown, options: Options) => {
  const test = (queryOperators.$elemMatch as RangeOperator)(selector, operand, options);
  if (!onlyRanges(operand)) return test;
  return (doc: Doc) => test(ORIGINALS.get(doc) ?? doc);
}) as QueryOperator;

/** Operators that read stored values themselves (ranges, $type, the bit tests). */
const ON_STORED_VALUES = new Set([
  '$gt',
  '$gte',
  '$lt',
  '$lte',
  '$type',
  '$mod',
  '$bitsAllSet',
  '$bitsAllClear',
  '$bitsAnySet',
  '$bitsAnyClear',
]);

function onlyRanges(cond: unknown): boolean {
  if (!isPlainObject(cond)) return false;
  const keys = Object.keys(cond);
  return keys.length > 0 && keys.every((k) => ON_STORED_VALUES.has(k));
}

const NO_BRANCH = Symbol('no $switch branch');

/**
 * mingo takes a condition's JS truth, so a zero int64 or an integer-valued double (objects here)
 * would be true; each condition goes through the store's $and, which has mongod's truth.
 */
function withTruth(expr: unknown, where: 'branches' | 'cond'): unknown {
  if (!isPlainObject(expr)) return expr;
  if (where === 'cond')
    return expr.cond === undefined ? expr : { ...expr, cond: { $and: [expr.cond] } };
  if (!Array.isArray(expr.branches)) return expr;
  return {
    ...expr,
    branches: expr.branches.map((b: unknown) =>
      isPlainObject(b) && b.case !== undefined ? { ...b, case: { $and: [b.case] } } : b,
    ),
  };
}

const mingoFilterExpr = expressionOperators.$filter as Expression;
const $filter: Expression = (obj, expr, options) =>
  mingoFilterExpr(obj, withTruth(expr, 'cond'), options);

type Expression = (obj: unknown, expr: unknown, options: Options) => unknown;
const mingoSwitch = expressionOperators.$switch as Expression;

/** mingo's $switch answers null when no branch matches and there is no default; mongod fails. */
const $switch: Expression = (obj, given, options) => {
  const expr = withTruth(given, 'branches');
  if (!isPlainObject(expr) || Object.prototype.hasOwnProperty.call(expr, 'default'))
    return mingoSwitch(obj, expr, options);
  const out = mingoSwitch(obj, { ...expr, default: { $literal: NO_BRANCH } }, options);
  if (out === NO_BRANCH)
    throw new MongoServerError(
      40066,
      '$switch could not find a matching branch for an input, and no default was specified.',
    );
  return out;
};

// ---------------------------------------------------------------------------------------------
// Pipeline stages over stored values (int64 as Long, an integer-valued double as a bson Double):
// matching, sorting and grouping compare numbers by value across their types, as mongod does.

type Stage = (coll: Iterator, expr: unknown, options: Options) => Iterator;
const mingoStage = (name: string): Stage =>
  (pipelineOperators as unknown as Record<string, Stage>)[name]!;

let compileMatch: ((filter: unknown) => (doc: Doc) => boolean) | null = null;

/** query.ts hands over its filter compiler (it imports this module, so it cannot be imported here). */
export function useFilterCompiler(f: (filter: unknown) => (doc: Doc) => boolean): void {
  compileMatch = f;
}

const $match: Stage = (coll, expr, options) => {
  if (!compileMatch) return mingoStage('$match')(coll, expr, options);
  const test = compileMatch(expr);
  return coll.filter((d: Doc) => test(d));
};

/** $sort in BSON order, as find's sort (arrays by their smallest/largest element). */
const $sort: Stage = (coll, expr, options) => {
  if (!isPlainObject(expr) || Object.values(expr).some((d) => d !== 1 && d !== -1))
    return mingoStage('$sort')(coll, expr, options);
  const spec = Object.entries(expr) as Array<[string, 1 | -1]>;
  return coll.transform((items: Doc[]) => {
    const keyed = items.map((doc) => ({
      doc,
      keys: spec.map(([path, dir]) => {
        const vals = getPathValues(doc, path);
        return sortKey(vals.length === 1 ? vals[0] : vals.length === 0 ? null : vals, dir);
      }),
    }));
    keyed.sort((a, b) => {
      for (let i = 0; i < spec.length; i++) {
        const c = compareValues(a.keys[i], b.keys[i]);
        if (c !== 0) return c * spec[i]![1];
      }
      return 0;
    });
    return Lazy(keyed.map((k) => k.doc));
  });
};

// An operator only the rewritten $group uses (mingo takes `$` and word characters as operators).
const GROUP_KEY = '$__embeddedGroupKey';
const FIRST_ID = '\u0000id';

/** $group keyed by groupKey; _id is the first document's value, as mongod keeps it. */
const $group: Stage = (coll, expr, options) => {
  if (!isPlainObject(expr) || !Object.prototype.hasOwnProperty.call(expr, '_id'))
    return mingoStage('$group')(coll, expr, options);
  const { _id, ...fields } = expr;
  const spec = {
    _id: { [GROUP_KEY]: _id },
    [FIRST_ID]: { $first: { $ifNull: [_id, null] } },
    ...fields,
  };
  return mingoStage('$group')(coll, spec, options).map((out: Doc) => {
    const { [FIRST_ID]: id, _id: key, ...rest } = out;
    void key;
    return { _id: id ?? null, ...rest };
  });
};

/**
 * mongod unwinds a value that is not an array, null or missing as a one-element array; mingo
 * drops an empty document or empty string instead, so documents holding one pass through here.
 */
const unwindKeepingEmpty: Stage = (coll, expr, options) =>
  coll.transform((items: Doc[]) => {
    const spec = typeof expr === 'string' ? { path: expr } : isPlainObject(expr) ? expr : {};
    const path = typeof spec.path === 'string' && spec.path.startsWith('$') ? spec.path : '';
    const index = spec.includeArrayIndex;
    const kept = (d: Doc): boolean => {
      let v: unknown = d;
      for (const key of path.slice(1).split('.')) {
        if (!isPlainObject(v)) return false; // through an array: mingo's resolution applies
        v = v[key];
      }
      return v === '' || (isPlainObject(v) && Object.keys(v).length === 0);
    };
    if (!path || !items.some(kept)) return mingoStage('$unwind')(Lazy(items), expr, options);
    return Lazy(
      items.flatMap((d: Doc) =>
        kept(d)
          ? [typeof index === 'string' && index ? { ...d, [index]: null } : d]
          : mingoStage('$unwind')(Lazy([d]), expr, options).collect<Doc>(),
      ),
    );
  });

/** $unwind's includeArrayIndex is an int64 in mongod. */
const $unwind: Stage = (coll, expr, options) => {
  const out = unwindKeepingEmpty(coll, expr, options);
  const field = isPlainObject(expr) ? expr.includeArrayIndex : undefined;
  if (typeof field !== 'string' || field.includes('.')) return out;
  return out.map((d: Doc) =>
    typeof d[field] === 'number' ? { ...d, [field]: Long.fromNumber(d[field] as number) } : d,
  );
};

/** Stages that compare values in mingo's way: refused when those values hold a BSON number class. */
function guardedStage(name: string, values: (d: Doc, expr: Doc, o: Options) => unknown): Stage {
  return (coll, expr, options) =>
    coll.transform((items: Doc[]) => {
      if (isPlainObject(expr) && items.some((d) => holdsWrapper(values(d, expr, options))))
        throw unsupported(
          `the ${name} stage over int64, integer-valued double or Decimal128 values (it compares them as other types)`,
        );
      return mingoStage(name)(Lazy(items), expr, options);
    });
}

const $lookup: Stage = (coll, expr, options) => {
  if (!isPlainObject(expr) || typeof expr.localField !== 'string')
    return mingoStage('$lookup')(coll, expr, options);
  const local = expr.localField;
  const foreign = String(expr.foreignField);
  return coll.transform((items: Doc[]) => {
    const from = (options as { collectionResolver?: (n: string) => Doc[] }).collectionResolver?.(
      String(expr.from),
    );
    const as = expr.as;
    const pipeline = expr.pipeline;
    const ownForm =
      (pipeline === undefined || (Array.isArray(pipeline) && expr.let === undefined)) &&
      typeof as === 'string' &&
      !as.includes('.');
    // The store's equality (BSON values, mongod's null rules) wherever it can; mingo's only for
    // the forms it cannot serve, and never over values mingo compares as other types.
    if (!ownForm) {
      if (
        !items.some((d) => holdsWrapper(getPathValues(d, local))) &&
        !(from ?? []).some((d) => holdsWrapper(getPathValues(d, foreign)))
      )
        return mingoStage('$lookup')(Lazy(items), expr, options);
      throw unsupported(
        '$lookup with localField/foreignField and "let" or a dotted "as" on int64, integer-valued double or Decimal128 values',
      );
    }
    // The concise form: the equality matches, then the pipeline runs on them.
    const then = Array.isArray(pipeline)
      ? (matches: Doc[]) => new Aggregator(pipeline as Doc[], options).run(matches) as Doc[]
      : (matches: Doc[]) => matches;
    return Lazy(equalityLookup(items, from ?? [], local, foreign, as, then));
  });
};

/**
 * $lookup by localField/foreignField with mongod's equality (numbers by value across types): a
 * local array matches by its elements, a foreign array by its elements or as a whole, null or
 * missing matches null or missing; the matches in the foreign collection's order.
 */
function equalityLookup(
  items: Doc[],
  from: Doc[],
  local: string,
  foreign: string,
  as: string,
  then: (matches: Doc[]) => Doc[],
): Doc[] {
  const byKey = new Map<string, number[]>();
  from.forEach((f, pos) => {
    // A local null (or missing) field matches what {foreign: null} matches.
    const keys = new Set<string>(pathHoldsNull(f, foreign) ? [groupKey(null)] : []);
    for (const v of getPathValues(f, foreign)) {
      if (v === null || v === undefined) continue;
      keys.add(groupKey(v));
      if (Array.isArray(v)) for (const el of v) if (el != null) keys.add(groupKey(el));
    }
    for (const k of keys) {
      const list = byKey.get(k);
      if (list) list.push(pos);
      else byKey.set(k, [pos]);
    }
  });
  return items.map((d) => {
    const keys = new Set<string>();
    for (const v of getPathValues(d, local))
      if (Array.isArray(v)) for (const el of v) keys.add(groupKey(el ?? null));
      else keys.add(groupKey(v ?? null));
    if (keys.size === 0) keys.add(groupKey(null));
    const positions = new Set<number>();
    for (const k of keys) for (const pos of byKey.get(k) ?? []) positions.add(pos);
    const matches = [...positions].sort((a, b) => a - b).map((pos) => cloneDeep(from[pos]!));
    return { ...d, [as]: then(matches) };
  });
}

const STAGES: Record<string, Stage> = {
  $match,
  $sort,
  $group,
  $unwind,
  $lookup,
  $bucketAuto: guardedStage('$bucketAuto', (d, e, o) => evalExpr(d, e.groupBy, o)),
  $graphLookup: guardedStage('$graphLookup', (d) => d),
  $densify: guardedStage('$densify', (d) => d),
};

/**
 * A dotted $exists follows mongod's path rules (arrays fan out into their documents, never into
 * nested arrays; a numeric part indexes an array); mingo's found `v.foo` inside `v: [['foo']]`.
 */
const exists = ((selector: string, operand: unknown, options: Options) => {
  if (!selector.includes('.'))
    return (queryOperators.$exists as RangeOperator)(selector, operand, options);
  const want =
    typeRank(operand) === NUMBER
      ? toNumber(operand) !== 0
      : operand !== false && operand !== null && operand !== undefined;
  return (doc: Doc) => getPathValues(ORIGINALS.get(doc) ?? doc, selector).length > 0 === want;
}) as QueryOperator;

/**
 * Equality with null follows mongod's path rules (see values.ts pathHoldsNull): mingo found no
 * null at `v.foo` in `v: [{}]` or `v: [{foo: 1}, {bar: 1}]`, where mongod does.
 */
function nullAware(name: '$eq' | '$ne' | '$in' | '$nin'): QueryOperator {
  const mingo = queryOperators[name] as unknown as RangeOperator;
  const positive = name === '$eq' || name === '$ne' ? '$eq' : '$in';
  const negated = name === '$ne' || name === '$nin';
  const op = (selector: string, operand: unknown, options: Options) => {
    const list = positive === '$in' && Array.isArray(operand);
    const hasNull = list ? (operand as unknown[]).some((v) => v === null) : operand === null;
    if (!hasNull) return mingo(selector, operand, options);
    const others = list ? (operand as unknown[]).filter((v) => v !== null) : [];
    const rest = others.length
      ? (queryOperators.$in as unknown as RangeOperator)(selector, others, options)
      : () => false;
    return (doc: Doc) => (pathHoldsNull(doc, selector) || rest(doc)) !== negated;
  };
  return op as unknown as QueryOperator;
}
const NULL_AWARE = {
  $eq: nullAware('$eq'),
  $ne: nullAware('$ne'),
  $in: nullAware('$in'),
  $nin: nullAware('$nin'),
};

/** An operator that tests the stored values (the view's int64 are doubles, its Doubles numbers). */
function onOriginal(
  op: (selector: string, operand: unknown) => (doc: Doc) => boolean,
): QueryOperator {
  const wrapped = (selector: string, operand: unknown) => {
    const test = op(selector, operand);
    return (doc: Doc) => test(ORIGINALS.get(doc) ?? doc);
  };
  return wrapped as unknown as QueryOperator;
}

/** Bit tests read the stored values (the view's int64 are doubles); see bitwise.ts. */
const bitwise: Record<string, QueryOperator> = Object.fromEntries(
  Object.entries(BITWISE_QUERY_OPERATORS).map(([name, op]) => [name, onOriginal(op)]),
);

const expressions = numberExpressions(expressionOperators as unknown as Record<string, unknown>);
expressions[GROUP_KEY] = (obj, expr, options) => groupKey(evalExpr(obj, expr, options));

export const MINGO_CONTEXT = Context.init({
  accumulator: {
    ...accumulatorOperators,
    ...(numberAccumulators(accumulatorOperators as unknown as Record<string, unknown>) as Record<
      string,
      AccumulatorOperator
    >),
  },
  expression: {
    ...expressionOperators,
    ...(expressions as Record<string, ExpressionOperator>),
    $switch: $switch as ExpressionOperator,
    $filter: $filter as ExpressionOperator,
  },
  pipeline: { ...pipelineOperators, ...(STAGES as unknown as Record<string, PipelineOperator>) },
  projection: projectionOperators,
  query: {
    ...queryOperators,
    $elemMatch: elemMatch,
    $gt: range((c) => c > 0, queryOperators.$gt),
    $gte: range((c) => c >= 0, queryOperators.$gte),
    $lt: range((c) => c < 0, queryOperators.$lt),
    $lte: range((c) => c <= 0, queryOperators.$lte),
    ...bitwise,
    $exists: exists,
    $type: onOriginal(typeOperator),
    $mod: onOriginal(modOperator),
    ...NULL_AWARE,
  },
  window: windowOperators,
});

// Operator tables are plain objects: `constructor` or `toString` used as a stage, accumulator or
// field name would find Object.prototype's function. Every MongoDB operator starts with '$'.
const lookup = MINGO_CONTEXT.getOperator.bind(MINGO_CONTEXT);
MINGO_CONTEXT.getOperator = (type, name) => (name.startsWith('$') ? lookup(type, name) : null);

// mingo copies a caller's context into every Query, Aggregator and update it makes, and its
// updater then merges its own operators in (existing ones win); for the store's context, built in
// full once, both copies changed nothing and cost ~15% of the store's CPU on the signing path.
// The context is handed out as it is, and an add of operators it already has is skipped; mingo
// adding one it lacks would change the store's operators, so that is an error, not a silent merge.
const contextFrom = Context.from.bind(Context);
Context.from = (...contexts: Context[]) =>
  contexts.length === 1 && contexts[0] === MINGO_CONTEXT ? MINGO_CONTEXT : contextFrom(...contexts);
(MINGO_CONTEXT as unknown as { addOps: AddOps }).addOps = (type, operators) => {
  for (const name of Object.keys(operators))
    if (MINGO_CONTEXT.getOperator(type, name) === null)
      throw new Error(`mingo would add ${type} operator ${name} to the store's context`);
  return MINGO_CONTEXT;
};
type AddOps = (type: OpType, operators: Record<string, unknown>) => Context;

/** True if `name` is a pipeline stage the store's mingo runs. */
export function isKnownStage(name: string): boolean {
  return MINGO_CONTEXT.getOperator(OpType.PIPELINE, name) !== null;
}

type QueryOptions = Partial<Options>;

/** mingo's Query with the store's operators. */
export class Query extends QueryBase {
  constructor(condition: Doc, options: QueryOptions = {}) {
    super(condition, { ...options, context: MINGO_CONTEXT });
  }
}

/** mingo's Aggregator with the store's operators. */
export class Aggregator extends AggregatorBase {
  constructor(pipeline: Doc[], options: QueryOptions = {}) {
    super(pipeline, { ...options, context: MINGO_CONTEXT });
  }
}
