import assert from 'node:assert/strict';
import jwt from 'jsonwebtoken';
import mongoose from 'mongoose';
import request from 'supertest';
import { Account } from '../../models/account';
import { Token } from '../../models/token';
import { Outbox } from '../../models/outbox';
import { JWT_AUDIENCE, JWT_ISSUER, signSession } from '../../src/auth/jwt';
import { csrfTokenFor, SESSION_COOKIE } from '../../src/auth/middleware';
import { hashToken } from '../../src/auth/tokens';
import { tamperedToken, validToken } from '../helpers/jwt';
import {
  activePledge,
  assertProblem,
  companySession,
  loginLinkToken,
  pledgeDoc,
  settleCarriedWork,
  signAndConfirm,
  type SignedPledge,
  withdrawAs,
} from '../helpers/pledges';
import { useRegistry } from '../helpers/registry';

describe('auth (API)', () => {
  const r = useRegistry();
  let admin: Awaited<ReturnType<typeof r.makeAdmin>>;
  let a: SignedPledge; // active pledge of company A
  let b: SignedPledge; // pending_review pledge of company B
  let aCompany: string;
  let bCompany: string;
  /** An admin decision on B's pledge, with `token` as the bearer. */
  const decideOnB = (action: 'approve' | 'reject', token: string, body: object) =>
    request(r.app)
      .post(`/api/v1/admin/pledges/${b.id}/${action}`)
      .set('Authorization', `Bearer ${token}`)
      .send(body);

  before(async function () {
    this.timeout(30_000);
    admin = await r.makeAdmin();
    a = await activePledge(r, admin.token);
    b = await signAndConfirm(r);
    aCompany = String((await pledgeDoc(a.id))!.company);
    bCompany = String((await pledgeDoc(b.id))!.company);
    // The events and mail those writes carried leave the pledges in the background: moved now,
    // so the "unchanged" comparisons below see only the requests under test.
    await settleCarriedWork();
  });

  // Every guarded route against no, malformed, bad, wrong-role and disabled tokens: auth-matrix.test.ts.
  describe('protected routes', () => {
    it('when a company token is edited to claim the admin role, then 401 (the signature no longer matches)', async () => {
      const company = validToken(
        { sub: new mongoose.Types.ObjectId().toHexString(), role: 'company', company: bCompany },
        r.config.jwtSecret,
      );
      const forged = tamperedToken(company, { role: 'admin' });
      const before = await pledgeDoc(b.id);
      assertProblem(await decideOnB('approve', forged, { evidenceChecked: true }), 401);
      assert.deepEqual(await pledgeDoc(b.id), before);
    });
  });

  describe('session cookie (site forms)', () => {
    it('when an admin session cookie posts without the CSRF token, then 403 and the pledge is unchanged', async () => {
      const before = await pledgeDoc(b.id);
      const res = await request(r.app)
        .post(`/api/v1/admin/pledges/${b.id}/reject`)
        .set('Cookie', `${SESSION_COOKIE}=${admin.token}`)
        .send({ reason: 'forged cross-site post' });
      assertProblem(res, 403);
      assert.equal(res.body.type, '/problems/csrf');
      const wrong = await request(r.app)
        .post(`/api/v1/admin/pledges/${b.id}/reject`)
        .set('Cookie', `${SESSION_COOKIE}=${admin.token}`)
        .set('X-CSRF-Token', csrfTokenFor(admin.token, 'another secret'))
        .send({ reason: 'forged cross-site post' });
      assertProblem(wrong, 403);
      assert.deepEqual(await pledgeDoc(b.id), before);
    });

    it('when an admin session cookie reads, then no CSRF token is needed; a bad cookie is 401', async () => {
      const ok = await request(r.app)
        .get('/api/v1/admin/pledges')
        .set('Cookie', `${SESSION_COOKIE}=${admin.token}`)
        .expect(200);
      assert.ok(ok.body.items.some((p: { id: string }) => p.id === b.id));
      assertProblem(
        await request(r.app)
          .get('/api/v1/admin/pledges')
          .set(
            'Cookie',
            `${SESSION_COOKIE}=${tamperedToken(admin.token, { sub: '0'.repeat(24) })}`,
          ),
        401,
      );
    });
  });

  describe('POST /api/v1/auth/login', () => {
    it('when the password is wrong, then 401 without a token, and the account is not marked as signed in', async () => {
      const res = await request(r.app)
        .post('/api/v1/auth/login')
        .send({ email: admin.email, password: 'wrong horse battery staple' });
      assertProblem(res, 401);
      assert.equal(res.body.type, '/problems/bad-credentials');
      assert.equal(res.body.token, undefined);
      assert.equal((await Account.findById(admin.id).lean())!.lastLoginAt, undefined);
    });

    it('when the e-mail is unknown or belongs to a company, then the same 401 as a wrong password', async () => {
      const wrong = await request(r.app)
        .post('/api/v1/auth/login')
        .send({ email: admin.email, password: 'nope' });
      const unknown = await request(r.app)
        .post('/api/v1/auth/login')
        .send({ email: 'nobody@caq.test', password: 'nope' });
      const company = await request(r.app)
        .post('/api/v1/auth/login')
        .send({ email: a.body.signatory.email, password: 'nope' });
      for (const res of [unknown, company]) {
        assertProblem(res, 401);
        assert.deepEqual(
          { ...res.body, instance: undefined },
          { ...wrong.body, instance: undefined },
        );
      }
    });

    it('when the password is right, then a pinned HS256 token with issuer, audience and a 1-hour expiry that opens admin routes', async () => {
      const res = await request(r.app)
        .post('/api/v1/auth/login')
        .send({ email: admin.email.toUpperCase(), password: admin.password })
        .expect(200);
      const decoded = jwt.decode(res.body.token, { complete: true })!;
      assert.equal(decoded.header.alg, 'HS256');
      const p = decoded.payload as jwt.JwtPayload;
      assert.equal(p.iss, JWT_ISSUER);
      assert.equal(p.aud, JWT_AUDIENCE);
      assert.equal(p.sub, admin.id);
      assert.equal(p.role, 'admin');
      assert.equal(p.exp! - p.iat!, 3600);
      await request(r.app)
        .get('/api/v1/admin/pledges')
        .set('Authorization', `Bearer ${res.body.token}`)
        .expect(200);
      assert.ok((await Account.findById(admin.id).lean())!.lastLoginAt instanceof Date);
    });
  });

  describe('POST /api/v1/auth/login-link', () => {
    it('when a known and an unknown e-mail ask, then both get the same 202, and only the known one gets a link', async () => {
      const unknown = 'never-signed@example.cn';
      const tokensBefore = await Token.countDocuments();
      const known = await request(r.app)
        .post('/api/v1/auth/login-link')
        .send({ email: a.body.signatory.email })
        .expect(202);
      const other = await request(r.app)
        .post('/api/v1/auth/login-link')
        .send({ email: unknown })
        .expect(202);
      assert.deepEqual(other.body, known.body);
      assert.equal(await Token.countDocuments(), tokensBefore + 1);
      assert.equal(await Outbox.countDocuments({ to: unknown }), 0);
      await r.smtp.waitFor(a.body.signatory.email, /login\/verify\?token=/);
      await new Promise((res) => setTimeout(res, 300)); // give a wrongly queued mail time to arrive
      assert.equal(r.smtp.received.filter((m) => m.to.includes(unknown)).length, 0);
    });
  });

  describe('POST /api/v1/auth/login-link/verify', () => {
    it('when a link is used, then it gives a company session for that company, and a second use is 400', async () => {
      const token = await loginLinkToken(r, a.body.signatory.email);
      const res = await request(r.app)
        .post('/api/v1/auth/login-link/verify')
        .send({ token })
        .expect(200);
      const claims = jwt.verify(res.body.token, r.config.jwtSecret, {
        algorithms: ['HS256'],
        issuer: JWT_ISSUER,
        audience: JWT_AUDIENCE,
      }) as jwt.JwtPayload;
      assert.equal(claims.role, 'company');
      assert.equal(claims.company, aCompany);
      const again = await request(r.app).post('/api/v1/auth/login-link/verify').send({ token });
      assertProblem(again, 400);
      assert.equal(again.body.type, '/problems/token-used');
    });

    it('when a link has expired, then 410 and it gives no session', async () => {
      const token = await loginLinkToken(r, a.body.signatory.email);
      const u = await Token.updateOne(
        { hash: hashToken(token) },
        { $set: { expiresAt: new Date(Date.now() - 60_000) } },
      );
      assert.equal(u.modifiedCount, 1);
      const res = await request(r.app).post('/api/v1/auth/login-link/verify').send({ token });
      assertProblem(res, 410);
      assert.equal(res.body.type, '/problems/token-expired');
      assert.equal(res.body.token, undefined);
      assert.equal((await Token.findOne({ hash: hashToken(token) }).lean())!.usedAt, null);
    });

    it('when the token was never issued, then 400', async () => {
      const res = await request(r.app)
        .post('/api/v1/auth/login-link/verify')
        .send({ token: 'A'.repeat(43) });
      assertProblem(res, 400);
      assert.equal(res.body.type, '/problems/invalid-token');
    });
  });

  describe('company A and company B', () => {
    it('when A is signed in, then /me/pledge shows A’s pledge and never B’s', async () => {
      const session = await companySession(r, a.body.signatory.email);
      const res = await request(r.app)
        .get('/api/v1/me/pledge')
        .set('Authorization', `Bearer ${session}`)
        .expect(200);
      assert.equal(res.body.id, a.id);
      assert.equal(res.body.company.uscc, a.body.company.uscc);
      assert.equal(res.body.confirmTokenHash, undefined);
    });

    it('when A names B’s pledge in its withdrawal, then 400 (unknown field) and neither pledge changes', async () => {
      const session = await companySession(r, a.body.signatory.email);
      const [beforeA, beforeB] = [await pledgeDoc(a.id), await pledgeDoc(b.id)];
      const res = await withdrawAs(r.app, session, { reason: 'withdraw B', id: b.id });
      assertProblem(res, 400, ['id']);
      assert.deepEqual(await pledgeDoc(a.id), beforeA);
      assert.deepEqual(await pledgeDoc(b.id), beforeB);
    });

    it('when A’s token is edited to name B’s company, then 401 and B’s pledge is unchanged', async () => {
      const session = await companySession(r, a.body.signatory.email);
      const before = await pledgeDoc(b.id);
      const forged = tamperedToken(session, { company: bCompany });
      assertProblem(await withdrawAs(r.app, forged, { reason: 'take over B' }), 401);
      assert.deepEqual(await pledgeDoc(b.id), before);
    });

    it('when A uses an admin route on B’s pledge, then 403 and B’s pledge is unchanged', async () => {
      const session = await companySession(r, a.body.signatory.email);
      const before = await pledgeDoc(b.id);
      assertProblem(await decideOnB('reject', session, { reason: 'sabotage' }), 403);
      assertProblem(await decideOnB('approve', session, { evidenceChecked: true }), 403);
      assert.deepEqual(await pledgeDoc(b.id), before);
    });

    it('when A withdraws, then only A’s pledge is withdrawn and B’s is exactly as before', async () => {
      const session = await companySession(r, a.body.signatory.email);
      const before = await pledgeDoc(b.id);
      const res = await withdrawAs(r.app, session, { reason: '公司重组 / restructuring' }).expect(
        200,
      );
      assert.equal(res.body.id, a.id);
      assert.equal(res.body.status, 'withdrawn');
      assert.equal((await pledgeDoc(a.id))!.status, 'withdrawn');
      assert.deepEqual(await pledgeDoc(b.id), before);
      // Nothing left for A to withdraw; B is still untouched.
      assertProblem(await withdrawAs(r.app, session, { reason: 'again' }), 404);
      assert.deepEqual(await pledgeDoc(b.id), before);
    });

    it('when a valid session names an account, company and pledge that do not exist, then /me/pledge is 401, not someone else’s', async () => {
      // Sessions are bound to a pledge and checked against the account on every request.
      const token = signSession(
        {
          sub: new mongoose.Types.ObjectId().toHexString(),
          role: 'company',
          company: new mongoose.Types.ObjectId().toHexString(),
          pledge: new mongoose.Types.ObjectId().toHexString(),
        },
        r.config.jwtSecret,
      );
      assertProblem(
        await request(r.app).get('/api/v1/me/pledge').set('Authorization', `Bearer ${token}`),
        401,
      );
    });
  });
});
