/**
 * Issue #12 (no squatting): a pledge now holds its company's code (`openUscc`, unique) only
 * once its e-mail is confirmed. Pledges still awaiting confirmation from before let go of it,
 * so an unconfirmed signature no longer blocks the real company. Safe to run again.
 */
import type mongoose from 'mongoose';
import type { Migration } from './runner';

export const unconfirmedHoldNoCode: Migration = {
  id: '0002-unconfirmed-pledges-hold-no-code',
  description: 'pledges awaiting e-mail confirmation no longer hold their USCC',
  async up(db: mongoose.mongo.Db) {
    await db
      .collection('pledges')
      .updateMany(
        { status: 'pending_confirmation', openUscc: { $exists: true } },
        { $unset: { openUscc: 1 } },
      );
  },
};
