/**
 * Embedded store benchmark (issue: foundation + embedded store; issue #14 section 3 for the
 * footprint, scan, replay and findOne targets). Every figure is measured in this run beside a
 * baseline of the same machine, so ratios survive noisy shared hosts. Targets are stated per
 * 1,000,000 documents; a smaller run scales the replay target and says so.
 *   npx tsx bench/embedded-mongo.ts     (BENCH_DOCS=100000 for a quicker run)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deserialize } from 'bson';
import mongoose from 'mongoose';
import { MongoClient } from 'mongodb';
import { spawnEmbeddedMongo, type SpawnedMongo } from '../src/embedded-mongo/spawn';
import { nowMs, printFigures, rssOf, runConcurrent, summarize, type Figure } from './lib';

const DOCS = Number(process.env.BENCH_DOCS ?? 1_000_000);
/** Set to a file name to get a CPU profile of the store process during the cursor scan. */
const CPU_PROFILE = process.env.BENCH_CPU_PROFILE;
const HOOK = path.join(__dirname, 'store-probe-hook.cjs');

/** Starts the store with the probe hook preloaded (full GC and profiling on signals, see the hook). */
function spawnProbed(opts: Parameters<typeof spawnEmbeddedMongo>[0]): Promise<SpawnedMongo> {
  const before = process.env.NODE_OPTIONS;
  process.env.NODE_OPTIONS = `${before ?? ''} --expose-gc --require ${HOOK}`.trim();
  try {
    return spawnEmbeddedMongo(opts);
  } finally {
    if (before === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = before;
  }
}

/** Asks the store's process for a full GC and returns its memory figures afterwards (bytes). */
async function memoryAfterGc(store: SpawnedMongo): Promise<Record<string, number>> {
  const seen = store.stderr().split('PROBE-MEM').length;
  process.kill(store.pid, 'SIGUSR2');
  for (let i = 0; i < 600; i++) {
    const parts = store.stderr().split('PROBE-MEM');
    if (parts.length > seen) {
      const line = parts.at(-1)!.split('\n')[0]!;
      if (!line.includes('gc=true')) throw new Error('the store process has no gc() (--expose-gc)');
      return Object.fromEntries(
        [...line.matchAll(/(\w+)=(\d+)/g)].map((m) => [m[1]!, Number(m[2])]),
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the store process did not answer the GC probe');
}

/** Peak resident set size of a process in bytes (Linux /proc VmHWM). */
function peakRssOf(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

function rawFsyncPerSecond(dir: string, ms = 1500): number {
  const file = path.join(dir, 'fsync-probe');
  const fd = fs.openSync(file, 'w');
  const buf = Buffer.alloc(200, 1);
  let n = 0;
  const end = nowMs() + ms;
  const start = nowMs();
  while (nowMs() < end) {
    fs.writeSync(fd, buf);
    fs.fdatasyncSync(fd);
    n++;
  }
  const rate = (n * 1000) / (nowMs() - start);
  fs.closeSync(fd);
  fs.rmSync(file);
  return rate;
}

function doc(i: number): Record<string, unknown> {
  return {
    k: i,
    name: `企业-${i}`,
    province: 11 + (i % 30),
    n: i % 100,
    at: new Date(1_700_000_000_000 + i),
  };
}

export async function benchEmbeddedMongo(): Promise<Figure[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-store-'));
  const figures: Figure[] = [];
  const fsyncs = rawFsyncPerSecond(dir);
  let store = await spawnProbed({ dataDir: path.join(dir, 'db') });
  const emptyRss = (await memoryAfterGc(store)).rss!;
  let bsonBytesSeen: number;
  try {
    // 1. Acknowledged single-document inserts through mongoose, 32 concurrent callers.
    const conn = await mongoose
      .createConnection(store.uri, { dbName: 'bench', maxPoolSize: 32 })
      .asPromise();
    const Item = conn.model(
      'Item',
      new mongoose.Schema({
        k: { type: Number, unique: true },
        name: String,
        province: Number,
        n: Number,
        at: Date,
      }),
    );
    await Item.init();
    const INSERTS = 20_000;
    const insertMs = await runConcurrent(INSERTS, 32, (i) => Item.create(doc(i)));
    const insertsPerSec = (INSERTS * 1000) / insertMs;
    figures.push({
      name: 'acknowledged inserts/s (mongoose, 32 callers, fsync before ack)',
      value: insertsPerSec,
      unit: '/s',
      baselineName: 'raw fsync/s of this disk',
      baseline: fsyncs,
      target: '≥ 5,000/s',
      met: insertsPerSec >= 5000,
    });

    // Load to DOCS documents with bulk inserts.
    const client = await MongoClient.connect(store.uri, { maxPoolSize: 4 });
    const coll = client.db('bench').collection('items');
    const loadStart = nowMs();
    for (let i = INSERTS; i < DOCS; i += 10_000) {
      const batch = [];
      for (let j = i; j < Math.min(DOCS, i + 10_000); j++) batch.push(doc(j));
      await coll.insertMany(batch, { ordered: false });
    }
    const loadMs = nowMs() - loadStart;
    const total = await coll.estimatedDocumentCount();
    figures.push({
      name: `bulk load to ${total.toLocaleString('en-US')} docs`,
      value: ((DOCS - INSERTS) * 1000) / loadMs,
      unit: 'docs/s',
    });

    // 2. Indexed findOne latency at DOCS documents, beside the round-trip floor (ping).
    const pingSamples: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const t = nowMs();
      await client.db('admin').command({ ping: 1 });
      pingSamples.push(nowMs() - t);
    }
    const findSamples: number[] = [];
    for (let i = 0; i < 5000; i++) {
      const k = Math.floor(Math.random() * DOCS);
      const t = nowMs();
      const found = await Item.findOne({ k }).lean();
      findSamples.push(nowMs() - t);
      if (!found) throw new Error(`findOne lost document k=${k}`);
    }
    const rawSamples: number[] = [];
    for (let i = 0; i < 5000; i++) {
      const k = Math.floor(Math.random() * DOCS);
      const t = nowMs();
      const found = await coll.findOne({ k });
      rawSamples.push(nowMs() - t);
      if (!found) throw new Error(`findOne lost document k=${k}`);
    }
    const ping = summarize(pingSamples);
    const find = summarize(findSamples);
    const rawFind = summarize(rawSamples);
    figures.push({
      name: `indexed findOne p50 at ${DOCS.toLocaleString('en-US')} docs (raw driver)`,
      value: rawFind.p50,
      unit: 'ms',
      baselineName: 'ping p50',
      baseline: ping.p50,
      target: '≤ 0.3 ms',
      met: rawFind.p50 <= 0.3,
    });
    figures.push({
      name: `indexed findOne p50 at ${DOCS.toLocaleString('en-US')} docs (mongoose)`,
      value: find.p50,
      unit: 'ms',
      baselineName: 'ping p50',
      baseline: ping.p50,
      target: '≤ 0.5 ms',
      met: find.p50 <= 0.5,
    });
    figures.push({
      name: 'indexed findOne p99',
      value: find.p99,
      unit: 'ms',
      baselineName: 'ping p99',
      baseline: ping.p99,
    });

    // 3. Cursor scan, beside decoding the same documents in-process (the client's own floor).
    if (CPU_PROFILE) process.kill(store.pid, 'SIGWINCH');
    const scanStart = nowMs();
    let scanned = 0;
    for await (const d of coll.find({}, { batchSize: 1000 })) if (d) scanned++;
    const scanRate = (scanned * 1000) / (nowMs() - scanStart);
    if (CPU_PROFILE) process.kill(store.pid, 'SIGWINCH');
    // The stored documents as the driver sent them (with their ObjectId _id).
    const sample: Uint8Array[] = [];
    for await (const raw of coll.find({}, { batchSize: 1000, limit: 100_000, raw: true }))
      sample.push(raw as unknown as Uint8Array);
    const decStart = nowMs();
    for (const b of sample) deserialize(b);
    const decodeRate = (sample.length * 1000) / (nowMs() - decStart);
    // The same scan with the driver handing each document over undecoded (raw: true): what the
    // store, the wire and the driver's cursor deliver without the driver's decode.
    const rawScanStart = nowMs();
    let rawScanned = 0;
    for await (const d of coll.find({}, { batchSize: 1000, raw: true })) if (d) rawScanned++;
    const rawScanRate = (rawScanned * 1000) / (nowMs() - rawScanStart);
    figures.push({
      name: 'cursor scan (raw driver, batchSize 1000)',
      value: scanRate,
      unit: 'docs/s',
      baselineName: 'BSON decode in-process',
      baseline: decodeRate,
      target: '≥ 300,000/s and ≥ 0.3× decode',
      met: scanRate >= 300_000 && scanRate >= 0.3 * decodeRate,
    });
    figures.push({
      name: 'cursor scan undecoded (raw: true, batchSize 1000): store + wire + driver cursor',
      value: rawScanRate,
      unit: 'docs/s',
      baselineName: 'BSON decode in-process',
      baseline: decodeRate,
    });

    // 4. Memory: RSS growth of the store process beside the BSON size of what it holds; as it is
    // (garbage of the load included), after a full GC in the store process, and its peak.
    const rssGrowth = rssOf(store.pid) - emptyRss;
    const peakGrowth = peakRssOf(store.pid) - emptyRss;
    const mem = await memoryAfterGc(store);
    const gcGrowth = mem.rss! - emptyRss;
    const bsonBytes = (sample.reduce((n, b) => n + b.length, 0) / sample.length) * total;
    bsonBytesSeen = bsonBytes;
    const rssFigure = (name: string, bytes: number): Figure => ({
      name,
      value: bytes / 1048576,
      unit: 'MiB',
      baselineName: 'BSON size of the documents (MiB)',
      baseline: bsonBytes / 1048576,
      target: '≤ 2.5× BSON',
      met: bytes <= 2.5 * bsonBytes,
    });
    figures.push(
      rssFigure(
        `store RSS growth at ${total.toLocaleString('en-US')} docs, after a full GC`,
        gcGrowth,
      ),
    );
    figures.push(rssFigure('store RSS growth as found (before that GC)', rssGrowth));
    figures.push(rssFigure('store peak RSS growth (VmHWM)', peakGrowth));
    figures.push({
      name: 'store JS heap used / total after the GC',
      value: mem.heapUsed! / 1048576,
      unit: 'MiB',
      baselineName: 'heap total MiB',
      baseline: mem.heapTotal! / 1048576,
    });
    figures.push({
      name: 'store external memory (slabs, buffers) after the GC',
      value: mem.external! / 1048576,
      unit: 'MiB',
    });

    await client.close();
    await conn.close();

    // 5. Replay: restart on the same data and time recovery, beside reading the files raw.
    await store.stop();
    const files = fs.readdirSync(path.join(dir, 'db')).map((f) => path.join(dir, 'db', f));
    const readStart = nowMs();
    let bytes = 0;
    for (const f of files) bytes += fs.readFileSync(f).length;
    const rawReadMs = nowMs() - readStart;
    // Process start alone (node + tsx + the store's modules), on an empty in-memory store.
    const emptyStart = nowMs();
    const empty = await spawnEmbeddedMongo({ memory: true });
    const emptyStartMs = nowMs() - emptyStart;
    await empty.stop();
    const restart = nowMs();
    store = await spawnProbed({ dataDir: path.join(dir, 'db'), timeoutMs: 300_000 });
    const restartMs = nowMs() - restart;
    // The store logs its RecoveryStats (storage/types.ts): records and fractional milliseconds.
    const m = /recovered (\d+) records in ([\d.]+) ms/.exec(store.stderr());
    if (!m) throw new Error(`the store did not log its recovery figures: ${store.stderr()}`);
    const recoveryMs = Number(m[2]);
    const check = await MongoClient.connect(store.uri);
    const after = await check.db('bench').collection('items').estimatedDocumentCount();
    await check.close();
    if (after !== total) throw new Error(`replay lost documents: ${after} of ${total}`);
    const replayedMem = await memoryAfterGc(store);
    const replayedRss = replayedMem.rss! - emptyRss;
    const replayTargetMs = 3000 * (total / 1e6);
    figures.push({
      name: `replay of ${total.toLocaleString('en-US')} docs (${(bytes / 1048576).toFixed(0)} MiB on disk), restart to ready`,
      value: restartMs,
      unit: 'ms',
      baselineName: 'reading the same files raw (ms)',
      baseline: rawReadMs,
      target: `≤ ${Math.round(replayTargetMs)} ms (3 s per million)`,
      met: restartMs <= replayTargetMs,
    });
    figures.push({
      name: `recovery inside the store (${m[1]} records applied; RecoveryStats.millis, before the index build)`,
      value: recoveryMs,
      unit: 'ms',
      baselineName: 'reading the same files raw (ms)',
      baseline: rawReadMs,
      target: `≤ ${Math.round(replayTargetMs)} ms (3 s per million)`,
      met: recoveryMs <= replayTargetMs,
    });
    figures.push({
      name: 'index build at the end of recovery and the rest (restart − recovery − empty start)',
      value: restartMs - recoveryMs - emptyStartMs,
      unit: 'ms',
    });
    figures.push({
      name: 'store JS heap used / total after the replay and a full GC',
      value: replayedMem.heapUsed! / 1048576,
      unit: 'MiB',
      baselineName: 'heap total MiB',
      baseline: replayedMem.heapTotal! / 1048576,
    });
    figures.push({
      name: 'store RSS growth after the replay, after a full GC (no bulk-load garbage)',
      value: replayedRss / 1048576,
      unit: 'MiB',
      target: '≤ 2.5× BSON',
      met: replayedRss <= 2.5 * bsonBytesSeen,
    });
    figures.push({
      name: 'process start to ready on an empty store (node + tsx + modules)',
      value: emptyStartMs,
      unit: 'ms',
    });
  } finally {
    await store.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}

if (require.main === module) {
  benchEmbeddedMongo().then(
    (f) => printFigures('embedded store', f),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
