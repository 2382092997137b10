/**
 * The site's "send the confirmation e-mail again" form (issue #12 item 5): reachable from the
 * sign-done and confirm-failed pages, the same answer whether or not the address has a pending
 * pledge, CSRF-checked like every site form and rate-limited in the same bucket as the API.
 */
import assert from 'node:assert/strict';
import request from 'supertest';
import { Outbox } from '../../models/outbox';
import {
  assertOnlyNewLinkConfirms,
  confirmationToken,
  settleCarriedWork,
  sign,
} from '../helpers/pledges';
import { useRegistry } from '../helpers/registry';
import { agent, csrfFrom, HTML } from '../site/helpers';

const resendLink = /<a href="\/confirm\/resend">重新发送确认邮件<\/a>/;

describe('the resend-confirmation form on the site', () => {
  const r = useRegistry();

  it('when a signer lands on the sign-done page or a failed confirmation page, then each links to the resend form (zh, and en when asked)', async () => {
    const sent = await request(r.app).get('/sign/sent').set('Accept', HTML).expect(200);
    assert.match(sent.text, resendLink);
    const incomplete = await request(r.app).get('/confirm?token=x').set('Accept', HTML);
    assert.equal(incomplete.status, 400);
    assert.match(incomplete.text, resendLink);
    const a = agent(r.app);
    const landing = await a.get(`/confirm?token=${'a'.repeat(43)}`).expect(200);
    const invalid = await a
      .post('/confirm')
      .type('form')
      .send({ _csrf: csrfFrom(landing.text), token: 'a'.repeat(43) });
    assert.equal(invalid.status, 400);
    assert.match(invalid.text, /链接无效/);
    assert.match(invalid.text, resendLink);
    const en = await request(r.app)
      .get('/sign/sent')
      .set('Accept', HTML)
      .set('Accept-Language', 'en');
    assert.match(en.text, /<a href="\/confirm\/resend">Send the confirmation e-mail again<\/a>/);
    const form = await request(r.app).get('/confirm/resend').set('Accept', HTML).expect(200);
    assert.match(form.text, /<h1>重新发送确认邮件<\/h1>/);
    assert.match(form.text, /name="email"/);
    assert.equal(form.headers['cache-control'], 'no-store');
  });

  it('when the address has a pledge awaiting confirmation, then the form mails a new link that confirms, and the earlier link stops working', async () => {
    const since = r.smtp.received.length;
    const p = await sign(r.app);
    const email = p.body.signatory.email;
    const first = await confirmationToken(r, email, since);
    const a = agent(r.app);
    const form = await a.get('/confirm/resend').expect(200);
    const again = r.smtp.received.length;
    const res = await a
      .post('/confirm/resend')
      .type('form')
      .send({ _csrf: csrfFrom(form.text), email })
      .expect(303);
    assert.equal(res.headers.location, '/confirm/resend/sent');
    const second = await confirmationToken(r, email, again);
    await assertOnlyNewLinkConfirms(r.app, p.id, first, second);
  });

  it('when one address has a pending pledge and another none, then both get the same redirect and the same page, and only the first is mailed', async () => {
    const p = await sign(r.app);
    const pending = p.body.signatory.email;
    const nobody = `nobody-${Date.now()}@unknown.example`;
    const answers: Array<{ status: number; location: string; page: string }> = [];
    for (const email of [pending, nobody]) {
      const a = agent(r.app);
      const form = await a.get('/confirm/resend').expect(200);
      const res = await a
        .post('/confirm/resend')
        .type('form')
        .send({ _csrf: csrfFrom(form.text), email });
      const page = await a.get(String(res.headers.location)).expect(200);
      answers.push({
        status: res.status,
        location: String(res.headers.location),
        // The page minus what differs per request anyway (nonces, CSRF tokens).
        page: page.text.replace(/nonce="[^"]*"|name="_csrf" value="[^"]*"/g, ''),
      });
    }
    assert.deepEqual(answers[0], answers[1]);
    assert.match(answers[0].page, /请查收邮件/);
    await settleCarriedWork(); // the mail rides on the pledge until the sender queues it
    assert.equal(await Outbox.countDocuments({ to: nobody }), 0);
    assert.equal(await Outbox.countDocuments({ to: pending }), 2, 'the sign mail and the resend');
  });

  it('when the form is posted without its CSRF token, then 403 and no mail is queued', async () => {
    const p = await sign(r.app);
    const email = p.body.signatory.email;
    await confirmationToken(r, email); // the sign mail has left the pledge for the outbox
    const before = await Outbox.countDocuments({ to: email });
    const res = await agent(r.app).post('/confirm/resend').type('form').send({ email });
    assert.equal(res.status, 403);
    assert.equal(await Outbox.countDocuments({ to: email }), before);
  });

  for (const [label, email] of [
    ['empty', ''],
    ['not an address', 'not-an-address'],
    ['an array', ['a@example.cn', 'b@example.cn']],
  ] as const) {
    it(`when the address is ${label}, then 400 with the form again, the field marked, and nothing mailed`, async () => {
      const a = agent(r.app);
      const form = await a.get('/confirm/resend').expect(200);
      await settleCarriedWork();
      const before = await Outbox.countDocuments();
      const res = await a
        .post('/confirm/resend')
        .type('form')
        .send({ _csrf: csrfFrom(form.text), email });
      assert.equal(res.status, 400);
      assert.match(res.text, /<h1>重新发送确认邮件<\/h1>/);
      assert.match(res.text, /aria-invalid="true"/);
      assert.equal(await Outbox.countDocuments(), before);
    });
  }
});

describe('the resend form’s rate limit', () => {
  const r = useRegistry({ RATE_LIMIT_LOGIN_PER_MIN: '3' });

  it('when one client has used the login budget through the API, then the site form answers 429 with the friendly page and Retry-After', async function () {
    this.timeout(20_000);
    const p = await sign(r.app);
    const email = p.body.signatory.email;
    const a = agent(r.app);
    const form = await a.get('/confirm/resend').expect(200);
    await settleCarriedWork();
    const before = await Outbox.countDocuments({ to: email });
    // Three per minute in one bucket: API and site share it. A window may turn over meanwhile,
    // so keep going until a refusal (at most two windows' worth).
    let limited: request.Response | undefined;
    let accepted = 0;
    for (let i = 0; i < 3; i++)
      await request(r.app)
        .post('/api/v1/pledges/resend-confirmation')
        .send({ email: 'other@unknown.example' });
    for (let i = 0; i < 4 && !limited; i++) {
      const res = await a
        .post('/confirm/resend')
        .type('form')
        .send({ _csrf: csrfFrom(form.text), email });
      if (res.status === 429) limited = res;
      else {
        assert.equal(res.status, 303);
        accepted++;
      }
    }
    assert.ok(limited, 'a request was limited');
    assert.ok(Number(limited.headers['retry-after']) >= 1);
    assert.match(limited.text, /操作过于频繁/);
    // Each accepted post (a window turned over) mailed one link; the refused one none.
    await settleCarriedWork();
    assert.equal((await Outbox.countDocuments({ to: email })) - before, accepted);
  });
});
