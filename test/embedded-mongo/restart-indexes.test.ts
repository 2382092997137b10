/**
 * Issue #14 section 3 (restart): after recovery every index is built in bulk from the stored
 * bytes (a one-field index on a top-level scalar reads its key without decoding the document,
 * and keys already in order skip the sort). Built that way, an index must answer exactly as the
 * same index maintained insert by insert: these tests write documents with every kind of key the
 * byte path takes or hands back to the decoder, restart the store over its data directory and
 * compare the answers of indexed queries over the wire, before and after.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Decimal128, Double, Int32, Long, ObjectId } from 'bson';
import { MongoClient } from 'mongodb';
import { startEmbeddedMongo, type EmbeddedMongo } from '../../src/embedded-mongo';
import type { AnyDoc } from './helpers';

/** Values for the indexed field `v`: scalars the byte path reads, and what it leaves to decoding. */
function valueFor(i: number): unknown {
  switch (i % 16) {
    case 0:
      return i; // int32
    case 1:
      return i + 0.5; // double
    case 2:
      return new Double(i); // integer-valued double
    case 3:
      return Long.fromNumber(i);
    case 4:
      return `s${i % 97}`; // ASCII string, repeated
    case 5:
      return `企业-${i % 13}`; // non-ASCII string
    case 6:
      return null;
    case 7:
      return undefined; // field missing
    case 8:
      return new Date(1_700_000_000_000 + (i % 50) * 1000);
    case 9:
      return [i % 7, `a${i % 3}`]; // an array: multikey
    case 10:
      return { x: i % 5 }; // a document
    case 11:
      return i % 2 === 0; // boolean
    case 12:
      return new ObjectId(Buffer.from(String(i % 40).padStart(12, '0')));
    case 13:
      return Decimal128.fromString(`${i % 9}.5`);
    case 14:
      return new Int32(-(i % 11));
    default:
      return -0;
  }
}

const QUERIES: Array<{ filter: AnyDoc; sort: AnyDoc }> = [
  { filter: {}, sort: { v: 1 } },
  { filter: {}, sort: { v: -1 } },
  { filter: { v: { $gte: 10, $lt: 400 } }, sort: { v: 1 } },
  { filter: { v: { $gt: 's3' } }, sort: { v: -1 } },
  { filter: { v: null }, sort: { v: 1 } },
  { filter: { v: { $in: [3, 's5', true, 7] } }, sort: { v: 1 } },
  { filter: { v: { $gte: new Date(1_700_000_010_000) } }, sort: { v: 1 } },
  { filter: { w: { $gte: 100, $lt: 130 } }, sort: { w: -1 } },
  { filter: { t: { $lte: new Date(1_700_000_000_040) } }, sort: { t: 1 } },
  { filter: { sp: { $exists: true } }, sort: { sp: 1 } },
];

describe('embedded store: indexes rebuilt from stored bytes at restart', function () {
  this.timeout(120_000);
  let dir: string;
  let store: EmbeddedMongo | undefined;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'restart-indexes-'));
  });
  afterEach(async () => {
    await store?.close();
    store = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function answers(uri: string): Promise<unknown[]> {
    const client = await MongoClient.connect(uri);
    try {
      const coll = client.db('t').collection<AnyDoc>('items');
      const out: unknown[] = [];
      for (const q of QUERIES) {
        const docs = await coll.find(q.filter, { sort: q.sort }).toArray();
        // With equal keys the order is the store's own (by _id): compared as it is.
        out.push(docs.map((d) => d._id));
        const explain = (await coll.find(q.filter, { sort: q.sort }).explain()) as AnyDoc;
        out.push(JSON.stringify(explain.queryPlanner.winningPlan).includes('IXSCAN'));
      }
      out.push(await coll.countDocuments({ v: { $gt: 5 } }));
      return out;
    } finally {
      await client.close();
    }
  }

  it('when documents of every key type are indexed, then after a restart the indexed queries answer as before', async () => {
    store = await startEmbeddedMongo({ dataDir: dir });
    const client = await MongoClient.connect(store.uri);
    const coll = client.db('t').collection<AnyDoc>('items');
    await coll.createIndex({ v: 1 });
    await coll.createIndex({ w: -1 }, { unique: true });
    await coll.createIndex({ t: 1 });
    await coll.createIndex({ sp: 1 }, { sparse: true });
    const docs: AnyDoc[] = [];
    for (let i = 0; i < 3000; i++) {
      const d: AnyDoc = { _id: i % 3 === 0 ? `id${i}` : i, w: (i * 7919) % 3001 };
      const v = valueFor(i);
      if (v !== undefined) d.v = v;
      // Descending creation times for some, so the bulk build has to sort them.
      d.t = new Date(1_700_000_000_000 + (i % 2 === 0 ? i : 3000 - i));
      if (i % 5 === 0) d.sp = i % 4 === 0 ? null : i % 17;
      docs.push(d);
    }
    await coll.insertMany(docs.slice(0, 1500));
    await coll.insertMany(docs.slice(1500));
    await coll.deleteMany({ w: { $lt: 50 } });
    await coll.updateMany({ v: { $type: 'string' } }, { $set: { w2: 1 } });
    const before = await answers(store.uri);
    await client.close();
    await store.close();
    store = await startEmbeddedMongo({ dataDir: dir });
    assert.deepEqual(await answers(store.uri), before);
    // The unique index still refuses a duplicate after its bulk build.
    const again = await MongoClient.connect(store.uri);
    try {
      const w = (await again
        .db('t')
        .collection<AnyDoc>('items')
        .findOne({}, { sort: { w: 1 } }))!.w;
      await assert.rejects(
        again.db('t').collection<AnyDoc>('items').insertOne({ _id: 'dup', w }),
        (e: { code?: number }) => e.code === 11000,
      );
    } finally {
      await again.close();
    }
  });

  it('when keys come in order and when they come reversed, then after a restart both indexes range and sort as before', async () => {
    store = await startEmbeddedMongo({ dataDir: dir });
    const client = await MongoClient.connect(store.uri);
    const coll = client.db('t').collection<AnyDoc>('seq');
    await coll.createIndex({ up: 1 });
    await coll.createIndex({ down: 1 });
    await coll.createIndex({ at: -1 });
    const batch: AnyDoc[] = [];
    for (let i = 0; i < 5000; i++)
      batch.push({ up: i, down: 5000 - i, at: new Date(1_700_000_000_000 + (i % 100)), n: i % 3 });
    await coll.insertMany(batch);
    const q = async (uri: string): Promise<unknown[]> => {
      const c = await MongoClient.connect(uri);
      try {
        const s = c.db('t').collection<AnyDoc>('seq');
        return [
          (
            await s
              .find({ up: { $gte: 4990 } })
              .sort({ up: -1 })
              .toArray()
          ).map((d) => d.up),
          (
            await s
              .find({ down: { $lt: 10 } })
              .sort({ down: 1 })
              .toArray()
          ).map((d) => d.down),
          (
            await s
              .find({ at: new Date(1_700_000_000_042) })
              .sort({ at: -1 })
              .toArray()
          ).map((d) => String(d._id)),
          (await s.find({}).sort({ at: -1 }).limit(120).toArray()).map((d) => String(d._id)),
        ];
      } finally {
        await c.close();
      }
    };
    const before = await q(store.uri);
    await client.close();
    await store.close();
    store = await startEmbeddedMongo({ dataDir: dir });
    assert.deepEqual(await q(store.uri), before);
    assert.equal((before[0] as number[]).length, 10);
  });
});
