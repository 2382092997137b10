/**
 * Property-based fuzzing of every route (issue #10): the app runs as its own process on a
 * standalone store, as in production, and gets whole requests generated from the OpenAPI
 * document and the site's form list. Every answer must be < 500, must come within the deadline,
 * and /healthz must still answer after it (a crash is noticed, reported, and the app restarted).
 * Input that must be refused (invalid UTF-8 JSON, hex numbers) must get a 4xx.
 *
 * All distinct failures (method, route, status) are collected and reported together, each with
 * a curl command that sends the same bytes. Fixed seed; `FUZZ_RUNS` (total cases, default
 * 3000) and `FUZZ_SEED` for longer or other runs.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Types } from 'mongoose';
import { Certificate } from '../../models/certificate';
import { csrfTokenFor } from '../../src/auth/middleware';
import {
  activeCompany,
  adminSession,
  companySession,
  currentInitiative,
  mailedToken,
  signBody,
  startCluster,
  type Cluster,
} from '../faults/cluster';
import { fixtureCompany } from '../fixtures/companies';
import { uploadLetterOverHttp } from '../helpers/pledges';
import { httpJson } from '../helpers/app-process';
import { requestFor, type FuzzCase, type FuzzContext } from './cases';
import { buildTargets, declaredRoutes, type Target } from './targets';
import { curlOf, send, type RawResponse } from './wire';

const RUNS = Number(process.env.FUZZ_RUNS ?? 3000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261201);
/** Wall-clock budget for the default run; a long run (FUZZ_RUNS set) has none. */
const BUDGET_MS = process.env.FUZZ_RUNS ? Infinity : 240_000;
const ANSWER_MS = 10_000;
const HEALTH_MS = 2_000;
/** After this many restarts, cases of routes that crashed the app are skipped (reported). */
const MAX_RESTARTS = 12;

interface Failure {
  signature: string;
  count: number;
  curl: string;
  detail: string;
}

async function fetchRaw(
  c: Cluster,
  target: string,
  headers: Array<[string, string]> = [],
): Promise<RawResponse> {
  return send(new URL(c.url()), { method: 'GET', target, headers });
}

describe('fuzzing every route (OpenAPI document and site forms)', function () {
  this.timeout(60_000);
  const tag = 600 + (process.pid % 300);
  let cluster: Cluster | undefined;
  let ctx: FuzzContext;
  let targets: Target[] = [];
  let undocumented: string[] = [];
  let undeclaredForms: string[] = [];
  let companyEmail = '';

  before(async function () {
    this.timeout(120_000);
    cluster = await startCluster();
    const c = cluster;
    const admin = await adminSession(c);
    const active = await activeCompany(c, admin.token, 1, tag);
    companyEmail = active.company.email;
    const companyToken = await companySession(c, companyEmail);
    // A second company waits for review, so approve/reject/correct have a real target.
    const other = fixtureCompany(2, tag);
    const since = c.smtp.received.length;
    const signed = await httpJson(c.url(), 'POST', '/api/v1/pledges', {
      body: signBody(other, await currentInitiative(c)),
    });
    assert.equal(signed.status, 201, JSON.stringify(signed.body));
    const otherToken = await mailedToken(c, other.email, '/confirm', since);
    assert.equal(
      await uploadLetterOverHttp(c.url(), signed.body.id as string, otherToken),
      201,
      'the letter is stored',
    );
    const confirmed = await httpJson(c.url(), 'POST', '/api/v1/pledges/confirm', {
      body: { token: otherToken },
    });
    assert.equal(confirmed.status, 200);
    let pdf: RawResponse | undefined;
    for (
      const deadline = Date.now() + 60_000;
      Date.now() < deadline;
      await new Promise((r) => setTimeout(r, 200))
    ) {
      pdf = await fetchRaw(c, '/api/v1/me/certificate.pdf', [
        ['Authorization', `Bearer ${companyToken}`],
      ]);
      if (pdf.status === 200) break;
    }
    assert.equal(
      pdf?.status,
      200,
      `the active company has its certificate: ${pdf?.error} ${c.url()} ${pdf?.body.toString().slice(0, 300)}`,
    );
    const cert = await Certificate.findOne({ pledge: new Types.ObjectId(active.id) }).lean<{
      serial: string;
    }>();
    const signPage = await fetchRaw(c, '/sign', [['Accept', 'text/html']]);
    const csrfCookie = /eqi_csrf=([^;]+)/.exec(signPage.headers['set-cookie'] ?? '')?.[1];
    const csrfToken = /name="_csrf" value="([^"]+)"/.exec(signPage.body.toString())?.[1];
    assert.ok(csrfCookie && csrfToken, 'the sign page hands out a CSRF pair');
    const openApi = await httpJson(c.url(), 'GET', '/api/v1/openapi.json');
    assert.equal(openApi.status, 200);
    ({ targets, undocumented, undeclaredForms } = buildTargets(declaredRoutes(), openApi.body));
    ctx = {
      initiative: await currentInitiative(c),
      tokens: { admin: admin.token, company: companyToken },
      sessionCsrf: {
        admin: csrfTokenFor(admin.token, c.secret),
        company: csrfTokenFor(companyToken, c.secret),
      },
      anonymousCsrf: { cookie: csrfCookie, token: csrfToken },
      known: {
        id: [active.id, signed.body.id as string, new Types.ObjectId().toHexString()],
        serial: [cert!.serial, `${cert!.serial}x`],
        version: ['1', '2', '3'],
      },
      certificatePdf: pdf!.body,
    };
  });

  after(async function () {
    this.timeout(30_000);
    await cluster?.stop();
  });

  it('when a route is declared under /api/v1, then the OpenAPI document describes it', () => {
    assert.deepEqual(undocumented, []);
  });

  it('when the site has a form, then the fuzz suite declares its fields', () => {
    assert.deepEqual(undeclaredForms, []);
    assert.ok(targets.some((t) => t.form) && targets.some((t) => t.api));
  });

  it(`when ${RUNS} generated requests hit every route, then each gets an answer < 500 in time and the server stays up`, async function () {
    this.timeout(BUDGET_MS === Infinity ? 0 : BUDGET_MS + 120_000);
    const c = cluster!;
    const failures = new Map<string, Failure>();
    const crashedRoutes = new Set<string>();
    const started = Date.now();
    let sent = 0;
    let skipped = 0;
    let restarts = 0;
    let slowestHealth = 0;
    const perTarget = Math.max(1, Math.ceil(RUNS / targets.length));
    const fail = (sig: string, k: FuzzCase, base: URL, detail: string) => {
      const f = failures.get(sig);
      if (f) f.count += 1;
      else failures.set(sig, { signature: sig, count: 1, curl: curlOf(base, k.request), detail });
    };

    const runCase = async (k: FuzzCase): Promise<void> => {
      const route = `${k.target.method} ${k.target.path}`;
      if (
        Date.now() - started > BUDGET_MS ||
        (restarts >= MAX_RESTARTS && crashedRoutes.has(route))
      ) {
        skipped += 1;
        return;
      }
      const base = new URL(c.url());
      const res = await send(base, k.request, ANSWER_MS);
      sent += 1;
      const where = `${k.request.method} ${k.target.path}`;
      const snippet = `${res.body.subarray(0, 300).toString('utf8')}${res.error ? ` (${res.error})` : ''}`;
      if (res.status >= 500) fail(`${where} → ${res.status}`, k, base, snippet);
      else if (res.status === 0 && res.error?.includes('within'))
        fail(`${where} → no answer within ${ANSWER_MS} ms`, k, base, snippet);
      else if (k.mustReject && res.status > 0 && (res.status < 400 || res.status >= 500))
        fail(`${where} → ${res.status} (accepted ${k.mustReject})`, k, base, snippet);
      const health = await send(
        base,
        { method: 'GET', target: '/healthz', headers: [] },
        HEALTH_MS,
      );
      if (health.status === 200) {
        slowestHealth = Math.max(slowestHealth, health.ms);
        return;
      }
      const gone = () => c.app.child.exitCode !== null || c.app.child.signalCode !== null;
      // A crashing process may still be writing its last words: give it a moment to exit.
      for (let i = 0; i < 20 && !gone(); i++) await new Promise((r) => setTimeout(r, 50));
      const exited = gone();
      fail(
        `${where} → ${exited ? 'process died' : '/healthz did not answer'}`,
        k,
        base,
        `${snippet}\n--- app log tail ---\n${c.app.log().slice(-1500)}`,
      );
      crashedRoutes.add(route);
      restarts += 1;
      await c.killApp();
      await c.startApp();
    };

    for (const [i, t] of targets.entries()) {
      await fc.assert(
        fc.asyncProperty(requestFor(t, ctx), async (k) => {
          await runCase(k);
          // Sign-out routes may end the sessions the generators use: sign in again.
          if (/logout|sign-?out/.test(t.path) && k.identity !== 'anonymous')
            await refreshSessions(c, ctx, companyEmail);
          return true;
        }),
        { seed: SEED + i, numRuns: perTarget, endOnFailure: true },
      );
    }

    const list = [...failures.values()].sort((a, b) => a.signature.localeCompare(b.signature));
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(
      `fuzz: ${sent} requests to ${targets.length} routes in ${seconds} s (seed ${SEED}, ${perTarget} per route), ` +
        `${skipped} skipped, ${restarts} restarts, slowest /healthz ${slowestHealth} ms, ${list.length} distinct failures`,
    );
    if (skipped)
      console.log(`fuzz: WARNING ${skipped} cases skipped (time budget or repeated crashes)`);
    const report = list
      .map(
        (f) =>
          `  ${f.signature}  ×${f.count}\n    ${f.curl}\n    ${f.detail.replace(/\n/g, '\n    ').slice(0, 1200)}`,
      )
      .join('\n');
    if (list.length) console.log(report);
    assert.deepEqual(
      list.map((f) => f.signature),
      [],
      `${list.length} distinct failures (reproduce with the curl lines above)`,
    );
  });
});

/** Signs the fuzzer's admin and company in again (a fuzzed sign-out may have ended them). */
async function refreshSessions(c: Cluster, ctx: FuzzContext, companyEmail: string): Promise<void> {
  const probe = async (token: string, path: string) =>
    (await httpJson(c.url(), 'GET', path, { token })).status !== 401;
  if (!(await probe(ctx.tokens.admin, '/api/v1/admin/accounts'))) {
    ctx.tokens.admin = (await adminSession(c)).token;
    ctx.sessionCsrf.admin = csrfTokenFor(ctx.tokens.admin, c.secret);
  }
  if (!(await probe(ctx.tokens.company, '/api/v1/me/pledge'))) {
    ctx.tokens.company = await companySession(c, companyEmail);
    ctx.sessionCsrf.company = csrfTokenFor(ctx.tokens.company, c.secret);
  }
}
