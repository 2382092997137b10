/**
 * Names that would mislead a reader (bidi controls, hidden controls, nothing visible) are refused
 * by the API and the site's forms alike; accepted names are stored normalised. Numbers in query
 * strings and paths are decimal digits only.
 */
import assert from 'node:assert/strict';
import request from 'supertest';
import { assertProblem, pledgeDoc, sign, signBodyFor } from '../helpers/pledges';
import { useRegistry } from '../helpers/registry';
import { agent, HTML, postSignForm, signFields } from '../site/helpers';

const REFUSED_NAMES: Array<[string, string]> = [
  ['a right-to-left override', '华为\u202e司公限有'],
  ['a left-to-right isolate', 'Acme \u2066Ltd\u2069'],
  ['a pop directional formatting', 'Acme\u202c Co'],
  ['a NUL', 'Acme\u0000 Co'],
  ['a bell (C0)', 'Acme\u0007 Co'],
  ['a C1 control', 'Acme\u009b Co'],
  ['only zero-width characters', '\u200b\u200b\u200b\u200b'],
  ['only whitespace of several kinds', ' \u3000\u00a0\t '],
  ['only Hangul fillers', '\u3164\u3164\u3164'],
  ['an unpaired surrogate', 'Acme \ud800 Co'],
];

describe('input: names and numbers', () => {
  const r = useRegistry();

  describe('the signing API', () => {
    for (const [what, name] of REFUSED_NAMES) {
      it(`when a company name contains ${what}, then a 400 naming company.name`, async () => {
        const body = await signBodyFor(r.app, { company: { name } });
        assertProblem(await request(r.app).post('/api/v1/pledges').send(body), 400, [
          'company.name',
        ]);
      });
    }

    it('when the English name or the signatory’s name contains a bidi control or a control, then a 400 naming each', async () => {
      const body = await signBodyFor(r.app, {
        company: { nameEn: 'Acme \u2067Ltd' },
        signatory: { name: '李\u0085\u0001明', title: '总经理\u200f' },
      });
      assertProblem(await request(r.app).post('/api/v1/pledges').send(body), 400, [
        'company.nameEn',
        'signatory.name',
        'signatory.title',
      ]);
    });

    it('when names are padded, spaced out, decomposed or carry zero-width spaces, then they are stored normalised', async () => {
      const base = await signBodyFor(r.app);
      const decomposed = 'Cafe\u0301'; // e + combining acute
      const body = await signBodyFor(r.app, {
        company: {
          name: `\u3000 ${base.company.name.slice(0, 4)}\u200b  ${base.company.name.slice(4)}\t`,
          nameEn: `  ${decomposed}\u00a0\u00a0Holdings \n Ltd. `,
        },
        signatory: { name: ' 李  明 ' },
      });
      const { id } = await sign(r.app, body);
      const doc = await pledgeDoc(id);
      assert.equal(
        doc?.companyName,
        `${base.company.name.slice(0, 4)} ${base.company.name.slice(4)}`,
      );
      assert.equal(doc?.companyNameEn, 'Caf\u00e9 Holdings Ltd.');
      assert.equal((doc?.signatory as { name: string }).name, '李 明');
    });
  });

  describe('the signing form', () => {
    it('when the company name has a bidi control, then the form says so at the field (400)', async () => {
      const res = await postSignForm(agent(r.app), signFields({ name: 'Acme\u202e Co' }), 400);
      assert.match(res.text, /id="f-name-error">[^<]*不可见的控制字符/);
    });

    it('when the signatory’s name has nothing visible, then the form asks for letters or digits (400)', async () => {
      const res = await postSignForm(
        agent(r.app),
        signFields({ signatoryName: '\u3164\u3164' }),
        400,
      );
      assert.match(res.text, /id="f-signatoryName-error">[^<]*须包含文字或数字/);
    });
  });

  describe('corrections by the association', () => {
    it('when a correction names the company with a bidi control, then a 400 naming name', async () => {
      const admin = await r.makeAdmin();
      const res = await request(r.app)
        .post('/api/v1/admin/pledges/0123456789abcdef01234567/correct')
        .set('Authorization', `Bearer ${admin.token}`)
        .send({ name: 'Acme\u2066 Co', reason: 'typo in the name' });
      assertProblem(res, 400, ['name']);
    });
  });

  describe('numbers in query strings and paths', () => {
    const notDecimal = [
      '0x10',
      '1e1',
      '+5',
      ' 10',
      '10 ',
      '1.0',
      '0b11',
      '0o7',
      '',
      'Infinity',
      '１０',
    ];

    it('when page or pageSize is not written in decimal digits, then a 400 naming it (public API)', async () => {
      for (const v of notDecimal) {
        const q = encodeURIComponent(v);
        assertProblem(await request(r.app).get(`/api/v1/signatories?pageSize=${q}`), 400, [
          'pageSize',
        ]);
        assertProblem(await request(r.app).get(`/api/v1/signatories?page=${q}`), 400, ['page']);
      }
      const ok = await request(r.app).get('/api/v1/signatories?page=1&pageSize=016').expect(200);
      assert.equal(ok.body.pageSize, 16);
    });

    it('when the admin lists, the audit log or an initiative version use hex, then a 400', async () => {
      const admin = await r.makeAdmin();
      const get = (path: string) =>
        request(r.app).get(path).set('Authorization', `Bearer ${admin.token}`);
      assertProblem(await get('/api/v1/admin/pledges?pageSize=0x10'), 400, ['pageSize']);
      assertProblem(await get('/api/v1/admin/pledges?page=1e2'), 400, ['page']);
      assertProblem(await get('/api/v1/admin/audit?pageSize=0x10'), 400, ['pageSize']);
      assertProblem(await get('/api/v1/admin/initiatives/0x1'), 400, ['version']);
    });

    it('when the directory’s page is in hex, then its 400 page', async () => {
      const res = await request(r.app).get('/directory?page=0x2').set('Accept', HTML);
      assert.equal(res.status, 400);
      assert.match(res.text, /class="site-header"/);
    });
  });
});
