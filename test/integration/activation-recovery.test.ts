import assert from 'node:assert/strict';
import type { Types } from 'mongoose';
import { Counter } from '../../models/counter';
import { Event } from '../../models/event';
import { Pledge, PledgeStatus, type PledgeDoc } from '../../models/pledge';
import { ensureInitialInitiative } from '../../src/initiative/service';
import { settleCarriedEvents } from '../../src/audit/carried';
import {
  activatePledge,
  ensureSequenceCounter,
  flushReleases,
  recoverActivations,
  SEQUENCE_COUNTER,
} from '../../src/pledges/activation';
import { silentLogger } from '../../src/logger';
import { createRegistry } from '../../src/registry';
import { useEmbeddedMongo } from '../helpers/db';
import { directDeps, insertPledge, signedAndConfirmed } from '../helpers/use-cases';

interface CounterDoc {
  _id: string;
  seq: number;
  inflight: Array<{ seq: number; pledge: Types.ObjectId; at: Date }>;
}
const counter = async () =>
  (await Counter.collection.findOne({ _id: SEQUENCE_COUNTER as never })) as unknown as CounterDoc;
const pledge = async (id: Types.ObjectId | string) =>
  (await Pledge.findById(id).lean<PledgeDoc>())!;
const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000);

/** Puts a reservation into the counter as step 2 of an activation would, then "crashes". */
async function reserve(pledgeId: Types.ObjectId, at = minutesAgo(5)): Promise<number> {
  const c = await Counter.collection.findOneAndUpdate(
    { _id: SEQUENCE_COUNTER as never },
    { $inc: { seq: 1 } },
    { returnDocument: 'after' },
  );
  const seq = (c as unknown as CounterDoc).seq;
  await Counter.collection.updateOne(
    { _id: SEQUENCE_COUNTER as never },
    { $push: { inflight: { seq, pledge: pledgeId, at } } as never },
  );
  return seq;
}

/** All sequences handed out, sorted; they must be exactly 1..n. */
async function assertGapless(): Promise<number> {
  const seqs = (
    await Pledge.find({ sequence: { $exists: true } })
      .select('sequence')
      .lean<PledgeDoc[]>()
  )
    .map((p) => p.sequence!)
    .sort((a, b) => a - b);
  assert.deepEqual(
    seqs,
    Array.from({ length: seqs.length }, (_, i) => i + 1),
  );
  await flushReleases(); // live activations release their numbers just after answering
  const c = await counter();
  assert.equal(c.seq, seqs.length, 'the counter is at the last sequence handed out');
  assert.deepEqual(c.inflight, []);
  return seqs.length;
}

describe('activation recovery (src/pledges/activation.ts)', () => {
  useEmbeddedMongo();
  const deps = directDeps();

  before(async () => {
    await ensureInitialInitiative();
    await ensureSequenceCounter();
    // Two ordinary activations first, so recovered numbers must continue from 3.
    for (let i = 0; i < 2; i++)
      await activatePledge((await pledge(await signedAndConfirmed(deps)))._id, 'admin:test');
  });

  it('when a crash left a pledge activating with a reserved number, then recovery gives it exactly that number and releases it', async () => {
    const id = await insertPledge(PledgeStatus.Activating, { updatedAt: minutesAgo(5) });
    const seq = await reserve(id);
    assert.equal(seq, 3);
    const fixed = await recoverActivations(0);
    assert.equal(fixed, 1);
    const p = await pledge(id);
    assert.equal(p.status, 'active');
    assert.equal(p.sequence, 3);
    assert.equal(p.foundingNumber, 3);
    assert.ok(p.activatedAt instanceof Date);
    assert.deepEqual(p.history.map((h) => h.to).slice(-2), ['activating', 'active']);
    assert.equal(p.history[p.history.length - 1].actor, 'system:recovery');
    assert.deepEqual((await counter()).inflight, []);
    await settleCarriedEvents(id);
    assert.equal(
      await Event.countDocuments({ action: 'pledge.activated', 'subject.id': String(id) }),
      1,
    );
    await assertGapless();
  });

  it('when a pledge is stuck activating without a reservation, then recovery gives it the next number', async () => {
    const id = await insertPledge(PledgeStatus.Activating, { updatedAt: minutesAgo(5) });
    assert.equal(await recoverActivations(0), 1);
    const p = await pledge(id);
    assert.equal(p.status, 'active');
    assert.equal(p.sequence, 4);
    assert.equal(p.foundingNumber, 4);
    await assertGapless();
  });

  it('when the crash came after the number was written but before it was released, then recovery only releases it', async () => {
    const id = await insertPledge(PledgeStatus.Activating, { updatedAt: minutesAgo(5) });
    const seq = await reserve(id);
    await Pledge.collection.updateOne(
      { _id: id },
      {
        $set: { status: 'active', sequence: seq, foundingNumber: seq, activatedAt: minutesAgo(4) },
      },
    );
    // Its events were written (a crash before them is activation-recovery-events.test.ts's).
    await Event.collection.insertMany(
      ['pledge.confirmed', 'pledge.activated'].map((action) => ({
        at: minutesAgo(4),
        actor: 'test',
        action,
        subject: { type: 'pledge', id: String(id) },
        unsealed: true,
      })),
    );
    const before = await pledge(id);
    const events = await Event.countDocuments();
    await recoverActivations(0);
    assert.deepEqual(await pledge(id), before);
    assert.equal(await Event.countDocuments(), events, 'no second activation event');
    await assertGapless();
  });

  it('when several crashes are recovered at once, then numbers continue in order without gaps, and live activations follow', async () => {
    const reserved = await insertPledge(PledgeStatus.Activating, { updatedAt: minutesAgo(3) });
    const seq = await reserve(reserved);
    const stuck = [
      await insertPledge(PledgeStatus.Activating, { updatedAt: minutesAgo(3) }),
      await insertPledge(PledgeStatus.Activating, { updatedAt: minutesAgo(3) }),
    ];
    assert.equal(await recoverActivations(0), 3);
    assert.equal((await pledge(reserved)).sequence, seq);
    assert.deepEqual((await Promise.all(stuck.map(pledge))).map((p) => p.sequence).sort(), [
      seq + 1,
      seq + 2,
    ]);
    const live = await activatePledge(
      (await pledge(await signedAndConfirmed(deps)))._id,
      'admin:test',
    );
    assert.equal(live.sequence, seq + 3);
    await assertGapless();
  });

  it('when a reservation or a claim is younger than the cutoff, then recovery leaves it to its own activation', async () => {
    const id = await insertPledge(PledgeStatus.Activating);
    const seq = await reserve(id, new Date());
    assert.equal(await recoverActivations(60_000), 0);
    assert.equal((await pledge(id)).status, 'activating');
    assert.equal((await counter()).inflight.length, 1);
    assert.equal(await recoverActivations(0), 1);
    assert.equal((await pledge(id)).sequence, seq);
    await assertGapless();
  });

  // Every instance runs the periodic pass (60 s grace); passes on several instances can overlap.
  it('when several instances recover the same stuck pledges at the same time, then every pledge gets one number and none is skipped', async function () {
    this.timeout(30_000);
    const ids: Types.ObjectId[] = [];
    for (let i = 0; i < 30; i++)
      ids.push(await insertPledge(PledgeStatus.Activating, { updatedAt: minutesAgo(2) }));
    for (const id of ids.slice(0, 10)) await reserve(id, minutesAgo(2)); // some crashed after reserving
    const results = await Promise.allSettled([
      recoverActivations(),
      recoverActivations(),
      recoverActivations(),
      recoverActivations(),
    ]);
    const errors = results
      .filter((x) => x.status === 'rejected')
      .map((x) => String((x as PromiseRejectedResult).reason));
    assert.deepEqual(errors, []);
    assert.equal(
      results.reduce((n, x) => n + (x.status === 'fulfilled' ? x.value : 0), 0) >= 30,
      true,
    );
    const states = (await Promise.all(ids.map(pledge))).map((p) => p.status);
    assert.deepEqual(
      states,
      ids.map(() => 'active'),
    );
    await assertGapless();
    await settleCarriedEvents();
    assert.equal(
      await Event.countDocuments({
        action: 'pledge.activated',
        'subject.id': { $in: ids.map(String) },
      }),
      30,
      'one activation event per pledge',
    );
  });

  it('when an instance starts while another is activating, then its start-up recovery leaves that activation alone', async function () {
    this.timeout(20_000);
    // Another instance has just claimed this pledge (step 1) and is about to reserve its number.
    const id = await insertPledge(PledgeStatus.Activating, { updatedAt: new Date() });
    const before = await counter();
    const registry = createRegistry(directDeps().config, silentLogger(), {
      mailPollMs: 60_000,
      sealEveryMs: 60_000,
    });
    await registry.start();
    await registry.stop();
    assert.equal((await pledge(id)).status, 'activating');
    assert.equal((await pledge(id)).sequence, undefined);
    assert.deepEqual(await counter(), before);
    // … and that instance finishes it with the next number (simulated: its reservation is recovered).
    await reserve(id, minutesAgo(2));
    await recoverActivations();
    await assertGapless();
  });
});
