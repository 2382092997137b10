import assert from 'node:assert/strict';
import { MongoClient, type Db } from 'mongodb';
import { AnyDoc, rejection, uniqueDb, useStore } from './helpers';

/**
 * Issue #14 §2/Tests: a mongosh-style session, step by step, through the raw driver sending the
 * commands mongosh sends for each shell helper (connect, show dbs, CRUD, aggregation, indexes,
 * db.stats(), db.coll.stats() (which mongosh builds from $collStats), renameCollection, explain).
 * Each step depends on the one before, as in a shell session.
 */
describe('embedded mongo: a mongosh-style session', () => {
  const store = useStore();
  let client: MongoClient;
  let db: Db;
  const name = uniqueDb('shell');
  before(async () => {
    client = new MongoClient(store.db.uri, { serverSelectionTimeoutMS: 5000 });
  });
  after(async () => {
    await client?.close();
  });

  it('when the shell connects, then hello and buildInfo describe a writable 7.0 primary', async () => {
    await client.connect();
    const admin = client.db('admin');
    const hello = await admin.command({ hello: 1 });
    assert.equal(hello.isWritablePrimary, true);
    assert.ok(hello.maxWireVersion >= 21);
    const info = await admin.command({ buildInfo: 1 });
    assert.match(info.version, /^7\.0\./);
    db = client.db(name);
  });

  it('when documents are inserted into a new database, then "show dbs" lists it as not empty', async () => {
    const r = await db.collection<AnyDoc>('pledges').insertMany([
      { _id: 1, company: 'Acme', status: 'active', score: 80 },
      { _id: 2, company: 'Bolt', status: 'pending', score: 55 },
      { _id: 3, company: 'Core', status: 'active', score: 91 },
    ]);
    assert.equal(r.insertedCount, 3);
    const dbs = await client.db('admin').command({ listDatabases: 1 });
    const mine = dbs.databases.find((d: { name: string }) => d.name === name);
    assert.ok(mine, 'the new database is listed');
    assert.equal(mine.empty, false);
    assert.ok(mine.sizeOnDisk > 0);
    assert.equal(typeof dbs.totalSize, 'number');
    const names = await client.db('admin').command({ listDatabases: 1, nameOnly: true });
    assert.ok(names.databases.some((d: { name: string }) => d.name === name));
  });

  it('when "show collections" runs, then the collection is listed', async () => {
    const cols = await db.listCollections({}, { nameOnly: true }).toArray();
    assert.deepEqual(
      cols.map((c) => c.name),
      ['pledges'],
    );
  });

  it('when documents are read, updated and deleted, then each step sees the previous one', async () => {
    const c = db.collection<AnyDoc>('pledges');
    assert.deepEqual(await c.findOne({ company: 'Bolt' }, { projection: { _id: 0, score: 1 } }), {
      score: 55,
    });
    const u = await c.updateOne({ _id: 2 }, { $set: { status: 'active' }, $inc: { score: 5 } });
    assert.equal(u.matchedCount, 1);
    assert.equal(u.modifiedCount, 1);
    assert.equal(await c.countDocuments({ status: 'active' }), 3);
    const d = await c.deleteOne({ _id: 3 });
    assert.equal(d.deletedCount, 1);
    assert.deepEqual(await c.find({}, { sort: { _id: 1 } }).toArray(), [
      { _id: 1, company: 'Acme', status: 'active', score: 80 },
      { _id: 2, company: 'Bolt', status: 'active', score: 60 },
    ]);
  });

  it('when an aggregation groups the documents, then the totals are right', async () => {
    const out = await db
      .collection<AnyDoc>('pledges')
      .aggregate([
        { $group: { _id: '$status', n: { $sum: 1 }, total: { $sum: '$score' } } },
        { $sort: { _id: 1 } },
      ])
      .toArray();
    assert.deepEqual(out, [{ _id: 'active', n: 2, total: 140 }]);
  });

  it('when an index is created, then getIndexes lists it and explain shows the query using it', async () => {
    const c = db.collection<AnyDoc>('pledges');
    assert.equal(await c.createIndex({ company: 1 }, { unique: true }), 'company_1');
    assert.deepEqual(
      (await c.listIndexes().toArray()).map((i) => [i.name, i.key, i.unique ?? false]),
      [
        ['_id_', { _id: 1 }, false],
        ['company_1', { company: 1 }, true],
      ],
    );
    const e = await c.find({ company: 'Acme' }).explain('executionStats');
    assert.equal(e.queryPlanner.winningPlan.inputStage.indexName, 'company_1');
    assert.equal(e.executionStats.totalKeysExamined, 1);
    assert.equal(e.executionStats.totalDocsExamined, 1);
    assert.equal(e.executionStats.nReturned, 1);
  });

  it('when db.stats() and db.pledges.stats() run, then the sizes agree with each other and count the documents', async () => {
    const dbStats = await db.command({ dbStats: 1 });
    assert.equal(dbStats.db, name);
    assert.equal(dbStats.collections, 1);
    assert.equal(dbStats.objects, 2);
    assert.equal(dbStats.indexes, 2);
    // mongosh's db.coll.stats() reads $collStats' storageStats.
    const [cs] = await db
      .collection<AnyDoc>('pledges')
      .aggregate([{ $collStats: { storageStats: {} } }])
      .toArray();
    assert.equal(cs.storageStats.count, 2);
    assert.equal(cs.storageStats.size, dbStats.dataSize);
    assert.equal(cs.storageStats.nindexes, 2);
    assert.equal(cs.storageStats.totalIndexSize, dbStats.indexSize);
  });

  it('when the collection is renamed, then its documents and indexes are found under the new name only', async () => {
    await db.collection<AnyDoc>('pledges').rename('archive');
    const cols = (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name);
    assert.deepEqual(cols, ['archive']);
    assert.equal(await db.collection<AnyDoc>('archive').countDocuments(), 2);
    assert.equal(await db.collection<AnyDoc>('pledges').countDocuments(), 0);
    const dup = await rejection(
      db.collection<AnyDoc>('archive').insertOne({ _id: 9, company: 'Acme' }),
    );
    assert.equal(dup.code, 11000, 'the unique index moved with it');
    const v = await db.command({ validate: 'archive' });
    assert.equal(v.valid, true);
    assert.deepEqual(v.keysPerIndex, { _id_: 2, company_1: 2 });
  });

  it('when the index is dropped and the database dropped, then "show dbs" no longer lists it', async () => {
    await db.collection<AnyDoc>('archive').dropIndex('company_1');
    assert.equal((await db.collection<AnyDoc>('archive').listIndexes().toArray()).length, 1);
    assert.equal(await db.dropDatabase(), true);
    const dbs = await client.db('admin').command({ listDatabases: 1, nameOnly: true });
    assert.equal(
      dbs.databases.some((d: { name: string }) => d.name === name),
      false,
    );
  });
});
