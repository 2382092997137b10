/**
 * Reviewers see the evidence (issue #12 item 1): GET /api/v1/admin/pledges/:id/evidence lists a
 * pledge's files and /:fileId serves one inline with its sniffed type, nosniff and a CSP sandbox;
 * the console pledge page shows images inline and PDFs as links through the same headers with the
 * admin's console session. Nobody else gets them.
 */
import assert from 'node:assert/strict';
import request from 'supertest';
import { useRegistry } from '../helpers/registry';
import {
  activePledge,
  assertProblem,
  companySession,
  confirmationToken,
  letterPdf,
  sign,
  uploadLetter,
} from '../helpers/pledges';
import { agent, consoleSignIn, signInOnSite } from '../site/helpers';
import { png } from './evidence-files';

describe('evidence for reviewers', () => {
  const r = useRegistry();
  let adminToken: string;
  let admin: Awaited<ReturnType<typeof r.makeAdmin>>;
  before(async () => {
    admin = await r.makeAdmin();
    adminToken = admin.token;
  });

  /** A confirmed pledge with a PDF letter and a PNG licence; its id and the two files' ids. */
  async function withEvidence(): Promise<{
    id: string;
    email: string;
    letterId: string;
    licenceId: string;
    licence: Buffer;
  }> {
    const since = r.smtp.received.length;
    const p = await sign(r.app);
    const token = await confirmationToken(r, p.body.signatory.email, since);
    const licence = png(640, 480);
    const up = await uploadLetter(r.app, p.id, token, { licence });
    await request(r.app).post('/api/v1/pledges/confirm').send({ token }).expect(200);
    const [letter, lic] = up.body.files as Array<{ id: string }>;
    return {
      id: p.id,
      email: p.body.signatory.email,
      letterId: letter.id,
      licenceId: lic.id,
      licence,
    };
  }
  const asAdmin = (path: string) =>
    request(r.app)
      .get(path)
      .set('Authorization', `Bearer ${adminToken}`)
      .buffer(true)
      .parse((res, cb) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => cb(null, Buffer.concat(chunks)));
      });

  it('when an admin lists and opens the files, then each comes inline with its sniffed type, nosniff, a sandbox CSP and no caching', async () => {
    const e = await withEvidence();
    const list = await request(r.app)
      .get(`/api/v1/admin/pledges/${e.id}/evidence`)
      .set('Authorization', `Bearer ${adminToken}`)
      .expect(200);
    assert.deepEqual(
      (list.body.items as Array<{ id: string; kind: string; contentType: string }>).map((f) => [
        f.id,
        f.kind,
        f.contentType,
      ]),
      [
        [e.letterId, 'authorisation-letter', 'application/pdf'],
        [e.licenceId, 'business-licence', 'image/png'],
      ],
    );
    const letter = await asAdmin(`/api/v1/admin/pledges/${e.id}/evidence/${e.letterId}`).expect(
      200,
    );
    assert.equal(letter.headers['content-type'], 'application/pdf');
    assert.ok((letter.body as Buffer).equals(await letterPdf()), 'the letter byte for byte');
    const lic = await asAdmin(`/api/v1/admin/pledges/${e.id}/evidence/${e.licenceId}`).expect(200);
    assert.equal(lic.headers['content-type'], 'image/png');
    assert.ok((lic.body as Buffer).equals(e.licence));
    for (const res of [letter, lic]) {
      assert.match(res.headers['content-disposition'], /^inline;/);
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.match(res.headers['content-security-policy'], /(^|;\s*)sandbox(;|$)/);
      assert.match(res.headers['cache-control'], /no-store/);
    }
  });

  it('when a file id belongs to another pledge or none, then 404; a malformed id is 400', async () => {
    const a = await withEvidence();
    const b = await withEvidence();
    const get = (path: string) =>
      request(r.app).get(path).set('Authorization', `Bearer ${adminToken}`);
    assertProblem(await get(`/api/v1/admin/pledges/${a.id}/evidence/${b.letterId}`), 404);
    assertProblem(await get(`/api/v1/admin/pledges/${a.id}/evidence/${'0'.repeat(24)}`), 404);
    assertProblem(await get(`/api/v1/admin/pledges/${a.id}/evidence/not-an-id`), 400);
  });

  it('when anyone but an admin asks (no session, a company session of an active pledge), then 401 or 403 and no bytes', async () => {
    const active = await activePledge(r, adminToken);
    const files = await request(r.app)
      .get(`/api/v1/admin/pledges/${active.id}/evidence`)
      .set('Authorization', `Bearer ${adminToken}`)
      .expect(200);
    const fileId = (files.body.items as Array<{ id: string }>)[0].id;
    const path = `/api/v1/admin/pledges/${active.id}/evidence/${fileId}`;
    assertProblem(await request(r.app).get(path), 401);
    assertProblem(await request(r.app).get(`/api/v1/admin/pledges/${active.id}/evidence`), 401);
    const company = await companySession(r, active.body.signatory.email);
    assertProblem(await request(r.app).get(path).set('Authorization', `Bearer ${company}`), 403);
    assertProblem(
      await request(r.app)
        .get(`/api/v1/admin/pledges/${active.id}/evidence`)
        .set('Authorization', `Bearer ${company}`),
      403,
    );
    // The console's copy: a visitor and a company's site session are not let in either.
    const consolePath = `/admin/pledges/${active.id}/evidence/${fileId}`;
    const anon = await agent(r.app).get(consolePath);
    assert.ok([303, 401, 403].includes(anon.status), `anonymous: ${anon.status}`);
    assert.notEqual(anon.headers['content-type'], 'application/pdf');
    const site = agent(r.app);
    await signInOnSite(r, site, active.body.signatory.email);
    const asCompany = await site.get(consolePath);
    assert.ok([303, 401, 403].includes(asCompany.status), `company: ${asCompany.status}`);
    assert.notEqual(asCompany.headers['content-type'], 'application/pdf');
  });

  it('when an admin opens the pledge in the console, then the licence image is shown inline and the letter is a link, both served with the API’s headers', async () => {
    const e = await withEvidence();
    const a = agent(r.app);
    await consoleSignIn(a, admin);
    const page = await a.get(`/admin/pledges/${e.id}`).expect(200);
    const section = page.text.slice(page.text.indexOf('id="evidence-title"'));
    assert.match(section, new RegExp(`<img src="/admin/pledges/${e.id}/evidence/${e.licenceId}"`));
    assert.match(
      section,
      new RegExp(`<a href="/admin/pledges/${e.id}/evidence/${e.letterId}" data-evidence-pdf>`),
    );
    const img = await a.get(`/admin/pledges/${e.id}/evidence/${e.licenceId}`).expect(200);
    assert.equal(img.headers['content-type'], 'image/png');
    assert.match(img.headers['content-security-policy'], /(^|;\s*)sandbox(;|$)/);
    assert.equal(img.headers['x-content-type-options'], 'nosniff');
    const pdf = await a.get(`/admin/pledges/${e.id}/evidence/${e.letterId}`).expect(200);
    assert.equal(pdf.headers['content-type'], 'application/pdf');
    assert.match(pdf.headers['content-disposition'], /^inline;/);
  });
});
