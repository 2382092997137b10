/**
 * Large documents out of RAM (issue #14 §3): RSS and heap of the store process holding 1,000
 * certificate-sized (~60 KiB) documents, and findOne latency of one of them cold (first read
 * after a restart: not in the store's cache; the OS page cache is warm) and warm, for the store
 * of this tree and, as the before figure, another tree's (BENCH_BEFORE_TREE, e.g. /work/main).
 *   BENCH_BEFORE_TREE=/work/main npx tsx bench/large-docs.ts
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Binary } from 'bson';
import { MongoClient } from 'mongodb';

const N = Number(process.env.BENCH_DOCS ?? 1000);
const DOC_BYTES = 60 * 1024;
const HOOK = path.join(__dirname, 'store-probe-hook.cjs');

interface Store {
  uri: string;
  mem(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

function start(tree: string, dataDir: string): Promise<Store> {
  const cli = path.join(tree, 'src', 'embedded-mongo', 'cli.ts');
  const child = spawn(
    process.execPath,
    [
      '--expose-gc',
      '--require',
      HOOK,
      '--require',
      'tsx/cjs',
      cli,
      '--port',
      '0',
      '--data',
      dataDir,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], cwd: tree },
  );
  let err = '';
  let waiting: ((line: string) => void) | null = null;
  child.stderr.on('data', (c: Buffer) => {
    err += c.toString();
    const m = /PROBE-MEM [^\n]*\n/.exec(err);
    if (m && waiting) {
      err = err.slice(m.index + m[0].length);
      const w = waiting;
      waiting = null;
      w(m[0]);
    }
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /READY (\S+)/.exec(out);
      if (!m) return;
      resolve({
        uri: m[1]!,
        mem: () =>
          new Promise((r) => {
            waiting = (line) =>
              r(
                Object.fromEntries(
                  [...line.matchAll(/(\w+)=(\d+)/g)].map((x) => [x[1]!, Number(x[2])]),
                ),
              );
            child.kill('SIGUSR2');
          }),
        stop: async () => {
          child.kill('SIGTERM');
          await exited;
        },
      });
    });
    child.once('exit', (code) => reject(new Error(`store exited ${code}: ${err}`)));
  });
}

const mib = (n: number): string => (n / 1048576).toFixed(1);
const median = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function measure(label: string, tree: string): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'large-docs-bench-'));
  try {
    let store = await start(tree, dir);
    const empty = await store.mem();
    let client = await MongoClient.connect(store.uri);
    let coll = client.db('bench').collection<{ _id: number; [k: string]: unknown }>('certs');
    await coll.createIndex({ serial: 1 }, { unique: true });
    for (let i = 0; i < N; i += 50) {
      const batch: { _id: number; [k: string]: unknown }[] = [];
      for (let j = i; j < Math.min(N, i + 50); j++)
        batch.push({
          _id: j,
          serial: `QIP-${j}`,
          holder: `企业-${j}`,
          issuedAt: new Date(),
          pdf: new Binary(randomBytes(DOC_BYTES)),
        });
      await coll.insertMany(batch);
    }
    const loaded = await store.mem();
    const status = (await client.db('admin').command({ serverStatus: 1 })).embeddedStorage as
      Record<string, number> | undefined;
    await client.close();
    await store.stop();

    // Restart: nothing of the documents read yet.
    store = await start(tree, dir);
    client = await MongoClient.connect(store.uri);
    coll = client.db('bench').collection<{ _id: number; [k: string]: unknown }>('certs');
    await coll.findOne({ _id: -1 }); // connection and first command out of the way
    const cold: number[] = [];
    for (let j = 0; j < 200; j++) {
      const t = performance.now();
      await coll.findOne({ _id: j * 5 });
      cold.push(performance.now() - t);
    }
    const warm: number[] = [];
    for (let j = 0; j < 200; j++) {
      const t = performance.now();
      await coll.findOne({ _id: 5 });
      warm.push(performance.now() - t);
    }
    const restarted = await store.mem();
    await client.close();
    await store.stop();
    console.log(
      `${label}: RSS empty ${mib(empty.rss!)} MiB (arrayBuffers ${mib(empty.arrayBuffers!)}), after ${N} x 60 KiB ${mib(loaded.rss!)} MiB ` +
        `(heapUsed ${mib(loaded.heapUsed!)}, arrayBuffers ${mib(loaded.arrayBuffers!)}); after restart + reads ` +
        `RSS ${mib(restarted.rss!)} MiB (arrayBuffers ${mib(restarted.arrayBuffers!)}); ` +
        `findOne cold median ${median(cold).toFixed(2)} ms (p90 ${cold[Math.floor(cold.length * 0.9)]!.toFixed(2)}), ` +
        `warm median ${median(warm).toFixed(2)} ms` +
        (status
          ? `; store: ${mib(status.ramDocBytes!)} MiB in RAM slabs, ${mib(status.diskDocBytes!)} MiB read from disk`
          : ''),
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const before = process.env.BENCH_BEFORE_TREE;
  if (before) await measure(`before (${before})`, before);
  await measure('after (this tree)', path.join(__dirname, '..'));
}

void main().catch((e) => {
  console.error(e);
  process.exit(1);
});
