import assert from 'node:assert/strict';
import request from 'supertest';
import { makeUscc } from '../../src/domain/uscc';
import { useRegistry } from '../helpers/registry';
import { tokenFromMail } from '../helpers/smtp';
import { uploadLetter } from '../helpers/pledges';

export async function signBody(
  app: import('express').Express,
  overrides: { uscc?: string; email?: string; name?: string } = {},
) {
  const init = await request(app).get('/api/v1/initiative').expect(200);
  return {
    company: {
      uscc: overrides.uscc ?? makeUscc({ provinceCode: '35' }),
      name: overrides.name ?? '福州示例精密制造有限公司',
      industry: 'C',
    },
    signatory: {
      name: '王喆',
      title: '总经理',
      email: overrides.email ?? `ceo-${Math.random().toString(36).slice(2)}@example.cn`,
    },
    initiative: { version: init.body.version, sha256: init.body.sha256 },
    agree: true,
  };
}

describe('pledge flow (API)', () => {
  const r = useRegistry();

  it('when a company signs, confirms by e-mail and an admin approves, then it is founder No. 1 and listed publicly', async () => {
    const body = await signBody(r.app);
    const signed = await request(r.app).post('/api/v1/pledges').send(body).expect(201);
    assert.equal(signed.body.status, 'pending_confirmation');
    assert.match(signed.body.id, /^[0-9a-f]{24}$/);

    const mail = await r.smtp.waitFor(body.signatory.email, /confirm\?token=/);
    const token = tokenFromMail(mail, '/confirm');
    // Confirming waits for the authorisation letter (issue #12): the reviewer must have evidence.
    const early = await request(r.app).post('/api/v1/pledges/confirm').send({ token }).expect(409);
    assert.equal(early.body.type, '/problems/evidence-missing');
    await uploadLetter(r.app, signed.body.id, token);
    const confirmed = await request(r.app)
      .post('/api/v1/pledges/confirm')
      .send({ token })
      .expect(200);
    assert.equal(confirmed.body.status, 'pending_review');
    const reused = await request(r.app).post('/api/v1/pledges/confirm').send({ token }).expect(400);
    assert.equal(reused.headers['content-type'].split(';')[0], 'application/problem+json');

    const admin = await r.makeAdmin();
    const approved = await request(r.app)
      .post(`/api/v1/admin/pledges/${signed.body.id}/approve`)
      .set('Authorization', `Bearer ${admin.token}`)
      .send({ evidenceChecked: true })
      .expect(200);
    assert.equal(approved.body.status, 'active');
    assert.equal(approved.body.foundingNumber, 1);
    assert.equal(approved.body.sequence, 1);

    const founders = await request(r.app).get('/api/v1/founders').expect(200);
    assert.deepEqual(
      founders.body.items.map((f: { foundingNumber: number; company: { uscc: string } }) => [
        f.foundingNumber,
        f.company.uscc,
      ]),
      [[1, body.company.uscc]],
    );
    const dir = await request(r.app)
      .get('/api/v1/signatories')
      .query({ q: '示例精密' })
      .expect(200);
    assert.equal(dir.body.total, 1);
    const stats = await request(r.app).get('/api/v1/stats').expect(200);
    assert.equal(stats.body.totals.active, 1);
    assert.deepEqual(stats.body.byProvince, [{ province: '35', count: 1 }]);
  });

  it('when a USCC with a confirmed pledge signs again, then the second gets 409 naming the field', async () => {
    const body = await signBody(r.app);
    const first = await request(r.app).post('/api/v1/pledges').send(body).expect(201);
    // Only a confirmed pledge holds the code (issue #12: no squatting by unconfirmed pledges).
    const token = tokenFromMail(
      await r.smtp.waitFor(body.signatory.email, /confirm\?token=/),
      '/confirm',
    );
    await uploadLetter(r.app, first.body.id, token);
    await request(r.app).post('/api/v1/pledges/confirm').send({ token }).expect(200);
    const again = await request(r.app)
      .post('/api/v1/pledges')
      .send({ ...body, signatory: { ...body.signatory, email: 'other@example.cn' } })
      .expect(409);
    assert.equal(again.body.errors[0].path, 'company.uscc');
  });

  it('when the USCC check character is wrong, then 400 names company.uscc', async () => {
    const body = await signBody(r.app, { uscc: '91350100M000100Y44' });
    const res = await request(r.app).post('/api/v1/pledges').send(body).expect(400);
    assert.ok(
      res.body.errors.some((e: { path: string }) => e.path === 'company.uscc'),
      JSON.stringify(res.body),
    );
  });

  it('when the OpenAPI document is fetched, then it lists the signing route with its request schema', async () => {
    const res = await request(r.app).get('/api/v1/openapi.json').expect(200);
    assert.equal(res.body.openapi, '3.1.0');
    const op = res.body.paths['/api/v1/pledges'].post;
    assert.deepEqual(op.requestBody.content['application/json'].schema.required.sort(), [
      'agree',
      'company',
      'initiative',
      'signatory',
    ]);
  });
});
