import assert from 'node:assert/strict';
import mongoose from 'mongoose';
import { Certificate } from '../../models/certificate';
import request, { type Response } from 'supertest';
import { HOSTILE_NAMES } from '../fixtures/companies';
import { mailParts } from '../helpers/mime';
import {
  approve,
  assertProblem,
  companySession,
  confirmationToken,
  dbSnapshot,
  pledgeDoc,
  sign,
  signAndConfirm,
  signBodyFor,
  type SignBody,
  type SignedPledge,
  uploadLetter,
} from '../helpers/pledges';
import { useRegistry } from '../helpers/registry';

interface Route {
  name: string;
  path: string;
  auth?: () => string;
  /** A body the route would accept (shape only; the values need not succeed). */
  valid: () => Record<string, unknown>;
}

/** All leaf paths of a plain object, e.g. `company.uscc`. */
function leaves(o: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(o).flatMap(([k, v]) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? leaves(v as Record<string, unknown>, `${prefix}${k}.`)
      : [`${prefix}${k}`],
  );
}

function withValue(
  o: Record<string, unknown>,
  path: string,
  value: unknown,
): Record<string, unknown> {
  const copy = structuredClone(o);
  const keys = path.split('.');
  let at = copy as Record<string, unknown>;
  for (const k of keys.slice(0, -1)) at = at[k] as Record<string, unknown>;
  at[keys[keys.length - 1]] = value;
  return copy;
}

describe('bad input (API)', () => {
  const r = useRegistry();
  let adminToken: string;
  let companyToken: string;
  let reviewed: SignedPledge; // pending_review: the target of admin routes
  let body: SignBody;

  const post = (route: Route) => {
    const req = request(r.app).post(route.path);
    return route.auth ? req.set('Authorization', `Bearer ${route.auth()}`) : req;
  };

  const routes = (): Route[] => [
    {
      name: 'POST /pledges',
      path: '/api/v1/pledges',
      valid: () => structuredClone(body) as unknown as Record<string, unknown>,
    },
    {
      name: 'POST /pledges/confirm',
      path: '/api/v1/pledges/confirm',
      valid: () => ({ token: 'x'.repeat(43) }),
    },
    {
      name: 'POST /auth/login-link',
      path: '/api/v1/auth/login-link',
      valid: () => ({ email: 'someone@example.cn' }),
    },
    {
      name: 'POST /auth/login-link/verify',
      path: '/api/v1/auth/login-link/verify',
      valid: () => ({ token: 'x'.repeat(43) }),
    },
    {
      name: 'POST /auth/login',
      path: '/api/v1/auth/login',
      valid: () => ({ email: 'admin@caq.test', password: 'secret secret' }),
    },
    {
      name: 'POST /me/pledge/withdraw',
      path: '/api/v1/me/pledge/withdraw',
      auth: () => companyToken,
      valid: () => ({ reason: '不再参与 / leaving' }),
    },
    {
      name: 'POST /admin/pledges/:id/reject',
      path: `/api/v1/admin/pledges/${reviewed.id}/reject`,
      auth: () => adminToken,
      valid: () => ({ reason: '资料不全 / incomplete' }),
    },
  ];

  before(async function () {
    this.timeout(30_000);
    adminToken = (await r.makeAdmin()).token;
    const mine = await signAndConfirm(r);
    await approve(r.app, adminToken, mine.id);
    // Let the background work of that approval (certificate, its audit event, the mail) finish,
    // so the "nothing changes" snapshots below see only what the bad requests did.
    for (let i = 0; i < 50 && !(await Certificate.exists({ pledge: mine.id })); i++) {
      r.registry.certificateIssuer.poke();
      await r.registry.certificateIssuer.idle();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await r.registry.mailSender.drain();
    companyToken = await companySession(r, mine.body.signatory.email);
    reviewed = await signAndConfirm(r);
    body = await signBodyFor(r.app);
  });

  describe('operator injection', () => {
    const cases: Array<{
      route: string;
      body: (valid: Record<string, unknown>) => unknown;
      field: string;
    }> = [
      {
        route: 'POST /pledges',
        body: (v) => withValue(v, 'company.uscc', { $gt: '' }),
        field: 'company.uscc',
      },
      {
        route: 'POST /pledges',
        body: (v) => ({ ...v, company: { uscc: { $gt: '' } } }),
        field: 'company.uscc',
      },
      {
        route: 'POST /pledges',
        body: (v) => withValue(v, 'signatory.email', { $gt: '' }),
        field: 'signatory.email',
      },
      {
        route: 'POST /pledges',
        body: (v) => withValue(v, 'initiative.version', { $gte: 0 }),
        field: 'initiative.version',
      },
      {
        route: 'POST /pledges',
        body: (v) => withValue(v, 'agree', { $ne: false }),
        field: 'agree',
      },
      { route: 'POST /pledges/confirm', body: () => ({ token: { $ne: null } }), field: 'token' },
      { route: 'POST /pledges/confirm', body: () => ({ token: { $regex: '.*' } }), field: 'token' },
      { route: 'POST /auth/login-link', body: () => ({ email: { $gt: '' } }), field: 'email' },
      {
        route: 'POST /auth/login-link/verify',
        body: () => ({ token: { $ne: null } }),
        field: 'token',
      },
      {
        route: 'POST /auth/login',
        body: () => ({ email: { $gt: '' }, password: 'x' }),
        field: 'email',
      },
      {
        route: 'POST /auth/login',
        body: () => ({ email: 'admin@caq.test', password: { $ne: null } }),
        field: 'password',
      },
      {
        route: 'POST /me/pledge/withdraw',
        body: () => ({ reason: { $ne: null } }),
        field: 'reason',
      },
      {
        route: 'POST /admin/pledges/:id/reject',
        body: () => ({ reason: { $gt: '' } }),
        field: 'reason',
      },
    ];
    for (const c of cases) {
      const shown = JSON.stringify(c.body({ company: {}, signatory: {}, initiative: {} }))
        .replace(/"(company|signatory|initiative)":\{\},?/g, '')
        .replace(',}', '}');
      it(`when ${c.route} gets ${shown}, then 400 naming ${c.field} and nothing changes`, async () => {
        const route = routes().find((x) => x.name === c.route)!;
        const before = await dbSnapshot();
        const res = await post(route).send(c.body(route.valid()) as object);
        assertProblem(res, 400, [c.field]);
        assert.deepEqual(await dbSnapshot(), before);
      });
    }

    it('when a form-encoded body carries token[$ne], then 400 (no nested objects from forms)', async () => {
      const res = await request(r.app)
        .post('/api/v1/pledges/confirm')
        .type('form')
        .send('token[$ne]=1');
      assertProblem(res, 400, ['token[$ne]']);
    });
  });

  describe('wrong types', () => {
    it('when any field of any route gets a number, boolean, null, array or object instead, then 400 naming it and nothing changes', async function () {
      this.timeout(60_000);
      const before = await dbSnapshot();
      let n = 0;
      for (const route of routes()) {
        const valid = route.valid();
        for (const path of leaves(valid)) {
          const original = path
            .split('.')
            .reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], valid);
          const wrongs = [42, false, null, ['x'], { x: 1 }, 'not-a-number'].filter(
            (w) => typeof w !== typeof original || (typeof original === 'boolean' && w === false),
          );
          for (const w of wrongs) {
            const res = await post(route).send(withValue(valid, path, w));
            assert.equal(
              res.status,
              400,
              `${route.name} ${path}=${JSON.stringify(w)}: ${res.status} ${res.text}`,
            );
            assertProblem(res, 400, [path]);
            n++;
          }
        }
      }
      assert.ok(n > 60, `only ${n} cases`);
      assert.deepEqual(await dbSnapshot(), before);
    });

    it('when the body is an array, a string, null or a number, then 400 on every route', async () => {
      for (const route of routes()) {
        for (const raw of ['[]', '"token"', 'null', '42', '[{"token":"x"}]']) {
          const res = await post(route).set('Content-Type', 'application/json').send(raw);
          assertProblem(res, 400);
        }
      }
    });

    it('when the body is sent as text/plain, then 400 (it is not read as JSON)', async () => {
      const res = await request(r.app)
        .post('/api/v1/pledges')
        .set('Content-Type', 'text/plain')
        .send(JSON.stringify(body));
      assertProblem(res, 400);
    });
  });

  describe('unknown fields', () => {
    for (const where of ['top level', 'nested']) {
      it(`when every route gets an unknown field (${where}), then 400 naming it`, async () => {
        const before = await dbSnapshot();
        for (const route of routes()) {
          const valid = route.valid();
          const nestedKey = Object.keys(valid).find(
            (k) => valid[k] && typeof valid[k] === 'object',
          );
          if (where === 'nested' && !nestedKey) continue;
          const [sent, field] =
            where === 'top level'
              ? [{ ...valid, status: 'active' }, 'status']
              : [withValue(valid, `${nestedKey}.role`, 'admin'), `${nestedKey}.role`];
          assertProblem(await post(route).send(sent), 400, [field]);
        }
        assert.deepEqual(await dbSnapshot(), before);
      });
    }

    it('when the body carries __proto__ or constructor keys, then 400 and nothing is polluted', async () => {
      for (const route of routes()) {
        const valid = JSON.stringify(route.valid());
        for (const extra of [
          '"__proto__":{"role":"admin","status":"active"}',
          '"constructor":{"prototype":{"role":"admin"}}',
        ]) {
          const res = await post(route)
            .set('Content-Type', 'application/json')
            .send(`{${extra},${valid.slice(1)}`);
          assertProblem(res, 400);
        }
      }
      assert.equal(({} as Record<string, unknown>).role, undefined);
    });
  });

  describe('body size and syntax', () => {
    it('when any route gets a 1 MB JSON body, then 413 problem+json', async () => {
      const big = JSON.stringify({ token: 'x'.repeat(1024 * 1024) });
      for (const route of [
        ...routes(),
        {
          name: 'approve',
          path: `/api/v1/admin/pledges/${reviewed.id}/approve`,
          auth: () => adminToken,
          valid: () => ({ evidenceChecked: true }),
        },
      ]) {
        const res = await post(route).set('Content-Type', 'application/json').send(big);
        assertProblem(res, 413);
      }
      assert.equal((await pledgeDoc(reviewed.id))!.status, 'pending_review');
    });

    it('when any route gets malformed JSON, then 400 /problems/malformed-body', async () => {
      for (const route of routes()) {
        for (const raw of [
          '{"token": "abc"',
          "{'token': 'abc'}",
          '{"token": "abc",}',
          '{"a":1}garbage',
        ]) {
          const res = await post(route).set('Content-Type', 'application/json').send(raw);
          assertProblem(res, 400);
          assert.equal(res.body.type, '/problems/malformed-body', `${route.name} ${raw}`);
        }
      }
    });

    it('when a JSON body is nested thousands of levels deep, then 4xx, not 5xx', async () => {
      const deep = `{"token":${'['.repeat(5000)}${']'.repeat(5000)}}`;
      for (const route of routes()) {
        const res = await post(route).set('Content-Type', 'application/json').send(deep);
        assert.ok(res.status >= 400 && res.status < 500, `${route.name}: ${res.status}`);
        assertProblem(res, res.status);
      }
    });
  });

  describe('POST /api/v1/admin/pledges/:id/approve and /reject (path ids)', () => {
    for (const bad of [
      'not-an-id',
      '123',
      'zzzzzzzzzzzzzzzzzzzzzzzz',
      '%24ne',
      '%7B%22%24ne%22%3A1%7D',
      `${'a'.repeat(24)}0`,
      '%00aaaaaaaaaaaaaaaaaaaaaaa',
    ]) {
      it(`when the id is "${bad}", then 400 naming id and nothing changes`, async () => {
        const before = await dbSnapshot();
        assertProblem(
          await request(r.app)
            .post(`/api/v1/admin/pledges/${bad}/approve`)
            .set('Authorization', `Bearer ${adminToken}`)
            .send({ evidenceChecked: true }),
          400,
          ['id'],
        );
        assertProblem(
          await request(r.app)
            .post(`/api/v1/admin/pledges/${bad}/reject`)
            .set('Authorization', `Bearer ${adminToken}`)
            .send({ reason: 'bad id' }),
          400,
          ['id'],
        );
        assert.deepEqual(await dbSnapshot(), before);
      });
    }

    it('when the id is well-formed but unknown (lower or upper case), then 404', async () => {
      const id = new mongoose.Types.ObjectId().toHexString();
      for (const x of [id, id.toUpperCase()]) {
        assertProblem(
          await request(r.app)
            .post(`/api/v1/admin/pledges/${x}/approve`)
            .set('Authorization', `Bearer ${adminToken}`)
            .send({ evidenceChecked: true }),
          404,
        );
        assertProblem(
          await request(r.app)
            .post(`/api/v1/admin/pledges/${x}/reject`)
            .set('Authorization', `Bearer ${adminToken}`)
            .send({ reason: 'unknown' }),
          404,
        );
      }
    });
  });

  describe('query strings', () => {
    const adminGet = (qs: string) =>
      request(r.app)
        .get(`/api/v1/admin/pledges?${qs}`)
        .set('Authorization', `Bearer ${adminToken}`);
    const signatoriesGet = (qs: string) => request(r.app).get(`/api/v1/signatories?${qs}`);
    const cases: Array<[string, (qs: string) => request.Test, string, string]> = [
      ['GET /admin/pledges', adminGet, 'page=1&page=2', 'page'],
      ['GET /admin/pledges', adminGet, 'status=active&status=pending_review', 'status'],
      ['GET /admin/pledges', adminGet, 'status[$ne]=x', 'status[$ne]'],
      ['GET /admin/pledges', adminGet, 'status=deleted', 'status'],
      ['GET /admin/pledges', adminGet, 'pageSize=1000000', 'pageSize'],
      ['GET /admin/pledges', adminGet, 'page=0', 'page'],
      ['GET /signatories', signatoriesGet, 'page=1&page=2', 'page'],
      ['GET /signatories', signatoriesGet, 'q=a&q=b', 'q'],
      ['GET /signatories', signatoriesGet, 'province[$gt]=', 'province[$gt]'],
      ['GET /signatories', signatoriesGet, 'province=11&province=35', 'province'],
      ['GET /signatories', signatoriesGet, 'industry=Z', 'industry'],
      ['GET /signatories', signatoriesGet, 'pageSize=abc', 'pageSize'],
      ['GET /signatories', signatoriesGet, 'page=-1', 'page'],
    ];
    for (const [name, get, qs, field] of cases) {
      it(`when ${name} gets ?${qs}, then 400 naming ${field}`, async () => {
        assertProblem(await get(qs), 400, [field]);
      });
    }

    it('when the search text holds regular-expression syntax, then it is matched literally (200, no match)', async () => {
      for (const q of ['.*', '(a+)+$', '[', '\\', '^']) {
        const res = await request(r.app).get('/api/v1/signatories').query({ q }).expect(200);
        assert.equal(res.body.total, 0, q);
      }
      const all = await request(r.app).get('/api/v1/signatories').expect(200);
      assert.equal(all.body.total, 1);
    });
  });

  describe('HTML and script in names', () => {
    let hostile: SignedPledge;
    let signedRes: Response;

    before(async function () {
      this.timeout(20_000);
      const b = await signBodyFor(r.app, {
        company: { name: HOSTILE_NAMES.company },
        signatory: { name: HOSTILE_NAMES.signatory },
      });
      signedRes = await request(r.app).post('/api/v1/pledges').send(b).expect(201);
      hostile = { id: signedRes.body.id, body: b };
    });

    it('when names contain HTML, then they are stored verbatim as text', async () => {
      const doc = (await pledgeDoc(hostile.id))!;
      assert.equal(doc.companyName, HOSTILE_NAMES.company);
      assert.equal((doc.signatory as { name: string }).name, HOSTILE_NAMES.signatory);
      const company = await mongoose.connection
        .db!.collection('companies')
        .findOne({ uscc: hostile.body.company.uscc });
      assert.equal(company!.name, HOSTILE_NAMES.company);
    });

    it('when the confirmation mail is sent, then its HTML part escapes the names and its text part keeps them as plain text', async () => {
      const token = await confirmationToken(r, hostile.body.signatory.email);
      const mail = r.smtp.received.find((m) => m.to.includes(hostile.body.signatory.email))!;
      const { html, text } = mailParts(mail);
      assert.ok(html && text, 'the mail has an HTML and a text part');
      assert.ok(!html.includes('<script>'), 'no live <script> in the HTML part');
      assert.ok(!html.includes('<img'), 'no live <img> in the HTML part');
      assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'), html);
      assert.ok(
        html.includes('&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;&amp;amp;'),
        html,
      );
      assert.ok(text.includes(HOSTILE_NAMES.company));
      assert.ok(text.includes(HOSTILE_NAMES.signatory));
      await uploadLetter(r.app, hostile.id, token);
      await request(r.app).post('/api/v1/pledges/confirm').send({ token }).expect(200);
      await approve(r.app, adminToken, hostile.id);
    });

    it('when the pledge is read back through the API, then the names come back unchanged as JSON strings', async () => {
      const checks: Array<[string, (res: Response) => unknown[]]> = [
        [
          '/api/v1/founders',
          (res) =>
            res.body.items
              .filter(
                (i: { company: { uscc: string } }) => i.company.uscc === hostile.body.company.uscc,
              )
              .map((i: { company: { name: string } }) => i.company.name),
        ],
        [
          `/api/v1/signatories?q=${encodeURIComponent('<script>')}`,
          (res) => res.body.items.map((i: { company: { name: string } }) => i.company.name),
        ],
      ];
      for (const [path, names] of checks) {
        const res = await request(r.app).get(path).expect(200);
        assert.equal(String(res.headers['content-type']).split(';')[0], 'application/json');
        assert.equal(res.headers['x-content-type-options'], 'nosniff');
        assert.deepEqual(names(res), [HOSTILE_NAMES.company], path);
        // Serialised as a JSON string (quotes escaped), never as markup outside a string.
        assert.ok(res.text.includes(JSON.stringify(HOSTILE_NAMES.company)), path);
      }
      const admin = await request(r.app)
        .get('/api/v1/admin/pledges?status=active')
        .set('Authorization', `Bearer ${adminToken}`)
        .expect(200);
      const mine = admin.body.items.find((p: { id: string }) => p.id === hostile.id);
      assert.equal(mine.company.name, HOSTILE_NAMES.company);
      assert.equal(mine.signatory.name, HOSTILE_NAMES.signatory);
      assert.ok(admin.text.includes(JSON.stringify(HOSTILE_NAMES.signatory)));
    });

    it('when a hostile name is signed again for an existing pledge, then the 409 does not echo it', async () => {
      const res = await request(r.app).post('/api/v1/pledges').send(hostile.body);
      assertProblem(res, 409, ['company.uscc']);
      assert.ok(!res.text.includes('<script>'));
    });
  });

  describe('afterwards', () => {
    it('when every route was hit with bad input, then the registry still works (sign → 201)', async () => {
      await sign(r.app);
    });
  });
});
