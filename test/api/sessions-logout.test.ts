/**
 * Signing out ends the session at once, wherever the token is used next: the company API, the
 * company area, the admin API and the console. A token that never expires is refused.
 */
import assert from 'node:assert/strict';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { JWT_AUDIENCE, JWT_ISSUER } from '../../src/auth/jwt';
import { csrfTokenFor, SESSION_COOKIE } from '../../src/auth/middleware';
import { assertProblem, companySession, loginLinkToken, signAndConfirm } from '../helpers/pledges';
import { useRegistry, type RegistryHandle } from '../helpers/registry';
import { agent, consoleSignIn, csrfFrom, setCookies, type Agent } from '../site/helpers';

/** The session cookie a response set (the value, not the attributes). */
function sessionCookieOf(res: request.Response): string {
  const cookies = setCookies(res);
  const c = cookies.find(
    (x) => x.startsWith(`${SESSION_COOKIE}=`) && !x.startsWith(`${SESSION_COOKIE}=;`),
  );
  assert.ok(c, `a session cookie was set: ${JSON.stringify(cookies)}`);
  return decodeURIComponent(c.slice(SESSION_COOKIE.length + 1).split(';')[0]);
}

/** Signs a company contact in through the site's link page; returns the agent's session JWT. */
async function siteCompanySignIn(r: RegistryHandle, a: Agent, email: string): Promise<string> {
  const token = await loginLinkToken(r, email);
  const landing = await a.get(`/login/verify?token=${encodeURIComponent(token)}`).expect(200);
  const res = await a
    .post('/login/verify')
    .type('form')
    .send({ _csrf: csrfFrom(landing.text), token })
    .expect(303)
    .expect('Location', '/me');
  return sessionCookieOf(res);
}

async function apiAdminLogin(
  r: RegistryHandle,
  admin: { email: string; password: string },
): Promise<string> {
  const res = await request(r.app)
    .post('/api/v1/auth/login')
    .send({ email: admin.email, password: admin.password });
  assert.equal(res.status, 200, res.text);
  return res.body.token as string;
}

const bearer = (t: string) => `Bearer ${t}`;

/** A GET of an API route with `token` as the bearer. */
function getAs(r: RegistryHandle, path: string, token: string) {
  return request(r.app).get(path).set('Authorization', bearer(token));
}

/** Signs out through the API with `token` as the bearer. */
function apiLogout(r: RegistryHandle, token: string) {
  return request(r.app).post('/api/v1/auth/logout').set('Authorization', bearer(token));
}

/** A page opened with `token` as the session cookie is sent to `location`. */
async function cookieSentTo(
  r: RegistryHandle,
  path: string,
  token: string,
  location: string,
): Promise<void> {
  await agent(r.app)
    .get(path)
    .set('Cookie', `${SESSION_COOKIE}=${token}`)
    .expect(303)
    .expect('Location', location);
}

/** An admin signed in through the API, whose token opens the admin pledge list. */
async function apiAdminSession(
  r: RegistryHandle,
  admin: { email: string; password: string },
): Promise<string> {
  const token = await apiAdminLogin(r, admin);
  await getAs(r, '/api/v1/admin/pledges', token).expect(200);
  return token;
}

describe('sessions: signing out revokes', () => {
  const r = useRegistry();

  it('when a company signs out through the API, then its token is refused at once (API and site) and another session of it still works', async () => {
    const p = await signAndConfirm(r);
    const token = await companySession(r, p.body.signatory.email);
    const other = await companySession(r, p.body.signatory.email);
    await getAs(r, '/api/v1/me/pledge', token).expect(200);
    await apiLogout(r, token).expect(204);
    const res = await getAs(r, '/api/v1/me/pledge', token);
    assertProblem(res, 401);
    assert.equal(res.body.type, '/problems/session-ended');
    await cookieSentTo(r, '/me', token, '/login');
    // Signing out twice is not an error worth a 500, but the token is no session any more.
    assertProblem(await apiLogout(r, token), 401);
    await getAs(r, '/api/v1/me/pledge', other).expect(200);
  });

  it('when an admin signs out through the API, then the token is refused on every admin route', async () => {
    const admin = await r.makeAdmin();
    const token = await apiAdminSession(r, admin);
    await apiLogout(r, token).expect(204);
    for (const path of ['/api/v1/admin/pledges', '/api/v1/admin/accounts', '/api/v1/admin/audit']) {
      assertProblem(await getAs(r, path, token), 401);
    }
  });

  it('when the API sign-out is called without a session, then 401 and nothing is revoked', async () => {
    assertProblem(await request(r.app).post('/api/v1/auth/logout'), 401);
  });

  it('when the OpenAPI document is read, then it declares the sign-out route', async () => {
    const doc = (await request(r.app).get('/api/v1/openapi.json').expect(200)).body as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    assert.ok(doc.paths['/api/v1/auth/logout']?.post, 'POST /api/v1/auth/logout is documented');
    assert.ok(doc.paths['/api/v1/auth/logout'].post.responses['204']);
  });

  it('when a company signs out on the site, then the cookie is cleared and a copy of the old token is refused as cookie and as bearer', async () => {
    const p = await signAndConfirm(r);
    const a = agent(r.app);
    const jwtValue = await siteCompanySignIn(r, a, p.body.signatory.email);
    const me = await a.get('/me').expect(200);
    const res = await a
      .post('/logout')
      .type('form')
      .send({ _csrf: csrfFrom(me.text) })
      .expect(303)
      .expect('Location', '/');
    assert.ok(
      setCookies(res).some((c) => c.startsWith(`${SESSION_COOKIE}=;`)),
      'cookie cleared',
    );
    await cookieSentTo(r, '/me', jwtValue, '/login');
    assertProblem(await getAs(r, '/api/v1/me/pledge', jwtValue), 401);
    // A form post with the old cookie and its (once valid) CSRF token changes nothing either.
    await agent(r.app)
      .post('/me/withdraw')
      .set('Cookie', `${SESSION_COOKIE}=${jwtValue}`)
      .type('form')
      .send({ _csrf: csrfTokenFor(jwtValue, r.config.jwtSecret), reason: 'should not happen' })
      .expect(303)
      .expect('Location', '/login');
    const pledge = await request(r.app)
      .get('/api/v1/me/pledge')
      .set('Authorization', bearer(await companySession(r, p.body.signatory.email)))
      .expect(200);
    assert.equal(pledge.body.status, 'pending_review');
  });

  it('when the site sign-out form has no CSRF token, then 403 and the session goes on', async () => {
    const p = await signAndConfirm(r);
    const a = agent(r.app);
    await siteCompanySignIn(r, a, p.body.signatory.email);
    assert.equal((await a.post('/logout').type('form').send({})).status, 403);
    await a.get('/me').expect(200);
  });

  it('when an admin presses sign-out in the console, then the session ends: console pages send them to sign in and the token is refused by the API', async () => {
    const admin = await r.makeAdmin();
    const a = agent(r.app);
    const jwtValue = sessionCookieOf(await consoleSignIn(a, admin));
    const queue = await a.get('/admin/pledges').expect(200);
    // The console layout carries a sign-out form posting the session's CSRF token.
    assert.match(
      queue.text,
      /<form method="post" action="\/admin\/logout"[^>]*>\s*<input type="hidden" name="_csrf" value="[^"]+">/,
    );
    assert.match(queue.text, /退出登录/);
    assert.match((await a.get('/admin/pledges?lang=en').expect(200)).text, />Sign out</);
    await a
      .post('/admin/logout')
      .type('form')
      .send({ _csrf: csrfFrom(queue.text) })
      .expect(303)
      .expect('Location', '/admin/login?signedOut=1');
    assert.match(
      (await a.get('/admin/login?signedOut=1&lang=zh-CN').expect(200)).text,
      /您已退出登录/,
    );
    await cookieSentTo(r, '/admin/pledges', jwtValue, '/admin/login');
    assertProblem(await getAs(r, '/api/v1/admin/pledges', jwtValue), 401);
  });

  it('when the console sign-out is posted without its CSRF token, then 403 and the admin stays signed in', async () => {
    const admin = await r.makeAdmin();
    const a = agent(r.app);
    await consoleSignIn(a, admin);
    assert.equal((await a.post('/admin/logout').type('form').send({})).status, 403);
    await a.get('/admin/pledges').expect(200);
  });

  it('when an admin is disabled while signed in, then the token is refused at once (kept)', async () => {
    const admin = await r.makeAdmin();
    const boss = await r.makeAdmin();
    const token = await apiAdminSession(r, admin);
    await request(r.app)
      .post(`/api/v1/admin/accounts/${admin.id}/disable`)
      .set('Authorization', bearer(boss.token))
      .expect((res) => assert.ok(res.status < 300, res.text));
    assertProblem(await getAs(r, '/api/v1/admin/pledges', token), 401);
  });
});

describe('sessions: a token must expire', () => {
  const r = useRegistry();

  /** Correctly signed with the server's secret, issuer, audience and an id, but no `exp` unless given. */
  const foreverToken = (
    claims: Record<string, unknown>,
    sub: string,
    more: Pick<jwt.SignOptions, 'expiresIn'> = {},
  ) =>
    jwt.sign(claims, r.config.jwtSecret, {
      algorithm: 'HS256',
      subject: sub,
      issuer: JWT_ISSUER,
      audience: JWT_AUDIENCE,
      jwtid: 'abcdefghijklmnopqrstuv',
      ...more,
    });

  it('when a correctly signed admin token has no exp, then the API refuses it with 401 and the console sends to sign in', async () => {
    const admin = await r.makeAdmin();
    const token = foreverToken({ role: 'admin' }, admin.id);
    assert.equal((jwt.decode(token) as { exp?: number }).exp, undefined);
    assertProblem(await getAs(r, '/api/v1/admin/pledges', token), 401);
    await cookieSentTo(r, '/admin/pledges', token, '/admin/login?expired=1');
  });

  it('when a correctly signed company token has no exp, then /me/pledge refuses it with 401', async () => {
    const p = await signAndConfirm(r);
    const real = await companySession(r, p.body.signatory.email);
    const { company, sub } = jwt.decode(real) as { company: string; sub: string };
    assertProblem(
      await request(r.app)
        .get('/api/v1/me/pledge')
        .set('Authorization', bearer(foreverToken({ role: 'company', company }, sub))),
      401,
    );
    await getAs(r, '/api/v1/me/pledge', real).expect(200);
  });

  it('when a correctly signed token lives far longer than any the server issues, then it is refused', async () => {
    const admin = await r.makeAdmin();
    // The same token as above, but for an `exp` a year away.
    const token = foreverToken({ role: 'admin' }, admin.id, { expiresIn: '365d' });
    assertProblem(await getAs(r, '/api/v1/admin/pledges', token), 401);
  });
});
