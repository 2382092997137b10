/**
 * Upload abuse, multipart side: bodies cut off inside the file part, clients that go away
 * mid-upload, extra and misnamed parts, and the size cap to the byte. The crash cases run
 * against the real server in its own process (`node --require tsx/cjs src/server.ts`), since
 * what they used to do is end the process.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import type { AppProcess } from '../helpers/app-process';
import { assertAlive, post, siteForm, startUploadServer } from './server';

/** The body from the issue: a file part that stops in the middle (no closing boundary). */
const CUT = (prefix = '') =>
  Buffer.from(
    `${prefix}--b\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n%PDF-1.4 abc`,
    'latin1',
  );
const MULTIPART_B = { 'content-type': 'multipart/form-data; boundary=b' };

describe('upload abuse: multipart bodies against the running server', function () {
  this.timeout(60_000);
  let app: AppProcess;

  before(async () => {
    app = await startUploadServer();
  });
  after(async () => app?.stop());

  const alive = (what: string) => assertAlive(app, what);

  it('when a multipart body to POST /api/v1/verify ends inside the file part, then 400 problem details and the process lives', async () => {
    const res = await post(app.url, '/api/v1/verify', MULTIPART_B, CUT());
    assert.equal(res.status, 400, res.text);
    assert.match(String(res.headers['content-type']), /application\/problem\+json/);
    assert.match(JSON.parse(res.text).detail, /incomplete|cut off|malformed/i);
    await alive('API, cut body');
  });

  it('when the same body goes to POST /verify/upload without a CSRF token, then 403 and the process lives', async () => {
    const { cookie } = await siteForm(app.url);
    const res = await post(
      app.url,
      '/verify/upload',
      { ...MULTIPART_B, accept: 'text/html', cookie },
      CUT(),
    );
    assert.equal(res.status, 403, res.text.slice(0, 500));
    await alive('site, cut body, no token');
    // Without even a session cookie (a cross-site post).
    const bare = await post(
      app.url,
      '/verify/upload',
      { ...MULTIPART_B, accept: 'text/html' },
      CUT(),
    );
    assert.equal(bare.status, 403);
    await alive('site, cut body, no cookie');
  });

  it('when a body with a valid CSRF token ends inside the file part, then 400 and the form says the upload did not arrive whole', async () => {
    const { cookie, csrf } = await siteForm(app.url);
    const body = CUT(`--b\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${csrf}\r\n`);
    const res = await post(
      app.url,
      '/verify/upload',
      { ...MULTIPART_B, accept: 'text/html', cookie },
      body,
    );
    assert.equal(res.status, 400, res.text.slice(0, 500));
    assert.ok(res.text.includes('上传没有完整送达'), 'the friendly form error');
    await alive('site, cut body, valid token');
  });

  it('when a skipped part (a second file, a misnamed file) is cut off, then 4xx and the process lives', async () => {
    const first =
      '--b\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n%PDF-1.4 one\r\n';
    const misnamed = Buffer.from(
      '--b\r\nContent-Disposition: form-data; name="upload"; filename="a.pdf"\r\n\r\n%PDF-1.4 abc',
      'latin1',
    );
    for (const body of [CUT(first), misnamed]) {
      const res = await post(app.url, '/api/v1/verify', MULTIPART_B, body);
      assert.ok(res.status >= 400 && res.status < 500, `${res.status} ${res.text}`);
      await alive('API, cut skipped part');
    }
  });

  it('when clients go away in the middle of the file part (both routes), then the process lives and keeps answering', async () => {
    const { cookie, csrf } = await siteForm(app.url);
    const { port } = new URL(app.url);
    const head = (urlPath: string, extra: string, prefix: string) =>
      `POST ${urlPath} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 1000000\r\n${extra}\r\n` +
      `${prefix}--b\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n%PDF-1.4 ${'x'.repeat(20_000)}`;
    for (const h of [
      head('/api/v1/verify', '', ''),
      head(
        '/verify/upload',
        `Cookie: ${cookie}\r\nAccept: text/html\r\n`,
        `--b\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${csrf}\r\n`,
      ),
      head('/verify/upload', 'Accept: text/html\r\n', ''),
    ]) {
      for (let i = 0; i < 5; i++) {
        await new Promise<void>((resolve) => {
          const s = net.connect(Number(port), '127.0.0.1', () => {
            s.write(h, () => setTimeout(() => s.destroy(), 30));
          });
          s.on('close', () => resolve());
          s.on('error', () => undefined);
        });
      }
      await alive('after aborted uploads');
    }
  });
});
