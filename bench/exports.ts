/**
 * Export benchmark (issue: console and exports). The app runs as its own process against a
 * standalone embedded store, as in production; the data is loaded with the raw driver; the
 * app's RSS is sampled from /proc while each export streams to a client that only counts bytes.
 *
 *   CSV of 1,000,000 signatories: seconds and peak RSS, beside a raw cursor scan of the same
 *   collection in the same run (target ≤ 10 s, ≤ 150 MB, ≥ 0.5× the scan's rows/s).
 *   XLSX of 100,000 rows (target ≤ 5 s) and the PDF roster of 100,000 rows (≤ 8 s, ≤ 200 MB),
 *   each beside a raw cursor scan of the collection as it is then (100,000 documents).
 *
 * Every export is also put beside the export's own query run with the raw driver (its filter,
 * sort, hint, projection and batch size, documents decoded and dropped): what the database and
 * the driver cost before the app formats a byte. Peak RSS is the app process's (a fresh one per
 * export); the store runs in its own process and its peak RSS over the same export is reported
 * apart.
 *
 * The exports run in the real app (routes, registry) started by this file in a child process
 * (`--app`) without background work (createRegistry's `background: false`): the synthetic
 * pledges were inserted with the raw driver, without the transparency-log intents and
 * certificates their activations would have made. The data is marked as already swept by the
 * log's one-time recovery sweep (as in a registry whose every change was logged: the log's
 * recovery then reads only changes flagged `logPending`, and there are none); unmarked, the
 * sweep would append a million intents first (13 minutes and a store twice the size), which is
 * not the export's work. The figure "store CPU while the real server idles" is src/server.ts
 * itself with all its background passes, on this data.
 *
 * The machine is shared (other sessions' tests and benchmarks): beside wall seconds, each scan
 * and export reports the CPU seconds the app, the store and this process used for it, which
 * other load moves much less.
 *
 *   npm run bench -- exports
 *   BENCH_ROWS=200000 npm run bench -- exports       a quicker run (XLSX and PDF of min(N, 100,000))
 *   BENCH_EXPORTS=csv                                only these exports (csv, xlsx, pdf; comma-separated)
 *   BENCH_IDLE_SERVER=0                              skip "store CPU while the real server idles"
 *   BENCH_APP=dist                                   the app from the built dist/ (`npm run build`)
 *       with plain node, as deployed (under tsx the app idles at 220-530 MB)
 *   BENCH_PROFILE_DIR=/tmp/prof                      CPU profiles of the CSV export: the app's
 *       (node --cpu-prof, written when it stops) and the store's (bench/store-probe-hook.cjs,
 *       started and stopped around the download); summarise with bench/cpuprofile-top.ts.
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
import { BATCH_SIZE, exportFilter, exportFindOptions } from '../src/exports/rows';
import { insertSynthetic } from '../test/exports/fixtures';
import { startChild } from './http';
import { nowMs, printFigures, rssOf, type Figure } from './lib';

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const SMALL = Math.min(ROWS, 100_000);
const WANTED = new Set(
  (process.env.BENCH_EXPORTS ?? 'csv,xlsx,pdf').split(',').map((s) => s.trim()),
);
const IDLE_SERVER = process.env.BENCH_IDLE_SERVER !== '0';
const PROFILE_DIR = process.env.BENCH_PROFILE_DIR;
/** BENCH_APP=dist: the app from the built dist/ (`npm run build`) with plain node, as deployed. */
const APP_FROM_DIST = process.env.BENCH_APP === 'dist';
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
  /** Peak RSS of the store's process over the same download. */
  storePeakRss: number;
}

/** CPU time (user + system) a process has used, in ms (Linux /proc). */
function cpuMsOf(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** Downloads `url`, counting bytes and lines only, while sampling the app's and the store's RSS every 20 ms. */
function download(url: string, token: string, pid: number, storePid: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    let peak = rssOf(pid);
    let storePeak = rssOf(storePid);
    const sampler = setInterval(() => {
      try {
        peak = Math.max(peak, rssOf(pid));
        storePeak = Math.max(storePeak, rssOf(storePid));
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
          storePeak = Math.max(storePeak, rssOf(storePid));
          resolve({
            seconds: (nowMs() - start) / 1000,
            bytes,
            lines,
            peakRss: peak,
            storePeakRss: storePeak,
          });
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

/**
 * The export's own query (exportFilter and exportFindOptions of `status=all`: order, hint, batch
 * size, documents as bytes) with the raw driver, the bytes dropped: the database's and the
 * driver's part of an export.
 */
async function exportQueryScan(client: MongoClient): Promise<{ rows: number; seconds: number }> {
  const q = { status: 'all' } as const;
  const start = nowMs();
  let rows = 0;
  const cursor = client
    .db('bench')
    .collection('pledges')
    .find(exportFilter(q).filter, exportFindOptions(q));
  for await (const d of cursor) if (d) rows++;
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
  // With BENCH_PROFILE_DIR the store preloads the probe hook (its CPU profile on SIGWINCH).
  const hook = PROFILE_DIR ? ` --require ${path.join(__dirname, 'store-probe-hook.cjs')}` : '';
  process.env.NODE_OPTIONS = `${nodeOptions ?? ''} --max-old-space-size=12288${hook}`.trim();
  const storeProfile = PROFILE_DIR ? path.join(PROFILE_DIR, 'store-csv.cpuprofile') : undefined;
  const benchCpuProfile = process.env.BENCH_CPU_PROFILE;
  if (storeProfile) {
    fs.mkdirSync(PROFILE_DIR!, { recursive: true });
    process.env.BENCH_CPU_PROFILE = storeProfile;
  }
  let store: SpawnedMongo;
  try {
    store = await spawnEmbeddedMongo({ memory: true, timeoutMs: 120_000 });
  } finally {
    if (nodeOptions === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = nodeOptions;
    if (benchCpuProfile === undefined) delete process.env.BENCH_CPU_PROFILE;
    else process.env.BENCH_CPU_PROFILE = benchCpuProfile;
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
      await client
        .db('bench')
        .collection<{ _id: string; at: Date }>('counters')
        .updateOne(
          { _id: 'log-recovery-swept' },
          { $setOnInsert: { at: new Date() } },
          { upsert: true },
        );
      process.stderr.write(
        `  loaded ${(start + count).toLocaleString('en-US')} signatories (${((count * 1000) / (nowMs() - t)).toFixed(0)} docs/s)\n`,
      );
    };

    /** Stops the store's CPU profile (SIGWINCH) and moves it to `file` once written. */
    const storeProfileTo = async (file: string) => {
      fs.rmSync(storeProfile!, { force: true });
      store.child.kill('SIGWINCH');
      for (let i = 0; i < 300 && !fs.existsSync(storeProfile!); i++)
        await new Promise((r) => setTimeout(r, 100));
      await new Promise((r) => setTimeout(r, 500));
      fs.renameSync(storeProfile!, file);
    };
    // A fresh app process per export, so each peak RSS is that export's alone.
    const startApp = async (cpuProfile = false) => {
      await app?.stop();
      app = undefined;
      const flags = cpuProfile
        ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`, '--cpu-prof-name=app-csv.cpuprofile']
        : [];
      const started = await startChild(
        APP_FROM_DIST
          ? [...flags, '-e', distApp(path.join(__dirname, '..', 'dist'))]
          : [...flags, '--require', 'tsx/cjs', __filename, '--app'],
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
      {
        name: `${what}: peak RSS of the store process (its own process, all data in memory)`,
        value: run.storePeakRss / MB,
        unit: 'MB',
      },
    ];
    /** Scans first (app idle), then the export: seconds beside the raw scan and the export's query. */
    const measure = async (
      format: string,
      what: string,
      rows: number,
      targetS: number,
      targetMb?: number,
      cpuProfile = false,
    ): Promise<Run & { scanRate: number }> => {
      const a = await startApp(cpuProfile);
      const cpu = () => ({
        app: cpuMsOf(a.pid),
        store: cpuMsOf(store.pid),
        bench: process.cpuUsage().user / 1000 + process.cpuUsage().system / 1000,
      });
      const cpuFigure = (what2: string, c0: ReturnType<typeof cpu>): Figure => {
        const c1 = cpu();
        const s2 = (k: 'app' | 'store' | 'bench') => ((c1[k] - c0[k]) / 1000).toFixed(1);
        return {
          name: `${what2}: CPU seconds of the app ${s2('app')}, the store ${s2('store')}, this process (client) ${s2('bench')}`,
          value: (c1.app - c0.app + c1.store - c0.store + c1.bench - c0.bench) / 1000,
          unit: 'CPU s in all',
        };
      };
      if (cpuProfile) store.child.kill('SIGWINCH');
      const scanCpu = cpu();
      const scan = await rawScan(client);
      const scanCpuFigure = cpuFigure('raw cursor scan', scanCpu);
      if (cpuProfile) await storeProfileTo(path.join(PROFILE_DIR!, 'store-scan.cpuprofile'));
      if (scan.rows !== rows) throw new Error(`raw scan saw ${scan.rows} rows, expected ${rows}`);
      const queryCpu = cpu();
      const query = await exportQueryScan(client);
      if (query.rows !== rows)
        throw new Error(`the export's query saw ${query.rows} rows, expected ${rows}`);
      const queryCpuFigure = cpuFigure("the export's query with the raw driver", queryCpu);
      const idle = rssOf(a.pid);
      if (cpuProfile) store.child.kill('SIGWINCH');
      const runCpu = cpu();
      const run = await download(a.url(format), token, a.pid, store.pid);
      const runCpuFigure = cpuFigure(what, runCpu);
      if (cpuProfile) store.child.kill('SIGWINCH');
      if (run.bytes < 1000) throw new Error(`empty ${format}`);
      if (format === 'csv' && run.lines !== rows + 1)
        throw new Error(`CSV had ${run.lines - 1} rows, expected ${rows}`);
      const rate = rows / run.seconds;
      figures.push(
        {
          name: `${what} of ${rows.toLocaleString('en-US')} rows (${(run.bytes / MB).toFixed(1)} MB, ${Math.round(rate).toLocaleString('en-US')} rows/s)`,
          value: run.seconds,
          unit: 's',
          baselineName: `raw cursor scan of the ${rows.toLocaleString('en-US')} documents (s)`,
          baseline: scan.seconds,
          target: `≤ ${targetS} s`,
          met: run.seconds <= targetS,
        },
        {
          name: `${what}: rows/s`,
          value: rate,
          unit: 'rows/s',
          baselineName: 'raw cursor scan rows/s (batchSize 10k, whole documents)',
          baseline: scan.rows / scan.seconds,
        },
        {
          name: `${what}: the export's own query with the raw driver (its filter and find options, batch ${BATCH_SIZE})`,
          value: query.seconds,
          unit: 's',
          baselineName: 'raw cursor scan (s)',
          baseline: scan.seconds,
        },
        ...rssFigures(what, run, idle, targetMb),
        runCpuFigure,
        scanCpuFigure,
        queryCpuFigure,
      );
      return { ...run, scanRate: scan.rows / scan.seconds };
    };

    // XLSX and the PDF roster of the first 100,000 rows (the whole collection at this point).
    await load(0, SMALL);
    const idleCpuSmall = IDLE_SERVER ? await storeCpuWithIdleServer(dir, store, 6000) : NaN;
    if (WANTED.has('xlsx')) await measure('xlsx', 'XLSX export', SMALL, 5);
    if (WANTED.has('pdf')) await measure('pdf', 'PDF roster', SMALL, 8, 200);
    await app?.stop();
    app = undefined;

    // Then the rest, and CSV of everything beside a raw scan of the same collection (the app running for both).
    if (ROWS > SMALL) await load(SMALL, ROWS - SMALL);
    const idleCpuAll =
      ROWS > SMALL && IDLE_SERVER ? await storeCpuWithIdleServer(dir, store, 10_000) : idleCpuSmall;
    if (WANTED.has('csv')) {
      const csv = await measure('csv', 'CSV export', ROWS, 10, 150, PROFILE_DIR !== undefined);
      const csvRate = ROWS / csv.seconds;
      figures.push({
        name: 'CSV export rows/s against the target',
        value: csvRate,
        unit: 'rows/s',
        baselineName: 'raw cursor scan rows/s (batchSize 10k, whole documents)',
        baseline: csv.scanRate,
        target: '≥ 0.5× raw scan',
        met: csvRate >= 0.5 * csv.scanRate,
      });
    }
    if (IDLE_SERVER)
      figures.push({
        name: `store CPU while the real server idles, ${ROWS.toLocaleString('en-US')} signatories (all background passes)`,
        value: idleCpuAll,
        unit: 'ms/s',
        baselineName: `at ${SMALL.toLocaleString('en-US')}`,
        baseline: idleCpuSmall,
      });
    if (PROFILE_DIR) {
      // The app writes its profile as it exits (`app` is set inside startApp, which TS cannot see).
      await (app as Child | undefined)?.stop();
      app = undefined;
      process.stderr.write(
        `  CPU profiles of the CSV export: ${path.join(PROFILE_DIR, 'app-csv.cpuprofile')}, ${storeProfile}\n`,
      );
    }
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

/** `--app`: the registry's app as src/server.ts builds it, without background work (see above). */
async function runApp(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel });
  await connectDatabase(config.mongodbUri!, logger);
  const registry = createRegistry(config, logger, { background: false });
  await registry.start();
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

/** runApp's program for the built dist/ (plain node, no tsx: the RSS a deployed instance has). */
function distApp(dist: string): string {
  const mod = (m: string) => JSON.stringify(path.join(dist, 'src', m));
  return `
const { loadConfig } = require(${mod('config')});
const { createLogger } = require(${mod('logger')});
const { connectDatabase } = require(${mod('db')});
const { createRegistry } = require(${mod('registry')});
const { createApp } = require(${mod('app')});
(async () => {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel });
  await connectDatabase(config.mongodbUri, logger);
  const registry = createRegistry(config, logger, { background: false });
  await registry.start();
  const server = createApp({ config, logger, routes: registry.routes }).listen(0, '127.0.0.1', () =>
    process.stdout.write('LISTENING http://127.0.0.1:' + server.address().port + '\\n'));
  process.once('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => void registry.stop().then(() => process.exit(0)));
  });
})().catch((e) => { console.error(e); process.exit(1); });
`;
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
