import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { Types } from 'mongoose';
import { Event } from '../../models/event';
import { Pledge } from '../../models/pledge';
import {
  canonicalEvent,
  chainHash,
  GENESIS_HASH,
  sealPendingEvents,
  verifyChain,
  type ChainedFields,
} from '../../src/audit/chain';
import { ensureInitialInitiative } from '../../src/initiative/service';
import { settleCarriedEvents } from '../../src/audit/carried';
import { createLogger } from '../../src/logger';
import { createRegistry } from '../../src/registry';
import { ensureSequenceCounter } from '../../src/pledges/activation';
import { approvePledge, rejectPledge, withdrawPledge } from '../../src/pledges/lifecycle';
import { useEmbeddedMongo } from '../helpers/db';
import { directDeps, signedAndConfirmed } from '../helpers/use-cases';

const events = () => Event.collection;

describe('audit chain (src/audit/chain.ts)', () => {
  useEmbeddedMongo();
  const deps = directDeps();
  const admin = new Types.ObjectId().toHexString();
  let total = 0;

  before(async function () {
    this.timeout(20_000);
    await ensureInitialInitiative();
    await ensureSequenceCounter();
    // signed + confirmed ×4, activated ×2, rejected ×1, withdrawn ×1 → 12 events
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push(await signedAndConfirmed(deps));
    await approvePledge(ids[0], admin, deps);
    await approvePledge(ids[1], admin, deps);
    await rejectPledge(ids[2], '资料不实 / false information', admin, deps);
    const p1 = (await Pledge.findById(ids[1]).lean())!;
    await withdrawPledge(String(p1._id), '测试 / test', new Types.ObjectId().toHexString());
    // Events carried on pledges join the log unsealed (the sealer's first step).
    await settleCarriedEvents();
    total = await Event.countDocuments();
  });

  it('when transitions happened, then each left one unsealed event', async () => {
    assert.equal(total, 12);
    const actions = (await Event.find().sort({ _id: 1 }).lean()).map((e) => e.action).sort();
    assert.deepEqual(actions, [
      'pledge.activated',
      'pledge.activated',
      'pledge.confirmed',
      'pledge.confirmed',
      'pledge.confirmed',
      'pledge.confirmed',
      'pledge.rejected',
      'pledge.signed',
      'pledge.signed',
      'pledge.signed',
      'pledge.signed',
      'pledge.withdrawn',
    ]);
    assert.equal(await Event.countDocuments({ seq: { $exists: true } }), 0);
    assert.deepEqual(await verifyChain(), { ok: true, length: 0 });
  });

  it('when sealed, then every event gets seq 1..n in write order and the chain verifies with that length', async () => {
    assert.equal(await sealPendingEvents(), total);
    assert.deepEqual(await verifyChain(), { ok: true, length: total });
    const sealed = await Event.find().sort({ seq: 1 }).lean();
    assert.deepEqual(
      sealed.map((e) => e.seq),
      Array.from({ length: total }, (_, i) => i + 1),
    );
    assert.deepEqual(
      sealed.map((e) => String(e._id)),
      [...sealed]
        .sort((a, b) => String(a._id).localeCompare(String(b._id)))
        .map((e) => String(e._id)),
    );
    // The chain is what the module says: hash = sha256(prevHash ‖ canonical event), from the genesis hash.
    let prev = GENESIS_HASH;
    for (const e of sealed) {
      assert.equal(e.prevHash, prev);
      const expected = createHash('sha256')
        .update(prev)
        .update(canonicalEvent({ ...e, seq: e.seq! }))
        .digest('hex');
      assert.equal(e.hash, expected);
      prev = e.hash!;
    }
  });

  it('when sealing runs again with nothing new, then nothing changes', async () => {
    const before = await Event.find().sort({ seq: 1 }).lean();
    assert.equal(await sealPendingEvents(), 0);
    assert.deepEqual(await Event.find().sort({ seq: 1 }).lean(), before);
  });

  it('when more transitions follow, then they are appended and linked to the old head', async () => {
    const head = (await Event.findOne().sort({ seq: -1 }).lean())!;
    const id = await signedAndConfirmed(deps);
    await approvePledge(id, admin, deps);
    assert.equal(await sealPendingEvents(), 3);
    total += 3;
    assert.deepEqual(await verifyChain(), { ok: true, length: total });
    const next = (await Event.findOne({ seq: head.seq! + 1 }).lean())!;
    assert.equal(next.prevHash, head.hash);
  });

  it('when two sealers run at once, then the chain still verifies and holds every event once', async () => {
    for (let i = 0; i < 5; i++) await signedAndConfirmed(deps); // 10 new events
    await Promise.allSettled([sealPendingEvents(), sealPendingEvents(), sealPendingEvents()]);
    while ((await sealPendingEvents()) > 0);
    total += 10;
    assert.equal(await Event.countDocuments({ seq: { $exists: false } }), 0);
    assert.deepEqual(await verifyChain(), { ok: true, length: total });
  });

  describe('tampering', () => {
    const tamperings: Array<{ what: string; at: number; change: Record<string, unknown> }> = [
      {
        what: 'the recorded state after a transition',
        at: 5,
        change: { 'after.status': 'tampered' },
      },
      { what: 'the actor', at: 3, change: { actor: 'admin:000000000000000000000000' } },
      { what: 'the time', at: 7, change: { at: new Date('2009-08-31T00:00:00Z') } },
      { what: 'the stored hash', at: 2, change: { hash: 'f'.repeat(64) } },
      { what: 'the link to the previous event', at: 9, change: { prevHash: GENESIS_HASH } },
      { what: 'the sequence number', at: 4, change: { seq: 10_000 } },
    ];
    for (const t of tamperings) {
      it(`when ${t.what} of sealed event ${t.at} is changed in the database, then verifyChain reports seq ${t.at}`, async () => {
        const original = (await events().findOne({ seq: t.at }))!;
        await events().updateOne({ _id: original._id }, { $set: t.change });
        try {
          assert.deepEqual(await verifyChain(), { ok: false, brokenAt: t.at });
        } finally {
          await events().replaceOne({ _id: original._id }, original);
        }
        assert.deepEqual(await verifyChain(), { ok: true, length: total });
      });
    }

    it('when a sealed event is deleted, then verifyChain reports its seq', async () => {
      const original = (await events().findOne({ seq: 6 }))!;
      await events().deleteOne({ _id: original._id });
      try {
        assert.deepEqual(await verifyChain(), { ok: false, brokenAt: 6 });
      } finally {
        await events().insertOne(original);
      }
      assert.deepEqual(await verifyChain(), { ok: true, length: total });
    });

    it('when an event is rewritten and its own hash recomputed, then the chain breaks at the next event', async () => {
      // Rewriting an event *and* its hash consistently breaks the link of the next event.
      const e = (await events().findOne({ seq: 8 }))!;
      const forged = { ...(e as unknown as ChainedFields), actor: 'admin:forged', seq: 8 };
      const hash = chainHash(String(e.prevHash), canonicalEvent(forged));
      await events().updateOne({ _id: e._id }, { $set: { actor: 'admin:forged', hash } });
      try {
        assert.deepEqual(await verifyChain(), { ok: false, brokenAt: 9 });
      } finally {
        await events().replaceOne({ _id: e._id }, e);
      }
      assert.deepEqual(await verifyChain(), { ok: true, length: total });
    });
  });
});

describe('audit chain sealing in the background (src/registry.ts)', () => {
  useEmbeddedMongo();

  it('when a sealing pass takes longer than the interval, then passes do not overlap and nothing fails', async function () {
    this.timeout(60_000);
    const lines: string[] = [];
    const logger = createLogger(
      { level: 'warn' },
      new Writable({ write: (c: Buffer, _e, cb) => (lines.push(c.toString()), cb()) }),
    );
    const n = 3000;
    await Event.insertMany(
      Array.from({ length: n }, (_, i) => ({
        at: new Date(),
        actor: 'system:test',
        action: 'test.event',
        subject: { type: 'test', id: String(i) },
      })),
    );
    // A 10 ms interval: each pass over thousands of events takes far longer than that.
    const registry = createRegistry(directDeps().config, logger, {
      mailPollMs: 60_000,
      sealEveryMs: 10,
    });
    await registry.start();
    try {
      const deadline = Date.now() + 40_000;
      while ((await Event.countDocuments({ seq: { $exists: false } })) > 0) {
        if (Date.now() > deadline) throw new Error('not sealed within 40 s');
        await new Promise((res) => setTimeout(res, 50));
      }
    } finally {
      await registry.stop();
    }
    assert.deepEqual(
      lines.filter((l) => /"level":(50|60)/.test(l)),
      [],
    );
    assert.deepEqual(await verifyChain(), { ok: true, length: n });
  });
});
