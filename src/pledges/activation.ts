/**
 * Activation and the gapless sequence. The first 100 activated pledges are the founding
 * signatories, so numbers must be exact with many app instances and survive crashes:
 *
 *   1. claim    pending_review → activating          (atomic on the pledge: one activator wins)
 *   2. reserve  counter.seq += 1, and record {seq, pledge} in counter.inflight (one atomic update)
 *   3. assign   activating → active with that sequence (and founding number ≤ 100)
 *   4. release  remove the inflight record (concurrent activations share the write)
 *
 * A crash after 2 leaves the reservation in the counter document; `recoverActivations` finishes
 * it, so no number is ever skipped or given twice (unique indexes back this up).
 */
import { Types } from 'mongoose';
import { Counter } from '../../models/counter';
import { FOUNDING_LIMIT, Pledge, PledgeStatus, type PledgeDoc } from '../../models/pledge';
import { Event } from '../../models/event';
import { recordEvents, type EventInput } from '../audit/events';
import { conflict, notFound } from '../errors';
import { clearPublicCaches } from './queries';
import { isDuplicateKey } from '../db/errors';
import { logActivation } from '../transparency/intents';
import { listEvidence, type StoredEvidence } from './evidence';

export const SEQUENCE_COUNTER = 'pledge-sequence';

interface CounterDoc {
  _id: string;
  seq: number;
  inflight: Array<{ seq: number; pledge: Types.ObjectId; at: Date }>;
}

const counters = () => Counter.collection as unknown as import('mongodb').Collection<CounterDoc>;

/** Creates the counter document once (idempotent), so reservations never need an upsert. */
export async function ensureSequenceCounter(): Promise<void> {
  await counters()
    .updateOne(
      { _id: SEQUENCE_COUNTER },
      { $setOnInsert: { seq: 0, inflight: [] } },
      { upsert: true },
    )
    .catch((e) => {
      if (!isDuplicateKey(e)) throw e; // created concurrently: fine
    });
}

/**
 * Step 4 for concurrent activations shares writes (a group commit): an inflight record to
 * remove waits in `queued` and leaves with the next write to the counter, a reservation's own
 * update or one `$pull` for all that are waiting; each activation returns once its record is
 * gone, as if it had removed it alone.
 */
interface Release {
  seq: number;
  done: () => void;
  failed: (e: unknown) => void;
}
let queued: Release[] = [];
let flushing = false;

function requeue(rs: Release[]): void {
  if (rs.length === 0) return;
  queued.push(...rs);
  if (!flushing) void flushReleases();
}

function release(seq: number): Promise<void> {
  return new Promise((done, failed) => {
    queued.push({ seq, done, failed });
    if (!flushing) void flushReleases();
  });
}

async function flushReleases(): Promise<void> {
  flushing = true;
  try {
    while (queued.length) {
      const batch = queued;
      queued = [];
      try {
        await counters().updateOne(
          { _id: SEQUENCE_COUNTER },
          { $pull: { inflight: { seq: { $in: batch.map((r) => r.seq) } } } },
        );
        for (const r of batch) r.done();
      } catch (e) {
        for (const r of batch) r.failed(e);
      }
    }
  } finally {
    flushing = false;
  }
}

/** Steps 1–4 for a pledge awaiting review; throws 409 if it is not awaiting review. */
export async function activatePledge(pledgeId: Types.ObjectId, actor: string): Promise<PledgeDoc> {
  const now = new Date();
  const claimed = await Pledge.findOneAndUpdate(
    { _id: pledgeId, status: PledgeStatus.PendingReview },
    {
      $set: { status: PledgeStatus.Activating },
      $push: {
        history: { from: PledgeStatus.PendingReview, to: PledgeStatus.Activating, at: now, actor },
      },
    },
    { returnDocument: 'after' },
  ).lean<PledgeDoc>();
  if (!claimed) {
    const exists = await Pledge.exists({ _id: pledgeId });
    if (!exists) throw notFound('No pledge with this id.');
    throw conflict('This pledge is not awaiting review (it may have been decided already).', {
      code: 'pledge-not-pending-review',
    });
  }
  return activateClaimed(claimed, actor);
}

/**
 * Steps 2–4 for a pledge this caller has claimed (status `activating`); `events` are audit
 * events of the same request still to be written, recorded with `pledge.activated` in one write.
 */
export async function activateClaimed(
  pledge: PledgeDoc,
  actor: string,
  events: EventInput[] = [],
): Promise<PledgeDoc> {
  const unwritten = { events };
  try {
    return await reserveAndAssign(pledge, actor, unwritten);
  } catch (e) {
    // The request's earlier transitions did happen: their events are written regardless.
    if (unwritten.events.length) await recordEvents(unwritten.events).catch(() => undefined);
    throw e;
  }
}

/** Events a caller hands to step 3, which takes them over (empties the list) when it writes them. */
interface Unwritten {
  events: EventInput[];
}

async function reserveAndAssign(
  pledge: PledgeDoc,
  actor: string,
  unwritten: Unwritten = { events: [] },
  cutoff?: Date,
): Promise<PledgeDoc> {
  const now = new Date();
  const reserve = () => {
    // Finished activations' records leave in this same update (see step 4).
    const released = queued;
    queued = [];
    const seqs = released.map((r) => r.seq);
    // Reserve only if this pledge holds no reservation yet (recovery may race us).
    return counters()
      .findOneAndUpdate(
        { _id: SEQUENCE_COUNTER, 'inflight.pledge': { $ne: pledge._id } },
        [
          { $set: { seq: { $add: ['$seq', 1] } } },
          {
            $set: {
              inflight: {
                $concatArrays: [
                  released.length
                    ? {
                        $filter: {
                          input: '$inflight',
                          cond: { $not: [{ $in: ['$$this.seq', { $literal: seqs }] }] },
                        },
                      }
                    : '$inflight',
                  [{ seq: '$seq', pledge: { $literal: pledge._id }, at: { $literal: now } }],
                ],
              },
            },
          },
        ],
        { returnDocument: 'after' },
      )
      .then(
        (r) => {
          if (r) for (const x of released) x.done();
          // Not updated (this pledge holds one already): the records were not taken along.
          else requeue(released);
          return r;
        },
        (e: unknown) => {
          requeue(released);
          throw e;
        },
      );
  };
  let counter = await reserve();
  if (!counter) {
    // Either the counter does not exist yet, or this pledge already holds a reservation.
    await ensureSequenceCounter();
    counter = (await reserve()) ?? (await counters().findOne({ _id: SEQUENCE_COUNTER }));
  }
  const reservation = counter?.inflight.find((r) => String(r.pledge) === String(pledge._id));
  if (!reservation)
    throw new Error(`sequence reservation for pledge ${String(pledge._id)} vanished`);
  return assign(pledge._id, reservation.seq, actor, unwritten, cutoff);
}

/** Step 3 + 4; idempotent, so recovery can repeat it. */
async function assign(
  pledgeId: Types.ObjectId,
  seq: number,
  actor: string,
  unwritten: Unwritten = { events: [] },
  cutoff?: Date,
): Promise<PledgeDoc> {
  const now = new Date();
  const set: Record<string, unknown> = {
    status: PledgeStatus.Active,
    sequence: seq,
    activatedAt: now,
    needsCertificate: true,
  };
  if (seq <= FOUNDING_LIMIT) set.foundingNumber = seq;
  const updated = await Pledge.findOneAndUpdate(
    { _id: pledgeId, status: PledgeStatus.Activating, sequence: { $exists: false } },
    {
      $set: set,
      $push: {
        history: { from: PledgeStatus.Activating, to: PledgeStatus.Active, at: now, actor },
      },
    },
    { returnDocument: 'after' },
  ).lean<PledgeDoc>();
  if (updated) {
    const events = unwritten.events;
    unwritten.events = [];
    clearPublicCaches();
    // Recovery also writes what the crashed request had not (its pledge.confirmed), if missing.
    const toWrite =
      actor === RECOVERY
        ? await missingEvents(updated, actor)
        : [...events, activatedEvent(updated, actor)];
    // Independent writes, sent together: the reservation's release, the log intent, the events.
    await Promise.all([release(seq), logActivation(updated), recordEvents(toWrite)]);
    return updated;
  }
  const current = await Pledge.findById(pledgeId).lean<PledgeDoc>();
  // Already numbered (a repeat, e.g. by recovery): its record is stale, released now.
  await counters().updateOne({ _id: SEQUENCE_COUNTER }, { $pull: { inflight: { seq } } });
  if (current?.sequence === seq) {
    // A crash between numbering and the events write lost them: recovery writes those missing.
    // Only for a numbering older than its cutoff: a younger one is a live activation's (or
    // another pass's), which writes its own, and writing them here too would double them.
    const numbered = current.history.find((h) => h.to === PledgeStatus.Active);
    if (actor === RECOVERY && numbered && cutoff && numbered.at <= cutoff)
      await recordEvents(await missingEvents(current, actor));
    return current;
  }
  throw new Error(
    `pledge ${String(pledgeId)} could not take sequence ${seq} (has ${current?.sequence ?? 'none'})`,
  );
}

/** Who finishes activations a crash interrupted. */
const RECOVERY = 'system:recovery';

/** The `pledge.activated` event of a numbered pledge (`at`: when it was numbered, if known). */
function activatedEvent(pledge: PledgeDoc, actor: string, at?: Date): EventInput {
  return {
    actor,
    action: 'pledge.activated',
    subject: { type: 'pledge', id: String(pledge._id) },
    before: { status: PledgeStatus.PendingReview },
    after: {
      status: PledgeStatus.Active,
      sequence: pledge.sequence,
      foundingNumber: pledge.foundingNumber ?? null,
      ...reviewOf(pledge),
    },
    ...(at ? { at } : {}),
  };
}

/** The `pledge.confirmed` event, naming the evidence files the pledge was confirmed with. */
export function confirmedEvent(
  pledge: Pick<PledgeDoc, '_id'>,
  files: ReadonlyArray<Pick<StoredEvidence, 'kind' | 'contentType' | 'sha256'>>,
  at?: Date,
): EventInput {
  return {
    actor: 'company:email',
    action: 'pledge.confirmed',
    subject: { type: 'pledge', id: String(pledge._id) },
    before: { status: PledgeStatus.PendingConfirmation },
    after: {
      status: PledgeStatus.PendingReview,
      evidence: files.map((f) => ({ kind: f.kind, contentType: f.contentType, sha256: f.sha256 })),
    },
    ...(at ? { at } : {}),
  };
}

/**
 * The events a numbered pledge's history calls for that are not stored (checked by subject and
 * action; a pledge is confirmed and activated once): its confirmation (auto review writes it with
 * the activation, so a crash before that write loses both) and its activation, each dated by its
 * step of the history. Only recovery calls this, on activations older than its cutoff, so the
 * request that numbered the pledge is not still about to write them.
 */
async function missingEvents(pledge: PledgeDoc, actor: string): Promise<EventInput[]> {
  const step = (to: PledgeStatus, from: PledgeStatus) =>
    pledge.history.find((h) => h.to === to && h.from === from);
  const confirmed = step(PledgeStatus.PendingReview, PledgeStatus.PendingConfirmation);
  const activated = step(PledgeStatus.Active, PledgeStatus.Activating);
  const stored = new Set(
    (
      await Event.find(
        {
          'subject.type': 'pledge',
          'subject.id': String(pledge._id),
          action: { $in: ['pledge.confirmed', 'pledge.activated'] },
        },
        { action: 1 },
      ).lean()
    ).map((e) => e.action),
  );
  const out: EventInput[] = [];
  if (confirmed && !stored.has('pledge.confirmed'))
    out.push(confirmedEvent(pledge, await listEvidence(pledge._id), confirmed.at));
  if (!stored.has('pledge.activated')) out.push(activatedEvent(pledge, actor, activated?.at));
  return out;
}

/**
 * Who approved the pledge and whether they ticked "evidence checked", for the activation's
 * audit event. Read from the claim's transition (not from the caller) so an activation that
 * recovery finishes after a crash records the same: an admin's claim is an approval, and both
 * ways to approve (the API's ApproveBody, the console form) refuse it without the tick; an
 * activation by the system (auto-review, seed) had no reviewer and says so.
 */
export function reviewOf(pledge: Pick<PledgeDoc, 'history'>): {
  evidenceChecked: boolean;
  checkedBy: string | null;
} {
  const claim = [...pledge.history].reverse().find((h) => h.to === PledgeStatus.Activating);
  const reviewer = claim?.actor.startsWith('admin:') ? claim.actor : null;
  return { evidenceChecked: reviewer !== null, checkedBy: reviewer };
}

/**
 * Finishes activations interrupted by a crash: reservations older than `olderThanMs` are
 * assigned, and pledges stuck in `activating` without a reservation get one. Returns how many.
 *
 * Several instances may run this at once, and live activations run beside it: a pledge is only
 * taken when its claim is older than `olderThanMs` (so 0 is safe only when nothing else runs),
 * never while it holds a reservation, and only by the one pass that re-claims it first; otherwise
 * two passes could each reserve a number for it and one number would be skipped.
 */
export async function recoverActivations(olderThanMs = 60_000): Promise<number> {
  const cutoff = new Date(Date.now() - olderThanMs);
  let fixed = 0;
  const counter = await counters().findOne({ _id: SEQUENCE_COUNTER });
  for (const r of counter?.inflight ?? []) {
    if (r.at > cutoff) continue;
    await assign(r.pledge, r.seq, RECOVERY, undefined, cutoff);
    fixed++;
  }
  // Read after the reservations were settled: a pledge still holding one is someone's to finish.
  const reserved = new Set(
    ((await counters().findOne({ _id: SEQUENCE_COUNTER }))?.inflight ?? []).map((r) =>
      String(r.pledge),
    ),
  );
  const stuck = await Pledge.find({
    status: PledgeStatus.Activating,
    updatedAt: { $lt: cutoff },
  }).lean<PledgeDoc[]>();
  for (const p of stuck) {
    if (reserved.has(String(p._id))) continue;
    // Re-claim (compare-and-set on updatedAt): of several passes that read it, one goes on.
    const claim = await Pledge.updateOne(
      {
        _id: p._id,
        status: PledgeStatus.Activating,
        sequence: { $exists: false },
        updatedAt: p.updatedAt,
      },
      { $set: { updatedAt: new Date() } },
    );
    if (claim.modifiedCount !== 1) continue;
    await reserveAndAssign(p, RECOVERY, undefined, cutoff);
    fixed++;
  }
  return fixed;
}
