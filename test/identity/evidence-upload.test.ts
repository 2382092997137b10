/**
 * Evidence with every pledge (issue #12 item 1), the signing half: POST /api/v1/pledges/:id/evidence
 * takes the authorisation letter (required before confirming) and optionally the business licence,
 * with the e-mailed confirmation token. Every bad file is a 4xx with nothing stored.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import mongoose from 'mongoose';
import request from 'supertest';
import { Event } from '../../models/event';
import { settleCarriedEvents } from '../../src/audit/carried';
import { EVIDENCE_MAX_BYTES, listEvidence } from '../../src/pledges/evidence';
import { useRegistry } from '../helpers/registry';
import {
  assertProblem,
  confirmationToken,
  letterPdf,
  letterUploadBody,
  sign,
  signAndConfirm,
  uploadLetter,
} from '../helpers/pledges';
import { jpeg, pdf, png } from './evidence-files';

describe('evidence upload (API)', () => {
  const r = useRegistry();

  async function signed(): Promise<{ id: string; token: string }> {
    const since = r.smtp.received.length;
    const p = await sign(r.app);
    return { id: p.id, token: await confirmationToken(r, p.body.signatory.email, since) };
  }
  const stored = async (id: string) => listEvidence(new mongoose.Types.ObjectId(id));
  const post = (id: string, token: string) =>
    request(r.app).post(`/api/v1/pledges/${id}/evidence`).field('token', token);
  const confirm = (token: string) => request(r.app).post('/api/v1/pledges/confirm').send({ token });

  it('when the letter and licence are uploaded with the token, then both are stored with their sniffed types and the pledge can be confirmed', async () => {
    const { id, token } = await signed();
    const letter = await letterPdf();
    const licence = png(1200, 900);
    const res = await uploadLetter(r.app, id, token, { letter, licence });
    assert.deepEqual(
      (res.body.files as Array<{ kind: string; contentType: string; length: number }>).map((f) => [
        f.kind,
        f.contentType,
        f.length,
      ]),
      [
        ['authorisation-letter', 'application/pdf', letter.length],
        ['business-licence', 'image/png', licence.length],
      ],
    );
    assert.equal((await stored(id)).length, 2);
    const ok = await confirm(token);
    assert.equal(ok.status, 200, ok.text);
    // The audit record says which files the pledge was confirmed with.
    await settleCarriedEvents(); // carried on the pledge until the sealer moves it
    const event = await Event.findOne({ action: 'pledge.confirmed', 'subject.id': id }).lean();
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    assert.deepEqual((event!.after as { evidence: unknown }).evidence, [
      { kind: 'authorisation-letter', contentType: 'application/pdf', sha256: sha(letter) },
      { kind: 'business-licence', contentType: 'image/png', sha256: sha(licence) },
    ]);
  });

  it('when a new letter is uploaded, then it replaces the earlier one', async () => {
    const { id, token } = await signed();
    await uploadLetter(r.app, id, token);
    const second = jpeg(2480, 3508);
    await uploadLetter(r.app, id, token, { letter: second });
    const files = await stored(id);
    assert.deepEqual(
      files.map((f) => [f.kind, f.contentType, f.length]),
      [['authorisation-letter', 'image/jpeg', second.length]],
    );
  });

  it('when no letter is stored, then confirming is 409 naming letter and the pledge stays unconfirmed', async () => {
    const { token } = await signed();
    const res = await confirm(token);
    assertProblem(res, 409, ['letter']);
    assert.equal(res.body.type, '/problems/evidence-missing');
  });

  const bad: Array<[string, () => Promise<Buffer> | Buffer, string, number]> = [
    ['an HTML page named letter.pdf', () => Buffer.from('<html>授权书</html>'), 'letter.pdf', 415],
    ['a ZIP named letter.pdf', () => Buffer.from('PK\x03\x04 not a pdf at all'), 'letter.pdf', 415],
    [
      'a truncated PDF',
      async () => {
        const p = await pdf();
        return p.subarray(0, p.length - 40);
      },
      'letter.pdf',
      400,
    ],
    [
      'a 1 kB PNG declaring 100,000 x 100,000 pixels',
      () => png(100_000, 100_000, 1),
      'letter.png',
      422,
    ],
    [
      'a PDF of 10 MB + 1 byte',
      () => {
        const head = Buffer.from('%PDF-1.7\n');
        const tail = Buffer.from('\n%%EOF\n');
        const n = EVIDENCE_MAX_BYTES + 1;
        return Buffer.concat([head, Buffer.alloc(n - head.length - tail.length, 0x20), tail]);
      },
      'letter.pdf',
      413,
    ],
    ['an empty file', () => Buffer.alloc(0), 'letter.pdf', 400],
  ];
  for (const [what, bytes, name, status] of bad) {
    it(`when the letter is ${what}, then ${status}, nothing is stored and confirming is still refused`, async () => {
      const { id, token } = await signed();
      const res = await post(id, token).attach('letter', await bytes(), name);
      assertProblem(res, status);
      assert.deepEqual(await stored(id), []);
      assertProblem(await confirm(token), 409);
    });
  }

  it('when the letter is good but the licence is a PNG bomb, then 422 naming licence and neither is stored', async () => {
    const { id, token } = await signed();
    const res = await post(id, token)
      .attach('letter', await letterPdf(), 'letter.pdf')
      .attach('licence', png(100_000, 100_000, 1), 'licence.png');
    assertProblem(res, 422, ['licence']);
    assert.deepEqual(await stored(id), []);
  });

  it('when the token is missing or belongs to another pledge, then 400 naming token and nothing is stored', async () => {
    const a = await signed();
    const b = await signed();
    for (const token of ['', b.token]) {
      const res = await post(a.id, token).attach('letter', await letterPdf(), 'letter.pdf');
      assertProblem(res, 400, ['token']);
    }
    assert.deepEqual(await stored(a.id), []);
    assert.deepEqual(await stored(b.id), []);
  });

  it('when no letter part is sent, or the body is JSON, then 400 or 415', async () => {
    const { id, token } = await signed();
    assertProblem(await post(id, token).attach('licence', png(10, 10), 'l.png'), 400);
    assertProblem(
      await request(r.app).post(`/api/v1/pledges/${id}/evidence`).send({ token, letter: 'x' }),
      415,
    );
    assert.deepEqual(await stored(id), []);
  });

  it('when the pledge is already confirmed, then 409 and the evidence reviewed stays as it was', async () => {
    const since = r.smtp.received.length;
    const p = await signAndConfirm(r);
    const token = await confirmationToken(r, p.body.signatory.email, since);
    const before = await stored(p.id);
    const res = await request(r.app)
      .post(`/api/v1/pledges/${p.id}/evidence`)
      .field('token', token)
      .attach('letter', jpeg(100, 100), 'other.jpg');
    assertProblem(res, 409);
    assert.equal(res.body.type, '/problems/not-pending-confirmation');
    assert.deepEqual(await stored(p.id), before);
  });
});

describe('evidence upload (raw HTTP body for separate processes)', () => {
  const r = useRegistry();
  it('when letterUploadBody is sent as is, then the letter is stored', async () => {
    const since = r.smtp.received.length;
    const p = await sign(r.app);
    const token = await confirmationToken(r, p.body.signatory.email, since);
    const { contentType, body } = await letterUploadBody(token);
    const res = await request(r.app)
      .post(`/api/v1/pledges/${p.id}/evidence`)
      .set('Content-Type', contentType)
      .send(body);
    assert.equal(res.status, 201, res.text);
    assert.equal((await listEvidence(new mongoose.Types.ObjectId(p.id))).length, 1);
  });
});
