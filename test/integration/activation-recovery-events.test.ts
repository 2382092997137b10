/**
 * Crash recovery writes the audit events a crash lost, once. In REVIEW_MODE=auto the confirming
 * write also claims the activation and pledge.confirmed is written with pledge.activated after
 * the pledge is numbered, so a crash in between loses both; recovery must write them, dated by
 * the history, and never a second copy of one already stored.
 */
import assert from 'node:assert/strict';
import { Types } from 'mongoose';
import { Counter } from '../../models/counter';
import { Event } from '../../models/event';
import { Pledge, PledgeStatus, type PledgeDoc } from '../../models/pledge';
import { recordEvent } from '../../src/audit/events';
import { settleCarriedEvents } from '../../src/audit/carried';
import { ensureInitialInitiative } from '../../src/initiative/service';
import {
  ensureSequenceCounter,
  recoverActivations,
  SEQUENCE_COUNTER,
} from '../../src/pledges/activation';
import { listEvidence, storeEvidence } from '../../src/pledges/evidence';
import { signPledge } from '../../src/pledges/lifecycle';
import { useEmbeddedMongo } from '../helpers/db';
import { letterPdf } from '../helpers/pledges';
import { directDeps, signInput } from '../helpers/use-cases';

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000);

interface EventRow {
  action: string;
  actor: string;
  at: Date;
  before: unknown;
  after: Record<string, unknown>;
}
/** The pledge's events in the log (those still carried on it moved there first, as the sealer does). */
async function eventsOf(id: Types.ObjectId): Promise<EventRow[]> {
  await settleCarriedEvents(id);
  return (await Event.find({ 'subject.type': 'pledge', 'subject.id': String(id) })
    .sort({ _id: 1 })
    .lean()) as unknown as EventRow[];
}

/**
 * A pledge signed and given its letter through the use cases, then left as auto review's
 * confirming write leaves it (confirmed and claimed in one write, `at` minutes ago): the state a
 * crash before the activation's events write leaves behind.
 */
async function confirmedAndClaimedByAutoReview(
  deps: ReturnType<typeof directDeps>,
  at: Date,
): Promise<Types.ObjectId> {
  const input = await signInput();
  const { id } = await signPledge(input, deps);
  const _id = new Types.ObjectId(id);
  await storeEvidence(_id, 'authorisation-letter', 'application/pdf', await letterPdf());
  await Pledge.collection.updateOne({ _id }, [
    {
      $set: {
        status: PledgeStatus.Activating,
        confirmedAt: at,
        openUscc: input.company.uscc,
        updatedAt: at,
        history: {
          $concatArrays: [
            '$history',
            [
              {
                from: PledgeStatus.PendingConfirmation,
                to: PledgeStatus.PendingReview,
                at,
                actor: 'company:email',
              },
              {
                from: PledgeStatus.PendingReview,
                to: PledgeStatus.Activating,
                at,
                actor: 'system:auto-review',
              },
            ],
          ],
        },
      },
    },
  ]);
  return _id;
}

/** Step 2 of an activation (a reservation `at` ago), then the "crash". */
async function reserve(pledge: Types.ObjectId, at: Date): Promise<number> {
  const c = (await Counter.collection.findOneAndUpdate(
    { _id: SEQUENCE_COUNTER as never },
    { $inc: { seq: 1 } },
    { returnDocument: 'after' },
  )) as unknown as { seq: number };
  await Counter.collection.updateOne(
    { _id: SEQUENCE_COUNTER as never },
    { $push: { inflight: { seq: c.seq, pledge, at } } as never },
  );
  return c.seq;
}

async function assertRecoveredEvents(id: Types.ObjectId, confirmedAt: Date): Promise<void> {
  const p = (await Pledge.findById(id).lean<PledgeDoc>())!;
  const events = await eventsOf(id);
  const ofPledge = events.filter((e) => e.action !== 'pledge.signed');
  assert.deepEqual(
    ofPledge.map((e) => e.action),
    ['pledge.confirmed', 'pledge.activated'],
  );
  const [confirmed, activated] = ofPledge;
  const letter = (await listEvidence(id))[0];
  assert.equal(confirmed.actor, 'company:email');
  assert.equal(confirmed.at.getTime(), confirmedAt.getTime());
  assert.deepEqual(confirmed.before, { status: 'pending_confirmation' });
  assert.deepEqual(confirmed.after, {
    status: 'pending_review',
    evidence: [
      { kind: 'authorisation-letter', contentType: 'application/pdf', sha256: letter.sha256 },
    ],
  });
  assert.equal(activated.actor, 'system:recovery');
  assert.deepEqual(activated.after, {
    status: 'active',
    sequence: p.sequence,
    foundingNumber: p.foundingNumber,
    evidenceChecked: false,
    checkedBy: null,
  });
  const numbered = p.history.find((h) => h.to === PledgeStatus.Active)!;
  assert.equal(activated.at.getTime(), numbered.at.getTime());
}

describe('activation recovery writes the audit events a crash lost', () => {
  useEmbeddedMongo();
  const deps = directDeps();

  before(async () => {
    await ensureInitialInitiative();
    await ensureSequenceCounter();
  });

  it('when auto review crashed after reserving a number, then recovery writes pledge.confirmed (with its evidence) and pledge.activated, in that order', async () => {
    const at = minutesAgo(5);
    const id = await confirmedAndClaimedByAutoReview(deps, at);
    const seq = await reserve(id, at);
    assert.equal(await recoverActivations(0), 1);
    assert.equal((await Pledge.findById(id).lean<PledgeDoc>())!.sequence, seq);
    await assertRecoveredEvents(id, at);
  });

  it('when auto review crashed after numbering the pledge but before its events, then recovery writes both, and a second pass writes nothing more', async () => {
    const at = minutesAgo(5);
    const id = await confirmedAndClaimedByAutoReview(deps, at);
    const seq = await reserve(id, at);
    // Step 3 done (as assign writes it), then the crash: no events, the reservation still held.
    await Pledge.collection.updateOne({ _id: id }, {
      $set: {
        status: PledgeStatus.Active,
        sequence: seq,
        foundingNumber: seq,
        activatedAt: minutesAgo(4),
        needsCertificate: true,
      },
      $push: {
        history: {
          from: PledgeStatus.Activating,
          to: PledgeStatus.Active,
          at: minutesAgo(4),
          actor: 'system:auto-review',
        },
      },
    } as never);
    await recoverActivations(0);
    await assertRecoveredEvents(id, at);
    const inflight = (
      (await Counter.collection.findOne({ _id: SEQUENCE_COUNTER as never })) as unknown as {
        inflight: unknown[];
      }
    ).inflight;
    assert.deepEqual(inflight, []);
    // Another crash-left reservation for the same pledge (as a second instance might see it).
    await Counter.collection.updateOne(
      { _id: SEQUENCE_COUNTER as never },
      { $push: { inflight: { seq, pledge: id, at: minutesAgo(5) } } as never },
    );
    await recoverActivations(0);
    await recoverActivations(0);
    await assertRecoveredEvents(id, at);
  });

  it('when a pledge was numbered after the cutoff (an activation still writing its events), then recovery releases its reservation but leaves its events to it', async () => {
    const at = minutesAgo(5);
    const id = await confirmedAndClaimedByAutoReview(deps, at);
    const seq = await reserve(id, at);
    await Pledge.collection.updateOne({ _id: id }, {
      $set: { status: PledgeStatus.Active, sequence: seq, activatedAt: new Date() },
      $push: {
        history: {
          from: PledgeStatus.Activating,
          to: PledgeStatus.Active,
          at: new Date(),
          actor: 'system:auto-review',
        },
      },
    } as never);
    await recoverActivations(60_000);
    assert.deepEqual(
      (await eventsOf(id)).map((e) => e.action),
      ['pledge.signed'],
    );
    const c = (await Counter.collection.findOne({ _id: SEQUENCE_COUNTER as never })) as unknown as {
      inflight: unknown[];
    };
    assert.deepEqual(c.inflight, []);
  });

  it('when auto review crashed after claiming but before reserving, then recovery numbers it and writes both events', async () => {
    const at = minutesAgo(5);
    const id = await confirmedAndClaimedByAutoReview(deps, at);
    assert.equal(await recoverActivations(0), 1);
    await assertRecoveredEvents(id, at);
  });

  it('when the confirmation was already recorded (manual review), then recovery writes only pledge.activated', async () => {
    const at = minutesAgo(5);
    const id = await confirmedAndClaimedByAutoReview(deps, at);
    const files = await listEvidence(id);
    await recordEvent({
      actor: 'company:email',
      action: 'pledge.confirmed',
      subject: { type: 'pledge', id: String(id) },
      before: { status: 'pending_confirmation' },
      after: {
        status: 'pending_review',
        evidence: files.map((f) => ({
          kind: f.kind,
          contentType: f.contentType,
          sha256: f.sha256,
        })),
      },
      at,
    });
    await reserve(id, at);
    await recoverActivations(0);
    await assertRecoveredEvents(id, at);
  });
});
