/**
 * Where the store's aggregation stages differ from mingo's, one stage at a time: checks mongod
 * makes and mingo does not, stages rewritten into the ones mongod itself expands them to, and
 * stages refused by name where mingo would answer differently.
 */
import { MongoServerError, unsupported } from '../errors';
import { rewriteAll } from './query';
import { compareValues, isPlainObject, typeRank, type Doc } from './values';

/** Stages mingo runs but not as mongod does: refused by name (rather than a wrong answer). */
const REFUSED: ReadonlyMap<string, string> = new Map([
  ['$setWindowFields', 'the $setWindowFields aggregation stage'],
  ['$fill', 'the $fill aggregation stage'],
]);

/** The stages to run for one stage of the request, checked. */
export function prepareStage(stage: Doc): Doc[] {
  const [name, spec] = Object.entries(stage)[0]!;
  const refused = REFUSED.get(name);
  if (refused) throw unsupported(refused);
  switch (name) {
    case '$group':
      checkGroup(spec);
      return [stage];
    case '$bucket':
      return bucketStages(spec);
    case '$sortByCount':
      // As mongod expands it (and so grouping numbers of different types together, see mingo.ts).
      return [{ $group: { _id: spec, count: { $sum: 1 } } }, { $sort: { count: -1 } }];
    case '$project':
    case '$addFields':
    case '$set':
      checkProjection(spec, name === '$project');
      return [stage];
    case '$match':
      // mongod's $all, as the planner's matcher has it.
      return [isPlainObject(spec) ? { $match: rewriteAll(spec) } : stage];
    case '$facet':
      if (!isPlainObject(spec)) return [stage];
      return [
        {
          $facet: Object.fromEntries(Object.entries(spec).map(([k, p]) => [k, preparePipeline(p)])),
        },
      ];
    case '$lookup':
    case '$unionWith':
      return [
        isPlainObject(spec) && Array.isArray(spec.pipeline)
          ? { [name]: { ...spec, pipeline: preparePipeline(spec.pipeline) } }
          : stage,
      ];
    default:
      return [stage];
  }
}

function preparePipeline(p: unknown): unknown {
  return Array.isArray(p)
    ? p.flatMap((st) =>
        isPlainObject(st) && Object.keys(st).length === 1 ? prepareStage(st) : [st],
      )
    : p;
}

/**
 * mingo's $project also takes find()'s projection operators: a positional `a.$`, `$elemMatch`, and
 * `$slice: n` or `$slice: [skip, limit]` on the field. In an aggregation mongod refuses the first
 * two and reads `$slice` only as the expression `{$slice: [array, n]}` / `[array, position, n]`,
 * so those are refused with mongod's codes instead of answered as find() would answer them.
 */
function checkProjection(spec: unknown, isProject: boolean): void {
  if (!isPlainObject(spec)) return;
  for (const [key, v] of Object.entries(spec)) {
    if (isProject && (key.endsWith('.$') || key.includes('.$.')))
      throw new MongoServerError(
        31324,
        'Cannot use positional projection in aggregation projection',
      );
    if (!isPlainObject(v)) continue;
    const ops = Object.keys(v);
    if (ops.length === 1 && ops[0] === '$elemMatch')
      throw new MongoServerError(
        168,
        isProject
          ? 'Cannot use $elemMatch in this context'
          : "Invalid $addFields :: caused by :: Unrecognized expression '$elemMatch'",
      );
    if (ops.length === 1 && ops[0] === '$slice') {
      const args = v.$slice;
      const n = Array.isArray(args) ? args.length : 1;
      if (n < 2 || n > 3)
        throw new MongoServerError(
          28667,
          `Expression $slice takes at least 2 arguments, and at most 3, but ${n} were passed in.`,
        );
      const first = (args as unknown[])[0];
      if (typeof first === 'number' || typeof first === 'boolean')
        throw new MongoServerError(
          28724,
          `First argument to $slice must be an array, but is of type: ${typeof first === 'number' ? (Number.isInteger(first) ? 'int' : 'double') : 'bool'}`,
        );
      continue;
    }
    if (!ops.some((k) => k.startsWith('$'))) checkProjection(v, isProject);
  }
}

/** mingo computes a $group field that is not an accumulator as an expression; mongod refuses it. */
function checkGroup(spec: unknown): void {
  if (!isPlainObject(spec)) return;
  for (const [field, acc] of Object.entries(spec)) {
    if (field === '_id') continue;
    if (!isPlainObject(acc))
      throw new MongoServerError(40234, `The field '${field}' must be an accumulator object`);
    const ops = Object.keys(acc);
    if (ops.length !== 1)
      throw new MongoServerError(40238, `The field '${field}' must specify one accumulator`);
    if (!ops[0]!.startsWith('$'))
      throw new MongoServerError(15952, `unknown group operator '${ops[0]}'`);
  }
}

/**
 * $bucket as mongod expands it: a $group on a $switch over [lower, upper) ranges, then a sort on
 * _id. (mingo put a value equal to an inner boundary in the lower bucket and _id last.)
 */
function bucketStages(spec: unknown): Doc[] {
  if (!isPlainObject(spec))
    throw new MongoServerError(
      40201,
      `Argument to $bucket stage must be an object, but found type: ${typeof spec}.`,
    );
  for (const k of Object.keys(spec)) {
    if (!['groupBy', 'boundaries', 'default', 'output'].includes(k))
      throw new MongoServerError(40197, `Unrecognized option to $bucket: ${k}.`);
  }
  const { groupBy, boundaries, output } = spec;
  const hasDefault = Object.prototype.hasOwnProperty.call(spec, 'default');
  if (groupBy === undefined || boundaries === undefined)
    throw new MongoServerError(
      40198,
      "$bucket requires 'groupBy' and 'boundaries' to be specified.",
    );
  if (!(typeof groupBy === 'string' && groupBy.startsWith('$')) && !isPlainObject(groupBy)) {
    throw new MongoServerError(
      40202,
      `The $bucket 'groupBy' field must be defined as a $-prefixed path or an expression, but found: ${JSON.stringify(groupBy)}.`,
    );
  }
  if (!Array.isArray(boundaries) || boundaries.length < 2) {
    throw new MongoServerError(
      40192,
      `The $bucket 'boundaries' field must be an array of at least 2 values, but found ${Array.isArray(boundaries) ? boundaries.length : 0} value(s).`,
    );
  }
  for (let i = 1; i < boundaries.length; i++) {
    if (typeRank(boundaries[i]) !== typeRank(boundaries[i - 1]))
      throw new MongoServerError(
        40193,
        "All values in the 'boundaries' option to $bucket must have the same type.",
      );
    if (compareValues(boundaries[i - 1], boundaries[i]) >= 0) {
      throw new MongoServerError(
        40194,
        `The 'boundaries' option to $bucket must be sorted in ascending order, but elements ${i - 1} and ${i} are not in ascending order.`,
      );
    }
  }
  if (
    hasDefault &&
    compareValues(spec.default, boundaries[0]) >= 0 &&
    compareValues(spec.default, boundaries[boundaries.length - 1]) < 0
  ) {
    throw new MongoServerError(
      40199,
      "The $bucket 'default' field must be less than the lowest boundary or greater than or equal to the highest boundary.",
    );
  }
  if (output !== undefined && !isPlainObject(output))
    throw new MongoServerError(40196, "The $bucket 'output' field must be an object.");
  const branches = boundaries.slice(0, -1).map((lower, i) => ({
    case: {
      $and: [
        { $gte: [groupBy, { $literal: lower }] },
        { $lt: [groupBy, { $literal: boundaries[i + 1] }] },
      ],
    },
    then: { $literal: lower },
  }));
  // Without a default, $switch fails on a value outside every bucket (40066), as in mongod.
  const group: Doc = {
    _id: { $switch: hasDefault ? { branches, default: { $literal: spec.default } } : { branches } },
  };
  const fields = output ?? { count: { $sum: 1 } };
  checkGroup(fields);
  Object.assign(group, fields);
  return [{ $group: group }, { $sort: { _id: 1 } }];
}
