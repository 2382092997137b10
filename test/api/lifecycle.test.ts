import assert from 'node:assert/strict';
import mongoose from 'mongoose';
import request from 'supertest';
import { Pledge } from '../../models/pledge';
import { mailParts } from '../helpers/mime';
import {
  activePledge,
  approve,
  assertProblem,
  companySession,
  confirmationToken,
  dbSnapshot,
  pledgeDoc,
  settleCarriedWork,
  sign,
  signAndConfirm,
  signBodyFor,
  withdrawAs,
} from '../helpers/pledges';
import { useRegistry } from '../helpers/registry';

interface Founder {
  foundingNumber: number;
  sequence: number;
  status: string;
  company: { uscc: string };
}

describe('pledge lifecycle (API)', () => {
  const r = useRegistry();
  let adminToken: string;

  before(async () => {
    adminToken = (await r.makeAdmin()).token;
  });

  const admin = (path: string) =>
    request(r.app).post(path).set('Authorization', `Bearer ${adminToken}`);

  describe('POST /api/v1/pledges', () => {
    it('when the initiative version is stale, then 400 naming initiative.version and nothing is stored', async () => {
      const body = await signBodyFor(r.app);
      const before = await dbSnapshot();
      const res = await request(r.app)
        .post('/api/v1/pledges')
        .send({
          ...body,
          initiative: { ...body.initiative, version: body.initiative.version + 1 },
        });
      assertProblem(res, 400, ['initiative.version']);
      assert.match(res.body.detail, /outdated/);
      assert.deepEqual(await dbSnapshot(), before);
    });

    it('when the initiative hash does not match the current text, then 400 naming initiative.sha256', async () => {
      const body = await signBodyFor(r.app);
      const before = await dbSnapshot();
      const res = await request(r.app)
        .post('/api/v1/pledges')
        .send({ ...body, initiative: { ...body.initiative, sha256: 'f'.repeat(64) } });
      assertProblem(res, 400, ['initiative.sha256']);
      assert.ok(!res.body.errors.some((e: { path: string }) => e.path === 'initiative.version'));
      assert.deepEqual(await dbSnapshot(), before);
    });

    it('when agree is false or missing, then 400 naming agree', async () => {
      const body = await signBodyFor(r.app);
      assertProblem(
        await request(r.app)
          .post('/api/v1/pledges')
          .send({ ...body, agree: false }),
        400,
        ['agree'],
      );
      const { agree: _agree, ...without } = body;
      void _agree;
      assertProblem(await request(r.app).post('/api/v1/pledges').send(without), 400, ['agree']);
      assert.equal(await Pledge.countDocuments({ uscc: body.company.uscc }), 0);
    });

    it('when the industry is not a GB/T 4754 section, then 400 naming company.industry', async () => {
      for (const industry of ['Z', 'c', 'C1', '']) {
        const body = await signBodyFor(r.app, { company: { industry } });
        assertProblem(await request(r.app).post('/api/v1/pledges').send(body), 400, [
          'company.industry',
        ]);
      }
    });

    it('when the USCC is typed in lower case with spaces, then it is accepted and stored upper-case with its province', async () => {
      const body = await signBodyFor(r.app);
      const p = await sign(r.app, {
        ...body,
        company: { ...body.company, uscc: `  ${body.company.uscc.toLowerCase()} ` },
      });
      const doc = (await pledgeDoc(p.id))!;
      assert.equal(doc.uscc, body.company.uscc);
      assert.equal(doc.province, body.company.uscc.slice(2, 4));
      assert.equal(doc.status, 'pending_confirmation');
      assert.equal(
        doc.confirmTokenHash !== undefined && /^[0-9a-f]{64}$/.test(String(doc.confirmTokenHash)),
        true,
      );
      const ttl = (doc.confirmExpiresAt as Date).getTime() - (doc.createdAt as Date).getTime();
      assert.ok(
        Math.abs(ttl - 48 * 3600_000) < 5_000,
        `confirmation link lives 48 h, not ${ttl} ms`,
      );
    });
  });

  describe('POST /api/v1/pledges/confirm', () => {
    it('when the confirmation link has expired, then 410, the pledge expires, and the USCC can sign again', async () => {
      const p = await sign(r.app);
      const token = await confirmationToken(r, p.body.signatory.email);
      await Pledge.updateOne(
        { _id: p.id },
        { $set: { confirmExpiresAt: new Date(Date.now() - 1000) } },
      );
      const res = await request(r.app).post('/api/v1/pledges/confirm').send({ token });
      assertProblem(res, 410);
      assert.equal(res.body.type, '/problems/token-expired');
      const old = (await pledgeDoc(p.id))!;
      assert.equal(old.status, 'expired');
      assert.equal(old.openUscc, undefined);
      const again = await sign(r.app, {
        ...p.body,
        signatory: { ...p.body.signatory, email: `again-${p.body.signatory.email}` },
      });
      assert.notEqual(again.id, p.id);
      // The old link stays dead even though the company signed again.
      assertProblem(await request(r.app).post('/api/v1/pledges/confirm').send({ token }), 400);
      assert.equal((await pledgeDoc(again.id))!.status, 'pending_confirmation');
    });

    it('when an unconfirmed pledge has expired but nobody clicked, then signing again for its USCC still succeeds', async () => {
      const p = await sign(r.app);
      await Pledge.updateOne(
        { _id: p.id },
        { $set: { confirmExpiresAt: new Date(Date.now() - 1000) } },
      );
      const again = await sign(r.app, p.body);
      // An unconfirmed pledge never holds the code (issue #12), expired or not.
      assert.equal((await pledgeDoc(p.id))!.openUscc, undefined);
      assert.equal((await pledgeDoc(again.id))!.status, 'pending_confirmation');
    });

    it('when the token was never issued, then 400 and nothing changes', async () => {
      const before = await dbSnapshot();
      assertProblem(
        await request(r.app)
          .post('/api/v1/pledges/confirm')
          .send({ token: 'Q'.repeat(43) }),
        400,
      );
      assert.deepEqual(await dbSnapshot(), before);
    });
  });

  describe('POST /api/v1/admin/pledges/:id/approve', () => {
    it('when a pledge is not yet confirmed, then 409 and it stays unconfirmed', async () => {
      const p = await sign(r.app);
      await settleCarriedWork(); // its mail and event leave the pledge in the background
      const before = await pledgeDoc(p.id);
      assertProblem(
        await admin(`/api/v1/admin/pledges/${p.id}/approve`).send({ evidenceChecked: true }),
        409,
      );
      assert.deepEqual(await pledgeDoc(p.id), before);
    });

    it('when approved twice, then the second is 409 and the numbers do not move', async () => {
      const p = await signAndConfirm(r);
      const first = await approve(r.app, adminToken, p.id);
      await settleCarriedWork(); // its number is released after the answer
      const counter = await mongoose.connection
        .db!.collection('counters')
        .findOne({ _id: 'pledge-sequence' as never });
      assertProblem(
        await admin(`/api/v1/admin/pledges/${p.id}/approve`).send({ evidenceChecked: true }),
        409,
      );
      const doc = (await pledgeDoc(p.id))!;
      assert.equal(doc.sequence, first.body.sequence);
      assert.deepEqual(
        await mongoose.connection
          .db!.collection('counters')
          .findOne({ _id: 'pledge-sequence' as never }),
        counter,
      );
    });

    it('when pledges are approved out of signing order, then founding numbers follow activation order', async () => {
      const x = await signAndConfirm(r);
      const y = await signAndConfirm(r);
      const ry = await approve(r.app, adminToken, y.id);
      const rx = await approve(r.app, adminToken, x.id);
      assert.equal(rx.body.sequence, ry.body.sequence + 1);
      assert.equal(rx.body.foundingNumber, rx.body.sequence);
      const founders = (await request(r.app).get('/api/v1/founders').expect(200)).body
        .items as Founder[];
      const numbers = founders.map((f) => f.foundingNumber);
      assert.deepEqual(
        numbers,
        Array.from({ length: numbers.length }, (_, i) => i + 1),
      );
      assert.equal(founders[ry.body.foundingNumber - 1].company.uscc, y.body.company.uscc);
      assert.equal(founders[rx.body.foundingNumber - 1].company.uscc, x.body.company.uscc);
    });

    it('when approved, then the company is told by e-mail', async () => {
      const p = await activePledge(r, adminToken);
      const mail = await r.smtp.waitFor(p.body.signatory.email, /approved and is now active/);
      assert.match(mailParts(mail).text!, /签署已通过|通过协会审核/);
    });
  });

  describe('POST /api/v1/admin/pledges/:id/reject', () => {
    it('when an admin rejects with a reason, then the pledge is rejected, the company is told why, and the USCC can sign again', async () => {
      const p = await signAndConfirm(r);
      const reason = '营业执照信息与统一社会信用代码不符 / licence does not match the code';
      const res = await admin(`/api/v1/admin/pledges/${p.id}/reject`).send({ reason }).expect(200);
      assert.equal(res.body.status, 'rejected');
      assert.equal(res.body.closedReason, reason);
      assert.equal(res.body.sequence, null);
      assert.equal(res.body.foundingNumber, null);
      const last = res.body.history[res.body.history.length - 1];
      assert.deepEqual(
        { from: last.from, to: last.to, reason: last.reason },
        { from: 'pending_review', to: 'rejected', reason },
      );
      assert.match(last.actor, /^admin:[0-9a-f]{24}$/);

      const mail = await r.smtp.waitFor(p.body.signatory.email, /not approved/);
      assert.ok(mailParts(mail).text!.includes(reason));

      assertProblem(
        await admin(`/api/v1/admin/pledges/${p.id}/approve`).send({ evidenceChecked: true }),
        409,
      );
      assertProblem(
        await admin(`/api/v1/admin/pledges/${p.id}/reject`).send({ reason: 'twice' }),
        409,
      );
      assert.equal((await pledgeDoc(p.id))!.status, 'rejected');

      const again = await signAndConfirm(r, p.body);
      assert.notEqual(again.id, p.id);
      assert.equal(again.status, 'pending_review');
    });

    it('when the reason is missing or too short, then 400 naming reason and the pledge stays in review', async () => {
      const p = await signAndConfirm(r);
      assertProblem(await admin(`/api/v1/admin/pledges/${p.id}/reject`).send({}), 400, ['reason']);
      assertProblem(
        await admin(`/api/v1/admin/pledges/${p.id}/reject`).send({ reason: ' x ' }),
        400,
        ['reason'],
      );
      assert.equal((await pledgeDoc(p.id))!.status, 'pending_review');
    });
  });

  describe('POST /api/v1/me/pledge/withdraw', () => {
    it('when an active founder withdraws, then it keeps its founding number and shows as withdrawn in /founders', async () => {
      const p = await activePledge(r, adminToken);
      assert.ok(p.foundingNumber !== null && p.foundingNumber >= 1);
      const statsBefore = (await request(r.app).get('/api/v1/stats').expect(200)).body;
      const session = await companySession(r, p.body.signatory.email);
      const res = await withdrawAs(r.app, session, {
        reason: '企业转型 / change of business',
      }).expect(200);
      assert.equal(res.body.status, 'withdrawn');
      assert.equal(res.body.foundingNumber, p.foundingNumber);
      assert.equal(res.body.sequence, p.sequence);

      const founders = (await request(r.app).get('/api/v1/founders').expect(200)).body
        .items as Founder[];
      const mine = founders.find((f) => f.company.uscc === p.body.company.uscc)!;
      assert.deepEqual(
        { n: mine.foundingNumber, s: mine.sequence, status: mine.status },
        { n: p.foundingNumber, s: p.sequence, status: 'withdrawn' },
      );
      assert.deepEqual(
        founders.map((f) => f.foundingNumber),
        Array.from({ length: founders.length }, (_, i) => i + 1),
      );

      const dir = (
        await request(r.app)
          .get('/api/v1/signatories')
          .query({ q: p.body.company.uscc })
          .expect(200)
      ).body;
      assert.equal(dir.total, 0, 'a withdrawn pledge is not listed as an active signatory');
      const stats = (await request(r.app).get('/api/v1/stats').expect(200)).body;
      assert.equal(stats.totals.active, statsBefore.totals.active - 1);
      assert.equal(stats.totals.founders, statsBefore.totals.founders);

      // The next activation continues the sequence: nothing is renumbered.
      const next = await activePledge(r, adminToken);
      assert.equal(next.sequence, Math.max(...founders.map((f) => f.sequence)) + 1);
    });

    it('when a company withdraws a pledge still in review, then it is withdrawn without a number', async () => {
      const p = await signAndConfirm(r);
      const session = await companySession(r, p.body.signatory.email);
      const res = await withdrawAs(r.app, session, { reason: '填写有误 / made a mistake' }).expect(
        200,
      );
      assert.equal(res.body.status, 'withdrawn');
      assert.equal(res.body.sequence, null);
      assertProblem(
        await admin(`/api/v1/admin/pledges/${p.id}/approve`).send({ evidenceChecked: true }),
        409,
      );
      assert.equal((await pledgeDoc(p.id))!.sequence, undefined);
    });
  });

  describe('GET /api/v1/me/pledge', () => {
    it('when a company looks at its pledge, then it sees every transition with actors and the audit events', async () => {
      const p = await activePledge(r, adminToken);
      const session = await companySession(r, p.body.signatory.email);
      await withdrawAs(r.app, session, { reason: '测试撤回 / test withdrawal' }).expect(200);
      const res = await request(r.app)
        .get('/api/v1/me/pledge')
        .set('Authorization', `Bearer ${session}`)
        .expect(200);
      assert.equal(res.body.id, p.id);
      const steps = (
        res.body.history as Array<{ from: string | null; to: string; actor: string; at: string }>
      ).map((h) => [h.from, h.to, h.actor.split(':')[0]]);
      assert.deepEqual(steps, [
        [null, 'pending_confirmation', 'public'],
        ['pending_confirmation', 'pending_review', 'company'],
        ['pending_review', 'activating', 'admin'],
        ['activating', 'active', 'admin'],
        ['active', 'withdrawn', 'company'],
      ]);
      const times = (res.body.history as Array<{ at: string }>).map((h) => Date.parse(h.at));
      assert.deepEqual(
        times,
        [...times].sort((a, b) => a - b),
      );
      assert.deepEqual(
        (res.body.events as Array<{ action: string }>).map((e) => e.action),
        ['pledge.signed', 'pledge.confirmed', 'pledge.activated', 'pledge.withdrawn'],
      );
      assert.equal(res.body.confirmTokenHash, undefined);
      assert.equal(JSON.stringify(res.body).includes('confirmTokenHash'), false);
    });
  });
});

describe('pledge lifecycle with REVIEW_MODE=auto (API)', () => {
  const r = useRegistry({ REVIEW_MODE: 'auto' });

  it('when a pledge is confirmed, then it is active at once with the next number, reviewed by the system', async () => {
    const p = await signAndConfirm(r);
    assert.equal(p.status, 'active');
    const doc = (await pledgeDoc(p.id))!;
    assert.equal(doc.status, 'active');
    assert.equal(doc.sequence, 1);
    assert.equal(doc.foundingNumber, 1);
    const history = doc.history as Array<{ to: string; actor: string }>;
    assert.deepEqual(
      history.map((h) => h.to),
      ['pending_confirmation', 'pending_review', 'activating', 'active'],
    );
    assert.equal(history[3].actor, 'system:auto-review');
    const second = await signAndConfirm(r);
    assert.equal((await pledgeDoc(second.id))!.sequence, 2);
    const founders = (await request(r.app).get('/api/v1/founders').expect(200)).body
      .items as Founder[];
    assert.deepEqual(
      founders.map((f) => [f.foundingNumber, f.company.uscc]),
      [
        [1, p.body.company.uscc],
        [2, second.body.company.uscc],
      ],
    );
  });
});
