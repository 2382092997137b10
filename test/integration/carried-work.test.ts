/**
 * Work carried in the pledge's own writes (issue #15): the audit events (`pendingEvents`, moved
 * into the log by the sealer) and the mail (`mail`, moved into the outbox by the mail sender),
 * the pledge's own list of its evidence files, and the sequence release after the request. Each
 * move must survive a pass that dies half-way (or two passes at once): nothing lost, nothing
 * stored or sent twice.
 */
import assert from 'node:assert/strict';
import { Types } from 'mongoose';
import request from 'supertest';
import { Counter } from '../../models/counter';
import { Event } from '../../models/event';
import { Outbox } from '../../models/outbox';
import { Pledge, type PledgeDoc } from '../../models/pledge';
import { settleCarriedEvents } from '../../src/audit/carried';
import { sealPendingEvents, verifyChain } from '../../src/audit/chain';
import { moveCarriedMail } from '../../src/mail/outbox';
import { flushReleases, SEQUENCE_COUNTER } from '../../src/pledges/activation';
import { storeEvidence } from '../../src/pledges/evidence';
import { confirmationToken, letterPdf, sign, uploadLetter } from '../helpers/pledges';
import { useRegistry } from '../helpers/registry';

const pledgeDoc = async (id: string) =>
  (await Pledge.findById(id).lean<PledgeDoc & Record<string, unknown>>())!;

describe('work carried in the pledge writes (events, mail, evidence list, release)', () => {
  // The registry's own passes run too (every 200 ms); the tests also run them by hand.
  const r = useRegistry({ REVIEW_MODE: 'auto' });

  it('when a moving pass died after storing the events but before taking them off the pledge, then the next pass stores none twice', async () => {
    const p = await sign(r.app);
    const id = new Types.ObjectId(p.id);
    // Moved once (by hand or by the registry's own sealer), then put back on the pledge as a pass
    // that died after storing it, before taking it off, leaves it.
    await settleCarriedEvents(id);
    const signed = (await Event.findOne({ 'subject.id': p.id, action: 'pledge.signed' }).lean())!;
    await Pledge.collection.updateOne(
      { _id: id },
      {
        $set: {
          pendingEvents: [
            {
              _id: signed._id,
              at: signed.at,
              actor: signed.actor,
              action: signed.action,
              before: signed.before,
              after: signed.after,
            },
          ],
        },
      },
    );
    await Promise.all([settleCarriedEvents(), settleCarriedEvents()]);
    assert.equal(await Event.countDocuments({ 'subject.id': p.id, action: 'pledge.signed' }), 1);
    assert.equal((await pledgeDoc(p.id)).pendingEvents, undefined, 'taken off the pledge');
    while ((await sealPendingEvents()) > 0);
    assert.equal((await verifyChain()).ok, true);
  });

  it('when a pledge is confirmed and activated, then its events reach the log in order with its subject, and the pledge carries none once sealed', async () => {
    const p = await sign(r.app);
    const token = await confirmationToken(r, p.body.signatory.email);
    await uploadLetter(r.app, p.id, token);
    const res = await request(r.app).post('/api/v1/pledges/confirm').send({ token });
    assert.equal(res.body.status, 'active');
    while ((await sealPendingEvents()) > 0);
    const events = await Event.find({ 'subject.type': 'pledge', 'subject.id': p.id })
      .sort({ seq: 1 })
      .lean();
    assert.deepEqual(
      events.map((e) => e.action),
      ['pledge.signed', 'pledge.confirmed', 'pledge.activated'],
    );
    assert.ok(events.every((e) => typeof e.seq === 'number'));
    const confirmed = events[1].after as { evidence: Array<{ kind: string; sha256: string }> };
    assert.deepEqual(
      confirmed.evidence.map((f) => f.kind),
      ['authorisation-letter'],
    );
    assert.equal((await pledgeDoc(p.id)).pendingEvents, undefined);
  });

  it('when carried mail was queued but a pass died before taking it off the pledge, then it is queued and sent once', async () => {
    const since = r.smtp.received.length;
    const p = await sign(r.app);
    const email = p.body.signatory.email;
    await confirmationToken(r, email, since);
    const queued = (await Outbox.findOne({ to: email }).lean())!;
    // What a dead pass leaves: the mail both in the outbox and still on the pledge.
    await Pledge.collection.updateOne(
      { _id: new Types.ObjectId(p.id) },
      {
        $set: {
          mail: [{ _id: queued._id, to: email, subject: queued.subject, text: 'again', link: 'x' }],
        },
      },
    );
    await Promise.all([moveCarriedMail(), moveCarriedMail()]);
    await r.registry.mailSender.drain();
    assert.equal(await Outbox.countDocuments({ to: email }), 1);
    assert.equal(r.smtp.received.slice(since).filter((m) => m.to.includes(email)).length, 1);
    assert.equal((await pledgeDoc(p.id)).mail, undefined, 'the link left the pledge');
  });

  it('when a pledge from before the evidence list was kept has its letter in GridFS only, then confirming finds it there and names it', async () => {
    const p = await sign(r.app);
    const token = await confirmationToken(r, p.body.signatory.email);
    const id = new Types.ObjectId(p.id);
    await Pledge.collection.updateOne({ _id: id }, { $unset: { evidence: 1 } });
    const letter = await storeEvidence(
      id,
      'authorisation-letter',
      'application/pdf',
      await letterPdf(),
    );
    const res = await request(r.app).post('/api/v1/pledges/confirm').send({ token });
    assert.equal(res.status, 200, res.text);
    await settleCarriedEvents(id);
    const confirmed = (await Event.findOne({
      'subject.id': p.id,
      action: 'pledge.confirmed',
    }).lean())!;
    assert.deepEqual((confirmed.after as { evidence: unknown }).evidence, [
      { kind: 'authorisation-letter', contentType: 'application/pdf', sha256: letter.sha256 },
    ]);
  });

  it('when a letter is replaced, then the pledge lists only the new one', async () => {
    const p = await sign(r.app);
    const token = await confirmationToken(r, p.body.signatory.email);
    await uploadLetter(r.app, p.id, token);
    const second = await uploadLetter(r.app, p.id, token);
    const listed = (await pledgeDoc(p.id)).evidence ?? [];
    assert.deepEqual(
      listed.map((f) => String(f.id)),
      [second.body.files[0].id],
    );
  });

  it('when pledges are activated, then their reservations leave the counter after the answers (none is left held)', async () => {
    for (let i = 0; i < 2; i++) {
      const p = await sign(r.app);
      const token = await confirmationToken(r, p.body.signatory.email);
      await uploadLetter(r.app, p.id, token);
      const res = await request(r.app).post('/api/v1/pledges/confirm').send({ token });
      assert.equal(res.body.status, 'active');
    }
    await flushReleases();
    const c = (await Counter.collection.findOne({ _id: SEQUENCE_COUNTER as never })) as unknown as {
      inflight: unknown[];
    };
    assert.deepEqual(c.inflight, []);
  });
});
