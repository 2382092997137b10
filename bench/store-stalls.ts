/**
 * Event-loop stalls of the embedded store at BENCH_DOCS small documents (default 1,000,000):
 * the longest the loop waits during a compaction (incremental, beside the previous synchronous
 * snapshot write of the same state), and how long other big single operations hold it.
 *   node --require tsx/cjs bench/store-stalls.ts     (BENCH_DOCS=100000 for a quicker run)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { CommandExecutor } from '../src/embedded-mongo/commands';
import { CursorManager } from '../src/embedded-mongo/cursors';
import { Catalog, WriteBatch } from '../src/embedded-mongo/engine/catalog';
import { openDurableStorage } from '../src/embedded-mongo/storage';
import { encodeFrame } from '../src/embedded-mongo/storage/frames';
import { nowMs, printFigures, type Figure } from './lib';

const DOCS = Number(process.env.BENCH_DOCS ?? 1_000_000);
const LIMIT_MS = 50;

function doc(i: number): Record<string, unknown> {
  return { _id: i, k: i, name: `企业-${i}`, province: 11 + (i % 30), n: i % 100, at: new Date(1_700_000_000_000 + i) };
}

/** Longest event-loop delay while `work` runs, from the histogram and from a 1 ms ticker. */
async function maxStallDuring(work: () => Promise<unknown>): Promise<{ stallMs: number; totalMs: number }> {
  const h = monitorEventLoopDelay({ resolution: 5 });
  h.enable();
  let last = nowMs();
  let worst = 0;
  const ticker = setInterval(() => {
    const t = nowMs();
    worst = Math.max(worst, t - last - 1);
    last = t;
  }, 1);
  const started = nowMs();
  await work();
  const totalMs = nowMs() - started;
  await new Promise((r) => setTimeout(r, 20));
  clearInterval(ticker);
  h.disable();
  return { stallMs: Math.max(worst, h.max / 1e6), totalMs };
}

export async function benchStoreStalls(): Promise<Figure[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-stalls-'));
  const figures: Figure[] = [];
  try {
    const storage = await openDurableStorage(dir);
    const catalog = new Catalog();
    storage.recover((r) => catalog.applyRecord(r));
    for (let i = 0; i < DOCS; i += 10_000) {
      const batch = new WriteBatch();
      const coll = catalog.getOrCreate(batch, 'bench', 'items');
      for (let j = i; j < Math.min(DOCS, i + 10_000); j++) {
        const d = doc(j);
        coll.insert(d);
        batch.insert(coll, d);
      }
      await storage.append({ ops: batch.ops });
    }
    const n = DOCS.toLocaleString('en-US');

    // The previous compaction: the whole snapshot encoded and written in one synchronous step.
    const syncFile = path.join(dir, 'sync-snapshot.bson');
    const syncStall = await maxStallDuring(async () => {
      const fd = fs.openSync(syncFile, 'w');
      for (const record of catalog.dump()) fs.writeSync(fd, encodeFrame(record));
      fs.fsyncSync(fd);
      fs.closeSync(fd);
    });
    fs.rmSync(syncFile);

    // Incremental compaction, with a write every millisecond meanwhile.
    let writing = true;
    let acked = 0;
    const writer = (async () => {
      for (let i = DOCS; writing; i++) {
        const batch = new WriteBatch();
        const coll = catalog.get('bench', 'items')!;
        const d = doc(i);
        coll.insert(d);
        batch.insert(coll, d);
        void storage.append({ ops: batch.ops }).then(() => acked++);
        await new Promise((r) => setTimeout(r, 1));
      }
    })();
    const compaction = await maxStallDuring(() => storage.compact(() => catalog.dump()));
    writing = false;
    await writer;
    figures.push({
      name: `max event-loop stall during compaction at ${n} docs (took ${(compaction.totalMs / 1000).toFixed(1)} s; ${acked} writes acknowledged meanwhile)`,
      value: compaction.stallMs,
      unit: 'ms',
      baselineName: 'the previous synchronous snapshot write',
      baseline: syncStall.stallMs,
      target: `≤ ${LIMIT_MS} ms`,
      met: compaction.stallMs <= LIMIT_MS,
    });
    await storage.close();

    // Replay at start: synchronous, before the store listens (nothing is served yet).
    const again = await openDurableStorage(dir);
    const recovered = new Catalog();
    const t0 = nowMs();
    recovered.beginRecovery();
    again.recover((r) => recovered.applyRecord(r));
    recovered.endRecovery();
    figures.push({ name: `replay at start, ${n} docs (synchronous, before the store listens)`, value: nowMs() - t0, unit: 'ms' });
    await again.close();

    // Single commands over the whole collection, as the wire server runs them (synchronously).
    const exec = new CommandExecutor(recovered, new CursorManager(60_000), { connections: () => 0, totalConnections: () => 0 });
    const timed = (name: string, cmd: Record<string, unknown>): void => {
      const t = nowMs();
      const { batch } = exec.execute({ ...cmd, $db: 'bench' }, { connectionId: 1 });
      if (batch.ops.length) encodeFrame({ ops: batch.ops }); // what append() does before it returns
      const ms = nowMs() - t;
      figures.push({ name, value: ms, unit: 'ms', target: `≤ ${LIMIT_MS} ms`, met: ms <= LIMIT_MS });
    };
    timed(`createIndex {n: 1} over ${n} docs`, { createIndexes: 'items', indexes: [{ key: { n: 1 }, name: 'n_1' }] });
    timed(`find with an unindexed filter matching nothing, ${n} docs scanned`, { find: 'items', filter: { name: 'none' } });
    timed(`countDocuments with an unindexed filter, ${n} docs`, { aggregate: 'items', pipeline: [{ $match: { province: 12 } }, { $count: 'n' }], cursor: {} });
    timed(`deleteMany of every document (${n})`, { delete: 'items', deletes: [{ q: {}, limit: 0 }] });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}

if (require.main === module) {
  const started = Date.now();
  benchStoreStalls().then(
    (figures) => printFigures(`embedded store stalls (${((Date.now() - started) / 1000).toFixed(0)} s)`, figures),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
