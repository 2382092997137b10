/**
 * Writes to several collections in one round trip: MongoDB 8.0's `bulkWrite` command
 * (`MongoClient.bulkWrite`, which the embedded store serves too). A server without it (mongod
 * before 8.0 answers CommandNotFound, having written nothing) gets each write on its own and is
 * remembered. The writes are not one transaction: unordered, each succeeds or fails alone;
 * ordered, the first failure stops the rest. The caller reads each write's outcome.
 */
import { mongo, type Connection } from 'mongoose';

/** Where a write goes: a mongoose model (used without casting), or a collection of its connection. */
export interface WriteTarget {
  collection: { collectionName: string };
  db: Connection;
}

export interface TogetherUpdate {
  model: WriteTarget;
  filter: mongo.Document;
  update: mongo.Document;
  upsert?: boolean;
  /** Error codes that count as done (e.g. 11000 for an upsert another request won). */
  tolerate?: readonly number[];
}

export interface TogetherInsert {
  model: WriteTarget;
  /** The document as stored (with its `_id`). */
  insert: mongo.Document;
  tolerate?: readonly number[];
}

export type TogetherWrite = TogetherUpdate | TogetherInsert;

export interface UpdateOutcome {
  /** False when the write failed, or an ordered batch stopped before it. */
  applied: boolean;
  matched: number;
  modified: number;
  upserted: boolean;
  error?: { code: number; message: string };
}

const COMMAND_NOT_FOUND = 59;
const unsupported = new WeakSet<mongo.MongoClient>();
const NOT_APPLIED: UpdateOutcome = { applied: false, matched: 0, modified: 0, upserted: false };

export async function writeTogether(
  writes: readonly TogetherWrite[],
  { ordered = false }: { ordered?: boolean } = {},
): Promise<UpdateOutcome[]> {
  if (writes.length === 0) return [];
  const client = writes[0].model.db.getClient();
  if (writes.some((w) => w.model.db.getClient() !== client))
    throw new Error('writeTogether: every write must use the same connection');
  if (writes.length > 1 && !unsupported.has(client)) {
    try {
      return fromBulk(writes, await client.bulkWrite(models(writes), options(ordered)));
    } catch (e) {
      if (!(e instanceof mongo.MongoClientBulkWriteError)) throw e;
      if ((e.cause as { code?: unknown } | undefined)?.code === COMMAND_NOT_FOUND) {
        unsupported.add(client);
      } else {
        if (e.writeConcernErrors.length > 0 || !e.partialResult) throw e;
        return fromBulk(writes, e.partialResult, e.writeErrors);
      }
    }
  }
  if (!ordered) return Promise.all(writes.map(one));
  const out: UpdateOutcome[] = [];
  for (const w of writes) {
    const o = out.some((x) => x.error) ? NOT_APPLIED : await one(w);
    out.push(o);
  }
  return out;
}

/** Throws the first outcome's error that its write does not tolerate. */
export function throwFailed(
  writes: readonly TogetherWrite[],
  outcomes: readonly UpdateOutcome[],
): void {
  outcomes.forEach((o, i) => {
    if (o.error && !writes[i].tolerate?.includes(o.error.code))
      throw new mongo.MongoServerError({ message: o.error.message, code: o.error.code });
  });
}

const options = (ordered: boolean): mongo.ClientBulkWriteOptions => ({
  ordered,
  verboseResults: true,
});

const isInsert = (w: TogetherWrite): w is TogetherInsert => 'insert' in w;

function models(writes: readonly TogetherWrite[]): mongo.AnyClientBulkWriteModel<mongo.Document>[] {
  return writes.map((w) => {
    const namespace = `${w.model.db.name}.${w.model.collection.collectionName}`;
    if (isInsert(w)) return { namespace, name: 'insertOne', document: w.insert };
    return {
      namespace,
      name: 'updateOne',
      filter: w.filter,
      update: w.update,
      ...(w.upsert ? { upsert: true } : {}),
    };
  });
}

function fromBulk(
  writes: readonly TogetherWrite[],
  result: mongo.ClientBulkWriteResult,
  errors?: ReadonlyMap<number, mongo.ClientBulkWriteError>,
): UpdateOutcome[] {
  return writes.map((w, i) => {
    const error = errors?.get(i);
    if (error) return { ...NOT_APPLIED, error };
    if (isInsert(w))
      return result.insertResults?.has(i)
        ? { applied: true, matched: 0, modified: 0, upserted: false }
        : NOT_APPLIED;
    const r = result.updateResults?.get(i);
    if (!r) return NOT_APPLIED;
    // The command counts an upsert as its one match; updateOne (the fallback) does not.
    return {
      applied: true,
      matched: r.didUpsert ? 0 : r.matchedCount,
      modified: r.modifiedCount,
      upserted: r.didUpsert,
    };
  });
}

async function one(w: TogetherWrite): Promise<UpdateOutcome> {
  const collection = w.model.collection as unknown as mongo.Collection;
  try {
    if (isInsert(w)) {
      await collection.insertOne(w.insert);
      return { applied: true, matched: 0, modified: 0, upserted: false };
    }
    const r = await collection.updateOne(w.filter, w.update, w.upsert ? { upsert: true } : {});
    return {
      applied: true,
      matched: r.matchedCount,
      modified: r.modifiedCount,
      upserted: r.upsertedCount > 0,
    };
  } catch (e) {
    if (!(e instanceof mongo.MongoServerError) || typeof e.code !== 'number') throw e;
    return { ...NOT_APPLIED, error: { code: e.code, message: e.message } };
  }
}
