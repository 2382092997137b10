/**
 * Activation and the gapless sequence. The first 100 activated pledges are the founding
 * signatories, so numbers must be exact with many app instances and survive crashes:
 *
 *   1. claim    pending_review → activating          (atomic on the pledge: one activator wins)
 *   2. reserve  counter.seq += 1, and record {seq, pledge} in counter.inflight (one atomic update)
 *   3. assign   activating → active with that sequence (and founding number ≤ 100), its
 *               `pledge.activated` event carried in the same write (src/audit/carried.ts)
 *   4. release  remove the inflight record, after the request: it leaves with the next
 *               reservation's own write, or one deferred `$pull` for all waiting when none comes
 *
 * A crash after 2 leaves the reservation in the counter document; `recoverActivations` finishes
 * it (a crash after 3 leaves a stale record, which it just removes), so no number is ever
 * skipped or given twice (unique indexes back this up).
 */
import { Types } from 'mongoose';
import { Counter } from '../../models/counter';
import { FOUNDING_LIMIT, Pledge, PledgeStatus, type PledgeDoc } from '../../models/pledge';
import { Event } from '../../models/event';
import { recordEvents, type EventInput } from '../audit/events';
import { carriedEvent } from '../audit/carried';
import { outsideRequest } from '../request-context';
import { conflict, notFound } from '../errors';
import { clearPublicCaches } from './queries';
import { isDuplicateKey } from '../db/errors';
import { logActivation } from '../transparency/intents';
import { listEvidence, type StoredEvidence } from './evidence';
import { rawCollection } from '../db/raw';
import {
  throwFailed,
  writeTogether,
  type TogetherUpdate,
  type UpdateOutcome,
} from '../db/together';

export const SEQUENCE_COUNTER = 'pledge-sequence';

interface CounterDoc {
  _id: string;
  seq: number;
  inflight: Array<{ seq: number; pledge: Types.ObjectId; at: Date }>;
}

const counters = () => rawCollection<CounterDoc>(Counter);

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
 * Step 4 shares writes (a group commit) and is not the request's: an inflight record to remove
 * waits in `queued` and leaves with the next write to the counter, a reservation's own update
 * or, RELEASE_AFTER_MS later, one `$pull` for all that are waiting. A record whose removal is
 * lost (the process died) is stale but harmless: its pledge is numbered, and recovery removes it.
 */
interface Release {
  seq: number;
}
let queued: Release[] = [];
/** The database the waiting records belong to (a reconnect elsewhere, as tests do, drops them). */
let queuedIn: unknown = null;

/** The waiting records, taken out (none if they belong to another database than the current one). */
function takeQueued(): Release[] {
  const batch = queuedIn === Counter.db.db ? queued : [];
  queued = [];
  return batch;
}

function queueRelease(seq: number): void {
  if (queuedIn !== Counter.db.db) {
    queued = [];
    queuedIn = Counter.db.db;
  }
  queued.push({ seq });
  releaseSoon();
}
let flushing: Promise<void> | null = null;
let timer: NodeJS.Timeout | null = null;
const RELEASE_AFTER_MS = 200;

function requeue(rs: Release[]): void {
  if (rs.length === 0) return;
  queued.push(...rs);
  releaseSoon();
}

function releaseSoon(): void {
  if (timer) return;
  // Outside the request that numbered the pledge: the release is not its work.
  timer = outsideRequest(() =>
    setTimeout(() => {
      timer = null;
      void flushReleases();
    }, RELEASE_AFTER_MS).unref(),
  );
}

/** Removes every record waiting for release now (shutdown, tests); failures are left to recovery. */
export async function flushReleases(): Promise<void> {
  while (flushing) await flushing;
  const batch = takeQueued();
  if (batch.length === 0) return;
  flushing = counters()
    .updateOne(
      { _id: SEQUENCE_COUNTER },
      { $pull: { inflight: { seq: { $in: batch.map((r) => r.seq) } } } },
    )
    .then(
      () => undefined,
      () => undefined, // stale records: recovery removes them
    )
    .finally(() => {
      flushing = null;
    });
  await flushing;
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
 * Steps 2–4 for a pledge this caller has claimed (status `activating`). `alongside`: other
 * collections' updates the caller would make anyway, sent in the same round trip as step 3
 * (src/db/together.ts); one that fails is thrown once the numbering is done.
 */
export async function activateClaimed(
  pledge: PledgeDoc,
  actor: string,
  alongside: readonly TogetherUpdate[] = [],
): Promise<PledgeDoc> {
  return reserveAndAssign(pledge, actor, undefined, alongside);
}

async function reserveAndAssign(
  pledge: PledgeDoc,
  actor: string,
  cutoff?: Date,
  alongside: readonly TogetherUpdate[] = [],
): Promise<PledgeDoc> {
  const now = new Date();
  const reserve = () => {
    // Finished activations' records leave in this same update (see step 4).
    const released = takeQueued();
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
          // Not updated (this pledge holds one already): the records were not taken along.
          if (!r) requeue(released);
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
  return assign(pledge, reservation.seq, actor, cutoff, alongside);
}

/**
 * Step 3 + 4; idempotent, so recovery can repeat it. `pledge` is the claimed pledge (its
 * history names who claimed it, which the activation's event records); with `alongside` it is
 * the whole claimed document, since the numbered one is then built here rather than read back.
 */
async function assign(
  pledge: Pick<PledgeDoc, '_id' | 'history' | 'pendingEvents' | 'sequence'>,
  seq: number,
  actor: string,
  cutoff?: Date,
  alongside: readonly TogetherUpdate[] = [],
): Promise<PledgeDoc> {
  const now = new Date();
  const foundingNumber = seq <= FOUNDING_LIMIT ? seq : undefined;
  const set: Record<string, unknown> = {
    status: PledgeStatus.Active,
    sequence: seq,
    activatedAt: now,
    needsCertificate: true,
    logPending: true,
  };
  if (foundingNumber) set.foundingNumber = foundingNumber;
  // Recovery also carries what the crashed request had not written (a pledge.confirmed lost by
  // a pledge claimed before events were carried), ahead of pledge.activated.
  const earlier = actor === RECOVERY ? await missingEvents(pledge) : [];
  const step = { from: PledgeStatus.Activating, to: PledgeStatus.Active, at: now, actor };
  const events = [
    ...earlier.map(carriedEvent),
    carriedEvent(activatedEvent(pledge, seq, actor, now)),
  ];
  const filter = { _id: pledge._id, status: PledgeStatus.Activating, sequence: { $exists: false } };
  // The same update as mongoose sends, its timestamp included, on the driver's collection.
  const update = {
    $set: { ...set, updatedAt: now },
    $push: { history: step, pendingEvents: { $each: events } },
  };
  let updated: PledgeDoc | null;
  let others: UpdateOutcome[] = [];
  if (alongside.length > 0) {
    const [numbered, ...rest] = await writeTogether([
      { model: Pledge, filter, update },
      ...alongside,
    ]);
    others = rest;
    if (numbered.error)
      throw new Error(`numbering pledge ${String(pledge._id)}: ${numbered.error.message}`);
    // What the write made of the claimed document (the sealer may since have moved its events).
    updated =
      numbered.matched === 1
        ? ({
            ...(pledge as PledgeDoc),
            ...set,
            updatedAt: now,
            history: [...pledge.history, step],
            pendingEvents: [...(pledge.pendingEvents ?? []), ...events],
          } as PledgeDoc)
        : null;
  } else {
    updated = (await rawCollection<PledgeDoc>(Pledge).findOneAndUpdate(filter, update, {
      returnDocument: 'after',
    })) as PledgeDoc | null;
  }
  if (updated) {
    clearPublicCaches();
    if (actor === RECOVERY) {
      // Off the signing path: released at once, so a recovered number never looks held.
      await counters().updateOne({ _id: SEQUENCE_COUNTER }, { $pull: { inflight: { seq } } });
    } else {
      queueRelease(seq);
    }
    await logActivation(updated);
    throwFailed(alongside, others);
    return updated;
  }
  const current = await Pledge.findById(pledge._id).lean<PledgeDoc>();
  // Already numbered (a repeat, e.g. by recovery): its record is stale, released now.
  await counters().updateOne({ _id: SEQUENCE_COUNTER }, { $pull: { inflight: { seq } } });
  if (current?.sequence === seq) {
    // A pledge numbered before events were carried on it may have lost them in a crash between
    // numbering and the events write: recovery writes those missing. Only for a numbering older
    // than its cutoff: a younger one may be a live activation's of that older kind.
    const numbered = current.history.find((h) => h.to === PledgeStatus.Active);
    if (actor === RECOVERY && numbered && cutoff && numbered.at <= cutoff)
      await recordEvents(await missingEvents(current));
    throwFailed(alongside, others);
    return current;
  }
  throw new Error(
    `pledge ${String(pledge._id)} could not take sequence ${seq} (has ${current?.sequence ?? 'none'})`,
  );
}

/** Who finishes activations a crash interrupted. */
const RECOVERY = 'system:recovery';

/** The `pledge.activated` event of the claimed pledge numbered `seq` (`at`: when it was numbered). */
function activatedEvent(
  pledge: Pick<PledgeDoc, '_id' | 'history'>,
  seq: number,
  actor: string,
  at?: Date,
): EventInput {
  return {
    actor,
    action: 'pledge.activated',
    subject: { type: 'pledge', id: String(pledge._id) },
    before: { status: PledgeStatus.PendingReview },
    after: {
      status: PledgeStatus.Active,
      sequence: seq,
      foundingNumber: seq <= FOUNDING_LIMIT ? seq : null,
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
 * The events a numbered pledge's history calls for that are neither stored nor carried on it
 * (checked by subject and action; a pledge is confirmed and activated once): its confirmation
 * and its activation, each dated by its step of the history. Both are carried in their
 * transitions' writes now; this finds what pledges numbered before that lost in a crash. Only
 * recovery calls this. `pledge` is read before the events are (an event the sealer moves in
 * between is in one or the other).
 */
async function missingEvents(
  pledge: Pick<PledgeDoc, '_id' | 'history' | 'pendingEvents' | 'sequence'>,
): Promise<EventInput[]> {
  const step = (to: PledgeStatus, from: PledgeStatus) =>
    pledge.history.find((h) => h.to === to && h.from === from);
  const confirmed = step(PledgeStatus.PendingReview, PledgeStatus.PendingConfirmation);
  const activated = step(PledgeStatus.Active, PledgeStatus.Activating);
  const stored = new Set([
    ...(pledge.pendingEvents ?? []).map((e) => e.action),
    ...(
      await Event.find(
        {
          'subject.type': 'pledge',
          'subject.id': String(pledge._id),
          action: { $in: ['pledge.confirmed', 'pledge.activated'] },
        },
        { action: 1 },
      ).lean()
    ).map((e) => e.action),
  ]);
  const out: EventInput[] = [];
  if (confirmed && !stored.has('pledge.confirmed'))
    out.push(confirmedEvent(pledge, await listEvidence(pledge._id), confirmed.at));
  if (!stored.has('pledge.activated') && pledge.sequence)
    out.push(activatedEvent(pledge, pledge.sequence, RECOVERY, activated?.at));
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
    // The claim in its history names who approved it (the activation's event records that).
    const claimed = await Pledge.findById(r.pledge).lean<PledgeDoc>();
    await assign(claimed ?? { _id: r.pledge, history: [] }, r.seq, RECOVERY, cutoff);
    // A stale record (its pledge was numbered, its release lost) is only removed: not a fix.
    if (claimed?.sequence === undefined) fixed++;
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
    await reserveAndAssign(p, RECOVERY, cutoff);
    fixed++;
  }
  return fixed;
}
