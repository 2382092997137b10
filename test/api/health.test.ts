import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mongoose from 'mongoose';
import request from 'supertest';
import { startServer } from '../../src/server';
import { silentLogger } from '../../src/logger';
import { testApp, testConfig } from '../helpers/app';
import { useEmbeddedMongo } from '../helpers/db';

describe('health checks', () => {
  describe('without a database', () => {
    before(function () {
      // The app uses mongoose's one default connection; a suite that forgot to disconnect
      // would make this test meaningless, so say so instead of passing by accident.
      assert.equal(mongoose.connection.readyState, 0, 'mongoose should be disconnected here');
    });

    it('when GET /healthz, then 200 {status: ok}', async () => {
      const res = await request(testApp()).get('/healthz');
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { status: 'ok' });
      assert.equal(res.headers['cache-control'], 'no-store');
    });

    it('when GET /readyz and mongoose is not connected, then 503 problem+json', async () => {
      const res = await request(testApp()).get('/readyz');
      assert.equal(res.status, 503);
      assert.match(res.headers['content-type'], /^application\/problem\+json/);
      assert.equal(res.body.type, '/problems/not-ready');
      assert.match(res.body.detail, /not connected/);
      assert.ok(res.headers['retry-after']);
    });
  });

  describe('with the embedded store', () => {
    useEmbeddedMongo();

    it('when GET /readyz and the database answers, then 200 {status: ready}', async () => {
      const res = await request(testApp()).get('/readyz');
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { status: 'ready' });
    });
  });
});

describe('server', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'eqi-server-'));
  });
  afterEach(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('when started in-process without MONGODB_URI, then it serves on the embedded store and closes cleanly', async () => {
    const running = await startServer(testConfig({ DATA_DIR: dataDir }), {
      logger: silentLogger(),
    });
    try {
      const ready = await request(running.url).get('/readyz');
      assert.equal(ready.status, 200);
    } finally {
      await running.close();
    }
    assert.equal(mongoose.connection.readyState, 0);
    await running.close(); // idempotent
  });

  it('when run as a process and sent SIGTERM, then it shuts down and exits 0', async function () {
    this.timeout(60_000);
    const child = spawn(process.execPath, ['--require', 'tsx/cjs', 'src/server.ts'], {
      env: {
        ...process.env,
        NODE_ENV: 'test',
        PORT: '0',
        DATA_DIR: dataDir,
        LOG_LEVEL: 'info',
        MONGODB_URI: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stderr.on('data', (d: Buffer) => (output += d));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        output += d;
        const m = /"url":"(http:\/\/[^"]+)".*"msg":"listening"/.exec(output);
        if (m) resolve(m[1]);
      });
      child.once('exit', (code) => reject(new Error(`exited early (${code}):\n${output}`)));
    });
    assert.equal((await request(url).get('/healthz')).status, 200);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    assert.equal(await exited, 0, output);
    assert.match(output, /embedded store/);
    assert.match(output, /"msg":"stopped"/);
  });

  it('when run as a process with a bad configuration, then it exits 1 naming the variables', async function () {
    this.timeout(60_000);
    const child = spawn(process.execPath, ['--require', 'tsx/cjs', 'src/server.ts'], {
      env: { ...process.env, NODE_ENV: 'production', PORT: 'abc', JWT_SECRET: '', SIGNING_KEY: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 1);
    assert.match(stderr, /Invalid configuration/);
    for (const name of ['PORT', 'JWT_SECRET', 'SIGNING_KEY'])
      assert.match(stderr, new RegExp(`${name}: `));
  });
});
