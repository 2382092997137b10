/**
 * Regression guard for the signing hot path (issue #15): the database commands one sign →
 * letter → confirm (auto review, so it activates) sends, counted with the driver's command
 * monitoring, per request (the request context) and for the background work it wakes. Counts,
 * not timings; the throughput itself is measured by `npm run bench -- signing`.
 */
import assert from 'node:assert/strict';
import type { CommandStartedEvent } from 'mongodb';
import mongoose from 'mongoose';
import request from 'supertest';
import { Certificate } from '../../models/certificate';
import { currentRequestId } from '../../src/request-context';
import { confirmationToken, sign, signBodyFor, uploadLetter } from '../helpers/pledges';
import { useRegistry } from '../helpers/registry';

type Counted = {
  requestId: string | undefined;
  name: string;
  collection: string;
  filter: Record<string, unknown>;
};

describe('database round trips of one signing (driver command monitoring)', () => {
  const r = useRegistry({ REVIEW_MODE: 'auto' }, { monitorCommands: true });
  let seen: Counted[] = [];
  const listener = (e: CommandStartedEvent) => {
    const cmd = e.command as Record<string, unknown>;
    seen.push({
      requestId: currentRequestId(),
      name: e.commandName,
      collection: typeof cmd[e.commandName] === 'string' ? String(cmd[e.commandName]) : '',
      filter: (cmd.filter ?? cmd.query ?? {}) as Record<string, unknown>,
    });
  };

  before(() => {
    mongoose.connection.getClient().on('commandStarted', listener);
  });
  after(() => {
    mongoose.connection.getClient().off('commandStarted', listener);
  });

  const ofRequest = (res: { headers: Record<string, string> }) =>
    seen.filter((c) => c.requestId === res.headers['x-request-id']);
  const show = (cs: Counted[]) => cs.map((c) => `${c.name} ${c.collection}`).join(', ');

  it('when a pledge is signed and confirmed with auto review, then sign takes ≤ 4 round trips (a company new to the registry: its code cannot be held), the letter ≤ 3 (its GridFS chunks, file and the pledge list in one bulkWrite) and confirm (activation included) ≤ 4 (the numbering, the company details and the account in one bulkWrite), ≤ 8 for sign and confirm, and no request runs background work', async () => {
    // A first signing warms what is cached (the initiative, GridFS indexes).
    const warm = await sign(r.app);
    await uploadLetter(r.app, warm.id, await confirmationToken(r, warm.body.signatory.email));

    seen = [];
    const since = r.smtp.received.length;
    const body = await signBodyFor(r.app);
    const signed = await request(r.app).post('/api/v1/pledges').send(body);
    assert.equal(signed.status, 201, JSON.stringify(signed.body));
    const token = await confirmationToken(r, body.signatory.email, since);
    const letter = await uploadLetter(r.app, signed.body.id, token);
    assert.equal(letter.status, 201);
    const confirmed = await request(r.app).post('/api/v1/pledges/confirm').send({ token });
    assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));
    assert.equal(confirmed.body.status, 'active');

    const signCmds = ofRequest(signed);
    const letterCmds = ofRequest(letter);
    const confirmCmds = ofRequest(confirmed);
    if (process.env.SHOW_ROUND_TRIPS)
      console.log({ sign: show(signCmds), letter: show(letterCmds), confirm: show(confirmCmds) });
    assert.ok(signCmds.length <= 4, `sign: ${signCmds.length} (${show(signCmds)})`);
    assert.ok(letterCmds.length <= 3, `letter: ${letterCmds.length} (${show(letterCmds)})`);
    // The per-address window, then both daily budgets in one update; one read of the letter list.
    const limits = signCmds.filter((c) => c.collection === 'ratelimits');
    assert.ok(limits.length <= 2, `rate limits on sign: ${show(limits)}`);
    // The pledge keeps its list of evidence files: neither the upload nor confirming reads GridFS's.
    const lists = [...letterCmds, ...confirmCmds].filter(
      (c) => c.collection === 'evidence.files' && c.name === 'find',
    );
    assert.equal(lists.length, 0, `evidence.files reads: ${show(lists)}`);
    assert.ok(confirmCmds.length <= 4, `confirm: ${confirmCmds.length} (${show(confirmCmds)})`);
    assert.ok(signCmds.length + confirmCmds.length <= 8, 'sign + confirm');
    // The company's and the account's updates ride with the numbering, not on their own.
    const alone = confirmCmds.filter((c) => ['companies', 'accounts'].includes(c.collection));
    assert.equal(alone.length, 0, `company/account writes of their own: ${show(alone)}`);
    // The audit events and the mail ride in the pledge's own writes (moved by background passes).
    const carried = [...signCmds, ...confirmCmds].filter((c) =>
      ['events', 'outboxes'].includes(c.collection),
    );
    assert.equal(carried.length, 0, `events/outbox writes in a request: ${show(carried)}`);
    // One counter write, the reservation: the release leaves after the answer.
    const counterWrites = confirmCmds.filter((c) => c.collection === 'counters');
    assert.equal(counterWrites.length, 1, `counter writes: ${show(counterWrites)}`);
    // Mail delivery, sealing and certificate issuing are woken by these requests but are not
    // their work.
    for (const c of [...signCmds, ...confirmCmds])
      assert.ok(
        !['certificates', 'log_checkpoints'].includes(c.collection),
        `background work in a request: ${c.name} ${c.collection}`,
      );
  });

  it('when a certificate is issued, then waiting for the checkpoint that covers it reads the log after sequencer passes, not on a timer', async () => {
    seen = [];
    const p = await sign(r.app);
    const token = await confirmationToken(r, p.body.signatory.email);
    await uploadLetter(r.app, p.id, token);
    const confirmed = await request(r.app).post('/api/v1/pledges/confirm').send({ token });
    assert.equal(confirmed.body.status, 'active');
    const deadline = Date.now() + 15_000;
    let cert: { serial: string } | null = null;
    while (
      !(cert = await Certificate.findOne({ pledge: confirmed.body.id }, { serial: 1 }).lean())
    ) {
      assert.ok(Date.now() < deadline, 'no certificate within 15 s');
      await new Promise((res) => setTimeout(res, 50));
    }
    // One look after the pass that integrates the intent (two if a pass was already running);
    // the sequencer's own reads of pending intents, and other certificates' waits, are not counted.
    const intentReads = seen.filter(
      (c) =>
        c.name === 'find' &&
        c.collection === 'log_intents' &&
        c.filter._id === `certificate.issued:${cert.serial}`,
    );
    if (process.env.SHOW_ROUND_TRIPS) console.log({ intentReads: intentReads.length });
    assert.ok(intentReads.length <= 3, `log_intents read ${intentReads.length} times`);
  });

  it('when a company already known signs again while its code is held, then the code is looked up and the answer is 409 pledge-exists; a new company is not looked up', async () => {
    const held = await sign(r.app);
    const token = await confirmationToken(r, held.body.signatory.email);
    await uploadLetter(r.app, held.id, token);
    const confirmed = await request(r.app).post('/api/v1/pledges/confirm').send({ token });
    assert.equal(confirmed.body.status, 'active');

    seen = [];
    const again = await request(r.app)
      .post('/api/v1/pledges')
      .send({ ...held.body, signatory: { ...held.body.signatory, email: 'again@example.net' } });
    assert.equal(again.status, 409, JSON.stringify(again.body));
    assert.equal(again.body.type, '/problems/pledge-exists');
    const lookups = (res: { headers: Record<string, string> }) =>
      ofRequest(res).filter((c) => c.collection === 'pledges' && 'openUscc' in c.filter);
    assert.equal(lookups(again).length, 1, show(ofRequest(again)));

    const fresh = await request(r.app)
      .post('/api/v1/pledges')
      .send(await signBodyFor(r.app));
    assert.equal(fresh.status, 201, JSON.stringify(fresh.body));
    assert.equal(lookups(fresh).length, 0, show(ofRequest(fresh)));
  });
});
