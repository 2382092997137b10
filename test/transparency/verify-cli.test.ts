/**
 * `npm run verify` (scripts/verify.ts, as a child process) on a certificate the registry issued:
 * offline with the saved key set, with a saved status list before and after a revocation, online
 * against the running registry (status list, newest checkpoint and consistency proof), and with a
 * tampered log-proof.json.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import type http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import mongoose from 'mongoose';
import {
  PDFArray,
  PDFDict,
  PDFDocument,
  PDFName,
  PDFString,
  PDFHexString,
  type PDFRef,
} from 'pdf-lib';
import request from 'supertest';
import { LOG_PROOF_FILENAME } from '../../certificates';
import { findAttachment } from '../../certificates/credential';
import { activePledge } from '../helpers/pledges';
import { useRegistry } from '../helpers/registry';

const ROOT = path.resolve(__dirname, '../..');

function verifyCli(
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--require', 'tsx/cjs', path.join(ROOT, 'scripts', 'verify.ts'), ...args],
      { cwd: ROOT, env: { ...process.env, NODE_ENV: 'test' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function certificateOf(pledgeId: string): Promise<{ serial: string; pdf: Buffer }> {
  const db = mongoose.connection.db!;
  for (let i = 0; i < 400; i++) {
    const cert = (await db
      .collection('certificates')
      .findOne({ pledge: new mongoose.Types.ObjectId(pledgeId) })) as { serial: string } | null;
    const stored = cert
      ? await db.collection('certificate_pdfs').findOne({ _id: cert.serial as never })
      : null;
    if (cert && stored)
      return {
        serial: cert.serial,
        pdf: Buffer.from((stored.pdf as { buffer: Uint8Array }).buffer),
      };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('no certificate was issued');
}

/** Rewrites the attached log-proof.json (the PDF's own signature breaks too, as any edit does). */
async function tamperLogProof(
  pdf: Buffer,
  edit: (proof: Record<string, unknown>) => void,
): Promise<Uint8Array> {
  const doc = await PDFDocument.load(pdf, { updateMetadata: false });
  const names = doc.catalog
    .lookup(PDFName.of('Names'), PDFDict)
    .lookup(PDFName.of('EmbeddedFiles'), PDFDict)
    .lookup(PDFName.of('Names'), PDFArray);
  for (let i = 0; i + 1 < names.size(); i += 2) {
    const key = names.get(i);
    if (!(
      (key instanceof PDFString || key instanceof PDFHexString) &&
      key.decodeText() === LOG_PROOF_FILENAME
    ))
      continue;
    const ef = names.lookup(i + 1, PDFDict).lookup(PDFName.of('EF'), PDFDict);
    const ref = ef.get(PDFName.of('F')) as PDFRef;
    const proof = JSON.parse(findAttachment(doc, LOG_PROOF_FILENAME)!) as Record<string, unknown>;
    edit(proof);
    doc.context.assign(
      ref,
      doc.context.flateStream(Buffer.from(JSON.stringify(proof)), {
        Type: 'EmbeddedFile',
        Subtype: 'application/json',
      }),
    );
    return doc.save({ useObjectStreams: false });
  }
  throw new Error('no log-proof.json in the PDF');
}

describe('npm run verify on a certificate the registry issued (log proof, status list, online consistency)', function () {
  this.timeout(120_000);
  const r = useRegistry();
  let dir = '';
  let server: http.Server;
  let base = '';
  const file = (name: string) => path.join(dir, name);

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verify-log-'));
    server = r.app.listen(0, '127.0.0.1');
    await new Promise((res) => server.once('listening', res));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise((res) => server.close(res));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('when the certificate is checked offline, online, after its revocation and with its log proof tampered, then the checks say valid, valid, revoked and failed', async () => {
    const admin = (await r.makeAdmin()).token;
    const cert = await certificateOf((await activePledge(r, admin)).id);
    fs.writeFileSync(file('cert.pdf'), cert.pdf);
    fs.writeFileSync(
      file('jwks.json'),
      (await request(r.app).get('/.well-known/jwks.json').expect(200)).text,
    );
    const vkey = (await request(r.app).get('/log/vkey').expect(200)).text.trim();

    // Offline: the vkey from the credential, then the one the log serves.
    for (const extra of [[], ['--vkey', vkey]]) {
      const offline = await verifyCli([file('cert.pdf'), '--jwks', file('jwks.json'), ...extra]);
      assert.equal(offline.code, 0, offline.stdout + offline.stderr);
      for (const name of [
        'credential-signature',
        'pdf-signature',
        'log-proof-present',
        'log-checkpoint-signature',
        'log-inclusion',
        'log-entry-matches-credential',
      ])
        assert.match(offline.stdout, new RegExp(`^PASS  ${name}: `, 'm'));
      assert.match(offline.stdout, /signed by the log key registry\.test\/log/);
      assert.ok(offline.stdout.endsWith('VALID\n'));
    }

    // More entries, so the newest checkpoint is past the embedded one.
    const second = await certificateOf((await activePledge(r, admin)).id);
    await request(r.app).get(`/api/v1/certificates/${second.serial}/proof`).expect(200);
    const online = await verifyCli([file('cert.pdf'), '--online', base]);
    assert.equal(online.code, 0, online.stdout + online.stderr);
    assert.match(
      online.stdout,
      /^PASS {2}log-consistency: the log's newest checkpoint \(tree size (\d+)\) extends the certificate's \(tree size (\d+)\)/m,
    );
    const [, newer, embedded] =
      /tree size (\d+)\) extends the certificate's \(tree size (\d+)\)/.exec(online.stdout)!;
    assert.ok(Number(newer) > Number(embedded), online.stdout);
    assert.match(online.stdout, /^PASS {2}status-list: not revoked: /m);
    assert.match(online.stdout, /^PASS {2}status: /m);

    // A saved status list, before and after the revocation.
    fs.writeFileSync(
      file('before.jws'),
      (await request(r.app).get('/api/v1/status/revocation').expect(200)).text,
    );
    await request(r.app)
      .post(`/api/v1/admin/certificates/${cert.serial}/revoke`)
      .set('Authorization', `Bearer ${admin}`)
      .send({ reason: 'verify test', reasonCode: 'other' })
      .expect(200);
    fs.writeFileSync(
      file('after.jws'),
      (await request(r.app).get('/api/v1/status/revocation').expect(200)).text,
    );
    const before = await verifyCli([
      file('cert.pdf'),
      '--jwks',
      file('jwks.json'),
      '--status-list',
      file('before.jws'),
    ]);
    assert.equal(before.code, 0, before.stdout);
    const revoked = await verifyCli([
      file('cert.pdf'),
      '--jwks',
      file('jwks.json'),
      '--status-list',
      file('after.jws'),
    ]);
    assert.equal(revoked.code, 1, revoked.stdout + revoked.stderr);
    assert.match(
      revoked.stdout,
      /^FAIL {2}status-list: the certificate is revoked: bit \d+ of the revocation list is set/m,
    );
    assert.match(revoked.stdout, /^PASS {2}log-inclusion: /m);
    assert.ok(revoked.stdout.endsWith('NOT VALID\n'));
    const revokedOnline = await verifyCli([file('cert.pdf'), '--online', base]);
    assert.equal(revokedOnline.code, 1);
    assert.match(revokedOnline.stdout, /^FAIL {2}status-list: the certificate is revoked/m);
    assert.match(revokedOnline.stdout, /^FAIL {2}status: the certificate is revoked$/m);

    // A tampered log proof fails the log checks (whatever else the edit breaks).
    fs.writeFileSync(
      file('moved.pdf'),
      await tamperLogProof(second.pdf, (p) => (p.leafIndex = (p.leafIndex as number) + 1)),
    );
    const moved = await verifyCli([file('moved.pdf'), '--jwks', file('jwks.json')]);
    assert.equal(moved.code, 1, moved.stdout + moved.stderr);
    assert.match(
      moved.stdout,
      /^FAIL {2}log-inclusion: the inclusion proof does not lead from entry \d+ to the checkpoint's root$/m,
    );
    fs.writeFileSync(
      file('reroot.pdf'),
      await tamperLogProof(
        second.pdf,
        (p) =>
          (p.checkpoint = String(p.checkpoint).replace(
            /\n(\d+)\n/,
            (_m, n: string) => `\n${Number(n) + 1}\n`,
          )),
      ),
    );
    const reroot = await verifyCli([file('reroot.pdf'), '--jwks', file('jwks.json')]);
    assert.equal(reroot.code, 1);
    assert.match(
      reroot.stdout,
      /^FAIL {2}log-checkpoint-signature: the embedded checkpoint is not signed by registry\.test\/log/m,
    );
  });
});
