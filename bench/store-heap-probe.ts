/**
 * What the embedded store's heap holds after a bulk load: starts the store with the probe hook
 * (bench/store-probe-hook.cjs), loads N documents of the benchmark's shape with a unique index,
 * forces a GC, writes a heap snapshot and prints its largest groups (bench/heapsnapshot-top.ts).
 *   BENCH_DOCS=200000 BENCH_HEAP_SNAPSHOT=/tmp/store.heapsnapshot npx tsx bench/store-heap-probe.ts
 * BENCH_KEEP_DATA=<dir> keeps the data directory there (to profile a restart on it);
 * BENCH_HEAP_SNAPSHOT=none skips the snapshot (memory figures only); BENCH_IDLE_MS=<ms> waits that
 * long, the store idle, before the probe.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { spawnEmbeddedMongo } from '../src/embedded-mongo/spawn';
import { topGroups } from './heapsnapshot-top';

const N = Number(process.env.BENCH_DOCS ?? 200_000);
const SNAPSHOT = process.env.BENCH_HEAP_SNAPSHOT ?? path.join(os.tmpdir(), 'store.heapsnapshot');

async function main(): Promise<void> {
  const keep = process.env.BENCH_KEEP_DATA;
  const dir = keep ?? fs.mkdtempSync(path.join(os.tmpdir(), 'heap-probe-'));
  process.env.NODE_OPTIONS = `--expose-gc --require ${path.join(__dirname, 'store-probe-hook.cjs')}`;
  if (SNAPSHOT === 'none') delete process.env.BENCH_HEAP_SNAPSHOT;
  else process.env.BENCH_HEAP_SNAPSHOT = SNAPSHOT;
  const store = await spawnEmbeddedMongo({ dataDir: path.join(dir, 'db') });
  delete process.env.NODE_OPTIONS;
  const client = await MongoClient.connect(store.uri);
  const coll = client.db('bench').collection('items');
  await coll.createIndex({ k: 1 }, { unique: true });
  for (let i = 0; i < N; i += 10_000) {
    const batch = [];
    for (let j = i; j < Math.min(N, i + 10_000); j++)
      batch.push({
        k: j,
        name: `企业-${j}`,
        province: 11 + (j % 30),
        n: j % 100,
        at: new Date(1_700_000_000_000 + j),
      });
    await coll.insertMany(batch, { ordered: false });
  }
  // BENCH_IDLE_MS: let the store sit idle first (V8's memory reducer runs on an idle process).
  await new Promise((r) => setTimeout(r, Number(process.env.BENCH_IDLE_MS ?? 0)));
  process.kill(store.pid, 'SIGUSR2');
  while (!store.stderr().includes('PROBE-SPACES')) await new Promise((r) => setTimeout(r, 200));
  process.stdout.write(
    store
      .stderr()
      .split('\n')
      .filter((l) => l.startsWith('PROBE-'))
      .join('\n') + '\n',
  );
  await client.close();
  await store.stop();
  if (!keep) fs.rmSync(dir, { recursive: true, force: true });
  if (SNAPSHOT === 'none') return;
  const snap = JSON.parse(fs.readFileSync(SNAPSHOT, 'utf8'));
  for (const g of topGroups(snap, 20))
    process.stdout.write(
      `${(g.bytes / 1048576).toFixed(1).padStart(8)} MiB ${(g.share * 100).toFixed(1).padStart(5)}% ${String(g.count).padStart(9)}×  ${g.group}\n`,
    );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
