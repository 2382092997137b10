/**
 * Fault rounds (issue #10): mixed load on the registry (signings, confirmations, approvals,
 * corrections, revocations, exports) while the app or the standalone store is killed with
 * SIGKILL and started again at once; then the invariants. Run by the mocha test (3 rounds each)
 * and `npm run soak` (20+ rounds each).
 *
 * The client keeps a log of every write the server acknowledged (2xx fully received). After
 * each round: every acknowledged write is in the database, sequence numbers have no gap and no
 * repeat (numbers held by interrupted activations count as held), founding numbers follow them,
 * at most one open pledge per USCC, at most one valid certificate per pledge, and the audit
 * chain verifies. At the end, once background work has settled: no activation left half-done,
 * every queued mail sent, every active pledge with exactly one valid certificate, every event
 * sealed into the chain.
 */
import { randomInt } from 'node:crypto';
import mongoose, { Types } from 'mongoose';
import { Certificate } from '../../models/certificate';
import { Counter } from '../../models/counter';
import { Event } from '../../models/event';
import { ExportRecord } from '../../models/export';
import { Outbox } from '../../models/outbox';
import { OPEN_STATUSES, Pledge, PledgeStatus, type PledgeDoc } from '../../models/pledge';
import { verifyChain } from '../../src/audit/chain';
import { recoverActivations, SEQUENCE_COUNTER } from '../../src/pledges/activation';
import { fixtureCompany, type FixtureCompany } from '../fixtures/companies';
import { httpJson, type JsonResponse } from '../helpers/app-process';
import { uploadLetterOverHttp } from '../helpers/pledges';
import { decodeMail, tokenFromMail } from '../helpers/smtp';
import { adminSession, signBody, startCluster, type Cluster } from './cluster';

export type FaultKind = 'app' | 'store';

export type Ack =
  | { op: 'sign'; id: string; uscc: string; email: string }
  | { op: 'confirm'; id: string }
  | { op: 'approve'; id: string; sequence: number; foundingNumber: number | null }
  | { op: 'correct'; id: string; name: string }
  | { op: 'revoke'; id: string; serial: string }
  | { op: 'export'; exportId: string };

export interface FaultReport {
  rounds: Record<FaultKind, number>;
  /** Rounds whose invariants all held after the kill and restart. */
  survived: Record<FaultKind, number>;
  requests: number;
  acknowledged: number;
  /** Acknowledged writes not found afterwards. */
  lost: number;
  violations: string[];
  /** Worst time from SIGKILL to the restarted process answering, per kind (ms). */
  worstRestartMs: Record<FaultKind, number>;
  seconds: number;
}

export interface FaultOptions {
  appRounds: number;
  storeRounds: number;
  /** How long load runs before and after each kill (ms, each drawn between the bounds). */
  beforeMs?: [number, number];
  afterMs?: [number, number];
  /**
   * Finish interrupted activations at the end without waiting out the app's 60 s claim age
   * (the app's own recovery function, run with age 0 once the load has stopped).
   */
  recoverNow?: boolean;
  log?: (line: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const between = ([a, b]: [number, number]) => a + randomInt(Math.max(1, b - a + 1));

/** A request that gives up after `ms` (a hung request is simply not acknowledged). */
async function call(
  c: Cluster,
  method: 'GET' | 'POST',
  path: string,
  opts: { body?: unknown; token?: string } = {},
  ms = 20_000,
): Promise<JsonResponse | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      httpJson(c.url(), method, path, opts),
      new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms))),
    ]);
  } catch {
    return undefined; // connection refused or reset: the process is down or was killed mid-answer
  } finally {
    clearTimeout(timer);
  }
}

/** The mixed load: a few actors, each moving pledges one step along, logging what was acknowledged. */
class Load {
  readonly acks: Ack[] = [];
  requests = 0;
  private stopped = true;
  private running: Promise<void>[] = [];
  private next = 0;
  private readonly signed: Array<{ id: string; company: FixtureCompany; tries: number }> = [];
  private readonly confirmed: Array<{ id: string; tries: number }> = [];
  private readonly active: Array<{ id: string; tries: number }> = [];
  private readonly tokens = new Map<string, string>();
  private scanned = 0;

  constructor(
    private readonly c: Cluster,
    private readonly admin: string,
    private readonly tag: number,
  ) {}

  start(): void {
    this.stopped = false;
    const actors: Array<() => Promise<void>> = [
      () => this.sign(),
      () => this.sign(),
      () => this.confirm(),
      () => this.confirm(),
      () => this.approve(),
      () => this.approve(),
      () => this.revise(),
      () => this.exportOnce(),
    ];
    this.running = actors.map(async (step) => {
      while (!this.stopped) {
        const before = this.requests;
        // This process reads the store too (to pick a certificate): that fails while it is down.
        await step().catch(() => sleep(100));
        // Idle (nothing to do) or failing (process down): do not spin.
        if (this.requests === before) await sleep(50);
      }
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.running);
  }

  private async req(
    method: 'GET' | 'POST',
    path: string,
    opts: { body?: unknown; token?: string } = {},
  ) {
    this.requests += 1;
    const r = await call(this.c, method, path, opts);
    if (!r || r.status >= 500) await sleep(100);
    return r;
  }

  private async sign(): Promise<void> {
    const company = fixtureCompany(this.next++, this.tag);
    const init = await this.req('GET', '/api/v1/initiative');
    if (init?.status !== 200) return;
    const r = await this.req('POST', '/api/v1/pledges', {
      body: signBody(company, { version: init.body.version, sha256: init.body.sha256 }),
    });
    if (r?.status !== 201) return;
    this.acks.push({ op: 'sign', id: r.body.id, uscc: company.uscc, email: company.email });
    this.signed.push({ id: r.body.id, company, tries: 0 });
  }

  private confirmationToken(email: string): string | undefined {
    const mails = this.c.smtp.received;
    for (; this.scanned < mails.length; this.scanned++) {
      const m = mails[this.scanned];
      if (/confirm\?token=/.test(decodeMail(m.raw)))
        for (const to of m.to)
          if (!this.tokens.has(to)) this.tokens.set(to, tokenFromMail(m, '/confirm'));
    }
    return this.tokens.get(email);
  }

  private async confirm(): Promise<void> {
    const i = this.signed.findIndex((s) => this.confirmationToken(s.company.email));
    if (i < 0) return;
    const [p] = this.signed.splice(i, 1);
    const token = this.tokens.get(p.company.email)!;
    // Confirming needs the letter first; an upload cut off by a kill is simply tried again.
    this.requests += 1;
    const letter = await uploadLetterOverHttp(this.c.url(), p.id, token).catch(() => 0);
    if (letter !== 201) {
      if (++p.tries < 5) this.signed.push(p);
      await sleep(100);
      return;
    }
    const r = await this.req('POST', '/api/v1/pledges/confirm', { body: { token } });
    if (r?.status === 200) {
      this.acks.push({ op: 'confirm', id: p.id });
      this.confirmed.push({ id: p.id, tries: 0 });
    } else if ((!r || r.status >= 500) && ++p.tries < 5) this.signed.push(p); // not answered: try again
  }

  private async approve(): Promise<void> {
    const p = this.confirmed.shift();
    if (!p) return;
    const r = await this.req('POST', `/api/v1/admin/pledges/${p.id}/approve`, {
      token: this.admin,
      body: { evidenceChecked: true },
    });
    if (r?.status === 200) {
      this.acks.push({
        op: 'approve',
        id: p.id,
        sequence: r.body.sequence,
        foundingNumber: r.body.foundingNumber,
      });
      this.active.push({ id: p.id, tries: 0 });
    } else if ((!r || r.status >= 500) && ++p.tries < 5) this.confirmed.push(p);
  }

  /** Corrects or revokes an active pledge (each pledge at most once, so the last word is known). */
  private async revise(): Promise<void> {
    const p = this.active.shift();
    if (!p) return;
    if (this.next % 2 === 0) {
      const name = `更正示例${p.id.slice(-6)}有限公司`;
      const r = await this.req('POST', `/api/v1/admin/pledges/${p.id}/correct`, {
        token: this.admin,
        body: { name, reason: '故障测试：名称更正' },
      });
      if (r?.status === 200) this.acks.push({ op: 'correct', id: p.id, name });
      return;
    }
    const cert = await Certificate.findOne({
      pledge: new Types.ObjectId(p.id),
      status: 'valid',
    }).lean<{ serial: string }>();
    if (!cert) {
      if (++p.tries < 50) this.active.push(p); // not issued yet
      return;
    }
    const r = await this.req('POST', `/api/v1/admin/certificates/${cert.serial}/revoke`, {
      token: this.admin,
      body: { reason: '故障测试：撤销' },
    });
    if (r?.status === 200) this.acks.push({ op: 'revoke', id: p.id, serial: cert.serial });
  }

  private async exportOnce(): Promise<void> {
    const r = await this.req('GET', '/api/v1/admin/exports/signatories.csv?status=all', {
      token: this.admin,
    });
    const id = r?.headers['x-export-id'];
    if (r?.status === 200 && typeof id === 'string') this.acks.push({ op: 'export', exportId: id });
    await sleep(300);
  }
}

/** Acknowledged writes that are not in the database (each as a sentence). */
export async function lostWrites(acks: Ack[]): Promise<string[]> {
  const ids = [...new Set(acks.flatMap((a) => ('id' in a ? [a.id] : [])))].map(
    (id) => new Types.ObjectId(id),
  );
  const pledges = new Map(
    (await Pledge.find({ _id: { $in: ids } }).lean<PledgeDoc[]>()).map((p) => [String(p._id), p]),
  );
  const exportIds = acks.flatMap((a) =>
    a.op === 'export' ? [new Types.ObjectId(a.exportId)] : [],
  );
  const exports = new Set(
    (await ExportRecord.find({ _id: { $in: exportIds } }, { _id: 1 }).lean()).map((e) =>
      String(e._id),
    ),
  );
  const lost: string[] = [];
  const reached = (p: PledgeDoc, s: PledgeStatus) => p.history.some((h) => h.to === s);
  for (const a of acks) {
    if (a.op === 'export') {
      if (!exports.has(a.exportId)) lost.push(`export ${a.exportId}: no manifest`);
      continue;
    }
    const p = pledges.get(a.id);
    if (!p) {
      lost.push(`${a.op} ${a.id}: pledge missing`);
      continue;
    }
    if (a.op === 'sign' && p.uscc !== a.uscc)
      lost.push(`sign ${a.id}: USCC ${p.uscc}, acknowledged ${a.uscc}`);
    if (a.op === 'confirm' && !reached(p, PledgeStatus.PendingReview))
      lost.push(`confirm ${a.id}: never pending_review (${p.status})`);
    if (a.op === 'approve' && (p.sequence !== a.sequence || !reached(p, PledgeStatus.Active)))
      lost.push(
        `approve ${a.id}: sequence ${p.sequence} status ${p.status}, acknowledged ${a.sequence}`,
      );
    if (a.op === 'approve' && (p.foundingNumber ?? null) !== a.foundingNumber)
      lost.push(
        `approve ${a.id}: founding number ${p.foundingNumber}, acknowledged ${a.foundingNumber}`,
      );
    if (a.op === 'correct' && p.companyName !== a.name)
      lost.push(`correct ${a.id}: name ${p.companyName}, acknowledged ${a.name}`);
    if (a.op === 'revoke') {
      const cert = await Certificate.findOne({ serial: a.serial }).lean<{ status: string }>();
      if (p.status !== PledgeStatus.Revoked || cert?.status !== 'revoked')
        lost.push(`revoke ${a.id}: pledge ${p.status}, certificate ${cert?.status}`);
    }
  }
  return lost;
}

/** Invariants that hold at any quiet moment, even with activations or issuing still pending. */
export async function checkInvariants(opts: { settled: boolean }): Promise<string[]> {
  const out: string[] = [];
  const numbered = await Pledge.find(
    { sequence: { $exists: true } },
    { sequence: 1, foundingNumber: 1, status: 1 },
  ).lean<PledgeDoc[]>();
  const counter = (await Counter.collection.findOne({
    _id: SEQUENCE_COUNTER as never,
  })) as unknown as { seq: number; inflight?: Array<{ seq: number; pledge: unknown }> } | null;
  const top = counter?.seq ?? 0;
  const seqs = numbered.map((p) => p.sequence!);
  if (new Set(seqs).size !== seqs.length)
    out.push(
      `a sequence number was given twice: ${seqs.filter((s, i) => seqs.indexOf(s) !== i).join(', ')}`,
    );
  const held = new Set([...seqs, ...(counter?.inflight ?? []).map((r) => r.seq)]);
  const missing: number[] = [];
  for (let n = 1; n <= top; n++) if (!held.has(n)) missing.push(n);
  if (missing.length)
    out.push(`sequence numbers lost (neither given nor held): ${missing.slice(0, 20).join(', ')}`);
  if (seqs.some((s) => s > top)) out.push(`a pledge has a sequence above the counter (${top})`);
  for (const p of numbered) {
    const want = p.sequence! <= 100 ? p.sequence : undefined;
    if (p.foundingNumber !== want)
      out.push(
        `pledge ${String(p._id)}: sequence ${p.sequence}, founding number ${p.foundingNumber}`,
      );
  }
  const open = await Pledge.aggregate<{ _id: string; n: number }>([
    { $match: { status: { $in: OPEN_STATUSES } } },
    { $group: { _id: '$uscc', n: { $sum: 1 } } },
    { $match: { n: { $gt: 1 } } },
  ]);
  for (const o of open) out.push(`USCC ${o._id} has ${o.n} open pledges`);
  const valid = await Certificate.aggregate<{ _id: unknown; n: number }>([
    { $match: { status: 'valid' } },
    { $group: { _id: '$pledge', n: { $sum: 1 } } },
  ]);
  for (const v of valid)
    if (v.n > 1) out.push(`pledge ${String(v._id)} has ${v.n} valid certificates`);
  const chain = await verifyChain();
  if (!chain.ok) out.push(`audit chain broken at ${chain.brokenAt}`);
  if (opts.settled) {
    if (counter?.inflight?.length)
      out.push(`${counter.inflight.length} sequence reservations still held`);
    const activating = await Pledge.countDocuments({ status: PledgeStatus.Activating });
    if (activating) out.push(`${activating} pledges still activating`);
    // Mail queued for a state change that never happened (the process died between queueing it
    // and the write) waits for its record, then is dropped (src/mail/sender.ts); never sent.
    const unsent = await Outbox.find(
      { status: { $in: ['pending', 'sending'] } },
      { status: 1, attempts: 1, lastError: 1, nextAttemptAt: 1, requires: 1, createdAt: 1 },
    ).lean();
    const stuck = [];
    for (const m of unsent) {
      const r = m.requires as { collection?: string; id?: Types.ObjectId } | undefined;
      const orphan =
        r?.collection &&
        r.id &&
        (await mongoose.connection
          .db!.collection(r.collection)
          .countDocuments({ _id: r.id }, { limit: 1 })) === 0;
      if (!orphan) stuck.push(m);
    }
    if (stuck.length)
      out.push(`${stuck.length} mails not sent, e.g. ${JSON.stringify(stuck.slice(0, 3))}`);
    const unsealed = await Event.countDocuments({ unsealed: true });
    if (unsealed) out.push(`${unsealed} audit events not sealed`);
    // Events and mail carried in pledge writes must have been moved to the log and the outbox.
    const carrying = await Pledge.countDocuments({
      $or: [{ 'pendingEvents._id': { $exists: true } }, { 'mail._id': { $exists: true } }],
    });
    if (carrying) out.push(`${carrying} pledges still carry audit events or mail`);
    const validBy = new Map(valid.map((v) => [String(v._id), v.n]));
    const active = await Pledge.find({ status: PledgeStatus.Active }, { _id: 1 }).lean();
    for (const p of active) {
      if (validBy.get(String(p._id)) === 1) continue;
      // What a reader needs to tell a slow issuer from a lost one.
      const pledge = await Pledge.findById(p._id).lean<PledgeDoc & Record<string, unknown>>();
      const certs = await Certificate.find(
        { pledge: p._id },
        { serial: 1, status: 1, history: 1 },
      ).lean();
      const { history, ...rest } = pledge ?? ({} as Record<string, unknown>);
      out.push(
        `active pledge ${String(p._id)} has ${validBy.get(String(p._id)) ?? 0} valid certificates ` +
          JSON.stringify({
            pledge: {
              ...rest,
              signatory: undefined,
              lastHistory: (history as unknown[] | undefined)?.slice(-2),
            },
            certificates: certs,
          }),
      );
    }
    const activeIds = new Set(active.map((p) => String(p._id)));
    for (const v of valid)
      if (!activeIds.has(String(v._id)))
        out.push(`pledge ${String(v._id)} is not active but has a valid certificate`);
  }
  return out;
}

/** Every acknowledged signing got its confirmation mail. */
function missingMails(c: Cluster, acks: Ack[]): string[] {
  const mailed = new Set(
    c.smtp.received.filter((m) => /confirm\?token=/.test(decodeMail(m.raw))).flatMap((m) => m.to),
  );
  return acks.flatMap((a) =>
    a.op === 'sign' && !mailed.has(a.email) ? [`no confirmation mail to ${a.email}`] : [],
  );
}

async function until(what: () => Promise<string[]>, deadlineMs: number): Promise<string[]> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const v = await what();
    if (v.length === 0 || Date.now() > deadline) return v;
    await sleep(500);
  }
}

async function healthy(c: Cluster, deadlineMs = 60_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while ((await call(c, 'GET', '/readyz', {}, 2000))?.status !== 200) {
    if (Date.now() > deadline)
      throw new Error(
        `the app did not get ready within ${deadlineMs} ms:\n${c.app.log().slice(-3000)}`,
      );
    await sleep(100);
  }
}

export async function runFaultRounds(opts: FaultOptions): Promise<FaultReport> {
  const log = opts.log ?? (() => undefined);
  const started = Date.now();
  const c = await startCluster({ persistent: true });
  const report: FaultReport = {
    rounds: { app: 0, store: 0 },
    survived: { app: 0, store: 0 },
    requests: 0,
    acknowledged: 0,
    lost: 0,
    violations: [],
    worstRestartMs: { app: 0, store: 0 },
    seconds: 0,
  };
  try {
    const admin = await adminSession(c);
    const lostSeen = new Set<string>();
    const fatal: string[] = [];
    const fatalLines = () =>
      c.app
        .log()
        .split('\n')
        .filter((l) => /"level":60|uncaught|unhandled/i.test(l));
    const load = new Load(c, admin.token, 800 + (process.pid % 150));
    const plan: FaultKind[] = [
      ...Array<FaultKind>(opts.appRounds).fill('app'),
      ...Array<FaultKind>(opts.storeRounds).fill('store'),
    ];
    for (const [i, kind] of plan.entries()) {
      load.start();
      await sleep(between(opts.beforeMs ?? [800, 2000]));
      const killedAt = Date.now();
      if (kind === 'app') {
        fatal.push(...fatalLines());
        await c.killApp();
        await c.startApp();
      } else {
        await c.killStore();
        await c.startStore();
      }
      await healthy(c);
      const restartMs = Date.now() - killedAt;
      report.worstRestartMs[kind] = Math.max(report.worstRestartMs[kind], restartMs);
      await sleep(between(opts.afterMs ?? [500, 1500]));
      await load.stop();
      report.rounds[kind] += 1;
      const lost = await lostWrites(load.acks);
      for (const l of lost) lostSeen.add(l);
      const broken = await checkInvariants({ settled: false });
      const problems = [...lost, ...broken].map((v) => `round ${i + 1} (kill -9 ${kind}): ${v}`);
      if (problems.length === 0) report.survived[kind] += 1;
      report.violations.push(...problems);
      log(
        `round ${i + 1}/${plan.length} kill -9 ${kind}: back in ${restartMs} ms, ${load.acks.length} acknowledged so far, ${problems.length ? problems.join('; ') : 'invariants hold'}`,
      );
    }
    if (opts.recoverNow) await recoverActivations(0);
    // Interrupted activations wait out a 60 s claim age (and the 60 s recovery pass); held mail 30 s.
    const settled = await until(
      async () => [...(await checkInvariants({ settled: true })), ...missingMails(c, load.acks)],
      opts.recoverNow ? 90_000 : 180_000,
    );
    report.violations.push(...settled.map((v) => `after settling: ${v}`));
    const lost = await lostWrites(load.acks);
    report.violations.push(...lost.map((v) => `after settling: ${v}`));
    for (const l of lost) lostSeen.add(l);
    report.lost = lostSeen.size;
    report.requests = load.requests;
    report.acknowledged = load.acks.length;
    fatal.push(...fatalLines());
    report.violations.push(...fatal.map((l) => `fatal log line: ${l.slice(0, 300)}`));
    log(
      `settled: ${settled.length ? settled.join('; ') : 'all mail sent, all certificates issued, chain sealed and intact'}`,
    );
  } finally {
    report.seconds = Math.round((Date.now() - started) / 1000);
    await c.stop();
  }
  return report;
}
