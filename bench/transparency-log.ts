/**
 * Transparency log on the durable embedded store (issue #13): entries/s integrated by the
 * sequencer (tiles and a signed checkpoint per pass) beside the store's raw insertMany rate of
 * documents of the same size in the same run, and checkpoint staleness under a steady load
 * (time from an append to the first checkpoint covering it, default batching). Targets:
 * ≥ 5,000 entries/s integrated; checkpoint age ≤ 2 s under load. LOG_BENCH_ENTRIES overrides the size.
 */
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mongoose from 'mongoose';
import { nowMs, summarize, type Figure } from './lib';
import { connectDatabase, disconnectDatabase } from '../src/db';
import { startEmbeddedMongo } from '../src/embedded-mongo';
import { silentLogger } from '../src/logger';
import { LogIntent, LogEntryRecord } from '../models/transparency-log';
import { ed25519Signer, encodeEntry, type LogEntry } from '../src/tlog';
import { appendIntents, type Intent } from '../src/transparency/intents';
import { TransparencyLog } from '../src/transparency/log';
import { Sequencer } from '../src/transparency/sequencer';
import { LogReader } from '../src/transparency/store';
import { makeSerial } from '../certificates/serial';
import { makeUscc } from '../src/domain/uscc';

const ENTRIES = Number(process.env.LOG_BENCH_ENTRIES ?? 20_000);

let n = 0;
function intent(): Intent {
  const i = n++;
  const entry: LogEntry = {
    v: 1,
    type: 'certificate.issued',
    at: new Date().toISOString(),
    uscc: makeUscc({ provinceCode: '11', serial: i % 1_000_000 }),
    serial: makeSerial(2026, 1 + (i % 999_999)),
    credentialSha256: 'ab'.repeat(32),
  };
  return { key: `bench:${i}`, entry };
}

export async function benchTransparencyLog(): Promise<Figure[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eqi-log-bench-'));
  const store = await startEmbeddedMongo({ dataDir: dir });
  await connectDatabase(store.uri, silentLogger(), { dbName: 'logbench' });
  await Promise.all([LogIntent.createIndexes(), LogEntryRecord.createIndexes()]);
  const figures: Figure[] = [];
  try {
    // Raw store rate: the same documents (key, ~190-byte entry, 32-byte hash) in batches of 5,000.
    const raw = mongoose.connection.db!.collection('raw_bench');
    const sample = encodeEntry(intent().entry);
    let t = nowMs();
    for (let i = 0; i < ENTRIES; i += 5000) {
      await raw.insertMany(
        Array.from(
          { length: Math.min(5000, ENTRIES - i) },
          (_, j) =>
            ({ _id: i + j, key: `raw:${i + j}`, data: sample, hash: Buffer.alloc(32) }) as never,
        ),
      );
    }
    const rawRate = ENTRIES / ((nowMs() - t) / 1000);

    const { privateKey } = generateKeyPairSync('ed25519');
    const origin = 'bench.example/log';
    const seq = new Sequencer({
      origin,
      signer: ed25519Signer(origin, privateKey),
      reader: new LogReader(),
    });
    for (let i = 0; i < ENTRIES; i += 5000)
      await appendIntents(Array.from({ length: Math.min(5000, ENTRIES - i) }, intent));
    t = nowMs();
    let integrated = 0;
    while (integrated < ENTRIES) integrated += await seq.integrate();
    const rate = ENTRIES / ((nowMs() - t) / 1000);
    figures.push({
      name: `entries integrated (${ENTRIES.toLocaleString('en-US')}, passes of ≤ 5,000 with tiles + checkpoint)`,
      value: rate,
      unit: 'entries/s',
      baselineName: 'raw insertMany of the same documents',
      baseline: rawRate,
      target: '≥ 5,000 entries/s',
      met: rate >= 5000,
    });

    // Staleness under load: 200 appends every 100 ms (2,000/s) for 5 s, default batching.
    await mongoose.connection.db!.collection('leases').deleteMany({});
    const log = new TransparencyLog({
      publicUrl: 'https://bench.example',
      privateKey,
      logger: silentLogger(),
    });
    log.start();
    const base = integrated;
    const pending: Array<{ size: number; at: number }> = [];
    const delays: number[] = [];
    let appended = 0;
    let done = false;
    const watcher = (async () => {
      while (!done || pending.length) {
        const size = await log.size();
        while (pending.length && pending[0].size <= size)
          delays.push(nowMs() - pending.shift()!.at);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const until = nowMs() + 5000;
    while (nowMs() < until) {
      await appendIntents(Array.from({ length: 200 }, intent));
      appended += 200;
      pending.push({ size: base + appended, at: nowMs() });
      await new Promise((r) => setTimeout(r, 100));
    }
    done = true;
    await watcher;
    await log.stop();
    const s = summarize(delays);
    figures.push({
      name: 'checkpoint age under 2,000 appends/s (append → first checkpoint covering it), p50',
      value: s.p50,
      unit: 'ms',
    });
    figures.push({
      name: 'checkpoint age under load, p99',
      value: s.p99,
      unit: 'ms',
      target: '≤ 2,000 ms',
      met: s.p99 <= 2000,
    });
    figures.push({
      name: 'checkpoint age under load, max',
      value: Math.max(...delays),
      unit: 'ms',
    });
  } finally {
    await mongoose.connection.dropDatabase().catch(() => undefined);
    await disconnectDatabase();
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}
