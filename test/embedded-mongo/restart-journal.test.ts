/**
 * Issue #14 section 3 (restart): journal records of inserts and replacements are replayed from
 * their bytes (Catalog.applyRecordBytes) instead of being decoded op by op; any other record is
 * decoded as before. A restart over the wire must give back exactly the state that was
 * acknowledged: these tests mix every kind of write and _id type, restart the store over its data
 * directory (no compaction: everything comes from the journal) and compare the documents as BSON.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Binary, Decimal128, Double, Long, ObjectId, serialize } from 'bson';
import { MongoClient } from 'mongodb';
import { startEmbeddedMongo, type EmbeddedMongo } from '../../src/embedded-mongo';
import type { AnyDoc } from './helpers';

describe('embedded store: journal replayed from its bytes at restart', function () {
  this.timeout(60_000);
  let dir: string;
  let store: EmbeddedMongo | undefined;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'restart-journal-'));
  });
  afterEach(async () => {
    await store?.close();
    store = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Every collection's documents in natural order, as the BSON the driver received. */
  async function contents(uri: string): Promise<string[]> {
    const client = await MongoClient.connect(uri);
    try {
      const out: string[] = [];
      for (const name of ['a', 'b', 'ünï']) {
        const docs = await client
          .db('t')
          .collection(name)
          .find({}, { raw: true } as object)
          .toArray();
        out.push(
          `${name}:` +
            docs.map((d) => Buffer.from(d as unknown as Uint8Array).toString('hex')).join(','),
        );
        const listed = await client.db('t').listCollections({ name }).toArray();
        if (listed.length)
          out.push(JSON.stringify(await client.db('t').collection(name).indexes()));
      }
      return out;
    } finally {
      await client.close();
    }
  }

  it('when inserts, batches, replacements, updates and deletes of many _id types are journaled, then a restart gives back the same documents in the same order', async () => {
    store = await startEmbeddedMongo({ dataDir: dir });
    const client = await MongoClient.connect(store.uri);
    const db = client.db('t');
    const a = db.collection<AnyDoc>('a');
    const b = db.collection<AnyDoc>('b');
    const u = db.collection<AnyDoc>('ünï');
    await a.createIndex({ k: 1 }, { unique: true });
    const ids: unknown[] = [
      new ObjectId(),
      'text',
      'ünïcode-id',
      7,
      new Double(8),
      2.5,
      Long.fromString('9007199254740993'),
      new Date(1_700_000_000_000),
      { x: 1, y: 'z' },
      true,
      new Binary(Buffer.from('bin')),
      Decimal128.fromString('1.5'),
    ];
    for (let i = 0; i < ids.length; i++)
      await a.insertOne({ _id: ids[i] as never, k: i, v: `v${i}` });
    await a.insertMany(Array.from({ length: 500 }, (_, i) => ({ k: 100 + i, n: i % 7 })));
    await b.insertMany(
      Array.from({ length: 300 }, (_, i) => ({ _id: i, s: 'x'.repeat(i % 50) })),
      {
        ordered: false,
      },
    );
    await u.insertOne({ _id: 'one', deep: { a: [1, { b: 2 }] } });
    for (let i = 0; i < ids.length; i += 2)
      await a.replaceOne({ _id: ids[i] as never }, { k: i, replaced: true });
    await a.updateMany({ n: 3 }, { $set: { three: true }, $inc: { n: 10 } });
    await a.deleteMany({ n: 5 });
    await b.deleteOne({ _id: 17 });
    await b.insertOne({ _id: 17, back: true });
    await b.updateOne({ _id: 400 }, { $set: { upserted: 1 } }, { upsert: true });
    await u.replaceOne({ _id: 'one' }, { deep: 'flat' });
    const before = await contents(store.uri);
    await client.close();
    await store.close();
    assert.ok(
      fs.readdirSync(dir).every((f) => !f.startsWith('snapshot')),
      'no compaction happened',
    );
    store = await startEmbeddedMongo({ dataDir: dir });
    assert.deepEqual(await contents(store.uri), before);
    // The unique index was rebuilt over the replayed documents.
    const again = await MongoClient.connect(store.uri);
    try {
      await assert.rejects(
        again.db('t').collection<AnyDoc>('a').insertOne({ k: 150 }),
        (e: { code?: number }) => e.code === 11000,
      );
    } finally {
      await again.close();
    }
  });

  it('when the store was compacted into a snapshot and written on after, then a restart from the snapshot and the journal gives back the same documents', async () => {
    store = await startEmbeddedMongo({ dataDir: dir, compactAtBytes: 32 * 1024 });
    const client = await MongoClient.connect(store.uri);
    const db = client.db('t');
    await db.collection<AnyDoc>('a').createIndex({ k: -1 }, { unique: true });
    await db.createCollection('b');
    for (let round = 0; round < 6; round++) {
      await db
        .collection<AnyDoc>('a')
        .insertMany(
          Array.from({ length: 400 }, (_, i) => ({ k: round * 1000 + i, s: 'é'.repeat(i % 9) })),
        );
      await db.collection<AnyDoc>('b').insertOne({ _id: round, n: round });
      await db.collection<AnyDoc>('a').deleteMany({ k: { $mod: [7, round] } });
      await db.collection<AnyDoc>('ünï').replaceOne({ _id: 'x' }, { round }, { upsert: true });
    }
    for (let i = 0; i < 100 && !fs.readdirSync(dir).some((f) => f.endsWith('.bson')); i++)
      await new Promise((r) => setTimeout(r, 50));
    assert.ok(
      fs.readdirSync(dir).some((f) => f.endsWith('.bson')),
      'a snapshot was written',
    );
    await db.collection<AnyDoc>('a').insertOne({ k: -1, after: true });
    const before = await contents(store.uri);
    await client.close();
    await store.close();
    store = await startEmbeddedMongo({ dataDir: dir });
    assert.deepEqual(await contents(store.uri), before);
  });

  it('when a journal record is a batch of raw inserts into a collection dropped later, then the restart replays it and the drop', async () => {
    store = await startEmbeddedMongo({ dataDir: dir });
    const client = await MongoClient.connect(store.uri);
    await client
      .db('t')
      .collection('a')
      .insertMany(Array.from({ length: 50 }, (_, i) => ({ i })));
    await client.db('t').collection('a').drop();
    await client
      .db('t')
      .collection<AnyDoc>('a')
      .insertOne({ _id: 'after', bytes: serialize({ x: 1 }) });
    const before = await contents(store.uri);
    await client.close();
    await store.close();
    store = await startEmbeddedMongo({ dataDir: dir });
    assert.deepEqual(await contents(store.uri), before);
  });
});
