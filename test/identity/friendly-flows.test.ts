/**
 * Friendlier flows (issue #12 item 5): resending the confirmation link (always 202, rate-limited,
 * no enumeration oracle), a sign-in mail naming the company and code, and an approval mail with
 * the founding number, the serial (or that it follows) and the verify link.
 */
import assert from 'node:assert/strict';
import request from 'supertest';
import { Outbox } from '../../models/outbox';
import { Pledge } from '../../models/pledge';
import {
  approve,
  assertOnlyNewLinkConfirms,
  confirmationToken,
  settleCarriedWork,
  sign,
  signAndConfirm,
  signAndConfirmWith,
  waitForMailSince,
} from '../helpers/pledges';
import { useRegistry } from '../helpers/registry';
import { decodeMail, type ReceivedMail } from '../helpers/smtp';

const utf8 = (m: ReceivedMail) => Buffer.from(decodeMail(m.raw), 'latin1').toString('utf8');

describe('friendlier flows', () => {
  const r = useRegistry({ RATE_LIMIT_LOGIN_PER_MIN: '8', TRUST_PROXY: 'true' });

  it('when a signer asks to resend the confirmation link, then 202 and a new link confirms; the old one no longer does', async () => {
    const since = r.smtp.received.length;
    const p = await sign(r.app);
    const email = p.body.signatory.email;
    const first = await confirmationToken(r, email, since);
    const again = r.smtp.received.length;
    const res = await request(r.app).post('/api/v1/pledges/resend-confirmation').send({ email });
    assert.equal(res.status, 202, res.text);
    const second = await confirmationToken(r, email, again);
    await assertOnlyNewLinkConfirms(r.app, p.id, first, second);
  });

  it('when the address has no pledge awaiting confirmation, then the answer is the same 202 and no mail is queued', async () => {
    await settleCarriedWork(); // earlier tests' mail rides on their pledges until queued
    const before = await Outbox.countDocuments();
    const res = await request(r.app)
      .post('/api/v1/pledges/resend-confirmation')
      .send({ email: 'nobody-signed@unknown.example' });
    assert.equal(res.status, 202);
    assert.deepEqual(res.body, { status: 'accepted' });
    assert.equal(await Outbox.countDocuments(), before);
  });

  it('when one address asks for resends again and again, then each answer is 202 but at most 3 links a day are mailed', async () => {
    const p = await sign(r.app);
    const email = p.body.signatory.email;
    // The mail rides on the pledge until the sender queues it: counted once it has.
    const count = async () => {
      await settleCarriedWork();
      return Outbox.countDocuments({ to: email });
    };
    const start = await count();
    for (let i = 0; i < 5; i++) {
      await request(r.app)
        .post('/api/v1/pledges/resend-confirmation')
        .set('X-Forwarded-For', `10.0.0.${i}`)
        .send({ email })
        .expect(202);
    }
    assert.equal((await count()) - start, 3);
  });

  it('when a signed-in contact asks for a sign-in link, then the mail names the company and its code', async () => {
    const p = await signAndConfirmWith(r, { company: { name: '厦门示例光学有限公司' } });
    const since = r.smtp.received.length;
    await request(r.app)
      .post('/api/v1/auth/login-link')
      .send({ email: p.body.signatory.email })
      .expect(202);
    const text = utf8(
      await waitForMailSince(r, p.body.signatory.email, /login\/verify\?token=/, since),
    );
    assert.match(text, /厦门示例光学有限公司/);
    assert.match(text, new RegExp(p.body.company.uscc));
  });

  it('when a pledge is approved, then the approval mail has the founding number, says the serial follows and gives the verify link', async () => {
    const admin = await r.makeAdmin();
    const p = await signAndConfirm(r);
    const since = r.smtp.received.length;
    const res = await approve(r.app, admin.token, p.id);
    const text = utf8(
      await waitForMailSince(r, p.body.signatory.email, /approved and is now active/, since),
    );
    assert.match(
      text,
      new RegExp(
        `(发起企业|founding signatory)[^\\n]*(第 ?${res.body.foundingNumber} ?号|No\\. ${res.body.foundingNumber})`,
      ),
    );
    assert.match(text, /serial[^\n]*follows|证书编号[^\n]*另行/);
    assert.match(text, /https:\/\/registry\.test\/verify/);
    assert.ok((await Pledge.findById(p.id).lean())!.foundingNumber);
  });

  it('when resend requests from one client exceed the per-minute limit, then 429 (the limit is per client, not per address)', async () => {
    let last = 0;
    for (let i = 0; i < 12 && last !== 429; i++) {
      last = (
        await request(r.app)
          .post('/api/v1/pledges/resend-confirmation')
          .set('X-Forwarded-For', '10.9.9.9')
          .send({ email: `x${i}@flood.example` })
      ).status;
    }
    assert.equal(last, 429);
  });
});
