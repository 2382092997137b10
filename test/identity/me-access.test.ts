/**
 * Accounts bound to pledges (issue #12 item 2): every /me read and action is checked against
 * the pledge the session was granted for. The takeover: an attacker signs code X with his own
 * e-mail, confirms, withdraws; the real company signs X, confirms and is approved; the
 * attacker's session (or a new sign-in link) must give him nothing of the real pledge.
 */
import assert from 'node:assert/strict';
import request, { type Response } from 'supertest';
import { Account } from '../../models/account';
import { Token } from '../../models/token';
import { csrfTokenFor, SESSION_COOKIE } from '../../src/auth/middleware';
import { signSession } from '../../src/auth/jwt';
import { useRegistry } from '../helpers/registry';
import {
  approve,
  assertProblem,
  companySession,
  signAndConfirm,
  signBodyFor,
  withdrawAs,
} from '../helpers/pledges';

type Who = 'current' | 'earlier' | 'other' | 'pending';
interface Route {
  name: string;
  call: (jwt: string) => Promise<Response>;
  /** Expected status per caller; for reads answered 200, the USCC the answer must be about. */
  expect: Record<Who, number>;
}

describe('/me is bound to the pledge the session was granted for', () => {
  const r = useRegistry();
  const secret = () => r.config.jwtSecret;
  const bearer = (jwt: string) => `Bearer ${jwt}`;
  const cookie = (jwt: string) => `${SESSION_COOKIE}=${jwt}`;
  /** GET /api/v1/me/pledge with the session as the bearer. */
  const myPledge = (jwt: string) =>
    request(r.app).get('/api/v1/me/pledge').set('Authorization', bearer(jwt));
  /** Withdraws through the API with the session as the bearer. */
  const apiWithdraw = (jwt: string, reason: string) => withdrawAs(r.app, jwt, { reason });
  /** Withdraws through the site's form with the session as the cookie and its CSRF token. */
  const siteWithdraw = (jwt: string, reason: string) =>
    request(r.app)
      .post('/me/withdraw')
      .set('Cookie', cookie(jwt))
      .type('form')
      .send({ _csrf: csrfTokenFor(jwt, secret()), reason });

  let sessions: Record<Who, string>;
  let usccX: string;
  let usccOther: string;
  let usccPending: string;
  let attackerEmail: string;
  let realEmail: string;

  async function waitForCertificate(jwt: string): Promise<void> {
    const deadline = Date.now() + 15_000;
    while (
      (await request(r.app).get('/api/v1/me/certificate.pdf').set('Authorization', bearer(jwt)))
        .status !== 200
    ) {
      if (Date.now() > deadline) throw new Error('certificate not issued in time');
      await new Promise((res) => setTimeout(res, 100));
    }
  }

  before(async () => {
    const admin = await r.makeAdmin();
    // The attacker signs code X with his own address, confirms, signs in, and withdraws.
    const attack = await signAndConfirm(r);
    usccX = attack.body.company.uscc;
    attackerEmail = attack.body.signatory.email;
    const earlier = await companySession(r, attackerEmail);
    await apiWithdraw(earlier, '试探').expect(200);
    // The real company signs X, confirms and is approved.
    const realBody = await signBodyFor(r.app, {
      company: { uscc: usccX },
      signatory: { name: '张真', phone: '+86 10 1234 5678' },
    });
    realEmail = realBody.signatory.email;
    const real = await signAndConfirm(r, realBody);
    await approve(r.app, admin.token, real.id);
    const current = await companySession(r, realEmail);
    await waitForCertificate(current);
    // Another company, active; and a third one still awaiting review.
    const other = await signAndConfirm(r);
    usccOther = other.body.company.uscc;
    await approve(r.app, admin.token, other.id);
    const otherSession = await companySession(r, other.body.signatory.email);
    await waitForCertificate(otherSession);
    const pending = await signAndConfirm(r);
    usccPending = pending.body.company.uscc;
    sessions = {
      current,
      earlier,
      other: otherSession,
      pending: await companySession(r, pending.body.signatory.email),
    };
  });

  const reads: Route[] = [
    {
      name: 'GET /api/v1/me/pledge',
      call: (t) => myPledge(t),
      expect: { current: 200, earlier: 403, other: 200, pending: 200 },
    },
    {
      name: 'GET /api/v1/me/certificate.pdf',
      call: (t) =>
        request(r.app)
          .get('/api/v1/me/certificate.pdf')
          .set('Authorization', bearer(t))
          .responseType('blob'),
      expect: { current: 200, earlier: 403, other: 200, pending: 404 },
    },
    {
      name: 'GET /me (site)',
      call: (t) => request(r.app).get('/me').set('Cookie', cookie(t)),
      expect: { current: 200, earlier: 403, other: 200, pending: 200 },
    },
    {
      name: 'GET /me/certificate.pdf (site)',
      call: (t) =>
        request(r.app).get('/me/certificate.pdf').set('Cookie', cookie(t)).responseType('blob'),
      expect: { current: 200, earlier: 403, other: 200, pending: 404 },
    },
  ];

  for (const route of reads) {
    for (const who of ['earlier', 'current', 'other', 'pending'] as const) {
      it(`when the ${who} signer calls ${route.name}, then ${route.expect[who]}${route.expect[who] === 200 ? ' about its own pledge only' : ''}`, async () => {
        const res = await route.call(sessions[who]);
        assert.equal(res.status, route.expect[who], res.text?.slice(0, 300));
        const text = Buffer.isBuffer(res.body) ? '' : (res.text ?? '');
        if (who !== 'current') {
          assert.doesNotMatch(
            text,
            new RegExp(realEmail.replace(/[.+]/g, '\\$&')),
            'no real signatory e-mail',
          );
          assert.doesNotMatch(text, /张真|1234 5678/, 'no real signatory name or phone');
        }
        if (res.status === 200 && route.name.startsWith('GET /api/v1/me/pledge')) {
          const expected = { current: usccX, other: usccOther, pending: usccPending, earlier: '' }[
            who
          ];
          assert.equal(res.body.company.uscc, expected);
          if (who === 'pending') assert.equal(res.body.status, 'pending_review');
        }
      });
    }
  }

  it('when the earlier signer asks for a new sign-in link, then 202 but no link is issued for the company', async () => {
    const account = await Account.findOne({ email: attackerEmail }).lean();
    assert.ok(account);
    const before = await Token.countDocuments({ purpose: 'login', account: account._id });
    await request(r.app).post('/api/v1/auth/login-link').send({ email: attackerEmail }).expect(202);
    assert.equal(await Token.countDocuments({ purpose: 'login', account: account._id }), before);
  });

  it('when a session names a company its account does not belong to, then 403 on every /me route', async () => {
    const otherAccount = await Account.findOne({
      role: 'company',
      email: { $nin: [realEmail, attackerEmail] },
    }).lean();
    const xAccount = await Account.findOne({ email: realEmail }).lean();
    const xPledge = await myPledge(sessions.current).expect(200);
    const forged = signSession(
      {
        sub: String(otherAccount!._id),
        role: 'company',
        company: String(xAccount!.company),
        pledge: xPledge.body.id,
      },
      secret(),
    );
    assertProblem(await myPledge(forged), 403);
    assertProblem(
      await request(r.app).get('/api/v1/me/certificate.pdf').set('Authorization', bearer(forged)),
      403,
    );
    assertProblem(await apiWithdraw(forged, '伪造'), 403);
    // A session from before pledge-bound sessions (no pledge claim) must sign in again.
    const old = signSession(
      { sub: String(xAccount!._id), role: 'company', company: String(xAccount!.company) },
      secret(),
    );
    assertProblem(await myPledge(old), 401);
  });

  it('when the earlier signer tries to withdraw (API and site), then 403 and the real pledge stays active', async () => {
    const t = sessions.earlier;
    assertProblem(await apiWithdraw(t, '恶意撤回'), 403);
    const site = await siteWithdraw(t, '恶意撤回');
    assert.equal(site.status, 403, site.text.slice(0, 300));
    const still = await myPledge(sessions.current).expect(200);
    assert.equal(still.body.status, 'active');
  });

  it('when the pending signer withdraws (site), then only its own pending pledge is cancelled', async () => {
    const t = sessions.pending;
    const site = await siteWithdraw(t, '暂不签署');
    assert.equal(site.status, 303, site.text.slice(0, 300));
    const own = await myPledge(t).expect(200);
    assert.equal(own.body.company.uscc, usccPending);
    assert.equal(own.body.status, 'withdrawn');
  });

  it('when the other company and the current signer withdraw (API), then each withdraws its own pledge', async () => {
    const other = await apiWithdraw(sessions.other, '业务调整').expect(200);
    assert.equal(other.body.company.uscc, usccOther);
    const current = await apiWithdraw(sessions.current, '业务调整').expect(200);
    assert.equal(current.body.company.uscc, usccX);
    assert.equal(current.body.signatory.email, realEmail);
  });
});
