import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Server } from 'node:http';
import request from 'supertest';
import { LogEntryRecord } from '../../models/transparency-log';
import { decodeEntry, encodeEntry, leafHash } from '../../src/tlog';
import { auditLog, type MonitorReport } from '../../src/transparency/monitor';
import { bytes } from '../../src/transparency/store';
import { main } from '../../scripts/log-audit';
import { activePledge } from '../helpers/pledges';
import { useRegistry } from '../helpers/registry';
import mongoose from 'mongoose';
import { PassThrough } from 'node:stream';

const sink = () => new PassThrough().resume();
const audit = (args: string[]) => main(args, sink(), sink());

describe('log monitor (src/transparency/monitor.ts, npm run log:audit)', function () {
  this.timeout(90_000);
  const r = useRegistry();
  let server: Server;
  let url: string;
  before(async () => {
    server = r.app.listen(0);
    await new Promise((res) => server.once('listening', res));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise((res) => server.close(res)));

  /** Audits until the registry has settled (certificates issued, caches expired), up to 15 s. */
  async function settledAudit(): Promise<MonitorReport> {
    const until = Date.now() + 15_000;
    for (;;) {
      const rep = await auditLog({ url });
      if (rep.differences.length === 0 || Date.now() > until) return rep;
      await new Promise((res) => setTimeout(res, 300));
    }
  }

  it('when the log is honest, then the audit finds no difference and recomputes founders, valid certificates and revocations from the log alone; when an entry is rewritten in the database, then it is caught', async () => {
    const admin = (await r.makeAdmin()).token;
    const pledges = [];
    for (let i = 0; i < 4; i++) pledges.push(await activePledge(r, admin));
    let certs: Array<{ serial: string }> = [];
    for (let i = 0; i < 300 && certs.length < 4; i++) {
      certs = (await mongoose.connection
        .db!.collection('certificates')
        .find({})
        .toArray()) as unknown as Array<{ serial: string }>;
      if (certs.length < 4) await new Promise((res) => setTimeout(res, 50));
    }
    await request(r.app)
      .post(`/api/v1/admin/certificates/${certs[0].serial}/revoke`)
      .set('Authorization', `Bearer ${admin}`)
      .send({ reason: 'Test revocation', reasonCode: 'other' })
      .expect(200);

    const clean = await settledAudit();
    assert.deepEqual(clean.differences, []);
    assert.deepEqual(
      clean.founders.map((f) => f.uscc),
      pledges.map((p) => p.body.company.uscc),
    );
    assert.equal(clean.activeCertificates, 3);
    assert.deepEqual(clean.revoked, [certs[0].serial]);

    // The CLI keeps the state and says OK.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'log-audit-'));
    const stateFile = path.join(dir, 'state.json');
    assert.equal(await audit(['--url', url, '--state', stateFile]), 0);
    const state = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
    assert.equal(state.size, clean.size);

    // Rewrite founder 2's activation to name founder 1's company, hash and all.
    const rows = await LogEntryRecord.find({}).sort({ _id: 1 }).lean();
    const target = rows.find((e) => {
      const d = decodeEntry(bytes(e.data));
      return d.type === 'pledge.activated' && d.foundingNumber === 2;
    })!;
    const forged = { ...decodeEntry(bytes(target.data)), uscc: pledges[0].body.company.uscc };
    const data = encodeEntry(forged as never);
    await LogEntryRecord.updateOne({ _id: target._id }, { $set: { data, hash: leafHash(data) } });

    const caught = await auditLog({ url, state });
    assert.ok(caught.differences.length > 0);
    assert.ok(
      caught.differences.some((d) => /rewritten|does not match|root/.test(d)),
      caught.differences.join('\n'),
    );
    assert.ok(
      caught.differences.some((d) => /founder 2/.test(d)),
      caught.differences.join('\n'),
    );
    assert.deepEqual(caught.state, state, 'the state does not move on to a bad log');
    assert.equal(await audit(['--url', url, '--state', stateFile]), 1);
    assert.deepEqual(JSON.parse(fs.readFileSync(stateFile, 'utf8')), state);
  });

  it('when the command line is wrong, then exit code 2', async () => {
    assert.equal(await audit([]), 2);
    assert.equal(
      await audit(['--url', 'http://127.0.0.1:1', '--state', path.join(os.tmpdir(), 'none.json')]),
      2,
    );
  });
});
