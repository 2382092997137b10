/**
 * The evidence retention rule (issue #12 item 1): a pledge's evidence files are kept while it is
 * open or active and after any decision, and deleted 3 years after the pledge ended. A pledge
 * ends when it is withdrawn, revoked, rejected, cancelled or expired (the time of that
 * transition in its history), or, still unconfirmed, when its confirmation link ran out.
 */
import mongoose, { Types } from 'mongoose';
import { Pledge, PledgeStatus } from '../../models/pledge';
import { recordEvent } from '../audit/events';
import { deleteEvidenceOf, EVIDENCE_BUCKET } from './evidence';

export const EVIDENCE_RETENTION_YEARS = 3;

export const ENDED_STATUSES = [
  PledgeStatus.Withdrawn,
  PledgeStatus.Revoked,
  PledgeStatus.Rejected,
  PledgeStatus.Cancelled,
  PledgeStatus.Expired,
] as const;

/** The moment before which a pledge must have ended for its evidence to go. */
export function retentionCutoff(now: Date): Date {
  const cutoff = new Date(now);
  cutoff.setUTCFullYear(cutoff.getUTCFullYear() - EVIDENCE_RETENTION_YEARS);
  return cutoff;
}

const BATCH = 500;

/**
 * Deletes the evidence of every pledge that ended more than 3 years before `now`; returns the
 * number of files deleted. Driven from the evidence side (only pledges that still have files
 * are looked at), so the work stays small however many pledges ended long ago.
 */
export async function purgeExpiredEvidence(now = new Date()): Promise<number> {
  const cutoff = retentionCutoff(now);
  const files = mongoose.connection.db!.collection(`${EVIDENCE_BUCKET}.files`);
  const owners = (await files.distinct('metadata.pledge')) as Types.ObjectId[];
  let deleted = 0;
  for (let i = 0; i < owners.length; i += BATCH) {
    const ids = owners.slice(i, i + BATCH);
    const ended = await Pledge.find(
      {
        _id: { $in: ids },
        $or: [
          // Ended statuses are final: the transition into one is the pledge's end.
          {
            status: { $in: ENDED_STATUSES },
            history: { $elemMatch: { to: { $in: ENDED_STATUSES }, at: { $lt: cutoff } } },
          },
          { status: PledgeStatus.PendingConfirmation, confirmExpiresAt: { $lt: cutoff } },
        ],
      },
      { _id: 1 },
    ).lean();
    for (const p of ended) {
      const n = await deleteEvidenceOf([p._id]);
      deleted += n;
      // Its list of files goes with them (the audit log keeps what it was confirmed with).
      await Pledge.collection.updateOne({ _id: p._id }, { $unset: { evidence: 1 } });
      await recordEvent({
        actor: 'system',
        action: 'pledge.evidence-deleted',
        subject: { type: 'pledge', id: String(p._id) },
        after: { files: n, rule: `${EVIDENCE_RETENTION_YEARS} years after the pledge ended` },
      });
    }
  }
  return deleted;
}
