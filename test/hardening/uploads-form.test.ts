/**
 * Upload abuse through the app in-process: the per-IP rate limit on both verify routes, the
 * one upload reader settling when a client goes away mid-upload, and extra or misnamed parts
 * answered with a named 4xx on both routes.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import request from 'supertest';
import { readUpload, type UploadResult } from '../../src/http/upload';
import { useRegistry } from '../helpers/registry';
import { agent, csrfFrom, multipart, type Part } from '../site/helpers';

const PDF = Buffer.from('%PDF-1.7\n%%EOF\n');

describe('upload abuse: rate limit and parts', function () {
  this.timeout(60_000);
  const r = useRegistry({ RATE_LIMIT_VERIFY_PER_MIN: '4' });

  it('when an address uploads more than RATE_LIMIT_VERIFY_PER_MIN files in a minute, then 429 with Retry-After on the API and on the site (one budget)', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++)
      statuses.push(
        (await request(r.app).post('/api/v1/verify').attach('file', PDF, 'a.pdf')).status,
      );
    const a = agent(r.app);
    const csrf = csrfFrom((await a.get('/verify').expect(200)).text);
    const site = (parts: Part[]) => {
      const { type, body } = multipart(parts);
      return a.post('/verify/upload').set('Content-Type', type).send(body);
    };
    statuses.push(
      (
        await site([
          { name: '_csrf', value: csrf },
          { name: 'file', value: PDF, filename: 'a.pdf' },
        ])
      ).status,
    );
    // Within the budget: checked (not a certificate: the API's verdict, the site's "unreadable").
    assert.deepEqual(statuses, [200, 200, 200, 422]);
    const api = await request(r.app).post('/api/v1/verify').attach('file', PDF, 'a.pdf');
    assert.equal(api.status, 429);
    assert.ok(Number(api.headers['retry-after']) > 0);
    assert.match(String(api.headers['content-type']), /problem\+json/);
    const page = await site([
      { name: '_csrf', value: csrf },
      { name: 'file', value: PDF, filename: 'a.pdf' },
    ]);
    assert.equal(page.status, 429);
    assert.match(page.text, /class="site-header"/, 'the site answers with its own page');
  });
});

describe('upload abuse: parts the API does not expect', function () {
  this.timeout(60_000);
  const r = useRegistry();

  it('when the API gets two files, a misnamed file or an empty one, then 400 problem details with a code naming it', async () => {
    for (const [parts, code] of [
      [
        [
          { name: 'file', value: PDF, filename: 'a.pdf' },
          { name: 'file', value: PDF, filename: 'b.pdf' },
        ],
        'upload-extra-parts',
      ],
      [[{ name: 'upload', value: PDF, filename: 'a.pdf' }], 'upload-no-file'],
      [[{ name: 'file', value: Buffer.alloc(0), filename: 'a.pdf' }], 'upload-empty'],
    ] as Array<[Part[], string]>) {
      const { type, body } = multipart(parts);
      const res = await request(r.app).post('/api/v1/verify').set('Content-Type', type).send(body);
      assert.equal(res.status, 400);
      assert.equal(res.body.type, `/problems/${code}`, JSON.stringify(res.body));
    }
  });
});

describe('upload abuse: the upload reader', function () {
  this.timeout(30_000);
  let server: http.Server;
  let base = '';
  const results: Array<Promise<UploadResult>> = [];

  before(async () => {
    const app = express();
    app.post('/up', (req, res) => {
      const p = readUpload(req, { field: 'file', maxBytes: 1024 * 1024 });
      results.push(p);
      p.then(
        (u) => res.status(u.ok ? 200 : 400).json(u.ok ? { size: u.bytes.length } : u),
        (e: Error) => res.status(403).json({ error: e.message }),
      );
    });
    server = app.listen(0);
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('when the client goes away in the middle of the file, then the read settles (as malformed) instead of waiting forever', async () => {
    const before = results.length;
    const req = http.request(`${base}/up`, {
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'multipart/form-data; boundary=b', 'content-length': '100000' },
    });
    req.on('error', () => undefined);
    req.write(
      '--b\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n%PDF-1.7 ' +
        'x'.repeat(5000),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    req.destroy();
    while (results.length === before) await new Promise((resolve) => setTimeout(resolve, 10));
    const settled = await Promise.race([
      results[before]!,
      new Promise((resolve) => setTimeout(() => resolve('pending'), 2000)),
    ]);
    assert.deepEqual(settled, { ok: false, problem: 'malformed' });
  });

  for (const [what, parts, problem] of [
    [
      'two files',
      [
        { name: 'file', value: PDF, filename: 'a.pdf' },
        { name: 'file', value: PDF, filename: 'b.pdf' },
      ],
      'extra-parts',
    ],
    ['a file in another field', [{ name: 'upload', value: PDF, filename: 'a.pdf' }], 'no-file'],
    [
      'a misnamed file, then the file',
      [
        { name: 'upload', value: PDF, filename: 'a.pdf' },
        { name: 'file', value: PDF, filename: 'b.pdf' },
      ],
      'extra-parts',
    ],
    [
      'eleven text fields',
      Array.from({ length: 11 }, (_, i) => ({ name: `f${i}`, value: 'x' })),
      'extra-parts',
    ],
    ['an empty file', [{ name: 'file', value: Buffer.alloc(0), filename: 'a.pdf' }], 'empty'],
  ] as Array<[string, Part[], string]>) {
    it(`when the body holds ${what}, then the reader answers "${problem}"`, async () => {
      const { type, body } = multipart(parts);
      const res = await request(base).post('/up').set('Content-Type', type).send(body);
      assert.equal(res.body.problem, problem, JSON.stringify(res.body));
    });
  }
});
