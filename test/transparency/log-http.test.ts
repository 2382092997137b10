/**
 * The log over HTTP, read the way a client written from the C2SP specs alone would: checkpoint
 * and vkey checked by an implementation of the signed-note rules written here, tiles and bundles
 * parsed here, the Merkle root recomputed here (RFC 9162 §2.1, recursively), and what the log
 * says compared with the registry's public API.
 */
import assert from 'node:assert/strict';
import { createHash, createPublicKey, verify } from 'node:crypto';
import mongoose from 'mongoose';
import request from 'supertest';
import { PledgeStatus } from '../../models/pledge';
import {
  openCheckpoint,
  parseVerifierKey,
  verifyConsistency,
  verifyInclusion,
} from '../../src/tlog';
import { assertProblem } from '../helpers/pledges';
import { useRegistry, type RegistryHandle } from '../helpers/registry';
import { insertPledge } from '../helpers/use-cases';

const sha256 = (...parts: Uint8Array[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};
/** RFC 9162 §2.1.1, as written there. */
function mth(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return sha256();
  if (leaves.length === 1) return leaves[0];
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return sha256(Buffer.from([1]), mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}
const leafOf = (e: Buffer) => sha256(Buffer.from([0]), e);

/** Index N as tlog-tiles writes it, written out here once more. */
function tileIndexPath(n: number): string {
  const groups: string[] = [];
  do {
    groups.unshift(String(n % 1000).padStart(3, '0'));
    n = Math.floor(n / 1000);
  } while (n > 0);
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
}

/** Independent signed-note check: the text, one Ed25519 signature by the vkey's key. */
function checkNote(note: string, vkey: string): { origin: string; size: number; root: Buffer } {
  const [name, hexId, key64] = [
    vkey.slice(0, vkey.indexOf('+')),
    vkey.split('+')[1],
    vkey.slice(vkey.indexOf('+', vkey.indexOf('+') + 1) + 1),
  ];
  const keyBytes = Buffer.from(key64, 'base64');
  assert.equal(keyBytes[0], 0x01, 'Ed25519 algorithm byte');
  const pub = keyBytes.subarray(1);
  assert.equal(
    sha256(Buffer.from(name), Buffer.from([0x0a, 0x01]), pub)
      .subarray(0, 4)
      .toString('hex'),
    hexId,
    'key ID',
  );
  const split = note.indexOf('\n\n');
  const text = note.slice(0, split + 1);
  const sigLines = note
    .slice(split + 2)
    .split('\n')
    .filter(Boolean);
  const mine = sigLines.map((l) => /^\u2014 (\S+) (\S+)$/.exec(l)!).filter((m) => m[1] === name);
  assert.equal(mine.length, 1, 'one signature by the log key');
  const raw = Buffer.from(mine[0][2], 'base64');
  assert.equal(raw.subarray(0, 4).toString('hex'), hexId);
  const spki = createPublicKey({
    key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), pub]),
    format: 'der',
    type: 'spki',
  });
  assert.ok(verify(null, Buffer.from(text), spki, raw.subarray(4)), 'signature verifies');
  const [origin, size, root] = text.slice(0, -1).split('\n');
  return { origin, size: Number(size), root: Buffer.from(root, 'base64') };
}

function parseBundle(b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < b.length;) {
    const len = b.readUInt16BE(at);
    out.push(b.subarray(at + 2, at + 2 + len));
    at += 2 + len;
  }
  return out;
}

const binary = <T extends request.Test>(t: T): T =>
  t.buffer(true).parse((r, cb) => {
    const chunks: Buffer[] = [];
    r.on('data', (c: Buffer) => chunks.push(c));
    r.on('end', () => cb(null, Buffer.concat(chunks)));
  }) as T;

/** Every entry of the tree of `size`, from the bundles, each checked against its hash tile. */
async function entriesFromTiles(r: RegistryHandle, size: number): Promise<Buffer[]> {
  const entries: Buffer[] = [];
  for (let n = 0; n * 256 < size; n++) {
    const w = Math.min(256, size - n * 256);
    const suffix = w === 256 ? '' : `.p/${w}`;
    const bundle = (
      await binary(request(r.app).get(`/log/tile/entries/${tileIndexPath(n)}${suffix}`)).expect(200)
    ).body as Buffer;
    const tile = (
      await binary(request(r.app).get(`/log/tile/0/${tileIndexPath(n)}${suffix}`)).expect(200)
    ).body as Buffer;
    const es = parseBundle(bundle);
    assert.equal(es.length, w);
    assert.equal(tile.length, w * 32);
    es.forEach((e, i) => assert.deepEqual(leafOf(e), tile.subarray(i * 32, (i + 1) * 32)));
    entries.push(...es);
  }
  return entries;
}

async function waitFor<T>(what: string, f: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

describe('transparency log over HTTP (routes/log.ts, routes/api/log.ts)', function () {
  this.timeout(180_000);
  const r = useRegistry();
  let admin: string;
  let vkey: string;
  const activations = 300;

  before(async () => {
    admin = (await r.makeAdmin()).token;
    vkey = (await request(r.app).get('/log/vkey').expect(200)).text.trim();
  });

  it('when 300 pledges are activated, then the log read from tiles holds each activation once, its founders are /api/v1/founders and its root is the signed checkpoint', async () => {
    const ids: string[] = [];
    for (let i = 0; i < activations; i++)
      ids.push(String(await insertPledge(PledgeStatus.PendingReview)));
    for (let i = 0; i < ids.length; i += 20) {
      await Promise.all(
        ids
          .slice(i, i + 20)
          .map((id) =>
            request(r.app)
              .post(`/api/v1/admin/pledges/${id}/approve`)
              .set('Authorization', `Bearer ${admin}`)
              .send({ evidenceChecked: true })
              .expect(200),
          ),
      );
    }
    const { entries, cp } = await waitFor('all activations in a checkpoint', async () => {
      const res = await request(r.app).get('/log/checkpoint').expect(200);
      assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
      const cp = checkNote(res.text, vkey);
      const entries = await entriesFromTiles(r, cp.size);
      const n = entries.filter((e) => JSON.parse(e.toString()).type === 'pledge.activated').length;
      return n >= activations ? { entries, cp } : undefined;
    });
    assert.equal(cp.origin, 'registry.test/log');
    assert.deepEqual(mth(entries.map(leafOf)), cp.root);
    // The library agrees with the independent check.
    assert.equal(
      openCheckpoint((await request(r.app).get('/log/checkpoint')).text, parseVerifierKey(vkey))
        .origin,
      'registry.test/log',
    );

    const parsed = entries.map((e) => JSON.parse(e.toString()) as Record<string, unknown>);
    const acts = parsed.filter((e) => e.type === 'pledge.activated');
    assert.equal(acts.length, activations);
    assert.deepEqual(
      acts.map((a) => a.sequence).sort((a, b) => Number(a) - Number(b)),
      Array.from({ length: activations }, (_, i) => i + 1),
    );
    const fromLog = acts
      .filter((a) => a.foundingNumber !== null)
      .map((a) => ({ n: a.foundingNumber, uscc: a.uscc }))
      .sort((a, b) => Number(a.n) - Number(b.n));
    const founders = (await request(r.app).get('/api/v1/founders').expect(200)).body
      .items as Array<{ foundingNumber: number; company: { uscc: string } }>;
    assert.equal(fromLog.length, 100);
    assert.deepEqual(
      fromLog,
      founders.map((f) => ({ n: f.foundingNumber, uscc: f.company.uscc })),
    );
    for (const e of parsed)
      for (const k of Object.keys(e))
        assert.ok(
          [
            'v',
            'type',
            'at',
            'uscc',
            'sequence',
            'foundingNumber',
            'initiative',
            'serial',
            'credentialSha256',
            'reason',
          ].includes(k),
          `unexpected field ${k}`,
        );

    // Level-1 tile: the hash of each full level-0 tile.
    if (cp.size >= 512) {
      const w = Math.floor(cp.size / 256);
      const t1 = (await binary(request(r.app).get(`/log/tile/1/000.p/${w}`)).expect(200))
        .body as Buffer;
      for (let i = 0; i < w; i++)
        assert.deepEqual(
          t1.subarray(i * 32, i * 32 + 32),
          mth(entries.slice(i * 256, i * 256 + 256).map(leafOf)),
        );
    }
  });

  it('when proofs are asked over the API, then inclusion and consistency proofs verify against signed checkpoints, and bad input is a 400 problem', async () => {
    const cp = checkNote((await request(r.app).get('/log/checkpoint').expect(200)).text, vkey);
    const entries = await entriesFromTiles(r, cp.size);
    for (const index of [0, 1, cp.size - 1, Math.floor(cp.size / 2)]) {
      const res = await request(r.app)
        .get(`/api/v1/log/inclusion?index=${index}&size=${cp.size}`)
        .expect(200);
      assert.equal(res.body.leafIndex, index);
      assert.equal(res.body.treeSize, cp.size);
      const proof = (res.body.proof as string[]).map((p) => Buffer.from(p, 'base64'));
      assert.ok(verifyInclusion(index, cp.size, leafOf(entries[index]), proof, cp.root));
    }
    const old = 7;
    const oldRoot = mth(entries.slice(0, old).map(leafOf));
    const cons = await request(r.app)
      .get(`/api/v1/log/consistency?from=${old}&to=${cp.size}`)
      .expect(200);
    assert.ok(
      verifyConsistency(
        old,
        cp.size,
        (cons.body.proof as string[]).map((p) => Buffer.from(p, 'base64')),
        oldRoot,
        cp.root,
      ),
    );
    assertProblem(await request(r.app).get(`/api/v1/log/inclusion?index=5&size=5`), 400, ['index']);
    assertProblem(
      await request(r.app).get(`/api/v1/log/inclusion?index=0&size=${cp.size + 1000}`),
      400,
      ['size'],
    );
    assertProblem(await request(r.app).get(`/api/v1/log/inclusion?index=-1&size=3`), 400, [
      'index',
    ]);
    assertProblem(await request(r.app).get(`/api/v1/log/consistency?from=9&to=3`), 400, ['from']);
    assertProblem(await request(r.app).get(`/api/v1/log/consistency?from=0&to=3`), 400, ['from']);
    assertProblem(await request(r.app).get(`/api/v1/log/consistency?from=1`), 400, ['to']);
    const doc = (await request(r.app).get('/api/v1/openapi.json').expect(200)).body;
    for (const p of [
      '/api/v1/log/inclusion',
      '/api/v1/log/consistency',
      '/log/checkpoint',
      '/log/vkey',
    ])
      assert.ok(doc.paths[p]?.get, `${p} in OpenAPI`);
    assert.deepEqual(doc.paths['/api/v1/log/inclusion'].get.security, []);
  });

  it('when tiles are fetched, then full ones are immutable with an ETag (304 when unchanged), partial ones short-lived, and bad or future paths are 400 and 404', async () => {
    const full = await binary(request(r.app).get('/log/tile/0/000')).expect(200);
    assert.match(full.headers['cache-control'], /immutable/);
    assert.equal(full.headers['content-type'], 'application/octet-stream');
    await request(r.app).get('/log/tile/0/000').set('If-None-Match', full.headers.etag).expect(304);
    const partial = await binary(request(r.app).get('/log/tile/0/000.p/3')).expect(200);
    assert.deepEqual(partial.body, (full.body as Buffer).subarray(0, 96));
    assert.match(partial.headers['cache-control'], /max-age=1\b/);
    for (const bad of [
      '/log/tile/0/0',
      '/log/tile/00/000',
      '/log/tile/0/000.p/256',
      '/log/tile/0/x000/000',
      '/log/tile/64/000',
      '/log/tile/entries/000.p/0',
    ])
      assert.equal((await request(r.app).get(bad)).status, 400, bad);
    assert.equal((await request(r.app).get('/log/tile/0/x001/000')).status, 404);
    assert.equal((await request(r.app).get('/log/tile/entries/999.p/5')).status, 404);
  });

  it('when a certificate is revoked with a reason code, then the log gains certificate.revoked with that code and never the free-text reason', async () => {
    const cert = await waitFor(
      'an issued certificate',
      async () =>
        (await mongoose.connection.db!.collection('certificates').findOne({ status: 'valid' })) ??
        undefined,
    );
    const before = checkNote((await request(r.app).get('/log/checkpoint')).text, vkey);
    const reason = 'Falsified inspection records, see case 2026-17';
    await request(r.app)
      .post(`/api/v1/admin/certificates/${cert.serial}/revoke`)
      .set('Authorization', `Bearer ${admin}`)
      .send({ reason, reasonCode: 'false-information' })
      .expect(200);
    const revoked = await waitFor('the revocation in the log', async () => {
      const cp = checkNote((await request(r.app).get('/log/checkpoint')).text, vkey);
      const es = (await entriesFromTiles(r, cp.size)).map((e) => e.toString());
      const hit = es.find((e) => e.includes('"certificate.revoked"') && e.includes(cert.serial));
      return hit ? { cp, es, hit } : undefined;
    });
    assert.equal(JSON.parse(revoked.hit).reason, 'false-information');
    assert.ok(!revoked.es.some((e) => e.includes('Falsified')));
    const cons = await request(r.app)
      .get(`/api/v1/log/consistency?from=${before.size}&to=${revoked.cp.size}`)
      .expect(200);
    assert.ok(
      verifyConsistency(
        before.size,
        revoked.cp.size,
        (cons.body.proof as string[]).map((p) => Buffer.from(p, 'base64')),
        before.root,
        revoked.cp.root,
      ),
    );
    assertProblem(
      await request(r.app)
        .post(`/api/v1/admin/certificates/${cert.serial}/revoke`)
        .set('Authorization', `Bearer ${admin}`)
        .send({ reason, reasonCode: 'because' }),
      400,
      ['reasonCode'],
    );
  });
});
