/**
 * The log under kill -9: app processes on one standalone store activate and revoke while the
 * test polls the served checkpoint; the app is killed mid-way and started again beside a second
 * instance. Afterwards every state change in the database is in the log exactly once, nothing
 * is logged that did not happen (bar the issue of a certificate still being finished), and the
 * final log is consistent with every checkpoint served before, during and after the crash.
 */
import assert from 'node:assert/strict';
import { Certificate, CertificateStatus, type CertificateDoc } from '../../models/certificate';
import { Pledge, PledgeStatus, type PledgeDoc } from '../../models/pledge';
import { LogCheckpoint, LogEntryRecord } from '../../models/transparency-log';
import {
  decodeEntry,
  leafHash,
  openCheckpoint,
  parseVerifierKey,
  rootFromLeafHashes,
} from '../../src/tlog';
import { bytes } from '../../src/transparency/store';
import { adminSession, startCluster, type Cluster } from '../faults/cluster';
import { httpJson, startAppProcess, type AppProcess } from '../helpers/app-process';
import { insertPledge } from '../helpers/use-cases';
import http from 'node:http';

function getText(url: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve) => {
    http
      .get(url, (res) => {
        let s = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (s += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: s }));
        res.on('error', () => resolve({ status: 0, text: '' }));
      })
      .on('error', () => resolve({ status: 0, text: '' }));
  });
}

const keyOf = (e: ReturnType<typeof decodeEntry>): string =>
  'serial' in e
    ? `${e.type}:${e.serial}`
    : e.type === 'pledge.activated'
      ? `${e.type}:${e.sequence}`
      : `${e.type}:${e.initiative.version}`;

describe('transparency log under kill -9 and two instances (test/transparency/crash.test.ts)', function () {
  this.timeout(240_000);
  let c: Cluster;
  let second: AppProcess | null = null;
  before(async function () {
    this.timeout(120_000);
    c = await startCluster();
  });
  after(async function () {
    this.timeout(60_000);
    await second?.stop();
    await c?.stop();
  });

  it('when the app is killed mid activations and revocations and restarted beside a second instance, then each change is logged once and every served checkpoint stays consistent', async () => {
    const admin = (await adminSession(c)).token;
    const vkeyText = (await getText(`${c.url()}/log/vkey`)).text.trim();
    const vkey = parseVerifierKey(vkeyText);
    const ids: string[] = [];
    for (let i = 0; i < 80; i++) ids.push(String(await insertPledge(PledgeStatus.PendingReview)));

    const served = new Map<number, Buffer>();
    let urls = [c.url()];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        for (const u of urls) {
          const r = await getText(`${u}/log/checkpoint`);
          if (r.status === 200) {
            const cp = openCheckpoint(r.text, vkey);
            const had = served.get(cp.size);
            if (had) assert.deepEqual(had, cp.rootHash, `two roots served for size ${cp.size}`);
            served.set(cp.size, cp.rootHash);
          }
        }
        await new Promise((res) => setTimeout(res, 30));
      }
    })();

    const approve = (base: () => string, id: string) =>
      httpJson(base(), 'POST', `/api/v1/admin/pledges/${id}/approve`, {
        token: admin,
        body: { evidenceChecked: true },
      }).catch(() => null);
    const revokeSome = async (base: () => string, n: number) => {
      const valid = await Certificate.find({ status: CertificateStatus.Valid })
        .limit(n)
        .lean<CertificateDoc[]>();
      await Promise.all(
        valid.map((v) =>
          httpJson(base(), 'POST', `/api/v1/admin/certificates/${v.serial}/revoke`, {
            token: admin,
            body: { reason: 'crash test', reasonCode: 'other' },
          }).catch(() => null),
        ),
      );
    };

    // Phase 1: approvals and revocations on one instance, killed part-way.
    const phase1 = (async () => {
      for (let i = 0; i < 50; i += 10) {
        await Promise.all(ids.slice(i, i + 10).map((id) => approve(c.url, id)));
        await revokeSome(c.url, 3);
      }
    })();
    await new Promise((res) => setTimeout(res, 1500));
    await c.killApp();
    await phase1;

    // Phase 2: restart, and a second instance on the same store.
    await c.startApp();
    second = await startAppProcess(c.env, 60_000);
    urls = [c.url(), second.url];
    const bases = [() => c.url(), () => second!.url];
    const rest = (
      await Pledge.find({ status: PledgeStatus.PendingReview }).lean<PledgeDoc[]>()
    ).map((p) => String(p._id));
    await Promise.all(rest.map((id, i) => approve(bases[i % 2], id)));
    for (
      let i = 0;
      i < 300 && !(await Certificate.exists({ status: CertificateStatus.Valid }));
      i++
    )
      await new Promise((res) => setTimeout(res, 100));
    await revokeSome(bases[1], 5);

    // Settle: every stored change has its entry.
    const expectedKeys = async (): Promise<Set<string>> => {
      const keys = new Set<string>(['initiative.published:1']);
      for (const p of await Pledge.find({ sequence: { $exists: true } }).lean<PledgeDoc[]>())
        keys.add(`pledge.activated:${p.sequence}`);
      for (const cert of await Certificate.find({}).lean<CertificateDoc[]>()) {
        keys.add(`certificate.issued:${cert.serial}`);
        if (cert.status !== CertificateStatus.Valid)
          keys.add(`certificate.${cert.status}:${cert.serial}`);
      }
      return keys;
    };
    const deadline = Date.now() + 60_000;
    let logged: string[] = [];
    let expected: Set<string>;
    for (;;) {
      const entries = await LogEntryRecord.find({}).sort({ _id: 1 }).lean();
      logged = entries.map((e) => keyOf(decodeEntry(bytes(e.data))));
      expected = await expectedKeys();
      const top = await LogCheckpoint.findOne({}).sort({ _id: -1 }).lean();
      if ([...expected].every((k) => logged.includes(k)) && top?._id === entries.length) break;
      if (Date.now() > deadline)
        assert.fail(
          `not settled: missing ${[...expected].filter((k) => !logged.includes(k)).join(', ')}`,
        );
      await new Promise((res) => setTimeout(res, 200));
    }
    await new Promise((res) => setTimeout(res, 300));
    polling = false;
    await poller;

    // Exactly once, and nothing that did not happen (a certificate still being issued may be logged first).
    assert.equal(new Set(logged).size, logged.length, 'no entry twice');
    const finishing = new Set(
      (await Pledge.find({ pendingSerial: { $exists: true } }).lean<PledgeDoc[]>()).map(
        (p) => `certificate.issued:${p.pendingSerial}`,
      ),
    );
    // Read after `finishing`: an issue finished in between is then a stored certificate.
    expected = await expectedKeys();
    for (const k of logged)
      assert.ok(expected.has(k) || finishing.has(k), `logged but did not happen: ${k}`);
    const activated = await Pledge.countDocuments({ sequence: { $exists: true } });
    assert.ok(activated >= 50, `activations happened (${activated})`);
    assert.ok(
      logged.some((k) => k.startsWith('certificate.revoked:')),
      'revocations happened',
    );

    // Every checkpoint served (HTTP) and stored is a prefix of the final log.
    const leaves = (await LogEntryRecord.find({}).sort({ _id: 1 }).lean()).map((e) =>
      leafHash(bytes(e.data)),
    );
    assert.ok(served.size > 3, `checkpoints were served (${served.size})`);
    for (const [size, root] of served)
      assert.deepEqual(
        rootFromLeafHashes(leaves.slice(0, size)),
        root,
        `served checkpoint ${size}`,
      );
    for (const cp of await LogCheckpoint.find({}).lean())
      assert.deepEqual(
        rootFromLeafHashes(leaves.slice(0, cp._id)),
        bytes(cp.root),
        `stored checkpoint ${cp._id}`,
      );
  });
});
