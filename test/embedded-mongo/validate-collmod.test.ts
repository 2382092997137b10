import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MongoClient, type Collection, type Db } from 'mongodb';
import { startEmbeddedMongo } from '../../src/embedded-mongo';
import { AnyDoc, rejection, uniqueDb, useClient, useStore } from './helpers';

/**
 * Issue #14 §2: validate, collMod (index hidden and expireAfterSeconds) and the $collStats stage,
 * in mongod 7's reply shapes (the validate, collMod and $collStats reference pages).
 */
describe('embedded mongo: validate, collMod and $collStats', () => {
  const store = useStore();
  const h = useClient(store);
  let db: Db;
  let c: Collection<AnyDoc>;
  beforeEach(async () => {
    db = h.client.db(uniqueDb('admin2'));
    c = db.collection<AnyDoc>('items');
    await c.insertMany([
      { _id: 1, email: 'a@x', tags: ['p', 'q'], at: new Date() },
      { _id: 2, email: 'b@x', tags: ['q'], at: new Date() },
      { _id: 3, email: 'c@x', at: new Date() },
    ]);
    await c.createIndex({ email: 1 }, { unique: true });
    await c.createIndex({ tags: 1 });
    await c.createIndex({ at: 1 }, { expireAfterSeconds: 3600 });
  });

  describe('validate', () => {
    it('when a healthy collection is validated, then it is valid with its record count and the keys each index holds', async () => {
      const r = await db.command({ validate: 'items' });
      assert.equal(r.ns, `${db.databaseName}.items`);
      assert.equal(r.valid, true);
      assert.equal(r.nrecords, 3);
      assert.equal(r.nIndexes, 4);
      // tags is multikey: documents 1 and 2 give three keys, document 3 (no tags) one null key.
      assert.deepEqual(r.keysPerIndex, { _id_: 3, email_1: 3, tags_1: 4, at_1: 3 });
      assert.deepEqual(r.errors, []);
      assert.deepEqual(r.warnings, []);
      assert.equal(r.nInvalidDocuments, 0);
      assert.equal(r.indexDetails.email_1.valid, true);
      assert.equal(r.ok, 1);
    });

    it('when the collection does not exist, then validate fails with NamespaceNotFound', async () => {
      assert.equal((await rejection(db.command({ validate: 'missing' }))).code, 26);
    });

    it('when validate is asked to repair, then the option is refused by name', async () => {
      const e = await rejection(db.command({ validate: 'items', repair: true }));
      assert.equal(e.code, 115);
      assert.match(e.message, /repair/);
    });
  });

  describe('collMod', () => {
    it('when an index is hidden, then the reply has hidden_old/hidden_new, listIndexes shows it and the planner no longer uses it', async () => {
      assert.deepEqual(
        await db.command({ collMod: 'items', index: { name: 'email_1', hidden: true } }),
        {
          hidden_old: false,
          hidden_new: true,
          ok: 1,
        },
      );
      const spec = (await c.listIndexes().toArray()).find((i) => i.name === 'email_1');
      assert.equal(spec?.hidden, true);
      const plan = (await c.find({ email: 'b@x' }).explain('queryPlanner')).queryPlanner
        .winningPlan;
      assert.equal(plan.stage, 'COLLSCAN');
      assert.equal((await c.findOne({ email: 'b@x' }))?._id, 2);
    });

    it('when a hidden index is unique, then it still refuses duplicates, and a hint naming it fails as for a missing index', async () => {
      await db.command({ collMod: 'items', index: { name: 'email_1', hidden: true } });
      const dup = await rejection(c.insertOne({ _id: 4, email: 'a@x' }));
      assert.equal(dup.code, 11000);
      const hinted = await rejection(c.find({ email: 'a@x' }).hint('email_1').toArray());
      assert.equal(hinted.code, 2);
      assert.match(hinted.message, /hint provided does not correspond to an existing index/);
    });

    it('when hidden is set to the value it has, then the reply carries no old/new fields; unhiding brings the index back to the planner', async () => {
      await db.command({ collMod: 'items', index: { keyPattern: { tags: 1 }, hidden: true } });
      assert.deepEqual(
        await db.command({ collMod: 'items', index: { keyPattern: { tags: 1 }, hidden: true } }),
        { ok: 1 },
      );
      await db.command({ collMod: 'items', index: { name: 'tags_1', hidden: false } });
      const spec = (await c.listIndexes().toArray()).find((i) => i.name === 'tags_1');
      assert.equal(spec?.hidden, undefined);
      const plan = (await c.find({ tags: 'q' }).explain('queryPlanner')).queryPlanner.winningPlan;
      assert.equal(plan.inputStage.indexName, 'tags_1');
    });

    it('when an index is created hidden, then listIndexes shows hidden: true, the planner skips it, and it still enforces uniqueness', async () => {
      await c.createIndex({ code: 1 }, { unique: true, sparse: true, hidden: true });
      const spec = (await c.listIndexes().toArray()).find((i) => i.name === 'code_1');
      assert.equal(spec?.hidden, true);
      await c.updateOne({ _id: 1 }, { $set: { code: 'X' } });
      assert.equal((await rejection(c.updateOne({ _id: 2 }, { $set: { code: 'X' } }))).code, 11000);
      const plan = (await c.find({ code: 'X' }).explain('queryPlanner')).queryPlanner.winningPlan;
      assert.equal(plan.stage, 'COLLSCAN');
    });

    it('when a TTL is changed, then the reply has expireAfterSeconds_old and _new and listIndexes shows the new value', async () => {
      assert.deepEqual(
        await db.command({
          collMod: 'items',
          index: { keyPattern: { at: 1 }, expireAfterSeconds: 60 },
        }),
        { expireAfterSeconds_old: 3600, expireAfterSeconds_new: 60, ok: 1 },
      );
      const spec = (await c.listIndexes().toArray()).find((i) => i.name === 'at_1');
      assert.equal(spec?.expireAfterSeconds, 60);
    });

    it('when the index is missing, then collMod fails with IndexNotFound naming it', async () => {
      const e = await rejection(
        db.command({ collMod: 'items', index: { name: 'nope', hidden: true } }),
      );
      assert.equal(e.code, 27);
      assert.match(e.message, /cannot find index nope for ns/);
    });

    it('when collMod asks for a validator or another collection option, then it is refused by name', async () => {
      const e = await rejection(db.command({ collMod: 'items', validator: { a: { $gt: 1 } } }));
      assert.equal(e.code, 115);
      assert.match(e.message, /validator/);
    });

    it('when the store restarts after collMod, then the index is still hidden with its new TTL and still unique', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'emb-collmod-'));
      try {
        let s = await startEmbeddedMongo({ dataDir: dir });
        let client = await MongoClient.connect(s.uri);
        const coll = client.db('t').collection<AnyDoc>('c');
        await coll.insertMany([
          { _id: 1, k: 1, at: new Date() },
          { _id: 2, k: 2, at: new Date() },
        ]);
        await coll.createIndex({ k: 1 }, { unique: true });
        await coll.createIndex({ at: 1 }, { expireAfterSeconds: 3600 });
        await client.db('t').command({ collMod: 'c', index: { name: 'k_1', hidden: true } });
        await client
          .db('t')
          .command({ collMod: 'c', index: { name: 'at_1', expireAfterSeconds: 90 } });
        await client.close();
        await s.close();
        s = await startEmbeddedMongo({ dataDir: dir });
        client = await MongoClient.connect(s.uri);
        const again = client.db('t').collection<AnyDoc>('c');
        const specs = await again.listIndexes().toArray();
        assert.equal(specs.find((i) => i.name === 'k_1')?.hidden, true);
        assert.equal(specs.find((i) => i.name === 'at_1')?.expireAfterSeconds, 90);
        assert.equal((await rejection(again.insertOne({ _id: 3, k: 1 }))).code, 11000);
        await client.close();
        await s.close();
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('$collStats', () => {
    it('when storageStats and count are asked for, then one document carries ns, storageStats in collStats shape and count', async () => {
      const [doc] = await c.aggregate([{ $collStats: { storageStats: {}, count: {} } }]).toArray();
      const stats = await db.command({ collStats: 'items' });
      assert.equal(doc.ns, `${db.databaseName}.items`);
      assert.ok(doc.localTime instanceof Date);
      assert.equal(doc.count, 3);
      assert.equal(doc.storageStats.count, 3);
      assert.equal(doc.storageStats.size, stats.size);
      assert.equal(doc.storageStats.nindexes, 4);
      assert.deepEqual(Object.keys(doc.storageStats.indexSizes), [
        '_id_',
        'email_1',
        'tags_1',
        'at_1',
      ]);
      assert.equal(doc.storageStats.scaleFactor, 1);
    });

    it('when a scale is given, then sizes are divided by it, and later stages see the document', async () => {
      const [doc] = await c
        .aggregate([
          { $collStats: { storageStats: { scale: 2 } } },
          { $project: { size: '$storageStats.size', scale: '$storageStats.scaleFactor' } },
        ])
        .toArray();
      const stats = await db.command({ collStats: 'items' });
      assert.deepEqual(doc, { size: stats.size / 2, scale: 2 });
    });

    it('when $collStats is not the first stage or asks for latencyStats, then it is refused', async () => {
      assert.equal(
        (await rejection(c.aggregate([{ $match: {} }, { $collStats: { count: {} } }]).toArray()))
          .code,
        40602,
      );
      const e = await rejection(c.aggregate([{ $collStats: { latencyStats: {} } }]).toArray());
      assert.equal(e.code, 115);
      assert.match(e.message, /latencyStats/);
    });

    it('when the collection does not exist, then storageStats fails with NamespaceNotFound', async () => {
      const e = await rejection(
        db
          .collection('missing')
          .aggregate([{ $collStats: { storageStats: {} } }])
          .toArray(),
      );
      assert.equal(e.code, 26);
    });
  });
});
