/**
 * The API reference page (/api/docs, routes/site/api-docs.ts) over HTTP: served from this host
 * only, no inline script, the site's CSP with a per-response style nonce that the page hands to
 * Redoc, the bundle patched to keep to that CSP, and the footer linking to the page.
 */
import assert from 'node:assert/strict';
import request from 'supertest';
import { patchRedoc, REDOC_PATCHES } from '../../routes/site/api-docs';
import { useRegistry } from '../helpers/registry';

/** The CSP header as directive → sources. */
function csp(header: string | undefined): Record<string, string[]> {
  assert.ok(header, 'a Content-Security-Policy header');
  return Object.fromEntries(
    header
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((parts) => parts[0])
      .map(([name, ...sources]) => [name, sources]),
  );
}

describe('API reference page', () => {
  const r = useRegistry();

  it('when /api/docs is requested, then it is an HTML page whose scripts are files from this host, under the site CSP with a fresh style nonce it hands to Redoc', async () => {
    const res = await request(r.app).get('/api/docs').expect(200);
    assert.match(String(res.headers['content-type']), /^text\/html/);
    assert.equal(res.headers['cache-control'], 'no-store');
    const scripts = [...res.text.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    assert.deepEqual(
      scripts.map((m) => /src="([^"]+)"/.exec(m[1])?.[1]),
      ['/api/docs/redoc.standalone.js', '/api/docs/init.js'],
    );
    for (const m of scripts) assert.equal(m[2].trim(), '', 'no inline script');
    assert.doesNotMatch(res.text, /https?:\/\//, 'nothing from another host');

    const policy = csp(res.headers['content-security-policy']);
    assert.deepEqual(policy['script-src'], ["'self'"]);
    assert.deepEqual(policy['script-src-attr'], ["'none'"]);
    assert.deepEqual(policy['default-src'], ["'self'"]);
    assert.deepEqual(policy['connect-src'], ["'self'"]);
    assert.deepEqual(policy['frame-ancestors'], ["'none'"]);
    const nonce = /data-style-nonce="([^"]+)"/.exec(res.text)?.[1];
    assert.ok(nonce && nonce.length >= 16, 'the page carries the nonce for Redoc');
    assert.deepEqual(policy['style-src'], ["'self'", `'nonce-${nonce}'`]);

    const again = await request(r.app).get('/api/docs').expect(200);
    assert.notEqual(
      /data-style-nonce="([^"]+)"/.exec(again.text)?.[1],
      nonce,
      'a new nonce on every response',
    );
  });

  it('when the page’s scripts are requested, then both are served from here as JavaScript, the bundle patched for the CSP and cacheable', async () => {
    const init = await request(r.app).get('/api/docs/init.js').expect(200);
    assert.match(String(init.headers['content-type']), /^application\/javascript/);
    assert.match(init.text, /Redoc\.init\(/);
    assert.match(init.text, /disableSearch: true/);

    const bundle = await request(r.app)
      .get('/api/docs/redoc.standalone.js')
      .buffer(true)
      .parse((res, done) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => done(null, Buffer.concat(chunks).toString('utf8')));
      });
    assert.equal(bundle.status, 200);
    assert.match(String(bundle.headers['content-type']), /^application\/javascript/);
    const text = bundle.body as string;
    assert.ok(text.length > 500_000, `the whole bundle (${text.length} bytes)`);
    assert.ok(!text.includes('cdn.redoc.ly'), 'no logo from the CDN');
    assert.ok(text.includes('getAttribute("data-style-nonce")'), 'the nonce is read at load time');
    const etag = bundle.headers.etag;
    assert.ok(etag);
    await request(r.app)
      .get('/api/docs/redoc.standalone.js')
      .set('If-None-Match', etag)
      .expect(304);
    // The page's resources get the site CSP too.
    assert.deepEqual(csp(init.headers['content-security-policy'])['script-src'], ["'self'"]);
  });

  it('when the bundle does not contain a patched spot exactly once, then patching refuses (an upgrade of Redoc is noticed)', () => {
    const all = REDOC_PATCHES.map((p) => p.find).join('\n');
    assert.equal(patchRedoc(all), REDOC_PATCHES.map((p) => p.replace).join('\n'));
    assert.throws(() => patchRedoc(REDOC_PATCHES[0].find), /exactly once/);
    assert.throws(() => patchRedoc(all + all), /exactly once/);
  });

  it('when a site page is shown, then its footer links to the API reference, not the raw JSON', async () => {
    const res = await request(r.app).get('/').set('Accept', 'text/html').expect(200);
    const footer = /<footer[\s\S]*<\/footer>/.exec(res.text)?.[0] ?? '';
    assert.match(footer, /href="\/api\/docs"/);
    assert.doesNotMatch(footer, /href="\/api\/v1\/openapi\.json"/);
  });
});
