/**
 * find() projections as mongod 7 parses and applies them (projection_parser.cpp,
 * projection_executor_utils.cpp): inclusion and exclusion of dotted or nested (`{a: {b: 1}}`)
 * paths, `$slice` (n or [skip, limit]), `$elemMatch` and the positional `field.$`, with mongod's
 * codes for invalid combinations. Used by find and findAndModify's `fields`; aggregation has its
 * own $project. Computed fields and literals in a find projection are refused by name.
 */
import { badValue, unsupported, MongoServerError } from '../errors';
import { compileFilter, type Matcher } from './query';
import { isPlainObject, type Doc } from './values';

export type Projector = (doc: Doc) => Doc;

type Slice = { kind: 'slice'; skip?: number; limit: number };
type ElemMatch = { kind: 'elemMatch'; field: string; matcher: Matcher; cond: Doc };
type Positional = { kind: 'positional' };
type Leaf = boolean | Slice | ElemMatch | Positional;
/** The projection tree: a Map per level, in specification order. */
type Tree = Map<string, Tree | Leaf>;

/** Root-replacement steps applied to the projected document, in specification order. */
type PostStep =
  | { kind: 'slice'; path: string[]; skip?: number; limit: number }
  | { kind: 'positional'; path: string[] };

interface Ctx {
  filter: Doc;
  type: 'include' | 'exclude' | null;
  hasPositional: boolean;
  hasElemMatch: boolean;
  hasSlice: boolean;
  idSpecified: boolean;
  idIncluded: boolean;
  idExcluded: boolean;
  post: PostStep[];
  elemMatches: ElemMatch[];
}

/**
 * Compiles a find projection against the query it serves (the positional `$` needs it); null for
 * none. Throws mongod's errors for invalid projections.
 */
export function compileProjection(projection: unknown, filter?: unknown): Projector | null {
  if (projection === undefined || projection === null) return null;
  if (!isPlainObject(projection)) throw badValue('projection must be an object');
  if (Object.keys(projection).length === 0) return null;
  const ctx: Ctx = {
    filter: isPlainObject(filter) ? filter : {},
    type: null,
    hasPositional: false,
    hasElemMatch: false,
    hasSlice: false,
    idSpecified: false,
    idIncluded: false,
    idExcluded: false,
    post: [],
    elemMatches: [],
  };
  const root: Tree = new Map();
  for (const [key, value] of Object.entries(projection)) {
    if (key === '_id' || key.startsWith('_id.')) ctx.idSpecified = true;
    parseElement(ctx, key, value, [], root);
  }
  const type = ctx.type ?? defaultType(ctx);
  if (type === 'exclude' && ctx.hasElemMatch)
    throw unsupported('$elemMatch in an exclusion projection');
  if (type === 'include') {
    if (!ctx.idSpecified) root.set('_id', true);
    return (doc) => {
      let out = include(doc, root);
      // $elemMatch fields are computed from the input and come after the included fields.
      for (const em of ctx.elemMatches) {
        const v = elemMatchValue(doc, em);
        if (v !== undefined) out[em.field] = v;
      }
      for (const step of ctx.post) out = applyPost(doc, out, step, ctx.filter);
      return out;
    };
  }
  if (ctx.idIncluded) root.delete('_id'); // {_id: 1} in an exclusion projection changes nothing
  return (doc) => {
    let out = exclude(doc, root);
    for (const step of ctx.post) out = applyPost(doc, out, step, ctx.filter);
    return out;
  };
}

/** mongod's rules for a projection holding only _id, $slice and $elemMatch (computeProjectionType). */
function defaultType(ctx: Ctx): 'include' | 'exclude' {
  if (ctx.hasSlice) return ctx.idIncluded ? 'include' : 'exclude';
  if (ctx.hasElemMatch) return 'include';
  if (ctx.idIncluded) return 'include';
  return 'exclude';
}

function checkPath(path: string): string[] {
  const parts = path.split('.');
  for (const p of parts) {
    if (p === '')
      throw new MongoServerError(15998, 'FieldPath field names may not be empty strings.');
    if (p.startsWith('$'))
      throw new MongoServerError(
        16410,
        `FieldPath field names may not start with '$'. Consider using $getField or $setField.`,
      );
  }
  return parts;
}

/** Adds a node as mongod's addNodeAtPath does, with its path-collision errors. */
function addAt(tree: Tree, parts: string[], node: Tree | Leaf, full: string): void {
  let level = tree;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const child = level.get(part);
    if (i === parts.length - 1) {
      if (child !== undefined) throw new MongoServerError(31250, `Path collision at ${full}`);
      level.set(part, node);
      return;
    }
    if (child === undefined) {
      const next: Tree = new Map();
      level.set(part, next);
      level = next;
    } else if (child instanceof Map) level = child;
    else
      throw new MongoServerError(
        31249,
        `Path collision at ${full} remaining portion ${parts.slice(1).join('.')}`,
      );
  }
}

/** Where the first positional `.$` of a path begins, and where it ends (findFirstPositionalOperator); -1 for none. */
function nodeAt(tree: Tree, parts: string[]): Tree | Leaf | undefined {
  let node: Tree | Leaf | undefined = tree;
  for (const p of parts) node = node instanceof Map ? node.get(p) : undefined;
  return node;
}

function positionalAt(key: string): number {
  return positionalSpan(key)?.[0] ?? -1;
}

function positionalSpan(key: string): [number, number] | null {
  const mid = key.indexOf('.$.');
  if (mid !== -1) return [mid, mid + 3];
  if (key.endsWith('.$')) return [key.length - 2, key.length];
  if (key === '$') return [0, key.length];
  return null;
}

function parseElement(ctx: Ctx, key: string, value: unknown, parent: string[], tree: Tree): void {
  const pos = positionalAt(key);
  const isRoot = parent.length === 0;
  if (isPlainObject(value)) {
    if (pos !== -1)
      throw new MongoServerError(
        31271,
        'positional projection cannot be used with an expression or sub object',
      );
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0]!.startsWith('$')) {
      parseOperator(ctx, key, keys[0]!, value[keys[0]!], parent, tree);
      return;
    }
    const parts = checkPath(key);
    // A sub-object joins what dotted paths already put under the same field ({'a.b': 1, a: {c: 1}}).
    const existing = nodeAt(tree, parts);
    const sub: Tree = existing instanceof Map ? existing : new Map();
    if (sub !== existing) addAt(tree, parts, sub, key);
    for (const [k, v] of Object.entries(value)) parseElement(ctx, k, v, [...parent, ...parts], sub);
    return;
  }
  const isBool = typeof value === 'boolean';
  const isNumber =
    typeof value === 'number' ||
    ['Int32', 'Long', 'Double', 'Decimal128'].includes(
      (value as { _bsontype?: string } | null)?._bsontype ?? '',
    );
  if (!isBool && !isNumber) {
    if (pos !== -1)
      throw new MongoServerError(31308, 'positional projection cannot be used with a literal');
    throw unsupported(
      `a literal or computed value in a find projection ('${key}': ${JSON.stringify(value)})`,
    );
  }
  const on = isBool ? value : Number(String(value)) !== 0;
  const topId = key === '_id' && isRoot;
  if (!on) {
    addAt(tree, checkPath(key), false, key);
    if (topId) ctx.idExcluded = true;
    else {
      if (ctx.type === 'include')
        throw new MongoServerError(
          31254,
          `Cannot do exclusion on field ${key} in inclusion projection`,
        );
      ctx.type = 'exclude';
    }
    return;
  }
  if (pos === -1) {
    addAt(tree, checkPath(key), true, key);
    if (topId) ctx.idIncluded = true;
  } else {
    if (ctx.hasPositional)
      throw new MongoServerError(
        31276,
        'Cannot specify more than one positional projection per query.',
      );
    if (ctx.hasElemMatch)
      throw new MongoServerError(31256, 'Cannot specify positional operator and $elemMatch.');
    const matchField = isRoot ? key.split('.')[0]! : parent[0]!;
    if (!queryMentions(ctx.filter, matchField))
      throw new MongoServerError(
        31277,
        `Positional projection '${key}' does not match the query document.`,
      );
    if (key.endsWith('.$.')) throw new MongoServerError(31270, "Path cannot end with '.$.'");
    const rest = key.slice(positionalSpan(key)![1]);
    if (positionalAt(rest) !== -1 || rest === '$')
      throw new MongoServerError(31287, `Cannot use positional operator twice: ${key}`);
    const parts = checkPath(key.slice(0, pos));
    addAt(tree, parts, { kind: 'positional' }, key);
    ctx.post.push({ kind: 'positional', path: [...parent, ...parts] });
    ctx.hasPositional = true;
  }
  if (!topId) {
    if (ctx.type === 'exclude')
      throw new MongoServerError(
        31253,
        `Cannot do inclusion on field ${key} in exclusion projection`,
      );
    ctx.type = 'include';
  }
}

function parseOperator(
  ctx: Ctx,
  key: string,
  op: string,
  arg: unknown,
  parent: string[],
  tree: Tree,
): void {
  if (op === '$slice') {
    const parts = checkPath(key);
    let node: Slice;
    if (typeof arg === 'number' || isNumeric(arg)) node = { kind: 'slice', limit: toInt(arg) };
    else if (Array.isArray(arg) && arg.every((x) => typeof x === 'number' || isNumeric(x))) {
      if (arg.length !== 2)
        throw new MongoServerError(31272, '$slice array argument should be of form [skip, limit]');
      const limit = toInt(arg[1]);
      if (limit <= 0)
        throw new MongoServerError(31259, `$slice limit must be positive, got ${limit}`);
      node = { kind: 'slice', skip: toInt(arg[0]), limit };
    } else
      throw unsupported(
        `the aggregation expression form of $slice in a find projection ('${key}'; find takes a number or [skip, limit])`,
      );
    addAt(tree, parts, node, key);
    ctx.post.push({
      kind: 'slice',
      path: [...parent, ...parts],
      skip: node.skip,
      limit: node.limit,
    });
    ctx.hasSlice = true;
    return;
  }
  if (op === '$elemMatch') {
    if (!isPlainObject(arg))
      throw new MongoServerError(
        31274,
        `elemMatch: Invalid argument, object required, but got ${Array.isArray(arg) ? 'array' : typeof arg}`,
      );
    if (ctx.hasPositional)
      throw new MongoServerError(31255, 'Cannot specify positional operator and $elemMatch.');
    if (key.includes('.') || parent.length > 0)
      throw new MongoServerError(31275, 'Cannot use $elemMatch projection on a nested field.');
    checkPath(key);
    const cond = { [key]: { $elemMatch: arg } };
    const node: ElemMatch = { kind: 'elemMatch', field: key, matcher: compileFilter(cond), cond };
    addAt(tree, [key], node, key);
    ctx.elemMatches.push(node);
    ctx.hasElemMatch = true;
    return;
  }
  throw unsupported(`the expression ${op} in a find projection (on '${key}')`);
}

function isNumeric(v: unknown): boolean {
  return ['Int32', 'Long', 'Double'].includes(
    (v as { _bsontype?: string } | null)?._bsontype ?? '',
  );
}

function toInt(v: unknown): number {
  return Math.trunc(Number(typeof v === 'number' ? v : String(v)));
}

/** Whether a filter has a condition (at any depth of $and/$or/$nor) on a path starting with `field` (hasPositionalOperatorMatch). */
function queryMentions(filter: Doc, field: string): boolean {
  for (const [k, v] of Object.entries(filter)) {
    if ((k === '$and' || k === '$or' || k === '$nor') && Array.isArray(v)) {
      if (v.some((sub) => isPlainObject(sub) && queryMentions(sub, field))) return true;
    } else if (!k.startsWith('$') && k.split('.')[0] === field) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Applying

function include(doc: Doc, tree: Tree): Doc {
  const out: Doc = {};
  for (const k of Object.keys(doc)) {
    const t = tree.get(k);
    if (t === undefined || t === false) continue;
    const v = doc[k];
    if (t instanceof Map) {
      if (Array.isArray(v)) out[k] = includeArray(v, t);
      else if (isPlainObject(v)) out[k] = include(v, t);
    } else if (typeof t === 'object' && t.kind === 'elemMatch') continue;
    else out[k] = v;
  }
  return out;
}

/** Inside arrays an inclusion keeps documents (projected) and nested arrays, and drops scalars. */
function includeArray(arr: unknown[], tree: Tree): unknown[] {
  const out: unknown[] = [];
  for (const el of arr) {
    if (Array.isArray(el)) out.push(includeArray(el, tree));
    else if (isPlainObject(el)) out.push(include(el, tree));
  }
  return out;
}

function exclude(doc: Doc, tree: Tree): Doc {
  const out: Doc = {};
  for (const k of Object.keys(doc)) {
    const t = tree.get(k);
    const v = doc[k];
    if (t === false) continue;
    if (t instanceof Map) {
      if (Array.isArray(v)) out[k] = excludeArray(v, t);
      else if (isPlainObject(v)) out[k] = exclude(v, t);
      else out[k] = v;
    } else out[k] = v;
  }
  return out;
}

function excludeArray(arr: unknown[], tree: Tree): unknown[] {
  return arr.map((el) =>
    Array.isArray(el) ? excludeArray(el, tree) : isPlainObject(el) ? exclude(el, tree) : el,
  );
}

function applyPost(pre: Doc, out: Doc, step: PostStep, filter: Doc): Doc {
  if (step.kind === 'slice') return sliceAt(out, step.path, 0, step.skip, step.limit);
  return positional(pre, out, step.path, filter);
}

/** applyFindSliceProjectionHelper: slices the array at the path, through documents and arrays of documents. */
function sliceAt(
  doc: Doc,
  path: string[],
  i: number,
  skip: number | undefined,
  limit: number,
): Doc {
  const field = path[i]!;
  if (!Object.prototype.hasOwnProperty.call(doc, field)) return doc;
  let v = doc[field];
  const last = i === path.length - 1;
  if (Array.isArray(v)) {
    v = last
      ? sliceArray(v, skip, limit)
      : v.map((el) => (isPlainObject(el) ? sliceAt(el, path, i + 1, skip, limit) : el));
  } else if (isPlainObject(v) && !last) v = sliceAt(v, path, i + 1, skip, limit);
  else return doc;
  return { ...doc, [field]: v };
}

function sliceArray(arr: unknown[], skip: number | undefined, limit: number): unknown[] {
  const len = arr.length;
  let start = 0;
  let count: number;
  if (skip === undefined) {
    if (limit < 0) {
      start = Math.max(0, len + limit);
      count = len - start;
    } else count = Math.min(len, limit);
  } else {
    start = skip < 0 ? Math.max(0, len + skip) : Math.min(len, skip);
    count = Math.min(len - start, limit);
  }
  return arr.slice(start, start + count);
}

function elemMatchValue(doc: Doc, em: ElemMatch): unknown[] | undefined {
  if (!em.matcher(doc)) return undefined;
  const arr = doc[em.field];
  if (!Array.isArray(arr)) return undefined;
  for (const el of arr) if (em.matcher({ ...doc, [em.field]: [el] })) return [el];
  return undefined;
}

/**
 * applyFindPositionalProjection: the first array on the path becomes [the element at the position
 * the query's match recorded]; 51246 when it recorded none.
 */
function positional(pre: Doc, out: Doc, path: string[], filter: Doc): Doc {
  let level: unknown = out;
  for (let i = 0; i < path.length; i++) {
    if (!isPlainObject(level)) return out;
    const v = level[path[i]!];
    if (Array.isArray(v)) {
      const at = path.slice(0, i + 1);
      const index = matchedIndex(pre, at, filter);
      if (index === -1 || index >= v.length)
        throw new MongoServerError(
          51246,
          "Executor error during find command :: caused by :: positional operator '.$' couldn't find a matching element in the array",
        );
      return setAt(out, at, [v[index]]);
    }
    level = v;
  }
  return out;
}

/**
 * The array position mongod's matcher records for the query (its elemMatchKey): each condition on
 * the field that looks at array elements records the first element it matched, and the last such
 * condition wins (so {$and: [{a: 1}, {a: 3}]} gives the position of 3). Negations, $exists, $size,
 * whole-array equality and an $or over other fields record nothing. -1: nothing recorded.
 */
function matchedIndex(pre: Doc, at: string[], filter: Doc): number {
  const arr = valueAt(pre, at);
  if (!Array.isArray(arr)) return -1;
  let key = -1;
  for (const cond of positionalConditions(filter, at[0]!)) {
    const m = compileFilter(cond);
    for (let i = 0; i < arr.length; i++)
      if (m(setAt(pre, at, [arr[i]]))) {
        key = i;
        break;
      }
  }
  return key;
}

const NOT_RECORDING = new Set(['$not', '$ne', '$nin', '$exists', '$size']);

function positionalConditions(filter: Doc, field: string): Doc[] {
  const out: Doc[] = [];
  const onField = (k: string): boolean => !k.startsWith('$') && k.split('.')[0] === field;
  for (const [k, v] of Object.entries(filter)) {
    if (k === '$and' && Array.isArray(v)) {
      for (const sub of v) if (isPlainObject(sub)) out.push(...positionalConditions(sub, field));
    } else if (k === '$or' && Array.isArray(v)) {
      // Only an $or that is an $in in disguise (every branch one condition on this field) records.
      if (
        v.every(
          (sub) =>
            isPlainObject(sub) && Object.keys(sub).length === 1 && onField(Object.keys(sub)[0]!),
        )
      )
        out.push({ $or: v });
    } else if (
      onField(k) &&
      !(isPlainObject(v) && Object.keys(v).some((op) => NOT_RECORDING.has(op)))
    )
      out.push({ [k]: v });
  }
  return out;
}

function valueAt(doc: Doc, path: string[]): unknown {
  let v: unknown = doc;
  for (const p of path) {
    if (!isPlainObject(v)) return undefined;
    v = v[p];
  }
  return v;
}

function setAt(doc: Doc, path: string[], value: unknown): Doc {
  const [head, ...rest] = path;
  const cur = doc[head!];
  return {
    ...doc,
    [head!]: rest.length === 0 ? value : setAt(isPlainObject(cur) ? cur : {}, rest, value),
  };
}
