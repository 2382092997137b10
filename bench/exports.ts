/**
 * Export benchmark (issue: console and exports). The app runs as its own process against a
 * standalone embedded store, as in production; the data is loaded with the raw driver; the
 * app's RSS is sampled from /proc while each export streams to a client that only counts bytes.
 *
 *   CSV of 1,000,000 signatories: seconds and peak RSS, beside a raw cursor scan of the same
 *   collection in the same run (target ≤ 10 s, ≤ 150 MB, ≥ 0.5× the scan's rows/s).
 *   XLSX (and the PDF roster) of 100,000 rows: seconds and peak RSS.
 *
 * The exports run in the real app (routes, registry, background work) started by this file in a
 * child process (`--app`) with one difference from src/server.ts: certificate issuing is
 * stopped. Its poll asks the store for `{needsCertificate: true, status: 'active', …}`, which the
 * embedded store's planner answers by walking every active pledge (the status index wins a tie
 * with the needsCertificate index), every 2 s: with a million signatories that alone keeps the
 * store busy and every figure below would measure it instead. The figure "store CPU while the
 * real server idles" shows it, measured with src/server.ts itself.
 *
 *   npx tsx bench/exports.ts          (BENCH_ROWS=200000 for a quicker run)
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { MongoClient } from 'mongodb';
import mongoose from 'mongoose';
import { Pledge } from '../models/pledge';
import { createApp } from '../src/app';
import { signSession } from '../src/auth/jwt';
import { loadConfig } from '../src/config';
import { connectDatabase } from '../src/db';
import { spawnEmbeddedMongo, type SpawnedMongo } from '../src/embedded-mongo/spawn';
import { createLogger } from '../src/logger';
import { createRegistry } from '../src/registry';
import { insertSynthetic } from '../test/exports/fixtures';
import { startChild } from './http';
import { nowMs, printFigures, rssOf, type Figure } from './lib';

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const SMALL = Math.min(ROWS, 100_000);
/** 100 activations per day, so the first 100,000 rows are exactly 1,000 days. */
const STEP_MS = 864_000;
const JWT_SECRET = 'bench-exports-secret-0123456789abcdef0123456789';
const MB = 1048576;

type Child = Awaited<ReturnType<typeof startChild>>;

interface Run {
  seconds: number;
  bytes: number;
  lines: number;
  peakRss: number;
}

/** CPU time (user + system) a process has used, in ms (Linux /proc). */
function cpuMsOf(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
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
    const fail = (e: Error) => {
      clearInterval(sampler);
      reject(e);
    };
    const start = nowMs();
    http
      .get(url, { headers: { authorization: `Bearer ${token}` } }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          fail(new Error(`${url}: HTTP ${res.statusCode}`));
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
        res.on('error', fail);
      })
      .on('error', fail);
  });
}

/** Rows/s of a plain cursor over the whole collection with the raw driver (no projection, no work). */
async function rawScan(client: MongoClient): Promise<{ rows: number; seconds: number }> {
  const start = nowMs();
  let rows = 0;
  for await (const d of client.db('bench').collection('pledges').find({}, { batchSize: 10_000 }))
    if (d) rows++;
  return { rows, seconds: (nowMs() - start) / 1000 };
}

function appEnv(dir: string, store: SpawnedMongo): Record<string, string> {
  return {
    NODE_ENV: 'test',
    PORT: '0',
    LOG_LEVEL: 'info',
    DATA_DIR: dir,
    MONGODB_URI: `${store.uri}/bench`,
    JWT_SECRET,
    PUBLIC_URL: 'https://registry.bench',
  };
}

/** Store CPU per wall second over `ms` while the real server (src/server.ts) runs idle. */
async function storeCpuWithIdleServer(
  dir: string,
  store: SpawnedMongo,
  ms: number,
): Promise<number> {
  const server = await startChild(
    ['--require', 'tsx/cjs', path.join(__dirname, '..', 'src', 'server.ts')],
    appEnv(dir, store),
  );
  try {
    await new Promise((r) => setTimeout(r, 2000));
    const c0 = cpuMsOf(store.pid);
    const t0 = nowMs();
    await new Promise((r) => setTimeout(r, ms));
    return (cpuMsOf(store.pid) - c0) / ((nowMs() - t0) / 1000);
  } finally {
    await server.stop();
  }
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
  let app: Child | undefined;
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
      process.stderr.write(
        `  loaded ${(start + count).toLocaleString('en-US')} signatories (${((count * 1000) / (nowMs() - t)).toFixed(0)} docs/s)\n`,
      );
    };

    // A fresh app process per export, so each peak RSS is that export's alone.
    const startApp = async () => {
      await app?.stop();
      app = undefined;
      const started = await startChild(
        ['--require', 'tsx/cjs', __filename, '--app'],
        appEnv(dir, store),
      );
      app = started;
      await new Promise((r) => setTimeout(r, 2000)); // let start-up work settle
      const pid = started.child.pid!;
      return {
        pid,
        idleRss: rssOf(pid),
        url: (format: string) =>
          `${started.url}/api/v1/admin/exports/signatories.${format}?status=all`,
      };
    };
    // Admin routes check the account on every request: the token's subject must exist.
    const adminId = new mongoose.Types.ObjectId();
    await client
      .db('bench')
      .collection('accounts')
      .insertOne({ _id: adminId, email: 'bench-admin@caq.test', role: 'admin', disabled: false });
    const token = signSession({ sub: adminId.toHexString(), role: 'admin' }, JWT_SECRET);
    const rssFigures = (what: string, run: Run, idleRss: number, target?: number): Figure[] => [
      {
        name: `${what}: peak RSS of the app process`,
        value: run.peakRss / MB,
        unit: 'MB',
        baselineName: 'the same process idle just before (MB)',
        baseline: idleRss / MB,
        ...(target ? { target: `≤ ${target} MB`, met: run.peakRss <= target * MB } : {}),
      },
      { name: `${what}: RSS growth over idle`, value: (run.peakRss - idleRss) / MB, unit: 'MB' },
    ];

    // XLSX and the PDF roster of the first 100,000 rows (the whole collection at this point).
    await load(0, SMALL);
    const idleCpuSmall = await storeCpuWithIdleServer(dir, store, 6000);
    let a = await startApp();
    const xlsx = await download(a.url('xlsx'), token, a.pid);
    if (xlsx.bytes < 1000) throw new Error('empty XLSX');
    figures.push({
      name: `XLSX export of ${SMALL.toLocaleString('en-US')} rows (${(xlsx.bytes / MB).toFixed(1)} MB, ${Math.round(SMALL / xlsx.seconds).toLocaleString('en-US')} rows/s)`,
      value: xlsx.seconds,
      unit: 's',
    });
    figures.push(...rssFigures('XLSX export', xlsx, a.idleRss));
    a = await startApp();
    const pdf = await download(a.url('pdf'), token, a.pid);
    figures.push({
      name: `PDF roster of ${SMALL.toLocaleString('en-US')} rows (${(pdf.bytes / MB).toFixed(1)} MB, ${Math.round(SMALL / pdf.seconds).toLocaleString('en-US')} rows/s)`,
      value: pdf.seconds,
      unit: 's',
    });
    figures.push(...rssFigures('PDF roster', pdf, a.idleRss));
    await app?.stop();
    app = undefined;

    // Then the rest, and CSV of everything beside a raw scan of the same collection (the app running for both).
    if (ROWS > SMALL) await load(SMALL, ROWS - SMALL);
    const idleCpuAll =
      ROWS > SMALL ? await storeCpuWithIdleServer(dir, store, 10_000) : idleCpuSmall;
    a = await startApp();
    const scan = await rawScan(client);
    if (scan.rows !== ROWS) throw new Error(`raw scan saw ${scan.rows} rows, expected ${ROWS}`);
    const idle = rssOf(a.pid);
    const csv = await download(a.url('csv'), token, a.pid);
    if (csv.lines !== ROWS + 1) throw new Error(`CSV had ${csv.lines - 1} rows, expected ${ROWS}`);
    const csvRate = ROWS / csv.seconds;
    const scanRate = scan.rows / scan.seconds;
    figures.push({
      name: `CSV export of ${ROWS.toLocaleString('en-US')} signatories (${(csv.bytes / MB).toFixed(0)} MB)`,
      value: csv.seconds,
      unit: 's',
      baselineName: 'raw cursor scan (s)',
      baseline: scan.seconds,
      target: '≤ 10 s',
      met: csv.seconds <= 10,
    });
    figures.push(...rssFigures('CSV export', csv, idle, 150));
    figures.push({
      name: 'CSV export rows/s',
      value: csvRate,
      unit: 'rows/s',
      baselineName: 'raw cursor scan rows/s (batchSize 10k, whole documents)',
      baseline: scanRate,
      target: '≥ 0.5× raw scan',
      met: csvRate >= 0.5 * scanRate,
    });
    figures.push({
      name: `store CPU while the real server idles, ${ROWS.toLocaleString('en-US')} signatories (certificate issuing polls)`,
      value: idleCpuAll,
      unit: 'ms/s',
      baselineName: `at ${SMALL.toLocaleString('en-US')}`,
      baseline: idleCpuSmall,
    });
  } catch (e) {
    if (app)
      process.stderr.write(`app output (last 3,000 characters):\n${app.output().slice(-3000)}\n`);
    throw e;
  } finally {
    await app?.stop();
    await client.close();
    await store.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}

/** `--app`: the registry's app as src/server.ts builds it, with certificate issuing stopped (see above). */
async function runApp(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel });
  await connectDatabase(config.mongodbUri!, logger);
  const registry = createRegistry(config, logger);
  await registry.start();
  await registry.certificateIssuer.stop();
  const server = createApp({ config, logger, routes: registry.routes }).listen(
    0,
    '127.0.0.1',
    () => {
      process.stdout.write(
        `LISTENING http://127.0.0.1:${(server.address() as AddressInfo).port}\n`,
      );
    },
  );
  process.once('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => void registry.stop().then(() => process.exit(0)));
  });
}

if (require.main === module) {
  if (process.argv.includes('--app')) {
    runApp().catch((e) => {
      console.error(e);
      process.exit(1);
    });
  } else {
    benchExports().then(
      (f) => printFigures('exports', f),
      (e) => {
        console.error(e);
        process.exit(1);
      },
    );
  }
}
