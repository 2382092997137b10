/**
 * The founding 100 under load: two app processes share one standalone embedded store, 400
 * companies sign, confirm and are approved concurrently through both, and the numbers must come
 * out exact — founders 1..100, sequences 1..400 with no gap and no repeat, no pledge lost.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Account, Role } from '../../models/account';
import { Counter } from '../../models/counter';
import { Event } from '../../models/event';
import { Pledge, type PledgeDoc } from '../../models/pledge';
import { Company } from '../../models/company';
import { verifyChain } from '../../src/audit/chain';
import { settleCarriedEvents } from '../../src/audit/carried';
import { hashPassword } from '../../src/auth/passwords';
import { connectDatabase, disconnectDatabase } from '../../src/db';
import { spawnEmbeddedMongo, type SpawnedMongo } from '../../src/embedded-mongo/spawn';
import { silentLogger } from '../../src/logger';
import { SEQUENCE_COUNTER } from '../../src/pledges/activation';
import { fixtureCompany } from '../fixtures/companies';
import {
  httpJson,
  startAppProcess,
  type AppProcess,
  type JsonResponse,
} from '../helpers/app-process';
import { uploadLetterOverHttp } from '../helpers/pledges';
import { unlimitedRateLimits } from '../helpers/rate-limits';
import { decodeMail, startTestSmtp, tokenFromMail, type TestSmtp } from '../helpers/smtp';

const COMPANIES = 400;
const FOUNDERS = 100;
const SAME_USCC_ATTEMPTS = 50;

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

function statusCount(responses: JsonResponse[]): Record<number, number> {
  const out: Record<number, number> = {};
  for (const r of responses) out[r.status] = (out[r.status] ?? 0) + 1;
  return out;
}

async function initiative(base: string): Promise<{ version: number; sha256: string }> {
  const { version, sha256 } = (await httpJson(base, 'GET', '/api/v1/initiative')).body as {
    version: number;
    sha256: string;
  };
  return { version, sha256 };
}

/** Waits until every address has a mail matching `pattern`; returns the first per address. */
async function mailsFor(
  smtp: TestSmtp,
  emails: string[],
  pattern: RegExp,
  timeoutMs: number,
): Promise<Map<string, string>> {
  const want = new Set(emails);
  const found = new Map<string, string>();
  const deadline = Date.now() + timeoutMs;
  let scanned = 0;
  for (;;) {
    for (; scanned < smtp.received.length; scanned++) {
      const m = smtp.received[scanned];
      const to = m.to.find((t) => want.has(t));
      if (to && !found.has(to) && pattern.test(decodeMail(m.raw)))
        found.set(to, tokenFromMail(m, '/confirm'));
    }
    if (found.size === want.size) return found;
    if (Date.now() > deadline)
      throw new Error(`only ${found.size} of ${want.size} mails within ${timeoutMs} ms`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

describe('founding numbers under concurrency (two app processes, one standalone store)', function () {
  // About 20 s in all on an idle 2-core machine; the timeouts leave room for a loaded CI host.
  this.timeout(120_000);
  const tag = 400 + (process.pid % 500);
  let store: SpawnedMongo | undefined;
  let smtp: TestSmtp | undefined;
  let apps: AppProcess[] = [];
  let dataDir = '';
  let adminToken = '';

  before(async function () {
    this.timeout(60_000);
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'eqi-founders-'));
    [smtp, store] = await Promise.all([startTestSmtp(), spawnEmbeddedMongo({ memory: true })]);
    const dbName = `founders_${process.pid}_${randomBytes(4).toString('hex')}`;
    const env = {
      MONGODB_URI: `${store.uri}/${dbName}`,
      PORT: '0',
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      JWT_SECRET: randomBytes(32).toString('base64url'),
      ...unlimitedRateLimits(),
      REVIEW_MODE: 'manual',
      DATA_DIR: dataDir,
      SMTP_URL: smtp.url,
      PUBLIC_URL: 'https://registry.test',
    };
    apps = await Promise.all([startAppProcess(env), startAppProcess(env)]);
    await connectDatabase(store.uri, silentLogger(), { dbName });
    const email = 'founders-admin@caq.test';
    const password = 'a long admin password for the test';
    await Account.create({ email, role: Role.Admin, passwordHash: await hashPassword(password) });
    // Signed in through one process; the token works on both (same secret).
    const login = await httpJson(apps[1].url, 'POST', '/api/v1/auth/login', {
      body: { email, password },
    });
    assert.equal(login.status, 200, JSON.stringify(login.body));
    adminToken = login.body.token;
  });

  after(async function () {
    this.timeout(30_000);
    await Promise.all(apps.map((a) => a.stop()));
    apps = [];
    await disconnectDatabase().catch(() => undefined);
    await store?.kill();
    await smtp?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed')
      for (const a of apps)
        console.error(`--- app ${a.pid} log (tail) ---\n${a.log().slice(-4000)}`);
  });

  it(`when ${COMPANIES} companies sign, confirm and are approved concurrently through two processes, then founders are exactly 1..${FOUNDERS} and sequences 1..${COMPANIES}`, async () => {
    const companies = Array.from({ length: COMPANIES }, (_, i) => fixtureCompany(i, tag));
    const init = await initiative(apps[0].url);
    const app = (i: number) => apps[i % apps.length].url;

    const signed = await Promise.all(
      companies.map((c, i) =>
        httpJson(app(i), 'POST', '/api/v1/pledges', {
          body: {
            company: { uscc: c.uscc, name: c.name, nameEn: c.nameEn, industry: c.industry },
            signatory: { name: '陈静', title: '董事长', email: c.email },
            initiative: init,
            agree: true,
          },
        }),
      ),
    );
    assert.deepEqual(
      statusCount(signed),
      { 201: COMPANIES },
      JSON.stringify(signed.find((s) => s.status !== 201)?.body),
    );
    const ids = signed.map((s) => s.body.id as string);
    assert.equal(new Set(ids).size, COMPANIES);

    const tokens = await mailsFor(
      smtp!,
      companies.map((c) => c.email),
      /confirm\?token=/,
      60_000,
    );
    // Each gives its letter, then is confirmed through the other process than the one that took the signature.
    const letters = await Promise.all(
      companies.map((c, i) => uploadLetterOverHttp(app(i + 1), ids[i]!, tokens.get(c.email)!)),
    );
    assert.ok(
      letters.every((s) => s === 201 || s === 200),
      `letter uploads: ${letters.join(',')}`,
    );
    const confirmed = await Promise.all(
      companies.map((c, i) =>
        httpJson(app(i + 1), 'POST', '/api/v1/pledges/confirm', {
          body: { token: tokens.get(c.email) },
        }),
      ),
    );
    assert.deepEqual(
      statusCount(confirmed),
      { 200: COMPANIES },
      JSON.stringify(confirmed.find((s) => s.status !== 200)?.body),
    );
    assert.ok(confirmed.every((c) => c.body.status === 'pending_review'));

    // Approved in an order unrelated to signing, alternating between the processes.
    const order = ids.map((id, i) => ({ id, k: (i * 7919) % COMPANIES })).sort((a, b) => a.k - b.k);
    const approved = await Promise.all(
      order.map(({ id }, i) =>
        httpJson(app(i), 'POST', `/api/v1/admin/pledges/${id}/approve`, {
          token: adminToken,
          body: { evidenceChecked: true },
        }),
      ),
    );
    assert.deepEqual(
      statusCount(approved),
      { 200: COMPANIES },
      JSON.stringify(approved.find((s) => s.status !== 200)?.body),
    );
    const given = approved.map((a) => a.body.sequence as number).sort((a, b) => a - b);
    assert.deepEqual(
      given,
      range(COMPANIES),
      'each approval answered with a distinct sequence, no gaps',
    );
    for (const a of approved)
      assert.equal(a.body.foundingNumber, a.body.sequence <= FOUNDERS ? a.body.sequence : null);

    // The public list, as each process serves it.
    const [f0, f1] = await Promise.all(apps.map((a) => httpJson(a.url, 'GET', '/api/v1/founders')));
    assert.deepEqual(f0.body, f1.body);
    const founders = f0.body.items as Array<{
      foundingNumber: number;
      sequence: number;
      status: string;
      company: { uscc: string };
    }>;
    assert.deepEqual(
      founders.map((f) => f.foundingNumber),
      range(FOUNDERS),
    );
    assert.deepEqual(
      founders.map((f) => f.sequence),
      range(FOUNDERS),
    );
    assert.ok(founders.every((f) => f.status === 'active'));
    assert.equal(new Set(founders.map((f) => f.company.uscc)).size, FOUNDERS);

    // The database: no pledge lost, none twice, every number exactly once.
    const pledges = await Pledge.find({ uscc: { $in: companies.map((c) => c.uscc) } }).lean<
      PledgeDoc[]
    >();
    assert.equal(pledges.length, COMPANIES);
    assert.equal(new Set(pledges.map((p) => p.uscc)).size, COMPANIES, 'no USCC twice');
    assert.ok(
      pledges.every((p) => p.status === 'active'),
      'every pledge active',
    );
    assert.deepEqual(
      pledges.map((p) => p.sequence!).sort((a, b) => a - b),
      range(COMPANIES),
    );
    assert.deepEqual(
      pledges
        .filter((p) => p.foundingNumber !== undefined)
        .map((p) => p.foundingNumber!)
        .sort((a, b) => a - b),
      range(FOUNDERS),
    );
    assert.ok(
      pledges.every((p) =>
        p.sequence! <= FOUNDERS ? p.foundingNumber === p.sequence : p.foundingNumber === undefined,
      ),
    );
    assert.ok(
      pledges.every(
        (p) =>
          p.history.map((h) => h.to).join() ===
          'pending_confirmation,pending_review,activating,active',
      ),
    );
    const counter = (await Counter.collection.findOne({
      _id: SEQUENCE_COUNTER as never,
    })) as unknown as { seq: number; inflight: unknown[] };
    assert.equal(counter.seq, COMPANIES);
    assert.deepEqual(counter.inflight, []);
    // Each activation's event rides on its pledge's write and the sealer moves it into the events
    // collection within a second; moved now (as any instance may), each is there exactly once.
    await settleCarriedEvents();
    assert.equal(await Pledge.countDocuments({ 'pendingEvents._id': { $exists: true } }), 0);
    assert.equal(await Event.countDocuments({ action: 'pledge.activated' }), COMPANIES);

    const stats = (await httpJson(apps[1].url, 'GET', '/api/v1/stats')).body;
    assert.equal(stats.totals.active, COMPANIES);
    assert.equal(stats.totals.founders, FOUNDERS);
  });

  it(`when one USCC is signed ${SAME_USCC_ATTEMPTS} times and all are confirmed at once through both processes, then every signature is taken but exactly one confirmation holds the code and the rest get 409`, async () => {
    const c = fixtureCompany(COMPANIES + 1, tag);
    const init = await initiative(apps[1].url);
    const emails = range(SAME_USCC_ATTEMPTS).map((i) => `race-${i}-${c.email}`);
    const results = await Promise.all(
      emails.map((email, i) =>
        httpJson(apps[i % apps.length].url, 'POST', '/api/v1/pledges', {
          body: {
            company: { uscc: c.uscc, name: `${c.name}${i}`, industry: c.industry },
            signatory: { name: '周密', title: '经理', email },
            initiative: init,
            agree: true,
          },
        }),
      ),
    );
    // An unconfirmed pledge holds nothing (no squatting): every signature is taken.
    assert.deepEqual(statusCount(results), { 201: SAME_USCC_ATTEMPTS });
    const tokens = await mailsFor(smtp!, emails, /confirm\?token=/, 60_000);
    const letters = await Promise.all(
      emails.map((email, i) =>
        uploadLetterOverHttp(
          apps[i % apps.length].url,
          results[i]!.body.id as string,
          tokens.get(email)!,
        ),
      ),
    );
    assert.ok(
      letters.every((s) => s === 201),
      `letter uploads: ${letters.join(',')}`,
    );
    const confirmed = await Promise.all(
      emails.map((email, i) =>
        httpJson(apps[(i + 1) % apps.length].url, 'POST', '/api/v1/pledges/confirm', {
          body: { token: tokens.get(email) },
        }),
      ),
    );
    assert.deepEqual(statusCount(confirmed), { 200: 1, 409: SAME_USCC_ATTEMPTS - 1 });
    for (const r of confirmed.filter((x) => x.status === 409)) {
      assert.equal(r.headers['content-type']?.split(';')[0], 'application/problem+json');
      assert.equal(r.body.type, '/problems/pledge-exists', JSON.stringify(r.body));
    }
    const winner = emails[confirmed.findIndex((r) => r.status === 200)];
    const holders = await Pledge.find({ uscc: c.uscc, openUscc: { $exists: true } }).lean<
      PledgeDoc[]
    >();
    assert.equal(holders.length, 1, 'exactly one pledge holds the code');
    assert.equal(holders[0].signatory.email, winner);
    assert.equal(await Company.countDocuments({ uscc: c.uscc }), 1);
  });

  it('when both processes have sealed the audit log, then the chain verifies over every event', async () => {
    const deadline = Date.now() + 60_000;
    while ((await Event.countDocuments({ seq: { $exists: false } })) > 0) {
      if (Date.now() > deadline) throw new Error('events were not sealed within 60 s');
      await new Promise((res) => setTimeout(res, 200));
    }
    // The apps keep working (certificates are still being issued, each with its event), so the
    // chain is compared with the sealed events counted just before and just after verifying it.
    const sealedBefore = await Event.countDocuments({ seq: { $exists: true } });
    assert.ok(sealedBefore > 0);
    const chain = await verifyChain();
    const sealedAfter = await Event.countDocuments({ seq: { $exists: true } });
    assert.equal(chain.ok, true);
    assert.ok(
      chain.length >= sealedBefore && chain.length <= sealedAfter,
      `chain ${chain.length}, sealed ${sealedBefore}..${sealedAfter}`,
    );
  });

  it('when the run is over, then neither process logged an error', () => {
    for (const a of apps) {
      const errors = a
        .log()
        .split('\n')
        .filter((l) => /^\{.*"level":(50|60)[,}]/.test(l));
      assert.deepEqual(errors, [], `process ${a.pid}`);
    }
  });
});
