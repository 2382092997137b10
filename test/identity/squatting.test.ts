/**
 * No squatting (issue #12 item 3): an unconfirmed pledge never blocks anyone; several may exist
 * for one code; the first to be confirmed holds the code. Admins cancel a pending pledge with a
 * reason (audited, mailed). Signing attempts are limited per code and per e-mail domain a day.
 */
import assert from 'node:assert/strict';
import mongoose from 'mongoose';
import request from 'supertest';
import { Event } from '../../models/event';
import { Pledge } from '../../models/pledge';
import { unconfirmedHoldNoCode } from '../../src/migrations/unconfirmed-hold-no-code';
import { useRegistry } from '../helpers/registry';
import {
  assertProblem,
  confirmationToken,
  sign,
  signAndConfirm,
  signAndConfirmWith,
  signBodyFor,
  uploadLetter,
  waitForMailSince,
} from '../helpers/pledges';
import { decodeMail } from '../helpers/smtp';

describe('no squatting', () => {
  const r = useRegistry();

  it('when an attacker signs a code and never confirms, then the real company can sign, confirm and be reviewed, and the attacker’s late confirmation is 409', async () => {
    const since = r.smtp.received.length;
    const attack = await sign(
      r.app,
      await signBodyFor(r.app, { signatory: { email: 'squatter@evil.example' } }),
    );
    const uscc = attack.body.company.uscc;
    const attackToken = await confirmationToken(r, 'squatter@evil.example', since);
    const real = await signAndConfirmWith(r, { company: { uscc } });
    assert.equal(real.status, 'pending_review');
    await uploadLetter(r.app, attack.id, attackToken);
    const late = await request(r.app).post('/api/v1/pledges/confirm').send({ token: attackToken });
    assertProblem(late, 409);
    assert.equal(late.body.type, '/problems/pledge-exists');
    assert.equal((await Pledge.findById(attack.id).lean())!.status, 'pending_confirmation');
    // A third signer is told the code is taken (a confirmed pledge holds it).
    const third = await request(r.app)
      .post('/api/v1/pledges')
      .send(await signBodyFor(r.app, { company: { uscc } }));
    assertProblem(third, 409, ['company.uscc']);
  });

  it('when several people sign one code without confirming, then every signing is accepted', async () => {
    const first = await signBodyFor(r.app);
    const uscc = first.company.uscc;
    await sign(r.app, first);
    await sign(r.app, await signBodyFor(r.app, { company: { uscc } }));
    await sign(r.app, await signBodyFor(r.app, { company: { uscc } }));
    assert.equal(await Pledge.countDocuments({ uscc, status: 'pending_confirmation' }), 3);
    assert.equal(
      await Pledge.countDocuments({ uscc, openUscc: { $exists: true } }),
      0,
      'no unconfirmed pledge holds the code',
    );
  });

  it('when an unconfirmed signer signs again, then the company’s stored details do not follow the unconfirmed signature', async () => {
    const real = await signAndConfirm(r);
    const uscc = real.body.company.uscc;
    const company = await mongoose.connection.db!.collection('companies').findOne({ uscc });
    // Someone else's unconfirmed signature must not rename the company.
    const res = await request(r.app)
      .post('/api/v1/pledges')
      .send(await signBodyFor(r.app, { company: { uscc, name: '冒名顶替有限公司' } }));
    assert.equal(res.status, 409);
    assert.equal(
      (await mongoose.connection.db!.collection('companies').findOne({ uscc }))!.name,
      company!.name,
    );
  });

  it('when an admin cancels a confirmed squatter’s pending pledge with a reason, then it is cancelled, audited and mailed, and the code is free', async () => {
    const admin = await r.makeAdmin();
    const squat = await signAndConfirmWith(r, { signatory: { email: 'holder@evil.example' } });
    const uscc = squat.body.company.uscc;
    const blocked = await request(r.app)
      .post('/api/v1/pledges')
      .send(await signBodyFor(r.app, { company: { uscc } }));
    assertProblem(blocked, 409, ['company.uscc']);
    const noReason = await request(r.app)
      .post(`/api/v1/admin/pledges/${squat.id}/cancel`)
      .set('Authorization', `Bearer ${admin.token}`)
      .send({});
    assertProblem(noReason, 400, ['reason']);
    const since = r.smtp.received.length;
    const res = await request(r.app)
      .post(`/api/v1/admin/pledges/${squat.id}/cancel`)
      .set('Authorization', `Bearer ${admin.token}`)
      .send({ reason: '无授权书，非企业本人签署' });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.status, 'cancelled');
    assert.equal(res.body.closedReason, '无授权书，非企业本人签署');
    const event = await Event.findOne({
      action: 'pledge.cancelled',
      'subject.id': squat.id,
    }).lean();
    assert.ok(event, 'audited');
    assert.equal(event.actor, `admin:${admin.id}`);
    const mail = await waitForMailSince(
      r,
      'holder@evil.example',
      /was cancelled by the association/,
      since,
    );
    const text = Buffer.from(decodeMail(mail.raw), 'latin1').toString('utf8');
    assert.match(text, /无授权书，非企业本人签署/);
    assert.match(text, new RegExp(uscc));
    await signAndConfirmWith(r, { company: { uscc } });
    const again = await request(r.app)
      .post(`/api/v1/admin/pledges/${squat.id}/cancel`)
      .set('Authorization', `Bearer ${admin.token}`)
      .send({ reason: '再次取消' });
    assertProblem(again, 409);
  });

  it('when an admin cancels an unconfirmed pledge, then its confirmation link no longer works', async () => {
    const admin = await r.makeAdmin();
    const since = r.smtp.received.length;
    const p = await sign(r.app);
    const token = await confirmationToken(r, p.body.signatory.email, since);
    await request(r.app)
      .post(`/api/v1/admin/pledges/${p.id}/cancel`)
      .set('Authorization', `Bearer ${admin.token}`)
      .send({ reason: '重复签署' })
      .expect(200);
    assertProblem(await request(r.app).post('/api/v1/pledges/confirm').send({ token }), 400);
  });

  it('when the migration step runs over older data, then unconfirmed pledges stop holding their code and confirmed ones keep it', async () => {
    const pending = await sign(r.app);
    const confirmed = await signAndConfirm(r);
    await Pledge.collection.updateOne(
      { _id: new mongoose.Types.ObjectId(pending.id) },
      { $set: { openUscc: pending.body.company.uscc } },
    );
    await unconfirmedHoldNoCode.up(mongoose.connection.db!);
    await unconfirmedHoldNoCode.up(mongoose.connection.db!); // safe to run again
    assert.equal((await Pledge.findById(pending.id).lean())!.openUscc, undefined);
    assert.equal(
      (await Pledge.findById(confirmed.id).lean())!.openUscc,
      confirmed.body.company.uscc,
    );
  });
});

describe('daily signing limits', () => {
  const r = useRegistry({
    RATE_LIMIT_SIGNING_PER_CODE_PER_DAY: '4',
    RATE_LIMIT_SIGNING_PER_DOMAIN_PER_DAY: '6',
  });

  it('when one code is signed more often than its daily limit, then 429 with Retry-After, and other codes still sign', async () => {
    const first = await signBodyFor(r.app);
    const uscc = first.company.uscc;
    for (let i = 0; i < 4; i++)
      await sign(
        r.app,
        await signBodyFor(r.app, {
          company: { uscc },
          signatory: { email: `n${i}@d${i}.example` },
        }),
      );
    const over = await request(r.app)
      .post('/api/v1/pledges')
      .send(await signBodyFor(r.app, { company: { uscc }, signatory: { email: 'n9@d9.example' } }));
    assertProblem(over, 429);
    assert.ok(Number(over.headers['retry-after']) >= 1);
    await sign(r.app);
  });

  it('when one e-mail domain signs more often than its daily limit, then 429', async () => {
    for (let i = 0; i < 6; i++)
      await sign(
        r.app,
        await signBodyFor(r.app, { signatory: { email: `p${i}@same-domain.example` } }),
      );
    const over = await request(r.app)
      .post('/api/v1/pledges')
      .send(await signBodyFor(r.app, { signatory: { email: 'p9@same-domain.example' } }));
    assertProblem(over, 429);
  });

  it('when free-mail addresses sign, then each address has its own budget rather than the whole domain', async () => {
    for (let i = 0; i < 8; i++)
      await sign(r.app, await signBodyFor(r.app, { signatory: { email: `user${i}@qq.com` } }));
  });
});
