import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MongoClient, type Collection, type Db } from 'mongodb';
import { startEmbeddedMongo } from '../../src/embedded-mongo';
import { AnyDoc, rejection, uniqueDb, useClient, useStore } from './helpers';

describe('embedded mongo: indexes', () => {
  const store = useStore();
  const h = useClient(store);
  const dbName = uniqueDb('ix');
  let db: Db;
  before(() => {
    db = h.client.db(dbName);
  });

  const indexNames = async (c: Collection<AnyDoc>): Promise<string[]> =>
    (await c.listIndexes().toArray()).map((i) => i.name as string).sort();

  describe('unique indexes are enforced everywhere', () => {
    let users: Collection<AnyDoc>;
    before(async () => {
      users = db.collection<AnyDoc>('users');
      await users.createIndex({ email: 1 }, { unique: true });
      await users.insertMany([
        { _id: 1, email: 'a@x' },
        { _id: 2, email: 'b@x' },
      ]);
    });

    it('when array documents lack a uniquely indexed dotted field, then each such document holds a null key and a second one is a duplicate (as in mongod)', async () => {
      const items = db.collection<AnyDoc>('items');
      await items.createIndex({ 'a.b': 1 }, { unique: true });
      await items.insertOne({ _id: 1, a: [{ b: 1 }, {}] });
      const dup = await rejection(items.insertOne({ _id: 2, a: [{ c: 1 }] }));
      assert.equal(dup.code, 11000);
      assert.deepEqual(dup.keyValue, { 'a.b': null });
      await items.insertOne({ _id: 3, a: [{ b: 2 }, { b: 3 }] });
      assert.deepEqual(
        (await items.find({ 'a.b': null }).toArray()).map((d) => d._id),
        [1],
      );
    });

    it('when inserting a duplicate, then 11000 names the index and carries keyPattern/keyValue', async () => {
      const e = await rejection(users.insertOne({ _id: 3, email: 'a@x' }));
      assert.equal(e.code, 11000);
      assert.equal(
        e.message,
        `E11000 duplicate key error collection: ${dbName}.users index: email_1 dup key: { email: "a@x" }`,
      );
      assert.deepEqual(e.keyPattern, { email: 1 });
      assert.deepEqual(e.keyValue, { email: 'a@x' });
      assert.equal(await users.countDocuments(), 2);
    });

    it('when an update would duplicate, then it fails and the document keeps its value', async () => {
      const e = await rejection(users.updateOne({ _id: 2 }, { $set: { email: 'a@x' } }));
      assert.equal(e.code, 11000);
      assert.equal((await users.findOne({ _id: 2 }))?.email, 'b@x');
      const r = await rejection(users.replaceOne({ _id: 2 }, { email: 'a@x' }));
      assert.equal(r.code, 11000);
    });

    it('when an upsert would insert a duplicate, then it fails and nothing is inserted', async () => {
      const e = await rejection(
        users.updateOne({ _id: 9 }, { $set: { email: 'b@x' } }, { upsert: true }),
      );
      assert.equal(e.code, 11000);
      assert.equal(await users.countDocuments({ _id: 9 }), 0);
    });

    it('when findAndModify updates or upserts into a duplicate, then it fails with 11000', async () => {
      const e = await rejection(users.findOneAndUpdate({ _id: 1 }, { $set: { email: 'b@x' } }));
      assert.equal(e.code, 11000);
      assert.deepEqual(e.keyValue, { email: 'b@x' });
      const u = await rejection(
        users.findOneAndUpdate({ email: 'new@x' }, { $set: { email: 'a@x' } }, { upsert: true }),
      );
      assert.equal(u.code, 11000);
      assert.deepEqual(
        (await users.find().sort({ _id: 1 }).toArray()).map((d) => d.email),
        ['a@x', 'b@x'],
      );
    });

    it('when a document changes its key, then the old key is free again', async () => {
      await users.updateOne({ _id: 2 }, { $set: { email: 'c@x' } });
      await users.insertOne({ _id: 4, email: 'b@x' });
      assert.equal((await users.findOne({ email: 'b@x' }))?._id, 4);
      await users.deleteOne({ _id: 4 });
      await users.updateOne({ _id: 2 }, { $set: { email: 'b@x' } });
    });

    it('when a compound unique index sees a repeated pair, then only the full pair collides', async () => {
      const c = db.collection<AnyDoc>('pairs');
      await c.createIndex({ org: 1, code: -1 }, { unique: true });
      await c.insertMany([
        { org: 1, code: 'A' },
        { org: 1, code: 'B' },
        { org: 2, code: 'A' },
      ]);
      const e = await rejection(c.insertOne({ org: 1, code: 'A' }));
      assert.equal(e.code, 11000);
      assert.match(e.message, /index: org_1_code_-1 dup key: \{ org: 1, code: "A" \}/);
      assert.deepEqual(e.keyPattern, { org: 1, code: -1 });
      assert.deepEqual(e.keyValue, { org: 1, code: 'A' });
      assert.equal(await c.countDocuments(), 3);
    });

    it('when a unique index is built over existing duplicates, then the build fails with 11000 and leaves no index', async () => {
      const c = db.collection<AnyDoc>('dupbuild');
      await c.insertMany([{ k: 1 }, { k: 2 }, { k: 1 }]);
      const e = await rejection(c.createIndex({ k: 1 }, { unique: true }));
      assert.equal(e.code, 11000);
      assert.deepEqual(e.keyValue, { k: 1 });
      assert.deepEqual(await indexNames(c), ['_id_']);
      await c.insertOne({ k: 2 });
      assert.equal(await c.countDocuments({ k: 2 }), 2, 'no half-built index rejects later writes');
    });

    it('when a unique index is on an array field, then each element is a key', async () => {
      const c = db.collection<AnyDoc>('multikey');
      await c.createIndex({ tags: 1 }, { unique: true });
      await c.insertOne({ tags: ['a', 'b'] });
      const e = await rejection(c.insertOne({ tags: ['c', 'b'] }));
      assert.equal(e.code, 11000);
      assert.deepEqual(e.keyValue, { tags: 'b' });
      await c.insertOne({ tags: ['c'] });
      assert.equal(await c.countDocuments({ tags: 'c' }), 1);
    });
  });

  describe('partial and sparse indexes', () => {
    it('when a unique index is partial, then only documents matching the filter are constrained and queries still see all', async () => {
      const c = db.collection<AnyDoc>('partial');
      await c.createIndex(
        { email: 1 },
        { unique: true, partialFilterExpression: { status: 'active' } },
      );
      await c.insertMany([
        { email: 'a@x', status: 'withdrawn' },
        { email: 'a@x', status: 'withdrawn' },
        { email: 'a@x', status: 'active' },
      ]);
      const e = await rejection(c.insertOne({ email: 'a@x', status: 'active' }));
      assert.equal(e.code, 11000);
      const up = await rejection(
        c.updateOne({ status: 'withdrawn' }, { $set: { status: 'active' } }),
      );
      assert.equal(up.code, 11000, 'moving into the partial filter is checked too');
      assert.equal(
        await c.countDocuments({ email: 'a@x' }),
        3,
        'a query on the field is not limited to indexed documents',
      );
      const idx = (await c.listIndexes().toArray()).find((i) => i.name === 'email_1');
      assert.deepEqual(idx?.partialFilterExpression, { status: 'active' });
    });

    it('when a sparse index exists, then sorting and range queries still return the documents it skips', async () => {
      const c = db.collection<AnyDoc>('sparse');
      await c.createIndex({ code: 1 }, { sparse: true });
      await c.insertMany([
        { _id: 1, code: 3 },
        { _id: 2 },
        { _id: 3, code: 1 },
        { _id: 4, code: null },
      ]);
      assert.deepEqual(
        (await c.find().sort({ code: 1, _id: 1 }).toArray()).map((d) => d._id),
        [2, 4, 3, 1],
      );
      assert.deepEqual(
        (
          await c
            .find({ code: { $gte: 1 } })
            .sort({ code: 1 })
            .toArray()
        ).map((d) => d._id),
        [3, 1],
      );
      assert.deepEqual(
        (await c.find({ code: null }).sort({ _id: 1 }).toArray()).map((d) => d._id),
        [2, 4],
      );
    });
  });

  describe('lookups use the index (documents examined)', () => {
    const N = 20_000;
    let c: Collection<AnyDoc>;
    const examined = (): number => store.db.server.catalog.get(dbName, 'people')!.docsExamined;
    const measure = async (fn: () => Promise<unknown>): Promise<number> => {
      const before = examined();
      await fn();
      return examined() - before;
    };

    before(async function () {
      this.timeout(60_000);
      c = db.collection<AnyDoc>('people');
      const docs = Array.from({ length: N }, (_, i) => ({
        email: `u${i}@x`,
        n: i,
        group: i % 100,
        name: `name${i}`,
      }));
      for (let i = 0; i < N; i += 5000) await c.insertMany(docs.slice(i, i + 5000));
      await c.createIndex({ email: 1 }, { unique: true });
      await c.createIndex({ n: 1 });
      await c.createIndex({ group: 1, n: -1 });
    });

    it('when nothing is indexed for the filter, then the whole collection is examined (the counter works)', async () => {
      assert.equal(await measure(() => c.findOne({ name: 'nobody' })), N);
      assert.equal(
        await measure(() => c.findOne({ name: 'name12345' })),
        12346,
        'a scan stops at the first match of a findOne',
      );
    });

    it('when findOne is by a unique key, then exactly one document is examined', async () => {
      let doc: AnyDoc | null = null;
      assert.equal(await measure(async () => (doc = await c.findOne({ email: 'u12345@x' }))), 1);
      assert.equal(doc!.n, 12345);
      assert.equal(await measure(() => c.findOne({ email: 'nobody@x' })), 0);
    });

    it('when mongoose-style countDocuments filters on an indexed field, then only matching documents are examined', async () => {
      let n = 0;
      assert.equal(await measure(async () => (n = await c.countDocuments({ group: 7 }))), 200);
      assert.equal(n, 200);
    });

    it('when a range is on an indexed field, then only the range is examined, in index order', async () => {
      let docs: AnyDoc[] = [];
      assert.equal(
        await measure(async () => (docs = await c.find({ n: { $gte: 100, $lt: 110 } }).toArray())),
        10,
      );
      assert.deepEqual(
        docs.map((d) => d.n),
        [100, 101, 102, 103, 104, 105, 106, 107, 108, 109],
      );
    });

    it('when $in lists values of a unique key, then one document per value is examined', async () => {
      assert.equal(
        await measure(() => c.find({ email: { $in: ['u1@x', 'u2@x', 'u3@x', 'none'] } }).toArray()),
        3,
      );
    });

    it('when a compound index has an equality prefix and a sort on the next field, then a limited query examines only what it returns', async () => {
      let docs: AnyDoc[] = [];
      assert.equal(
        await measure(
          async () => (docs = await c.find({ group: 42 }).sort({ n: -1 }).limit(3).toArray()),
        ),
        3,
      );
      assert.deepEqual(
        docs.map((d) => d.n),
        [19942, 19842, 19742],
      );
    });

    it('when sorting by an indexed field with a limit, then the index order is used instead of sorting everything', async () => {
      let docs: AnyDoc[] = [];
      assert.equal(
        await measure(async () => (docs = await c.find().sort({ n: -1 }).limit(2).toArray())),
        2,
      );
      assert.deepEqual(
        docs.map((d) => d.n),
        [N - 1, N - 2],
      );
    });

    it('when an indexed value is updated or deleted, then lookups by old and new keys stay correct and cheap', async () => {
      await c.updateOne({ email: 'u5@x' }, { $set: { email: 'renamed@x' } });
      assert.equal(await measure(() => c.findOne({ email: 'u5@x' })), 0);
      assert.equal((await c.findOne({ email: 'renamed@x' }))?.n, 5);
      await c.deleteOne({ email: 'renamed@x' });
      assert.equal(await c.findOne({ email: 'renamed@x' }), null);
      assert.equal(await c.countDocuments({ n: 5 }), 0);
    });
  });
});

describe('index choice on equal predicates', () => {
  it('when two indexes serve the filter equally, then the smaller (sparse) one is used and few documents are examined', async () => {
    const db = await startEmbeddedMongo({ inMemory: true });
    const client = await MongoClient.connect(db.uri);
    try {
      const coll = client.db('tie').collection('pledges');
      await coll.createIndex({ status: 1, createdAt: 1 });
      await coll.createIndex({ flag: 1 }, { sparse: true });
      await coll.insertMany(
        Array.from({ length: 5000 }, (_, i) => ({
          status: 'active',
          createdAt: new Date(i),
          ...(i % 1000 === 0 ? { flag: true } : {}),
        })),
      );
      const catalogColl = db.server.catalog.get('tie', 'pledges')!;
      const before = catalogColl.docsExamined;
      const found = await coll.find({ flag: true, status: 'active' }).toArray();
      assert.equal(found.length, 5);
      assert.ok(
        catalogColl.docsExamined - before <= 5,
        `examined ${catalogColl.docsExamined - before} documents`,
      );
    } finally {
      await client.close();
      await db.close();
    }
  });
});

describe('$exists: true on a sparse index', () => {
  const store = useStore();
  const h = useClient(store);

  it('when a filter asks $exists: true of a field with a sparse index, then only the index’s documents are examined (as mongod plans it)', async () => {
    const dbName = uniqueDb('exists');
    const coll = h.client.db(dbName).collection<AnyDoc>('pledges');
    await coll.createIndex({ 'mail._id': 1 }, { sparse: true });
    await coll.insertMany(
      Array.from({ length: 5000 }, (_, i) => ({
        i,
        ...(i % 1000 === 0 ? { mail: [{ _id: i }, { _id: -i }] } : {}),
      })),
    );
    const catalogColl = store.db.server.catalog.get(dbName, 'pledges')!;
    const before = catalogColl.docsExamined;
    const found = await coll
      .find({ 'mail._id': { $exists: true } })
      .sort({ i: 1 })
      .toArray();
    assert.deepEqual(
      found.map((d) => d.i),
      [0, 1000, 2000, 3000, 4000],
    );
    assert.ok(
      catalogColl.docsExamined - before <= 5,
      `examined ${catalogColl.docsExamined - before}`,
    );
    const plan = (await coll.find({ 'mail._id': { $exists: true } }).explain()) as AnyDoc;
    assert.equal(plan.queryPlanner.winningPlan.inputStage.indexName, 'mail._id_1');
  });

  it('when documents of any shape are asked $exists: true, then the sparse index plan returns exactly what a collection scan returns (property)', async () => {
    const coll = h.client.db(uniqueDb('exists')).collection<AnyDoc>('shapes');
    await coll.createIndex({ 'a.b': 1 }, { sparse: true });
    await coll.createIndex({ c: 1, 'a.b': 1 }, { sparse: true });
    const leaf = fc.oneof(fc.constant(null), fc.integer(), fc.string({ maxLength: 2 }));
    const shape: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        leaf,
        fc.array(tie('node'), { maxLength: 3 }),
        fc.record({ b: tie('node') }, { requiredKeys: [] }),
        fc.record({ x: leaf }),
      ),
    })).node;
    const doc = fc.record(
      { a: shape, c: fc.option(fc.integer(), { nil: undefined }) },
      {
        requiredKeys: [],
      },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(doc, { maxLength: 12 }), async (docs) => {
        await coll.deleteMany({});
        if (docs.length) await coll.insertMany(docs.map((d, i) => ({ _id: i, ...d })));
        for (const filter of [{ 'a.b': { $exists: true } }, { a: { $exists: true } }]) {
          const viaIndex = await coll.find(filter).sort({ _id: 1 }).toArray();
          const viaScan = await coll.find(filter).hint({ $natural: 1 }).sort({ _id: 1 }).toArray();
          assert.deepEqual(viaIndex, viaScan, JSON.stringify(filter));
        }
      }),
      { numRuns: 150 },
    );
  });
});
