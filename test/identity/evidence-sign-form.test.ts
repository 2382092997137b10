/**
 * Evidence on the site's sign form (issue #12 item 1): the form is multipart with the CSRF token
 * first, the letter required and the licence optional; a bad file brings the form back with a
 * message on its field and stores nothing (no pledge, no file).
 */
import assert from 'node:assert/strict';
import mongoose from 'mongoose';
import { Pledge } from '../../models/pledge';
import { EVIDENCE_MAX_BYTES, listEvidence } from '../../src/pledges/evidence';
import request from 'supertest';
import { confirmationToken, letterPdf } from '../helpers/pledges';
import { useRegistry } from '../helpers/registry';
import { agent, csrfFrom, hiddenValue, postSignForm, signFields } from '../site/helpers';
import { pdf, png } from './evidence-files';

describe('evidence on the sign form (site)', () => {
  const r = useRegistry();
  const evidenceFiles = () => mongoose.connection.db!.collection('evidence.files').countDocuments();
  const fieldError = (html: string, name: string) =>
    new RegExp(`id="f-${name}-error"[^>]*>([^<]+)<`).exec(html)?.[1] ?? '';

  it('when the sign page is shown, then the form is multipart with the CSRF field before the file inputs and links the letter template', async () => {
    const page = await agent(r.app).get('/sign').expect(200);
    assert.match(page.text, /<form[^>]+enctype="multipart\/form-data"/);
    const csrfAt = page.text.indexOf('name="_csrf"');
    const letterAt = page.text.indexOf('name="letter" type="file"');
    const licenceAt = page.text.indexOf('name="licence" type="file"');
    assert.ok(
      csrfAt > 0 && letterAt > csrfAt && licenceAt > letterAt,
      'token, letter, licence in order',
    );
    assert.match(page.text, /href="\/sign\/letter-template\?/);
  });

  it('when the form is sent with a letter and a licence, then the pledge is stored with both files and its confirmation works', async () => {
    const since = r.smtp.received.length;
    const fields = signFields();
    const licence = png(1200, 900);
    const res = await postSignForm(agent(r.app), fields, 303, { licence });
    assert.equal(res.headers.location, '/sign/sent');
    const pledge = await Pledge.findOne({ uscc: fields.uscc }).lean();
    assert.ok(pledge, 'the pledge is stored');
    const files = await listEvidence(pledge._id);
    assert.deepEqual(
      files.map((f) => [f.kind, f.contentType, f.length]),
      [
        ['authorisation-letter', 'application/pdf', (await letterPdf()).length],
        ['business-licence', 'image/png', licence.length],
      ],
    );
    const token = await confirmationToken(r, fields.email, since);
    const confirmed = await request(r.app).post('/api/v1/pledges/confirm').send({ token });
    assert.equal(confirmed.status, 200, confirmed.text);
  });

  const bad: Array<[string, { letter?: Buffer | null; licence?: Buffer }, string, number]> = [
    ['no letter', { letter: null }, 'letter', 400],
    ['an HTML page named letter.pdf', { letter: Buffer.from('<html>x</html>') }, 'letter', 400],
    ['a PNG bomb as the licence', { licence: png(100_000, 100_000, 1) }, 'licence', 400],
    [
      'a letter of 10 MB + 1 byte',
      {
        letter: Buffer.concat([
          Buffer.from('%PDF-1.7\n'),
          Buffer.alloc(EVIDENCE_MAX_BYTES - 15, 0x20),
          Buffer.from('\n%%EOF\n'),
        ]),
      },
      'letter',
      413,
    ],
  ];
  for (const [what, files, field, status] of bad) {
    it(`when the form is sent with ${what}, then ${status} with a message on ${field} and nothing is stored`, async () => {
      const fields = signFields();
      const filesBefore = await evidenceFiles();
      const res = await postSignForm(agent(r.app), fields, status, files);
      assert.notEqual(fieldError(res.text, field), '', `a message on ${field}`);
      assert.equal(await Pledge.countDocuments({ uscc: fields.uscc }), 0);
      assert.equal(await evidenceFiles(), filesBefore);
    });
  }

  it('when a truncated letter comes with other errors, then every message is shown and the typed values are kept', async () => {
    const p = await pdf();
    const fields = signFields({ email: 'not-an-address' });
    const res = await postSignForm(agent(r.app), fields, 400, {
      letter: p.subarray(0, p.length - 40),
    });
    assert.notEqual(fieldError(res.text, 'letter'), '');
    assert.notEqual(fieldError(res.text, 'email'), '');
    assert.match(res.text, new RegExp(`value="${fields.uscc}"`));
  });

  it('when the letter template is opened with the company in its query, then a zh letter names the company, code, signatory and the association, escaped', async () => {
    const res = await agent(r.app)
      .get('/sign/letter-template')
      .query({
        name: '福州示例<script>有限公司',
        uscc: '91350100m000100y43',
        signatory: '林示例',
        title: '总经理',
      })
      .expect(200);
    const letter = res.text.slice(res.text.indexOf('id="letter-heading"'));
    assert.match(letter, /授权书/);
    assert.match(letter, /data-letter="name">福州示例&lt;script&gt;有限公司</);
    assert.match(letter, /data-letter="uscc">91350100M000100Y43</);
    assert.match(letter, /data-letter="signatory">林示例</);
    assert.ok(letter.includes(r.config.association.zh), 'addressed to the association');
    assert.ok(!res.text.includes('<script>有限公司'), 'the query is escaped');
    const blank = await agent(r.app).get('/sign/letter-template').expect(200);
    assert.match(blank.text, /data-letter="uscc">_+</);
  });

  it('when the file comes before the CSRF token, or the token is wrong, then 403 and nothing is stored', async () => {
    const a = agent(r.app);
    const page = await a.get('/sign').expect(200);
    const filesBefore = await evidenceFiles();
    const fields = signFields();
    const late = a.post('/sign').attach('letter', await letterPdf(), 'letter.pdf');
    for (const [k, v] of Object.entries(fields)) late.field(k, v);
    late.field('_csrf', csrfFrom(page.text));
    assert.equal((await late).status, 403);
    const wrong = a
      .post('/sign')
      .field('_csrf', 'x'.repeat(40))
      .field('version', hiddenValue(page.text, 'version'));
    assert.equal((await wrong.attach('letter', await letterPdf(), 'letter.pdf')).status, 403);
    assert.equal(await Pledge.countDocuments({ uscc: fields.uscc }), 0);
    assert.equal(await evidenceFiles(), filesBefore);
  });
});
