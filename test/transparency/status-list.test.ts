import assert from 'node:assert/strict';
import mongoose from 'mongoose';
import request from 'supertest';
import { decodeJws, verifyCredential } from '../../certificates';
import { StatusListEntry } from '../../models/status-list';
import { StatusList } from '../../src/tlog';
import { statusIndexFor } from '../../src/transparency/status';
import { activePledge, companySession, withdrawAs } from '../helpers/pledges';
import { useRegistry, type RegistryHandle } from '../helpers/registry';

async function certificateOf(r: RegistryHandle, pledgeId: string): Promise<{ serial: string }> {
  const until = Date.now() + 30_000;
  for (;;) {
    const c = await mongoose.connection
      .db!.collection('certificates')
      .findOne({ pledge: new mongoose.Types.ObjectId(pledgeId) });
    if (c) return { serial: c.serial as string };
    if (Date.now() > until) throw new Error('no certificate issued');
    r.registry.certificateIssuer.poke();
    await new Promise((res) => setTimeout(res, 50));
  }
}

async function list(
  r: RegistryHandle,
  purpose: string,
): Promise<{ list: StatusList; payload: Record<string, unknown> }> {
  const res = await request(r.app).get(`/api/v1/status/${purpose}`).expect(200);
  assert.match(res.headers['content-type'], /^application\/vc\+jwt/);
  const jws = res.text;
  assert.equal(decodeJws(jws).header.typ, 'vc+jwt');
  const jwks = (await request(r.app).get('/.well-known/jwks.json').expect(200)).body;
  const payload = verifyCredential(jws, jwks);
  const subject = payload.credentialSubject as {
    type: string;
    statusPurpose: string;
    encodedList: string;
  };
  assert.equal(subject.type, 'BitstringStatusList');
  assert.equal(subject.statusPurpose, purpose);
  assert.deepEqual(payload.type, ['VerifiableCredential', 'BitstringStatusListCredential']);
  assert.equal(payload.id, `https://registry.test/api/v1/status/${purpose}`);
  return { list: StatusList.decode(subject.encodedList), payload };
}

describe('certificate status lists (src/transparency/status.ts)', function () {
  this.timeout(60_000);
  const r = useRegistry();
  let admin: string;
  before(async () => {
    admin = (await r.makeAdmin()).token;
  });

  it('when a certificate is revoked, then its bit is set in the signed revocation list only; a withdrawn one shows in the suspension list', async () => {
    const a = await activePledge(r, admin);
    const b = await activePledge(r, admin);
    const ca = await certificateOf(r, a.id);
    const cb = await certificateOf(r, b.id);
    const ia = (await StatusListEntry.findOne({ serial: ca.serial }).lean())!._id;
    const ib = (await StatusListEntry.findOne({ serial: cb.serial }).lean())!._id;
    assert.notEqual(ia, ib);
    assert.equal((await list(r, 'revocation')).list.get(ia), false);

    await request(r.app)
      .post(`/api/v1/admin/certificates/${ca.serial}/revoke`)
      .set('Authorization', `Bearer ${admin}`)
      .send({ reason: 'Breach of the pledge', reasonCode: 'breach-of-pledge' })
      .expect(200);
    const session = await companySession(r, b.body.signatory.email);
    await withdrawAs(r.app, session, { reason: 'We are leaving' }).expect(200);

    const rev = (await list(r, 'revocation')).list;
    const sus = (await list(r, 'suspension')).list;
    assert.equal(rev.get(ia), true);
    assert.equal(rev.get(ib), false);
    assert.equal(sus.get(ia), false);
    assert.equal(sus.get(ib), true);
    assert.ok(rev.length >= 131_072);
  });

  it('when an unknown list is asked for, then 400 problem details', async () => {
    const res = await request(r.app).get('/api/v1/status/message');
    assert.equal(res.status, 400);
    assert.equal(res.headers['content-type'].split(';')[0], 'application/problem+json');
  });

  it('when indexes are drawn for many serials, then each serial keeps one index and no two share it', async () => {
    const serials = Array.from({ length: 300 }, (_, i) => `TEST-${i}`);
    const first = await Promise.all(serials.map((s) => statusIndexFor(s)));
    const again = await Promise.all(serials.map((s) => statusIndexFor(s)));
    assert.deepEqual(again, first);
    assert.equal(new Set(first).size, serials.length);
    // Drawn at random, not in issue order.
    const sorted = [...first].sort((x, y) => x - y);
    assert.notDeepEqual(first, sorted);
  });
});
