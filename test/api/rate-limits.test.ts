import assert from 'node:assert/strict';
import request, { type Response } from 'supertest';
import { Pledge } from '../../models/pledge';
import { Outbox } from '../../models/outbox';
import { createApp } from '../../src/app';
import { silentLogger } from '../../src/logger';
import { createRegistry } from '../../src/registry';
import { assertProblem, signBodyFor } from '../helpers/pledges';
import { useRegistry } from '../helpers/registry';

/**
 * The limits count per fixed minute window; a burst that straddles a window edge would be split
 * over two budgets. Waits for the next window when fewer than `needMs` remain in this one.
 */
async function awayFromWindowEdge(needMs = 6000): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < needMs) await new Promise((res) => setTimeout(res, left + 50));
}

function assertLimited(res: Response, limit: number): void {
  assertProblem(res, 429);
  const retryAfter = Number(res.headers['retry-after']);
  assert.ok(
    Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60,
    `Retry-After: ${res.headers['retry-after']}`,
  );
  assert.equal(res.headers['ratelimit-limit'], String(limit));
  assert.equal(res.headers['ratelimit-remaining'], '0');
}

describe('rate limits (API), 3 per minute', () => {
  const r = useRegistry({ RATE_LIMIT_SIGNING_PER_MIN: '3', RATE_LIMIT_LOGIN_PER_MIN: '3' });

  describe('POST /api/v1/pledges', () => {
    it('when one IP sends a 4th signing request within a minute, then 429 with Retry-After, and no 4th pledge or mail is made', async function () {
      this.timeout(30_000);
      const bodies = await Promise.all([1, 2, 3, 4].map(() => signBodyFor(r.app)));
      await awayFromWindowEdge();
      for (const [i, body] of bodies.slice(0, 3).entries()) {
        const res = await request(r.app).post('/api/v1/pledges').send(body);
        assert.equal(res.status, 201, JSON.stringify(res.body));
        assert.equal(res.headers['ratelimit-remaining'], String(2 - i));
      }
      const fourth = await request(r.app).post('/api/v1/pledges').send(bodies[3]);
      assertLimited(fourth, 3);
      assert.equal(await Pledge.countDocuments({ uscc: bodies[3].company.uscc }), 0);
      assert.equal(await Outbox.countDocuments({ to: bodies[3].signatory.email }), 0);
      assert.equal(await Pledge.countDocuments(), 3);
    });

    it('when the budget is spent, then reading is not limited (only signing and login are)', async () => {
      await request(r.app).get('/api/v1/initiative').expect(200);
      await request(r.app).get('/api/v1/founders').expect(200);
      await request(r.app)
        .post('/api/v1/pledges/confirm')
        .send({ token: 'x'.repeat(43) })
        .expect(400);
    });
  });

  describe('POST /api/v1/auth/login and login-link', () => {
    it('when one IP sends a 4th login request within a minute, then 429 with Retry-After, even with the right password', async function () {
      this.timeout(30_000);
      const admin = await r.makeAdmin();
      await awayFromWindowEdge();
      for (let i = 0; i < 3; i++) {
        assertProblem(
          await request(r.app)
            .post('/api/v1/auth/login')
            .send({ email: admin.email, password: `guess ${i}` }),
          401,
        );
      }
      const fourth = await request(r.app)
        .post('/api/v1/auth/login')
        .send({ email: admin.email, password: admin.password });
      assertLimited(fourth, 3);
      assert.equal(fourth.body.token, undefined);
      // Login links and their verification draw on the same documented login budget.
      assertLimited(
        await request(r.app).post('/api/v1/auth/login-link').send({ email: 'someone@example.cn' }),
        3,
      );
      assertLimited(
        await request(r.app)
          .post('/api/v1/auth/login-link/verify')
          .send({ token: 'x'.repeat(43) }),
        3,
      );
    });
  });
});

describe('rate limits (API), per client address and shared by instances', () => {
  // Behind a proxy the client address comes from X-Forwarded-For (TRUST_PROXY), so one test
  // process can act as several clients.
  const r = useRegistry({
    RATE_LIMIT_SIGNING_PER_MIN: '3',
    RATE_LIMIT_LOGIN_PER_MIN: '3',
    TRUST_PROXY: 'loopback',
  });

  it('when two app instances share the database, then they count against one budget per IP, and another IP is not affected', async function () {
    this.timeout(30_000);
    // A second instance: its own registry, routers and middleware; the same database.
    const second = createRegistry(r.config, silentLogger());
    try {
      const other = createApp({ config: r.config, logger: silentLogger(), routes: second.routes });
      const bodies = await Promise.all([1, 2, 3, 4, 5].map(() => signBodyFor(r.app)));
      await awayFromWindowEdge();
      const from = (app: typeof other, ip: string, i: number) =>
        request(app).post('/api/v1/pledges').set('X-Forwarded-For', ip).send(bodies[i]);
      assert.equal((await from(r.app, '203.0.113.7', 0)).status, 201);
      assert.equal((await from(other, '203.0.113.7', 1)).status, 201);
      assert.equal((await from(r.app, '203.0.113.7', 2)).status, 201);
      assertLimited(await from(other, '203.0.113.7', 3), 3);
      assertLimited(await from(r.app, '203.0.113.7', 3), 3);
      assert.equal((await from(other, '198.51.100.9', 4)).status, 201);
      assert.equal(await Pledge.countDocuments({ uscc: bodies[3].company.uscc }), 0);
    } finally {
      await second.stop();
    }
  });

  it('when many requests from one IP arrive at once, then exactly the budget gets through', async function () {
    this.timeout(30_000);
    await awayFromWindowEdge();
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        request(r.app)
          .post('/api/v1/auth/login-link')
          .set('X-Forwarded-For', '192.0.2.44')
          .send({ email: 'nobody@example.cn' }),
      ),
    );
    const statuses = results.map((x) => x.status).sort();
    assert.deepEqual(statuses, [...Array(3).fill(202), ...Array(17).fill(429)]);
  });
});
