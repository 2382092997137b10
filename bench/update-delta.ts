/**
 * Journal bytes and throughput of small updates on a ~21 KiB document (issue #14 §3, delta
 * journal records). File-backed store in this process, driver over the wire:
 *   npx tsx bench/update-delta.ts      (BENCH_UPDATES=3000 by default)
 * Run the same file from a checkout without deltas for the baseline.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { calculateObjectSize } from 'bson';
import { MongoClient } from 'mongodb';
import { startEmbeddedMongo } from '../src/embedded-mongo';

const UPDATES = Number(process.env.BENCH_UPDATES ?? 3000);
const LANES = 16;

function journalBytes(dir: string): number {
  return fs
    .readdirSync(dir)
    .filter((f) => f.startsWith('journal-'))
    .reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
}

function pledge(id: number): { _id: number; [k: string]: unknown } {
  const history: unknown[] = [];
  const doc = { _id: id, status: 'draft', count: 0, history };
  for (let i = 0; calculateObjectSize(doc) < 21 * 1024; i++)
    history.push({
      at: new Date(1_700_000_000_000 + i),
      by: `user-${i % 17}`,
      note: 'x'.repeat(40),
    });
  return doc;
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-delta-'));
  // No compaction during the run: journal growth is the figure.
  const store = await startEmbeddedMongo({ dataDir: dir, compactAtBytes: 1 << 30 });
  const client = await MongoClient.connect(store.uri, { maxPoolSize: LANES });
  const docs = client.db('bench').collection<{ _id: number; [k: string]: unknown }>('p');
  try {
    console.log(`document: ${calculateObjectSize(pledge(0))} B`);
    const run = async (name: string, lanes: number, update: (i: number) => object) => {
      // Every run starts from fresh 21 KiB documents.
      await docs.deleteMany({});
      await docs.insertMany(Array.from({ length: LANES }, (_, i) => pledge(i)));
      const at = journalBytes(dir);
      const t0 = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: lanes }, async (_, lane) => {
          while (next < UPDATES) {
            const i = next++;
            await docs.updateOne({ _id: lane }, update(i));
          }
        }),
      );
      const ms = performance.now() - t0;
      const perUpdate = (journalBytes(dir) - at) / UPDATES;
      console.log(
        `${name}: ${perUpdate.toFixed(0)} journal B/update, ${((UPDATES / ms) * 1000).toFixed(0)} updates/s`,
      );
    };
    for (const lanes of [1, LANES]) {
      await run(`$set status, ${lanes} lane(s)`, lanes, (i) => ({ $set: { status: `s${i}` } }));
      await run(`$inc count, ${lanes} lane(s)`, lanes, () => ({ $inc: { count: 1 } }));
      await run(`$push history, ${lanes} lane(s)`, lanes, (i) => ({
        $push: { history: { at: new Date(), by: 'bench', note: `n${i}` } },
      }));
    }
    await client.close();
    await store.close();
    // Replaying the journal of all those updates (no snapshot).
    const journal = journalBytes(dir);
    const t0 = performance.now();
    const again = await startEmbeddedMongo({ dataDir: dir, compactAtBytes: 1 << 30 });
    console.log(
      `restart over a ${(journal / 1e6).toFixed(1)} MB journal: ${(performance.now() - t0).toFixed(0)} ms`,
    );
    await again.close();
  } finally {
    await client.close();
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

void main();
