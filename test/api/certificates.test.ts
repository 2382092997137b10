import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CommandStartedEvent } from 'mongodb';
import mongoose, { Types } from 'mongoose';
import express from 'express';
import request from 'supertest';
import { generateSigningKey, makeSerial, parseSerial, toJwks } from '../../certificates';
import { verifyFile } from '../../scripts/verify';
import {
  activePledgeWithCertificate,
  companySession,
  signBodyFor,
  withdrawAs,
} from '../helpers/pledges';
import { Certificate } from '../../models/certificate';
import { Pledge } from '../../models/pledge';
import { useRegistry, type RegistryHandle } from '../helpers/registry';

/** Signs, confirms and approves a pledge (named `name` if given) and waits for its certificate. */
async function activePledge(r: RegistryHandle, name?: string) {
  const body = name === undefined ? undefined : await signBodyFor(r.app, { company: { name } });
  return activePledgeWithCertificate(r, { body });
}

type Active = Awaited<ReturnType<typeof activePledge>>;

/** The certificate PDF of `p` from the admin API (200). */
const adminPdf = (r: RegistryHandle, p: Active) =>
  request(r.app)
    .get(`/api/v1/admin/certificates/${p.serial}.pdf`)
    .set('Authorization', `Bearer ${p.admin.token}`)
    .responseType('blob')
    .expect(200);

/** A file uploaded to the public verify API. */
const verifyUpload = (r: RegistryHandle, file: Buffer, name = 'cert.pdf') =>
  request(r.app).post('/api/v1/verify').attach('file', file, name);

/** The admin who approved `p` revokes its certificate (200). */
const revoke = (r: RegistryHandle, p: Active, reason: string) =>
  request(r.app)
    .post(`/api/v1/admin/certificates/${p.serial}/revoke`)
    .set('Authorization', `Bearer ${p.admin.token}`)
    .send({ reason })
    .expect(200);

/** The verify page of a serial, as a browser asks for it. */
const verifyPage = (r: RegistryHandle, serial: string) =>
  request(r.app).get(`/verify/${serial}`).set('Accept', 'text/html');

describe('certificates (API)', () => {
  const r = useRegistry();

  it('when a pledge becomes active, then a certificate is issued and its serial looks up as valid', async () => {
    const p = await activePledge(r, '珺玥示例检测技术有限公司');
    assert.equal(parseSerial(p.serial).ok, true);
    const res = await request(r.app).get(`/api/v1/certificates/${p.serial}`).expect(200);
    assert.equal(res.body.status, 'valid');
    assert.equal(res.body.company.name, '珺玥示例检测技术有限公司');
    assert.equal(res.body.company.uscc, p.body.company.uscc);
  });

  it('when a certificate is looked up again with its ETag, then 304; after revocation that ETag gets the revoked record under a new one', async () => {
    const p = await activePledge(r);
    const first = await request(r.app).get(`/api/v1/certificates/${p.serial}`).expect(200);
    // The tag made with the cached bytes is the one express computes for the body it sent.
    assert.equal(first.headers.etag, express().get('etag fn')(Buffer.from(first.text)));
    assert.equal(first.headers['cache-control'], 'public, max-age=60');
    assert.equal(first.headers['content-type'], 'application/json; charset=utf-8');
    const again = await request(r.app)
      .get(`/api/v1/certificates/${p.serial}`)
      .set('If-None-Match', first.headers.etag)
      .expect(304);
    assert.equal(again.text, '');
    await revoke(r, p, '虚假宣传 / false claims');
    const after = await request(r.app)
      .get(`/api/v1/certificates/${p.serial}`)
      .set('If-None-Match', first.headers.etag)
      .expect(200);
    assert.equal(after.body.status, 'revoked');
    assert.notEqual(after.headers.etag, first.headers.etag);
    assert.equal(after.headers.etag, express().get('etag fn')(Buffer.from(after.text)));
  });

  it('when a lookup carries credentials or a body, then it is answered as by the full chain: a bad token is 401, a malformed JSON body 400, a good token 200', async () => {
    const p = await activePledge(r);
    const url = `/api/v1/certificates/${p.serial}`;
    await request(r.app).get(url).set('Authorization', 'Bearer not-a-session').expect(401);
    await request(r.app).get(url).set('Authorization', 'Basic abc').expect(401);
    await request(r.app).get(url).set('Cookie', 'eqi_session=not-a-session').expect(401);
    const bad = await request(r.app)
      .get(url)
      .set('Content-Type', 'application/json')
      .send('{"broken"')
      .expect(400);
    assert.match(bad.headers['content-type'], /application\/problem\+json/);
    const ok = await request(r.app)
      .get(url)
      .set('Authorization', `Bearer ${p.admin.token}`)
      .expect(200);
    assert.equal(ok.body.serial, p.serial);
  });

  it('when a serial has a wrong check character, then 400 says it was mistyped; an unknown serial is 404', async () => {
    const good = makeSerial(2026, 424242);
    const bad = good.slice(0, -1) + (good.endsWith('A') ? 'B' : 'A');
    const res = await request(r.app).get(`/api/v1/certificates/${bad}`).expect(400);
    assert.match(res.body.detail, /mistyped/);
    await request(r.app).get(`/api/v1/certificates/${good}`).expect(404);
  });

  it('when the issued PDF is uploaded, then every check passes; after revocation the status check fails', async () => {
    const p = await activePledge(r);
    const pdf = await adminPdf(r, p);
    assert.equal(pdf.headers['content-type'], 'application/pdf');
    const ok = await verifyUpload(r, pdf.body as Buffer).expect(200);
    assert.equal(ok.body.valid, true, JSON.stringify(ok.body.checks));
    assert.deepEqual(
      ok.body.checks
        .map((c: { name: string }) => c.name)
        .filter((n: string) => ['serial-known', 'registry-match', 'status'].includes(n)),
      ['serial-known', 'registry-match', 'status'],
    );

    await revoke(r, p, '虚假宣传 / false claims');
    const after = await verifyUpload(r, pdf.body as Buffer).expect(200);
    assert.equal(after.body.valid, false);
    const status = after.body.checks.find((c: { name: string }) => c.name === 'status');
    assert.equal(status.ok, false);
    assert.match(status.reason, /revoked/);
    const lookup = await request(r.app).get(`/api/v1/certificates/${p.serial}`).expect(200);
    assert.equal(lookup.body.status, 'revoked');
  });

  it('when one byte of the company name in the PDF changes, then a check fails by name', async () => {
    const p = await activePledge(r);
    const pdf = (await adminPdf(r, p)).body as Buffer;
    const tampered = Buffer.from(pdf);
    tampered[Math.floor(tampered.length / 2)] ^= 0x01;
    const res = await verifyUpload(r, tampered).expect(200);
    assert.equal(res.body.valid, false);
    assert.ok(
      res.body.checks.some(
        (c: { name: string; ok: boolean }) => c.name === 'pdf-signature' && !c.ok,
      ),
      JSON.stringify(res.body.checks),
    );
  });

  it('when a non-PDF is uploaded, then 400; JWKS lists the signing key', async () => {
    await verifyUpload(r, Buffer.from('hello'), 'x.txt').expect(400);
    const jwks = await request(r.app).get('/.well-known/jwks.json').expect(200);
    assert.equal(jwks.body.keys[0].kid, r.registry.keys.signingKey.kid);
  });

  it('when an admin corrects the company name, then the old certificate is superseded by a new one', async () => {
    const p = await activePledge(r);
    const res = await request(r.app)
      .post(`/api/v1/admin/pledges/${p.id}/correct`)
      .set('Authorization', `Bearer ${p.admin.token}`)
      .send({ name: '堃垚示例建设工程有限公司', reason: '名称更正' })
      .expect(200);
    assert.notEqual(res.body.company.name, p.body.company.name);
    const old = await request(r.app).get(`/api/v1/certificates/${p.serial}`).expect(200);
    assert.equal(old.body.status, 'superseded');
    const fresh = await request(r.app)
      .get(`/api/v1/certificates/${old.body.supersededBy}`)
      .expect(200);
    assert.equal(fresh.body.status, 'valid');
    assert.equal(fresh.body.company.name, '堃垚示例建设工程有限公司');
  });
});

describe('certificate lookups that miss the cache (driver command monitoring)', () => {
  const r = useRegistry({}, { monitorCommands: true });

  it('when several serials are looked up at once, then one query reads them all, and each answer is its own: found, unknown (404) or mistyped (400)', async () => {
    const a = await activePledge(r);
    const b = await activePledge(r);
    const unknown = makeSerial(2026, 990_123);
    const mistyped = unknown.slice(0, -1) + (unknown.endsWith('A') ? 'B' : 'A');
    const finds: unknown[] = [];
    const listener = (e: CommandStartedEvent) => {
      if (e.commandName === 'find' && e.command.find === 'certificates')
        finds.push(e.command.filter);
    };
    const client = mongoose.connection.getClient();
    client.on('commandStarted', listener);
    try {
      const [ra, rb, ru, rm] = await Promise.all(
        [a.serial, b.serial, unknown, mistyped].map((s) =>
          request(r.app).get(`/api/v1/certificates/${s}`),
        ),
      );
      assert.equal(ra.status, 200);
      assert.equal(ra.body.serial, a.serial);
      assert.equal(rb.status, 200);
      assert.equal(rb.body.serial, b.serial);
      assert.equal(ru.status, 404);
      assert.equal(rm.status, 400);
      assert.match(rm.body.detail, /mistyped/);
      // supertest's requests may reach the app over several turns of the event loop.
      assert.ok(finds.length >= 1 && finds.length <= 3, JSON.stringify(finds));
      const together = finds.map((f) => JSON.stringify(f)).filter((f) => f.includes('$in'));
      assert.ok(
        together.some((f) => f.includes(a.serial) && f.includes(b.serial)),
        JSON.stringify(finds),
      );
    } finally {
      client.off('commandStarted', listener);
    }
  });
});

describe('offline verification CLI (npm run verify)', () => {
  const r = useRegistry();

  it('when given the PDF and the JWKS, then it passes offline, and fails against another key set', async () => {
    const p = await activePledge(r);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verify-cli-'));
    const pdf = (await adminPdf(r, p)).body as Buffer;
    fs.writeFileSync(path.join(dir, 'cert.pdf'), pdf);
    const jwks = (await request(r.app).get('/.well-known/jwks.json').expect(200)).body;
    fs.writeFileSync(path.join(dir, 'jwks.json'), JSON.stringify(jwks));
    const good = await verifyFile(path.join(dir, 'cert.pdf'), {
      jwks: path.join(dir, 'jwks.json'),
    });
    assert.equal(good.valid, true, JSON.stringify(good.checks));
    fs.writeFileSync(path.join(dir, 'other.json'), JSON.stringify(toJwks([generateSigningKey()])));
    const bad = await verifyFile(path.join(dir, 'cert.pdf'), {
      jwks: path.join(dir, 'other.json'),
    });
    assert.equal(bad.valid, false);
    assert.equal(bad.checks.find((c) => c.name === 'credential-signature')?.ok, false);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('verify page (site)', () => {
  const r = useRegistry();

  it('when the QR address of a valid certificate is opened, then the page says valid; after revocation it says revoked', async () => {
    const p = await activePledge(r, '昇犇示例物流有限公司');
    const page = await verifyPage(r, p.serial).expect(200);
    assert.match(page.text, /昇犇示例物流有限公司/);
    assert.match(page.text, /class="verdict verdict-valid"/);
    await revoke(r, p, '测试撤销');
    const after = await verifyPage(r, p.serial).expect(200);
    assert.match(after.text, /class="verdict verdict-revoked"/);
    assert.match(after.text, /测试撤销/);
    await verifyPage(r, makeSerial(2026, 999999)).expect(404);
  });
});

describe('certificates for companies (API)', () => {
  const r = useRegistry();

  it('when a company downloads its certificate, then it gets its PDF; after withdrawing, the certificate shows as withdrawn', async () => {
    const p = await activePledge(r);
    const session = await companySession(r, p.body.signatory.email);
    const pdf = await request(r.app)
      .get('/api/v1/me/certificate.pdf')
      .set('Authorization', `Bearer ${session}`)
      .responseType('blob')
      .expect(200);
    assert.equal((pdf.body as Buffer).subarray(0, 5).toString('latin1'), '%PDF-');
    assert.match(String(pdf.headers['content-disposition']), new RegExp(p.serial));
    await withdrawAs(r.app, session, { reason: '公司业务调整' }).expect(200);
    const lookup = await request(r.app).get(`/api/v1/certificates/${p.serial}`).expect(200);
    assert.equal(lookup.body.status, 'withdrawn');
    assert.equal(lookup.body.statusReason, '公司业务调整');
  });

  it('when an upload is over 5 MB, then 413; when it is not multipart, then 415; nothing is a 5xx', async () => {
    const big = Buffer.concat([
      Buffer.from('%PDF-1.7\n'),
      Buffer.alloc(5 * 1024 * 1024 + 10, 0x20),
    ]);
    await verifyUpload(r, big, 'big.pdf').expect(413);
    await request(r.app)
      .post('/api/v1/verify')
      .set('Content-Type', 'application/pdf')
      .send(Buffer.from('%PDF-1.7'))
      .expect(415);
    const broken = await verifyUpload(
      r,
      Buffer.from('%PDF-1.7\n1 0 obj << /Type /Catalog'),
      'broken.pdf',
    ).expect(200);
    assert.equal(broken.body.valid, false);
    assert.ok(broken.body.checks.every((c: { ok: boolean }) => c.ok === false));
  });
});

describe('correction interrupted by a crash', () => {
  const r = useRegistry();

  it('when a correction stops right after the pledge was updated, then the background issuer supersedes the old certificate and issues one with the corrected name', async () => {
    const p = await activePledge(r);
    const name = '崩溃后更正示例有限公司';
    // The first step of a correction (one update: new data and the reissue mark), then nothing:
    // the process died before reissuing. Its claim runs out.
    await r.registry.certificates.correctAndMarkForReissue(
      new Types.ObjectId(p.id),
      { companyName: name },
      `admin:${p.admin.id}`,
    );
    await Pledge.updateOne(
      { _id: p.id },
      { $set: { certificateClaimUntil: new Date(Date.now() - 1000) } },
    );
    assert.equal(
      (await request(r.app).get(`/api/v1/certificates/${p.serial}`).expect(200)).body.status,
      'valid',
      'nothing was reissued yet',
    );

    r.registry.certificateIssuer.poke();
    await r.registry.certificateIssuer.idle();
    const pledge = await Pledge.findById(p.id).lean();
    assert.ok(
      pledge?.certificateSerial && pledge.certificateSerial !== p.serial,
      'a new certificate is current',
    );
    assert.equal(pledge.reissueBy, undefined);
    const old = (await request(r.app).get(`/api/v1/certificates/${p.serial}`).expect(200)).body;
    assert.equal(old.status, 'superseded');
    assert.equal(old.supersededBy, pledge.certificateSerial);
    const current = (
      await request(r.app).get(`/api/v1/certificates/${pledge.certificateSerial}`).expect(200)
    ).body;
    assert.equal(current.status, 'valid');
    assert.equal(current.company.name, name);
    assert.equal(await Certificate.countDocuments({ pledge: p.id, status: 'valid' }), 1);

    // Another pass of the issuer changes nothing: the new certificate is not superseded again.
    r.registry.certificateIssuer.poke();
    await r.registry.certificateIssuer.idle();
    assert.equal((await Pledge.findById(p.id).lean())?.certificateSerial, pledge.certificateSerial);
  });
});
