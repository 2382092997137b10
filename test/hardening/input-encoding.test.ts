/**
 * Malformed encodings from clients (cookies, percent-encoding in paths and queries, NUL bytes,
 * bodies that are not UTF-8) are the client's fault: a 4xx problem for the API, the site's
 * error page (or its usual redirect) for browsers, never a 500.
 */
import assert from 'node:assert/strict';
import request, { type Response } from 'supertest';
import { assertProblem } from '../helpers/pledges';
import { useRegistry } from '../helpers/registry';
import { HTML } from '../site/helpers';

/** Sends a Buffer as it is (superagent would serialise it as JSON). */
const raw = ((b: Buffer) => b) as unknown as (body: unknown) => string;

function assertSitePage(res: Response, status: number): void {
  assert.equal(res.status, status, res.text.slice(0, 300));
  assert.match(String(res.headers['content-type']), /^text\/html/);
  assert.match(res.text, /class="site-header"/, 'the site’s own error page');
}

describe('input: malformed encodings', () => {
  const r = useRegistry();

  describe('a session cookie that is not valid percent-encoding', () => {
    const bad = ['eqi_session=%', 'eqi_session=%zz', 'eqi_session=%ff%fe', 'eqi_session=a%'];

    it('when it reaches API routes, then a 401 problem (an invalid session), never a 500', async () => {
      for (const cookie of bad) {
        assertProblem(await request(r.app).get('/api/v1/signatories').set('Cookie', cookie), 401);
        assertProblem(await request(r.app).get('/api/v1/me/pledge').set('Cookie', cookie), 401);
        const post = await request(r.app).post('/api/v1/pledges').set('Cookie', cookie).send({});
        assertProblem(post, 401);
      }
    });

    it('when a signed-in form is posted with it, then the visitor is sent to sign in and the cookie is cleared', async () => {
      for (const path of ['/me/withdraw', '/admin/accounts']) {
        const res = await request(r.app)
          .post(path)
          .set('Cookie', 'eqi_session=%')
          .set('Accept', HTML)
          .type('form')
          .send({ _csrf: 'x' });
        assert.equal(res.status, 303, `${path}: ${res.text.slice(0, 200)}`);
        assert.match(String(res.headers['set-cookie']), /eqi_session=;/);
      }
    });

    it('when a page is shown with it and a language cookie that is not valid either, then the page renders', async () => {
      const res = await request(r.app)
        .get('/directory')
        .set('Cookie', 'eqi_session=%; lang=%e0%a4%a')
        .set('Accept', HTML);
      assert.equal(res.status, 200);
    });
  });

  describe('a path parameter with broken percent-encoding', () => {
    it('when the API is asked, then a 400 problem naming the address', async () => {
      for (const path of [
        '/api/v1/certificates/%ff',
        '/api/v1/certificates/%',
        '/api/v1/certificates/%c3%28',
      ]) {
        const res = await request(r.app).get(path);
        assertProblem(res, 400);
        assert.equal(res.body.type, '/problems/malformed-url');
      }
    });

    it('when the site is asked, then its 400 page', async () => {
      for (const path of ['/verify/%c3%28', '/verify/%', '/admin/pledges/%ff']) {
        assertSitePage(await request(r.app).get(path).set('Accept', HTML), 400);
      }
    });
  });

  describe('a query string whose percent-encoding is not UTF-8', () => {
    it('when it reaches the API or the site, then a 400 instead of a silent U+FFFD', async () => {
      const api = await request(r.app).get('/api/v1/signatories?q=%ff%fe');
      assertProblem(api, 400);
      assert.equal(api.body.type, '/problems/malformed-url');
      assertSitePage(await request(r.app).get('/directory?q=%c3').set('Accept', HTML), 400);
    });

    it('when the encoding is valid UTF-8 (or a lone % that is not an escape), then it is accepted', async () => {
      await request(r.app).get('/api/v1/signatories?q=%E5%8D%8E%E4%B8%BA').expect(200);
      await request(r.app).get('/api/v1/signatories?q=100%').expect(200);
    });
  });

  describe('NUL and other control characters in a search term', () => {
    for (const q of ['%00', 'a%00b', '%07', '%C2%80x', '%E2%80%AE', '%E2%81%A6']) {
      it(`when q=${q} is searched, then a 400 naming q (API, console API and the directory)`, async () => {
        assertProblem(await request(r.app).get(`/api/v1/signatories?q=${q}`), 400, ['q']);
        const admin = await r.makeAdmin();
        const res = await request(r.app)
          .get(`/api/v1/admin/pledges?q=${q}`)
          .set('Authorization', `Bearer ${admin.token}`);
        assertProblem(res, 400, ['q']);
        assertSitePage(await request(r.app).get(`/directory?q=${q}`).set('Accept', HTML), 400);
      });
    }
  });

  describe('a JSON body that is not UTF-8', () => {
    it('when a body has invalid UTF-8 bytes, then a 400 malformed-body problem (not a silent U+FFFD)', async () => {
      for (const bytes of [[0xff], [0xc3, 0x28], [0xe2, 0x82], [0xed, 0xa0, 0x80]]) {
        const body = Buffer.concat([
          Buffer.from('{"email":"a'),
          Buffer.from(bytes),
          Buffer.from('@example.cn"}'),
        ]);
        const res = await request(r.app)
          .post('/api/v1/auth/login-link')
          .set('Content-Type', 'application/json')
          .serialize(raw)
          .send(body);
        assertProblem(res, 400);
        assert.equal(res.body.type, '/problems/malformed-body');
      }
    });

    it('when a JSON body says it is in another charset, then a 415', async () => {
      const res = await request(r.app)
        .post('/api/v1/auth/login-link')
        .set('Content-Type', 'application/json; charset=utf-16le')
        .serialize(raw)
        .send(Buffer.from('{"email":"a@example.cn"}', 'utf16le'));
      assertProblem(res, 415);
    });

    it('when a form post has percent-encoding that is not UTF-8, then the site’s 400 page', async () => {
      const res = await request(r.app)
        .post('/login')
        .set('Accept', HTML)
        .set('Content-Type', 'application/x-www-form-urlencoded')
        .send('email=a%ff%40example.cn&_csrf=x');
      assertSitePage(res, 400);
    });
  });
});
