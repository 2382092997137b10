/**
 * Export benchmark (issue: console and exports). The app runs as its own process against a
 * standalone embedded store, as in production; the data is loaded with the raw driver; the
 * app's RSS is sampled from /proc while each export streams to a client that only counts bytes.
 *
 *   CSV of 1,000,000 signatories: seconds and peak RSS, beside a raw cursor scan of the same
 *   collection in the same run (target ≤ 10 s, ≤ 150 MB, ≥ 0.5× the scan's rows/s).
 *   XLSX (and the PDF roster) of 100,000 rows: seconds and peak RSS.
 *
 *   npx tsx bench/exports.ts          (BENCH_ROWS=200000 for a quicker run)
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import mongoose from 'mongoose';
import { Pledge } from '../models/pledge';
import { signSession } from '../src/auth/jwt';
import { spawnEmbeddedMongo, type SpawnedMongo } from '../src/embedded-mongo/spawn';
import { insertSynthetic } from '../test/exports/fixtures';
import { startChild } from './http';
import { nowMs, printFigures, rssOf, type Figure } from './lib';

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const SMALL = Math.min(ROWS, 100_000);
/** 100 activations per day, so the first 100,000 rows are exactly 1,000 days. */
const STEP_MS = 864_000;
const JWT_SECRET = 'bench-exports-secret-0123456789abcdef0123456789';
const MB = 1048576;

interface Run {
  seconds: number;
  bytes: number;
  lines: number;
  peakRss: number;
}

/** Downloads `url`, counting bytes and lines only, while sampling the app's RSS every 20 ms. */
function download(url: string, token: string, pid: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    let peak = rssOf(pid);
    const sampler = setInterval(() => {
      try {
        peak = Math.max(peak, rssOf(pid));
      } catch {
        // the process is gone: the request fails below
      }
    }, 20);
    const start = nowMs();
    http
      .get(url, { headers: { authorization: `Bearer ${token}` } }, (res) => {
        if (res.statusCode !== 200) {
          clearInterval(sampler);
          reject(new Error(`${url}: HTTP ${res.statusCode}`));
          res.resume();
          return;
        }
        let bytes = 0;
        let lines = 0;
        res.on('data', (c: Buffer) => {
          bytes += c.length;
          for (let i = c.indexOf(0x0a); i >= 0; i = c.indexOf(0x0a, i + 1)) lines++;
        });
        res.on('end', () => {
          clearInterval(sampler);
          peak = Math.max(peak, rssOf(pid));
          resolve({ seconds: (nowMs() - start) / 1000, bytes, lines, peakRss: peak });
        });
        res.on('error', (e) => {
          clearInterval(sampler);
          reject(e);
        });
      })
      .on('error', (e) => {
        clearInterval(sampler);
        reject(e);
      });
  });
}

/** Rows/s of a plain cursor over the whole collection with the raw driver (no projection, no work). */
async function rawScan(client: MongoClient): Promise<{ rows: number; seconds: number }> {
  const start = nowMs();
  let rows = 0;
  for await (const d of client.db('bench').collection('pledges').find({}, { batchSize: 10_000 })) if (d) rows++;
  return { rows, seconds: (nowMs() - start) / 1000 };
}

export async function benchExports(): Promise<Figure[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-exports-'));
  // A million signatories with their history need more than the default heap in the store process.
  const nodeOptions = process.env.NODE_OPTIONS;
  process.env.NODE_OPTIONS = `${nodeOptions ?? ''} --max-old-space-size=12288`.trim();
  let store: SpawnedMongo;
  try {
    store = await spawnEmbeddedMongo({ memory: true, timeoutMs: 120_000 });
  } finally {
    if (nodeOptions === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = nodeOptions;
  }
  const figures: Figure[] = [];
  let app: Awaited<ReturnType<typeof startChild>> | undefined;
  const client = await MongoClient.connect(store.uri, { maxPoolSize: 8 });
  try {
    // The model's indexes first (as in a live registry), then the data with the raw driver.
    const conn = await mongoose.createConnection(store.uri, { dbName: 'bench' }).asPromise();
    await conn.model('Pledge', Pledge.schema).init();
    await conn.close();
    const coll = client.db('bench').collection('pledges');
    const load = async (start: number, count: number) => {
      const t = nowMs();
      await insertSynthetic(coll, count, { start, stepMs: STEP_MS, batch: 2_000, parallel: 4 });
      process.stderr.write(`  loaded ${(start + count).toLocaleString('en-US')} signatories (${((count * 1000) / (nowMs() - t)).toFixed(0)} docs/s)\n`);
    };
    await load(0, SMALL);

    // A fresh app process per export, so each peak RSS is that export's alone.
    const startApp = async () => {
      await app?.stop();
      const started = await startChild(['--import', 'tsx', path.join(__dirname, '..', 'src', 'server.ts')], {
        NODE_ENV: 'test',
        PORT: '0',
        LOG_LEVEL: 'info',
        DATA_DIR: dir,
        MONGODB_URI: `${store.uri}/bench`,
        JWT_SECRET,
        PUBLIC_URL: 'https://registry.bench',
      });
      app = started;
      await new Promise((r) => setTimeout(r, 2000)); // let start-up work settle
      const pid = started.child.pid!;
      return { pid, idleRss: rssOf(pid), url: (format: string) => `${started.url}/api/v1/admin/exports/signatories.${format}?status=all` };
    };
    const token = signSession({ sub: new mongoose.Types.ObjectId().toHexString(), role: 'admin' }, JWT_SECRET);
    const rssFigures = (what: string, run: Run, idleRss: number, target?: number): Figure[] => [
      { name: `${what}: peak RSS of the app process`, value: run.peakRss / MB, unit: 'MB', baselineName: 'the same process idle just before (MB)', baseline: idleRss / MB, ...(target ? { target: `≤ ${target} MB`, met: run.peakRss <= target * MB } : {}) },
      { name: `${what}: RSS growth over idle`, value: (run.peakRss - idleRss) / MB, unit: 'MB' },
    ];

    // XLSX and the PDF roster of the first 100,000 rows (the whole collection at this point).
    let a = await startApp();
    const xlsx = await download(a.url('xlsx'), token, a.pid);
    figures.push({ name: `XLSX export of ${SMALL.toLocaleString('en-US')} rows (${(xlsx.bytes / MB).toFixed(1)} MB)`, value: xlsx.seconds, unit: 's', baselineName: 'rows/s', baseline: SMALL / xlsx.seconds });
    figures.push(...rssFigures('XLSX export', xlsx, a.idleRss));
    a = await startApp();
    const pdf = await download(a.url('pdf'), token, a.pid);
    figures.push({ name: `PDF roster of ${SMALL.toLocaleString('en-US')} rows (${(pdf.bytes / MB).toFixed(1)} MB)`, value: pdf.seconds, unit: 's', baselineName: 'rows/s', baseline: SMALL / pdf.seconds });
    figures.push(...rssFigures('PDF roster', pdf, a.idleRss));

    // Then the rest, and CSV of everything beside a raw scan of the same collection (the app running for both).
    await app?.stop();
    app = undefined;
    if (ROWS > SMALL) await load(SMALL, ROWS - SMALL);
    a = await startApp();
    const scan = await rawScan(client);
    if (scan.rows !== ROWS) throw new Error(`raw scan saw ${scan.rows} rows, expected ${ROWS}`);
    const idle = rssOf(a.pid);
    const csv = await download(a.url('csv'), token, a.pid);
    if (csv.lines !== ROWS + 1) throw new Error(`CSV had ${csv.lines - 1} rows, expected ${ROWS}`);
    const csvRate = ROWS / csv.seconds;
    const scanRate = scan.rows / scan.seconds;
    figures.push({ name: `CSV export of ${ROWS.toLocaleString('en-US')} signatories (${(csv.bytes / MB).toFixed(0)} MB)`, value: csv.seconds, unit: 's', baselineName: 'raw cursor scan (s)', baseline: scan.seconds, target: '≤ 10 s', met: csv.seconds <= 10 });
    figures.push(...rssFigures('CSV export', csv, idle, 150));
    figures.push({ name: 'CSV export rows/s', value: csvRate, unit: 'rows/s', baselineName: 'raw cursor scan rows/s (batchSize 10k, whole documents)', baseline: scanRate, target: '≥ 0.5× raw scan', met: csvRate >= 0.5 * scanRate });
  } finally {
    await app?.stop();
    await client.close();
    await store.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}

if (require.main === module) {
  benchExports().then(
    (f) => printFigures('exports', f),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
