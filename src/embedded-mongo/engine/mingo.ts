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
import type { ExpressionOperator, Options, QueryOperator } from 'mingo/types';
import { MongoServerError } from '../errors';
import { compareValues, getPathValues, isPlainObject, typeRank, type Doc } from './values';

const NULLISH = typeRank(null);
const MIN_KEY = typeRank({ _bsontype: 'MinKey' });
const MAX_KEY = typeRank({ _bsontype: 'MaxKey' });

type RangeOperator = (
  selector: string,
  operand: unknown,
  options: Options,
) => (doc: Doc) => boolean;

function range(test: (c: number) => boolean, mingo: QueryOperator): QueryOperator {
  const op: RangeOperator = (selector, operand, options) => {
    const rank = typeRank(operand);
    // null bounds mean "null or missing", which mingo already answers as mongod does.
    if (rank === NULLISH) return (mingo as RangeOperator)(selector, operand, options);
    const bracketed = rank !== MIN_KEY && rank !== MAX_KEY;
    const holds = (v: unknown): boolean =>
      (!bracketed || typeRank(v) === rank) && test(compareValues(v, operand));
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

function onlyRanges(cond: unknown): boolean {
  if (!isPlainObject(cond)) return false;
  const keys = Object.keys(cond);
  return (
    keys.length > 0 && keys.every((k) => k === '$gt' || k === '$gte' || k === '$lt' || k === '$lte')
  );
}

const NO_BRANCH = Symbol('no $switch branch');

type Expression = (obj: unknown, expr: unknown, options: Options) => unknown;
const mingoSwitch = expressionOperators.$switch as Expression;

/** mingo's $switch answers null when no branch matches and there is no default; mongod fails. */
const $switch: Expression = (obj, expr, options) => {
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

export const MINGO_CONTEXT = Context.init({
  accumulator: accumulatorOperators,
  expression: { ...expressionOperators, $switch: $switch as ExpressionOperator },
  pipeline: pipelineOperators,
  projection: projectionOperators,
  query: {
    ...queryOperators,
    $elemMatch: elemMatch,
    $gt: range((c) => c > 0, queryOperators.$gt),
    $gte: range((c) => c >= 0, queryOperators.$gte),
    $lt: range((c) => c < 0, queryOperators.$lt),
    $lte: range((c) => c <= 0, queryOperators.$lte),
  },
  window: windowOperators,
});

// Operator tables are plain objects: `constructor` or `toString` used as a stage, accumulator or
// field name would find Object.prototype's function. Every MongoDB operator starts with '$'.
const lookup = MINGO_CONTEXT.getOperator.bind(MINGO_CONTEXT);
MINGO_CONTEXT.getOperator = (type, name) => (name.startsWith('$') ? lookup(type, name) : null);

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
