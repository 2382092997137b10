/**
 * A named lease in the `leases` collection: at most one holder at a time across app instances,
 * taken when free or expired and renewed by its holder. It bounds who does a job, not whether
 * the job is safe: holders still write with conditions (unique keys), since a paused holder may
 * outlive its lease.
 */
import mongoose from 'mongoose';
import { isDuplicateKey } from './errors';

interface LeaseDoc {
  _id: string;
  owner: string;
  until: Date;
}

/**
 * Takes or renews lease `id` for `owner` for `ms`; false while another owner holds it. `db` is
 * the app's connection unless given (the migration runner passes the database it migrates).
 */
export async function takeLease(
  id: string,
  owner: string,
  ms: number,
  db: mongoose.mongo.Db = mongoose.connection.db!,
): Promise<boolean> {
  const leases = db.collection<LeaseDoc>('leases');
  const now = new Date();
  try {
    const r = await leases.findOneAndUpdate(
      { _id: id, $or: [{ owner }, { until: { $lt: now } }] },
      { $set: { owner, until: new Date(now.getTime() + ms) } },
      { upsert: true, returnDocument: 'after' },
    );
    return r?.owner === owner;
  } catch (e) {
    if (isDuplicateKey(e)) return false; // another instance holds it
    throw e;
  }
}

/** Gives the lease up early (shutdown), if `owner` still holds it. */
export async function releaseLease(
  id: string,
  owner: string,
  db: mongoose.mongo.Db = mongoose.connection.db!,
): Promise<void> {
  await db.collection<LeaseDoc>('leases').deleteOne({ _id: id, owner });
}
