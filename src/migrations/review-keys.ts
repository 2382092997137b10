/**
 * Issue #12 (review warnings): pledges signed before review keys existed get them, so a new
 * pledge is matched against them too (same normalised name, phone, e-mail domain). Safe to run again.
 */
import type mongoose from 'mongoose';
import { reviewKeys } from '../pledges/warnings';
import type { Migration } from './runner';

interface OldPledge {
  _id: unknown;
  companyName: string;
  signatory: { email: string; phone?: string };
}

export const reviewKeysStep: Migration = {
  id: '0003-pledge-review-keys',
  description: 'give older pledges the normalised keys review warnings match duplicates by',
  async up(db: mongoose.mongo.Db) {
    const pledges = db.collection<OldPledge>('pledges');
    const missing = pledges.find(
      { reviewKeys: { $exists: false } },
      { projection: { companyName: 1, signatory: 1 } },
    );
    for await (const p of missing) {
      await pledges.updateOne({ _id: p._id, reviewKeys: { $exists: false } } as never, {
        $set: { reviewKeys: reviewKeys(p) },
      });
    }
  },
};
