/**
 * Independent updates to several collections in one round trip: MongoDB 8.0's `bulkWrite`
 * command (`MongoClient.bulkWrite`, which the embedded store serves too). A server without it
 * (mongod before 8.0 answers CommandNotFound, having written nothing) gets each update on its
 * own, sent at once, and is remembered. The updates are unordered and not one transaction: each
 * succeeds or fails alone, and the caller reads each one's outcome.
 */
import { mongo, type Connection } from 'mongoose';

export interface TogetherUpdate {
  /** A mongoose model: its connection's client and collection are used, without casting. */
  model: { collection: { collectionName: string }; db: Connection };
  filter: mongo.Document;
  update: mongo.Document;
  upsert?: boolean;
  /** Error codes that count as done (e.g. 11000 for an upsert another request won). */
  tolerate?: readonly number[];
}

export interface UpdateOutcome {
  matched: number;
  modified: number;
  upserted: boolean;
  error?: { code: number; message: string };
}

const COMMAND_NOT_FOUND = 59;
const unsupported = new WeakSet<mongo.MongoClient>();

export async function updateTogether(updates: readonly TogetherUpdate[]): Promise<UpdateOutcome[]> {
  if (updates.length === 0) return [];
  const client = updates[0].model.db.getClient();
  if (updates.some((u) => u.model.db.getClient() !== client))
    throw new Error('updateTogether: every update must use the same connection');
  if (updates.length > 1 && !unsupported.has(client)) {
    try {
      return fromBulk(updates, await client.bulkWrite(models(updates), bulkOptions));
    } catch (e) {
      if (!(e instanceof mongo.MongoClientBulkWriteError)) throw e;
      if ((e.cause as { code?: unknown } | undefined)?.code === COMMAND_NOT_FOUND) {
        unsupported.add(client);
      } else {
        if (e.writeConcernErrors.length > 0 || !e.partialResult) throw e;
        return fromBulk(updates, e.partialResult, e.writeErrors);
      }
    }
  }
  return Promise.all(updates.map(one));
}

/** Throws the first outcome's error that its update does not tolerate. */
export function throwFailed(
  updates: readonly TogetherUpdate[],
  outcomes: readonly UpdateOutcome[],
): void {
  outcomes.forEach((o, i) => {
    if (o.error && !updates[i].tolerate?.includes(o.error.code))
      throw new mongo.MongoServerError({ message: o.error.message, code: o.error.code });
  });
}

const bulkOptions: mongo.ClientBulkWriteOptions = { ordered: false, verboseResults: true };

function models(
  updates: readonly TogetherUpdate[],
): mongo.AnyClientBulkWriteModel<mongo.Document>[] {
  return updates.map((u) => ({
    namespace: `${u.model.db.name}.${u.model.collection.collectionName}`,
    name: 'updateOne',
    filter: u.filter,
    update: u.update,
    ...(u.upsert ? { upsert: true } : {}),
  }));
}

function fromBulk(
  updates: readonly TogetherUpdate[],
  result: mongo.ClientBulkWriteResult,
  errors?: ReadonlyMap<number, mongo.ClientBulkWriteError>,
): UpdateOutcome[] {
  return updates.map((_, i) => {
    const error = errors?.get(i);
    if (error) return { matched: 0, modified: 0, upserted: false, error };
    const r = result.updateResults?.get(i);
    // The command counts an upsert as its one match; updateOne (the fallback) does not.
    const upserted = r?.didUpsert ?? false;
    return {
      matched: upserted ? 0 : (r?.matchedCount ?? 0),
      modified: r?.modifiedCount ?? 0,
      upserted,
    };
  });
}

async function one(u: TogetherUpdate): Promise<UpdateOutcome> {
  try {
    const r = await (u.model.collection as unknown as mongo.Collection).updateOne(
      u.filter,
      u.update,
      u.upsert ? { upsert: true } : {},
    );
    return { matched: r.matchedCount, modified: r.modifiedCount, upserted: r.upsertedCount > 0 };
  } catch (e) {
    if (!(e instanceof mongo.MongoServerError) || typeof e.code !== 'number') throw e;
    return {
      matched: 0,
      modified: 0,
      upserted: false,
      error: { code: e.code, message: e.message },
    };
  }
}
