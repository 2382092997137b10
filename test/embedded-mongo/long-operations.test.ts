/**
 * Long store operations run in slices: while one scans, sorts, builds an index or deletes over
 * many documents, the event loop keeps turning (other clients are served, timers fire), writes
 * made meanwhile are acknowledged and end up correct, and everything survives a restart.
 * The store runs in this process, so a timer here sees every stall it causes. The bound is a
 * generous liveness bound; bench/store-stalls.ts measures the real figures at 1,000,000 documents.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { MongoClient, type Collection } from 'mongodb';
import { startEmbeddedMongo, type EmbeddedMongo } from '../../src/embedded-mongo';
import { rejection, type AnyDoc } from './helpers';

const DOCS = 150_000;
// Generous: on a loaded 2-core machine a major GC of the test process alone can pause ~200 ms.
const BOUND_MS = 400;

/** The longest the event loop waited while `work` ran: a 1 ms ticker and the delay histogram. */
async function longestStall<T>(work: () => Promise<T>): Promise<{ result: T; stallMs: number }> {
  const h = monitorEventLoopDelay({ resolution: 5 });
  h.enable();
  let last = performance.now();
  let worst = 0;
  const ticker = setInterval(() => {
    const t = performance.now();
    worst = Math.max(worst, t - last - 1);
    last = t;
  }, 1);
  try {
    const result = await work();
    await new Promise((r) => setTimeout(r, 20)); // the histogram's last sample
    const stallMs = Math.max(worst, h.max / 1e6);
    console.log(`      longest event-loop stall ${stallMs.toFixed(1)} ms`);
    return { result, stallMs };
  } finally {
    clearInterval(ticker);
    h.disable();
  }
}

/** Writes one document every few ms until `until` settles; returns how many were acknowledged before it did. */
async function writesDuring(
  coll: Collection<AnyDoc>,
  until: Promise<unknown>,
  make: (i: number) => AnyDoc,
): Promise<{ acked: number; written: AnyDoc[] }> {
  let done = false;
  void until.finally(() => (done = true)).catch(() => undefined);
  const written: AnyDoc[] = [];
  let acked = 0;
  const pending: Promise<unknown>[] = [];
  for (let i = 0; !done; i++) {
    const d = make(i);
    written.push(d);
    pending.push(coll.insertOne(d).then(() => void (done || acked++)));
    await new Promise((r) => setTimeout(r, 3));
  }
  await Promise.all(pending);
  return { acked, written };
}

describe('embedded store: long operations do not stall the event loop', function () {
  this.timeout(120_000);
  let dir: string;
  let store: EmbeddedMongo;
  let client: MongoClient;
  let big: Collection<AnyDoc>;

  const open = async (): Promise<void> => {
    store = await startEmbeddedMongo({ dataDir: dir });
    client = new MongoClient(store.uri, { maxPoolSize: 10 });
    await client.connect();
    big = client.db('long').collection<AnyDoc>('big');
  };
  const close = async (): Promise<void> => {
    await client?.close();
    await store?.close();
  };

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'emb-long-'));
    await open();
    for (let i = 0; i < DOCS; i += 10_000) {
      const docs: AnyDoc[] = [];
      for (let j = i; j < Math.min(DOCS, i + 10_000); j++)
        docs.push({ _id: j, u: j, k: j % 1000, kind: 'old', name: `company ${j}` });
      await big.insertMany(docs);
    }
  });
  after(async () => {
    await close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it(`when unindexed finds, a sort, a count and a $count aggregation scan ${DOCS.toLocaleString('en-US')} documents, then the loop never stalls ${BOUND_MS} ms and the answers are right`, async () => {
    const { result, stallMs } = await longestStall(async () => {
      const none = await big
        .find({ $or: [{ name: 'nobody' }, { name: { $regex: '^nobody' } }] })
        .toArray();
      const last = await big.find({ name: `company ${DOCS - 1}` }).toArray();
      const counted = await big.countDocuments({ k: 7 });
      const agg = await big
        .aggregate([{ $match: { k: { $in: [1, 2] } } }, { $count: 'n' }])
        .toArray();
      const sorted = await big.find({}).sort({ name: -1 }).limit(2).toArray(); // an in-memory sort of everything
      return { none, last, counted, agg, sorted };
    });
    assert.equal(result.none.length, 0);
    assert.deepEqual(
      result.last.map((d) => d._id),
      [DOCS - 1],
    );
    assert.equal(result.counted, DOCS / 1000);
    assert.deepEqual(result.agg, [{ n: (2 * DOCS) / 1000 }]);
    assert.deepEqual(
      result.sorted.map((d) => d._id),
      [99_999, 99_998],
    ); // names sort as strings

    assert.ok(stallMs < BOUND_MS, `the loop stalled ${stallMs.toFixed(1)} ms`);
  });

  it(`when an index is built over ${DOCS.toLocaleString('en-US')} documents while writes go on, then the loop never stalls ${BOUND_MS} ms, the writes are acknowledged during the build, and the index holds old and new documents`, async () => {
    const { result, stallMs } = await longestStall(async () => {
      const build = big.createIndex({ k: 1 }, { name: 'k_1' });
      const writes = writesDuring(big, build, (i) => ({
        _id: `new-${i}`,
        u: DOCS + i,
        k: 1000 + (i % 3),
        kind: 'new',
      }));
      // A write that changes an indexed key of a document the build has already seen.
      const moved = new Promise((r) => setTimeout(r, 10)).then(() =>
        big.updateOne({ _id: 1 }, { $set: { k: 5000 } }),
      );
      await build;
      await moved;
      return writes;
    });
    assert.ok(stallMs < BOUND_MS, `the loop stalled ${stallMs.toFixed(1)} ms`);
    assert.ok(result.acked > 0, 'writes were acknowledged while the index was built');
    const names = (await big.listIndexes().toArray()).map((i) => i.name as string);
    assert.ok(names.includes('k_1'));
    // Answered from the index: the new documents, the moved one under its new key only.
    assert.equal(await big.countDocuments({ k: { $gte: 1000, $lt: 1003 } }), result.written.length);
    assert.deepEqual(
      (await big.find({ k: 5000 }).toArray()).map((d) => d._id),
      [1],
    );
    assert.deepEqual(
      (await big.find({ k: 1 }).toArray()).map((d) => d._id).filter((id) => id === 1),
      [],
    );
    const examined = store.server.catalog.get('long', 'big')!;
    const before = examined.docsExamined;
    assert.equal(await big.countDocuments({ k: 7 }), DOCS / 1000);
    assert.ok(examined.docsExamined - before <= DOCS / 1000, 'the count used the new index');
  });

  /** Runs `write` 10 ms into `build`; says whether it was answered before the build. */
  const during = async (
    build: Promise<unknown>,
    write: () => Promise<unknown>,
  ): Promise<boolean> => {
    let built = false;
    void build.finally(() => (built = true)).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 10));
    await write();
    return !built;
  };

  it('when a duplicate is inserted while a unique index is built, then the build fails with 11000 and leaves no index', async () => {
    const build = big.createIndex({ u: 1 }, { unique: true, name: 'u_1' });
    const meanwhile = during(build, () => big.insertOne({ _id: 'dup-during', u: 42, kind: 'dup' }));
    const e = await rejection(build);
    assert.ok(await meanwhile, 'the insert was answered while the build ran');
    assert.equal(e.code, 11000);
    assert.match(e.message, /index: u_1 dup key: \{ u: 42 \}/);
    const names = (await big.listIndexes().toArray()).map((i) => i.name as string);
    assert.ok(!names.includes('u_1'));
    await big.deleteOne({ _id: 'dup-during' });
  });

  it('when the only duplicate is deleted while a unique index is built, then the build succeeds and enforces the key', async () => {
    await big.insertOne({ _id: 'dup-before', u: 43, kind: 'dup' });
    const build = big.createIndex({ u: 1 }, { unique: true, name: 'u_1' });
    const meanwhile = during(build, () => big.deleteOne({ _id: 'dup-before' }));
    await build;
    assert.ok(await meanwhile, 'the delete was answered while the build ran');
    const e = await rejection(big.insertOne({ _id: 'dup-after', u: 43 }));
    assert.equal(e.code, 11000);
  });

  it(`when deleteMany removes ${DOCS.toLocaleString('en-US')} documents while writes go on, then the loop never stalls ${BOUND_MS} ms, the writes are kept, and a restart agrees`, async () => {
    const { result, stallMs } = await longestStall(async () => {
      const removal = big.deleteMany({ kind: 'old' });
      const writes = writesDuring(big, removal, (i) => ({
        _id: `during-${i}`,
        u: 2 * DOCS + i,
        k: 2000,
        kind: 'during',
      }));
      return { deleted: (await removal).deletedCount, ...(await writes) };
    });
    assert.ok(stallMs < BOUND_MS, `the loop stalled ${stallMs.toFixed(1)} ms`);
    assert.equal(result.deleted, DOCS);
    assert.ok(result.acked > 0, 'writes were acknowledged while the documents were deleted');
    const check = async (): Promise<void> => {
      assert.equal(await big.countDocuments({ kind: 'old' }), 0);
      assert.equal(await big.countDocuments({ kind: 'during' }), result.written.length);
      assert.equal(await big.countDocuments({ k: 2000 }), result.written.length); // through the index built above
    };
    await check();
    await close();
    await open();
    await check();
    const names = (await big.listIndexes().toArray()).map((i) => i.name as string).sort();
    assert.deepEqual(names, ['_id_', 'k_1', 'u_1']);
  });
});
