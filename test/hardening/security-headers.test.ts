/**
 * The security headers are helmet's defaults on every answer: the public certificate lookup
 * (served before the body parsers), a route behind the whole chain, a 404 and a 400 (the site's
 * pages replace the CSP with their own, stricter one: src/site/http.ts). The app sets them from a
 * recording of helmet() (src/http/security-headers.ts); this compares them with what helmet
 * itself sets on a plain express app.
 */
import assert from 'node:assert/strict';
import express from 'express';
import helmet from 'helmet';
import request from 'supertest';
import { makeSerial } from '../../certificates';
import { securityHeaders } from '../../src/http/security-headers';
import { activePledgeWithCertificate } from '../helpers/pledges';
import { useRegistry } from '../helpers/registry';

/** The headers helmet() sets (lower-case names), read from a response of an app with only helmet. */
async function helmetHeaders(): Promise<Record<string, string>> {
  const plain = express();
  plain.use(helmet());
  plain.get('/', (_req, res) => void res.end());
  const bare = express();
  bare.get('/', (_req, res) => void res.end());
  const [withHelmet, without] = await Promise.all([
    request(plain).get('/').expect(200),
    request(bare).get('/').expect(200),
  ]);
  const added = Object.entries(withHelmet.headers as Record<string, string>).filter(
    ([name]) => !(name in without.headers) && name !== 'date',
  );
  assert.ok(added.length >= 10, JSON.stringify(added));
  return Object.fromEntries(added);
}

describe('security headers', () => {
  const r = useRegistry();

  it('when the lookup (early and full chain), another API route, a 404 and a 400 answer, then each carries exactly helmet’s headers and no X-Powered-By', async () => {
    const expected = await helmetHeaders();
    const p = await activePledgeWithCertificate(r);
    const lookup = `/api/v1/certificates/${p.serial}`;
    const answers = {
      'lookup (early)': await request(r.app).get(lookup).expect(200),
      'lookup (full chain)': await request(r.app)
        .get(lookup)
        .set('Authorization', `Bearer ${p.admin.token}`)
        .expect(200),
      initiative: await request(r.app).get('/api/v1/initiative').expect(200),
      'unknown serial': await request(r.app)
        .get(`/api/v1/certificates/${makeSerial(2026, 990_077)}`)
        .expect(404),
      'not a serial': await request(r.app).get('/api/v1/certificates/not-a-serial').expect(400),
    };
    for (const [what, res] of Object.entries(answers)) {
      for (const [name, value] of Object.entries(expected))
        assert.equal(res.headers[name], value, `${what}: ${name}`);
      assert.equal(res.headers['x-powered-by'], undefined, what);
    }
  });

  it('when helmet is given options whose header depends on the request, then helmet itself runs for each request', async () => {
    let n = 0;
    const app = express();
    app.use(
      securityHeaders({
        contentSecurityPolicy: { directives: { scriptSrc: [() => `'nonce-${++n}'`] } },
      }),
    );
    app.get('/', (_req, res) => void res.end());
    const a = await request(app).get('/').expect(200);
    const b = await request(app).get('/').expect(200);
    assert.notEqual(a.headers['content-security-policy'], b.headers['content-security-policy']);
    assert.match(b.headers['content-security-policy'], /'nonce-\d+'/);
  });
});
