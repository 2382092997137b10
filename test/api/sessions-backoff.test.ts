/**
 * Admin sign-in backs off per account: after a few failures for one e-mail, every further
 * attempt waits twice as long, from any address, and an unknown e-mail is treated the same.
 */
import assert from 'node:assert/strict';
import request from 'supertest';
import {
  FIRST_WAIT_MS,
  FREE_ATTEMPTS,
  MAX_WAIT_MS,
  TOO_MANY_SIGN_INS,
  waitAfter,
} from '../../src/auth/backoff';
import { assertProblem } from '../helpers/pledges';
import { useRegistry, type RegistryHandle } from '../helpers/registry';
import { agent, csrfFrom, setCookies } from '../site/helpers';

let ip = 0;
/** Each attempt from another client address (TRUST_PROXY is on), so only the account can be counted. */
const login = (r: RegistryHandle, email: string, password: string) =>
  request(r.app)
    .post('/api/v1/auth/login')
    .set('X-Forwarded-For', `198.51.100.${(ip++ % 250) + 1}`)
    .send({ email, password });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function failTimes(r: RegistryHandle, email: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) assertProblem(await login(r, email, `wrong password ${i}`), 401);
}

describe('admin sign-in back-off (per account)', () => {
  const r = useRegistry({ TRUST_PROXY: 'true' });

  it('when the waits are computed, then the first attempts are free and each later wait doubles up to the cap', () => {
    for (let f = 0; f < FREE_ATTEMPTS; f++) assert.equal(waitAfter(f), 0);
    assert.equal(waitAfter(FREE_ATTEMPTS), FIRST_WAIT_MS);
    for (let f = FREE_ATTEMPTS; f < FREE_ATTEMPTS + 40; f++) {
      assert.ok(
        waitAfter(f + 1) === Math.min(MAX_WAIT_MS, 2 * waitAfter(f)),
        `wait after ${f + 1}`,
      );
    }
    assert.equal(waitAfter(10_000), MAX_WAIT_MS);
  });

  it('when an account has failed the free attempts from many addresses, then even the right password gets 429 with Retry-After', async () => {
    const admin = await r.makeAdmin();
    await failTimes(r, admin.email, FREE_ATTEMPTS);
    const res = await login(r, admin.email, admin.password);
    assertProblem(res, 429);
    assert.equal(res.body.detail, TOO_MANY_SIGN_INS);
    assert.ok(
      Number(res.headers['retry-after']) >= 1,
      `Retry-After: ${res.headers['retry-after']}`,
    );
  });

  it('when the e-mail has no account, then the failures and the 429 look exactly the same', async () => {
    const admin = await r.makeAdmin();
    const nobody = `nobody-${Date.now()}@caq.test`;
    // Interleaved, and both asked at once: the first wait is short, so neither may lag behind.
    for (let i = 0; i < FREE_ATTEMPTS; i++) {
      const [k, u] = await Promise.all([
        login(r, admin.email, `wrong ${i}`),
        login(r, nobody, `wrong ${i}`),
      ]);
      assert.deepEqual([k.status, u.status], [401, 401]);
      assert.deepEqual(u.body, k.body, 'the failures look the same too');
    }
    const [known, unknown] = await Promise.all([
      login(r, admin.email, 'another wrong one'),
      login(r, nobody, 'another wrong one'),
    ]);
    assert.equal(known.status, 429);
    assert.equal(unknown.status, known.status);
    assert.deepEqual(unknown.body, known.body);
    assert.equal(unknown.headers['retry-after'], known.headers['retry-after']);
  });

  it('when the wait has passed, then each further failure doubles it, and the right password then signs in and forgives the failures', async function () {
    this.timeout(30_000);
    const admin = await r.makeAdmin();
    await failTimes(r, admin.email, FREE_ATTEMPTS);
    const first = await login(r, admin.email, 'x');
    assert.equal(first.status, 429);
    assert.equal(Number(first.headers['retry-after']), Math.ceil(waitAfter(FREE_ATTEMPTS) / 1000));
    await sleep(waitAfter(FREE_ATTEMPTS) + 100);
    assertProblem(await login(r, admin.email, 'still wrong'), 401);
    const second = await login(r, admin.email, 'x');
    assert.equal(second.status, 429);
    const retryAfter = Number(second.headers['retry-after']);
    assert.ok(
      retryAfter >= 1 && retryAfter <= Math.ceil(waitAfter(FREE_ATTEMPTS + 1) / 1000),
      `Retry-After ${retryAfter}`,
    );
    // The wait doubled: once the first wait's length has passed again, it is still refused.
    await sleep(waitAfter(FREE_ATTEMPTS) + 100);
    assert.equal(
      (await login(r, admin.email, admin.password)).status,
      429,
      'the second wait is longer than the first',
    );
    await sleep(waitAfter(FREE_ATTEMPTS + 1) - waitAfter(FREE_ATTEMPTS) + 100);
    const ok = await login(r, admin.email, admin.password);
    assert.equal(ok.status, 200, ok.text);
    // Forgiven: the free attempts are back.
    await failTimes(r, admin.email, FREE_ATTEMPTS);
  });

  it('when 20 wrong passwords for one account arrive at once, then at most the free attempts are checked and the rest get 429', async () => {
    const admin = await r.makeAdmin();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => login(r, admin.email, `parallel guess ${i}`)),
    );
    const statuses = results.map((x) => x.status);
    assert.ok(
      statuses.every((s) => s === 401 || s === 429),
      statuses.join(),
    );
    assert.ok(statuses.filter((s) => s === 401).length <= FREE_ATTEMPTS, statuses.join());
    assert.ok(statuses.filter((s) => s === 429).length >= 20 - FREE_ATTEMPTS, statuses.join());
  });

  it('when one account is backing off, then another account signs in as usual', async () => {
    const locked = await r.makeAdmin();
    const other = await r.makeAdmin();
    await failTimes(r, locked.email, FREE_ATTEMPTS);
    assert.equal((await login(r, locked.email, locked.password)).status, 429);
    assert.equal((await login(r, other.email, other.password)).status, 200);
  });

  it('when the console sign-in form is used during the wait, then it answers 429 with Retry-After and says how long to wait', async () => {
    const admin = await r.makeAdmin();
    await failTimes(r, admin.email, FREE_ATTEMPTS);
    const a = agent(r.app);
    const form = await a.get('/admin/login?lang=zh-CN').expect(200);
    const res = await a
      .post('/admin/login')
      .type('form')
      .send({ _csrf: csrfFrom(form.text), email: admin.email, password: admin.password });
    assert.equal(res.status, 429);
    assert.ok(Number(res.headers['retry-after']) >= 1);
    assert.match(res.text, /该账户登录失败次数过多，请在 \d+ 秒后再试/);
    assert.equal(
      setCookies(res).some((c) => c.startsWith('eqi_session=') && !c.startsWith('eqi_session=;')),
      false,
      'no session',
    );
  });
});
