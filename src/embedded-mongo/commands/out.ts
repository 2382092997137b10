/**
 * The $out aggregation stage: the pipeline's results replace the target collection in one step,
 * as mongod does it (https://www.mongodb.com/docs/manual/reference/operator/aggregation/out/):
 * written to a temporary collection with the target's options and indexes, then renamed over
 * the target. A failed write (a duplicate key) leaves the target as it was.
 */
import { randomUUID } from 'node:crypto';
import { Codes, MongoServerError, unsupported } from '../errors';
import { validateNamespace, type WriteBatch } from '../engine/catalog';
import { cloneDeep, isPlainObject, type Doc } from '../engine/values';
import type { Store } from './shared';

export interface OutTarget {
  db: string;
  coll: string;
}

/**
 * The target of a pipeline's final $out (null when there is none). A $out anywhere else is
 * mongod's error; nested pipelines keep refusing it (aggregate.ts).
 */
export function outTarget(pipeline: unknown, db: string): OutTarget | null {
  if (!Array.isArray(pipeline)) return null;
  const at = pipeline.findIndex((s) => isPlainObject(s) && Object.keys(s)[0] === '$out');
  if (at < 0) return null;
  if (at !== pipeline.length - 1 || Object.keys(pipeline[at] as Doc).length !== 1)
    throw new MongoServerError(40601, '$out can only be the final stage in the pipeline');
  const spec = (pipeline[at] as Doc).$out;
  let target: OutTarget;
  if (typeof spec === 'string') target = { db, coll: spec };
  else if (isPlainObject(spec)) {
    for (const k of Object.keys(spec))
      if (k !== 'db' && k !== 'coll') throw unsupported(`the $out option '${k}'`);
    if (typeof spec.coll !== 'string' || (spec.db !== undefined && typeof spec.db !== 'string'))
      throw new MongoServerError(
        Codes.FailedToParse,
        "$out 'coll' must be a string and 'db' a string when given",
      );
    target = { db: (spec.db as string | undefined) ?? db, coll: spec.coll };
  } else
    throw new MongoServerError(
      Codes.FailedToParse,
      `$out only supports a string or object argument, not ${typeof spec}`,
    );
  validateNamespace(target.db, target.coll);
  return target;
}

/** Replaces the target's documents with `docs` (synchronously: nothing runs in between). */
export function writeOut(store: Store, batch: WriteBatch, target: OutTarget, docs: Doc[]): void {
  const existing = store.catalog.get(target.db, target.coll);
  const tmpName = `tmp.agg_out.${randomUUID()}`;
  const tmp = store.catalog.createCollection(batch, target.db, tmpName, existing?.options ?? {});
  try {
    for (const ix of existing?.indexes.values() ?? []) {
      const spec = ix.spec as unknown as Doc;
      tmp.createIndex(spec);
      batch.createIndex(tmp, spec);
    }
    for (const d of docs) {
      const doc = tmp.prepareInsert(cloneDeep(d));
      tmp.insert(doc);
      batch.insert(tmp, doc);
    }
    store.catalog.renameCollection(
      batch,
      `${target.db}.${tmpName}`,
      `${target.db}.${target.coll}`,
      true,
    );
  } catch (e) {
    store.catalog.dropCollection(batch, target.db, tmpName);
    throw e;
  }
}
