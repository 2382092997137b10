import assert from 'node:assert/strict';
import { Binary, Double, Int32, Long, ObjectId, type Document } from 'bson';
import type { Collection, Db } from 'mongodb';
import { AnyDoc, rejection, uniqueDb, useClient, useStore } from './helpers';

const ids = (docs: Document[]): unknown[] => docs.map((d) => d._id);

describe('embedded mongo: query and update semantics', () => {
  const store = useStore();
  const h = useClient(store);
  let db: Db;
  before(() => {
    db = h.client.db(uniqueDb('sem'));
  });

  describe('numbers compare across int32, int64 and double', () => {
    let nums: Collection<AnyDoc>;
    before(async () => {
      nums = db.collection<AnyDoc>('nums');
      await nums.insertMany([
        { _id: 'i5', v: new Int32(5) },
        { _id: 'l7', v: Long.fromNumber(7) },
        { _id: 'd6.5', v: new Double(6.5) },
        { _id: 'd5', v: new Double(5) },
        { _id: 'd4.5', v: new Double(4.5) },
        { _id: 'l-2', v: Long.fromNumber(-2) },
      ]);
    });

    const checks = async (): Promise<void> => {
      assert.deepEqual(
        ids(
          await nums
            .find({ v: { $gt: 5 } })
            .sort({ v: 1 })
            .toArray(),
        ),
        ['d6.5', 'l7'],
      );
      assert.deepEqual(
        ids(
          await nums
            .find({ v: { $gt: Long.fromNumber(5) } })
            .sort({ v: 1 })
            .toArray(),
        ),
        ['d6.5', 'l7'],
      );
      assert.deepEqual(
        ids(
          await nums
            .find({ v: { $gte: new Double(5), $lt: new Int32(7) } })
            .sort({ v: 1, _id: 1 })
            .toArray(),
        ),
        ['d5', 'i5', 'd6.5'],
      );
      assert.deepEqual(
        ids(
          await nums
            .find({ v: { $in: [Long.fromNumber(5), 7.0] } })
            .sort({ _id: 1 })
            .toArray(),
        ),
        ['d5', 'i5', 'l7'],
      );
      assert.deepEqual(
        ids(
          await nums
            .find({ v: new Int32(5) })
            .sort({ _id: 1 })
            .toArray(),
        ),
        ['d5', 'i5'],
      );
      assert.deepEqual(ids(await nums.find({ v: Long.fromNumber(7) }).toArray()), ['l7']);
      assert.deepEqual(ids(await nums.find({ v: { $lt: 0 } }).toArray()), ['l-2']);
      assert.deepEqual(ids(await nums.find().sort({ v: 1, _id: 1 }).toArray()), [
        'l-2',
        'd4.5',
        'd5',
        'i5',
        'd6.5',
        'l7',
      ]);
      assert.deepEqual(ids(await nums.find().sort({ v: -1, _id: 1 }).toArray()), [
        'l7',
        'd6.5',
        'd5',
        'i5',
        'd4.5',
        'l-2',
      ]);
    };

    it(
      'when scanning without an index, then $gt, $in, equality and sort treat them as one number line',
      checks,
    );

    it('when the field is indexed, then the index gives the same answers', async () => {
      await nums.createIndex({ v: 1 });
      await checks();
      await nums.dropIndex('v_1');
    });

    it('when $inc adds a double to an int64, then the result is numeric and queryable', async () => {
      await nums.updateOne({ _id: 'l7' }, { $inc: { v: 0.5 } });
      const doc = await nums.findOne({ _id: 'l7' });
      assert.equal(doc?.v, 7.5);
      assert.deepEqual(ids(await nums.find({ v: { $gt: 7 } }).toArray()), ['l7']);
      await nums.updateOne({ _id: 'l7' }, { $set: { v: Long.fromNumber(7) } });
    });

    it('when _id values are 1, 1.0 and Long(1), then they are the same key', async () => {
      const c = db.collection<AnyDoc>('numids');
      await c.insertOne({ _id: new Int32(1), from: 'int32' });
      const e = await rejection(c.insertOne({ _id: new Double(1), from: 'double' }));
      assert.equal(e.code, 11000);
      const e2 = await rejection(c.insertOne({ _id: Long.fromNumber(1), from: 'long' }));
      assert.equal(e2.code, 11000);
      assert.equal((await c.findOne({ _id: Long.fromNumber(1) }))?.from, 'int32');
    });
  });

  describe('null equals missing', () => {
    let c: Collection<AnyDoc>;
    before(async () => {
      c = db.collection<AnyDoc>('nulls');
      await c.insertMany([
        { _id: 1, a: null },
        { _id: 2 },
        { _id: 3, a: 1 },
        { _id: 4, a: { b: null } },
      ]);
    });

    it('when filtering {a: null}, then documents with a null and with no a both match', async () => {
      assert.deepEqual(ids(await c.find({ a: null }).sort({ _id: 1 }).toArray()), [1, 2]);
      assert.deepEqual(
        ids(
          await c
            .find({ a: { $ne: null } })
            .sort({ _id: 1 })
            .toArray(),
        ),
        [3, 4],
      );
      assert.deepEqual(ids(await c.find({ a: { $exists: false } }).toArray()), [2]);
      assert.deepEqual(ids(await c.find({ 'a.b': null }).sort({ _id: 1 }).toArray()), [1, 2, 3, 4]);
    });

    it('when {a: null} is served by an index, then it still matches both null and missing', async () => {
      await c.createIndex({ a: 1 });
      assert.deepEqual(ids(await c.find({ a: null }).sort({ _id: 1 }).toArray()), [1, 2]);
      assert.deepEqual(
        ids(
          await c
            .find({ a: { $in: [null, 1] } })
            .sort({ _id: 1 })
            .toArray(),
        ),
        [1, 2, 3],
      );
      await c.dropIndex('a_1');
    });

    it('when a unique index meets two documents without the field, then the second is a duplicate of null', async () => {
      const u = db.collection<AnyDoc>('nulls_unique');
      await u.createIndex({ code: 1 }, { unique: true });
      await u.insertOne({ name: 'first' });
      const e = await rejection(u.insertOne({ name: 'second' }));
      assert.equal(e.code, 11000);
      assert.deepEqual(e.keyValue, { code: null });
      const e2 = await rejection(u.insertOne({ name: 'third', code: null }));
      assert.equal(e2.code, 11000, 'explicit null collides with missing');
      assert.equal(await u.countDocuments(), 1);
    });

    it('when a sparse unique index meets documents without the field, then they do not collide (but explicit nulls do)', async () => {
      const s = db.collection<AnyDoc>('nulls_sparse');
      await s.createIndex({ code: 1 }, { unique: true, sparse: true });
      await s.insertMany([{ name: 'a' }, { name: 'b' }, { name: 'c', code: null }]);
      const e = await rejection(s.insertOne({ name: 'd', code: null }));
      assert.equal(e.code, 11000);
      assert.equal(await s.countDocuments(), 3);
      assert.deepEqual(
        (await s.find({ code: null }).sort({ name: 1 }).toArray()).map((d) => d.name),
        ['a', 'b', 'c'],
        'a sparse index is not used to answer {code: null}',
      );
    });
  });

  describe('sort follows the BSON type order', () => {
    const oid = new ObjectId('65a000000000000000000001');
    const date = new Date('2024-01-02T03:04:05Z');
    before(async () => {
      // Inserted out of order on purpose.
      await db
        .collection<AnyDoc>('mixed')
        .insertMany([
          { _id: 'date', v: date },
          { _id: 'str-b', v: 'b' },
          { _id: 'true', v: true },
          { _id: 'obj', v: { x: 1 } },
          { _id: 'null', v: null },
          { _id: 'long3', v: Long.fromNumber(3) },
          { _id: 'bin', v: new Binary(Buffer.from([1, 2, 3])) },
          { _id: 'oid', v: oid },
          { _id: 'false', v: false },
          { _id: 'int1', v: 1 },
          { _id: 'missing' },
          { _id: 'str-a', v: 'a' },
          { _id: 'nested-arr', v: [[1, 2]] },
          { _id: 'arr-mixed', v: ['z', 2.5] },
          { _id: 'empty-arr', v: [] },
        ]);
    });

    it('when sorting ascending, then null/missing < numbers < strings < objects < arrays < binData < ObjectId < bool < Date (arrays by their smallest element)', async () => {
      const got = ids(await db.collection<AnyDoc>('mixed').find().sort({ v: 1, _id: 1 }).toArray());
      assert.deepEqual(got, [
        'empty-arr', // an empty array sorts before null
        'missing',
        'null',
        'int1',
        'arr-mixed', // ascending: its smallest element, 2.5
        'long3',
        'str-a',
        'str-b',
        'obj',
        'nested-arr', // its smallest element is the array [1, 2]
        'bin',
        'oid',
        'false',
        'true',
        'date',
      ]);
    });

    it('when sorting descending, then the order reverses and an array sorts by its largest element', async () => {
      const got = ids(
        await db.collection<AnyDoc>('mixed').find().sort({ v: -1, _id: 1 }).toArray(),
      );
      assert.deepEqual(got, [
        'date',
        'true',
        'false',
        'oid',
        'bin',
        'nested-arr',
        'obj',
        'arr-mixed', // descending: its largest element, 'z'
        'str-b',
        'str-a',
        'long3',
        'int1',
        'missing',
        'null',
        'empty-arr',
      ]);
    });

    it('when comparing with $gt across types, then only values of the same type match (type bracketing)', async () => {
      assert.deepEqual(
        ids(
          await db
            .collection<AnyDoc>('mixed')
            .find({ v: { $gt: 0 } })
            .sort({ _id: 1 })
            .toArray(),
        ),
        ['arr-mixed', 'int1', 'long3'],
      );
      assert.deepEqual(
        ids(
          await db
            .collection<AnyDoc>('mixed')
            .find({ v: { $gte: 'a' } })
            .sort({ _id: 1 })
            .toArray(),
        ),
        ['arr-mixed', 'str-a', 'str-b'],
      );
    });
  });

  describe('projections', () => {
    before(async () => {
      await db
        .collection<AnyDoc>('proj')
        .insertOne({ _id: 1, b: 2, a: 1, c: { y: 2, x: 1, z: 3 }, d: [{ p: 1, q: 2 }, { q: 3 }] });
    });

    it('when including fields, then _id comes first and the rest keep document order, not projection order', async () => {
      const doc = await db
        .collection<AnyDoc>('proj')
        .findOne({}, { projection: { 'c.x': 1, a: 1, 'c.y': 1, b: 1 } });
      assert.deepEqual(Object.keys(doc!), ['_id', 'b', 'a', 'c']);
      assert.deepEqual(Object.keys(doc!.c), ['y', 'x']);
      assert.deepEqual(doc, { _id: 1, b: 2, a: 1, c: { y: 2, x: 1 } });
    });

    it('when excluding _id or fields, then the rest is returned unchanged and in order', async () => {
      assert.deepEqual(
        await db.collection<AnyDoc>('proj').findOne({}, { projection: { _id: 0, a: 1 } }),
        { a: 1 },
      );
      const ex = await db
        .collection<AnyDoc>('proj')
        .findOne({}, { projection: { b: 0, 'c.z': 0 } });
      assert.deepEqual(Object.keys(ex!), ['_id', 'a', 'c', 'd']);
      assert.deepEqual(ex!.c, { y: 2, x: 1 });
    });

    it('when including a path through an array of documents, then each element is projected', async () => {
      assert.deepEqual(
        await db.collection<AnyDoc>('proj').findOne({}, { projection: { 'd.q': 1 } }),
        { _id: 1, d: [{ q: 2 }, { q: 3 }] },
      );
    });

    it('when an aggregation $project or $group shapes documents, then _id still comes first', async () => {
      const [p] = await db
        .collection<AnyDoc>('proj')
        .aggregate([{ $project: { b: 1, a: 1, sum: { $add: ['$a', '$b'] } } }])
        .toArray();
      assert.equal(Object.keys(p)[0], '_id');
      assert.deepEqual(p, { _id: 1, a: 1, b: 2, sum: 3 });
      const [g] = await db
        .collection<AnyDoc>('proj')
        .aggregate([{ $project: { a: 1 } }, { $group: { _id: '$a', n: { $sum: 1 } } }])
        .toArray();
      assert.deepEqual(Object.keys(g), ['_id', 'n']);
    });

    it('when mixing inclusion and exclusion, then the query fails with 31254', async () => {
      const e = await rejection(
        db.collection<AnyDoc>('proj').findOne({}, { projection: { a: 1, b: 0 } }),
      );
      assert.equal(e.code, 31254);
    });
  });

  describe('upserts', () => {
    it('when $setOnInsert is used, then it applies on the inserting upsert only', async () => {
      const c = db.collection<AnyDoc>('soi');
      const first = await c.updateOne(
        { _id: 'k' },
        { $set: { v: 1 }, $setOnInsert: { createdBy: 'first' } },
        { upsert: true },
      );
      assert.equal(first.upsertedCount, 1);
      const second = await c.updateOne(
        { _id: 'k' },
        { $set: { v: 2 }, $setOnInsert: { createdBy: 'second' } },
        { upsert: true },
      );
      assert.equal(second.upsertedCount, 0);
      assert.equal(second.modifiedCount, 1);
      assert.deepEqual(await c.findOne({ _id: 'k' }), { _id: 'k', v: 2, createdBy: 'first' });
    });

    it('when an upsert inserts, then it is seeded from the equality fields of the query, dotted paths nested', async () => {
      const c = db.collection<AnyDoc>('seed');
      const r = await c.updateOne(
        { 'a.b': 5, c: 'x', d: { $gt: 1 }, e: { $eq: 7 }, $and: [{ f: true }], $or: [{ g: 1 }] },
        { $set: { z: 1 } },
        { upsert: true },
      );
      const doc = await c.findOne({ _id: r.upsertedId! });
      assert.deepEqual(doc, { _id: r.upsertedId, a: { b: 5 }, c: 'x', e: 7, f: true, z: 1 });
    });

    it('when the query pins _id, then the upserted document uses that _id', async () => {
      const c = db.collection<AnyDoc>('seed');
      const r = await c.findOneAndUpdate(
        { _id: 'given', n: 1 },
        { $inc: { hits: 1 } },
        { upsert: true, returnDocument: 'after' },
      );
      assert.deepEqual(r, { _id: 'given', n: 1, hits: 1 });
    });

    it('when an upsert uses a replacement document, then the query fields are not merged in, but _id is', async () => {
      const c = db.collection<AnyDoc>('seedrepl');
      await c.replaceOne({ _id: 'r', ignored: 1 }, { kept: true }, { upsert: true });
      assert.deepEqual(await c.findOne({ _id: 'r' }), { _id: 'r', kept: true });
    });
  });

  describe('stored documents are never mutated by reads', () => {
    const original = { _id: 1, a: 'orig', n: { x: 1, list: [1, 2] }, b: true };
    before(async () => {
      await db.collection<AnyDoc>('immut').insertOne({ ...original, n: { x: 1, list: [1, 2] } });
    });

    it('when an aggregation $set/$unset/$push-like stages rewrite documents, then re-reading shows the stored original', async () => {
      const out = await db
        .collection('immut')
        .aggregate([
          { $set: { a: 'changed', 'n.x': 99 } },
          { $unset: 'b' },
          { $addFields: { 'n.list': [9] } },
        ])
        .toArray();
      assert.deepEqual(out, [{ _id: 1, a: 'changed', n: { x: 99, list: [9] } }]);
      assert.deepEqual(await db.collection<AnyDoc>('immut').findOne({ _id: 1 }), original);
    });

    it('when a projected find trims a document, then the stored document keeps every field', async () => {
      await db.collection<AnyDoc>('immut').findOne({ _id: 1 }, { projection: { 'n.x': 1 } });
      await db.collection<AnyDoc>('immut').findOne({ _id: 1 }, { projection: { n: 0 } });
      assert.deepEqual(await db.collection<AnyDoc>('immut').findOne({ _id: 1 }), original);
    });

    it('when an update fails half way, then the stored document is unchanged', async () => {
      const e = await rejection(
        db
          .collection<AnyDoc>('immut')
          .updateOne({ _id: 1 }, { $set: { a: 'partial' }, $inc: { b: 1 } }),
      );
      assert.equal(e.code, 14);
      assert.deepEqual(await db.collection<AnyDoc>('immut').findOne({ _id: 1 }), original);
    });
  });

  describe('updates refuse what MongoDB refuses (no silent no-ops)', () => {
    let c: Collection<AnyDoc>;
    before(async () => {
      c = db.collection<AnyDoc>('typed_updates');
      await c.insertOne({
        _id: 1,
        s: 'text',
        n: 5,
        flag: true,
        arr: [{ x: 1 }],
        d: new Date(0),
        nil: null,
      });
    });
    const unchanged = async (): Promise<void> => {
      assert.deepEqual(await c.findOne({ _id: 1 }), {
        _id: 1,
        s: 'text',
        n: 5,
        flag: true,
        arr: [{ x: 1 }],
        d: new Date(0),
        nil: null,
      });
    };

    it('when $inc or $mul targets a non-number, then it fails with 14 TypeMismatch naming the field', async () => {
      for (const u of [
        { $inc: { s: 1 } },
        { $inc: { flag: 1 } },
        { $mul: { s: 2 } },
        { $inc: { arr: 1 } },
        { $inc: { nil: 1 } },
      ]) {
        const e = await rejection(c.updateOne({ _id: 1 }, u));
        assert.equal(e.code, 14, JSON.stringify(u));
        assert.match(e.message, /Cannot apply \$(inc|mul) to a value of non-numeric type/);
      }
      await unchanged();
    });

    it('when $push or $addToSet or $pull targets a non-array, then it fails with 2 BadValue', async () => {
      for (const u of [
        { $push: { n: 1 } },
        { $addToSet: { s: 'x' } },
        { $pull: { n: 1 } },
      ] as Document[]) {
        const e = await rejection(c.updateOne({ _id: 1 }, u));
        assert.equal(e.code, 2, JSON.stringify(u));
        assert.match(e.message, /must be an array but is of type (int|string)/);
      }
      await unchanged();
    });

    it('when $set creates a field inside a scalar, null, date or an array (without a position), then it fails with 28 PathNotViable', async () => {
      for (const u of [
        { $set: { 'n.x': 1 } },
        { $set: { 's.x': 1 } },
        { $set: { 'nil.x': 1 } },
        { $set: { 'd.x': 1 } },
        { $set: { 'arr.y': 1 } },
        { $inc: { 'n.x': 1 } },
      ]) {
        const e = await rejection(c.updateOne({ _id: 1 }, u));
        assert.equal(e.code, 28, JSON.stringify(u));
        assert.match(e.message, /Cannot create field/);
      }
      await unchanged();
    });

    it('when paths are valid (missing fields, numeric array positions, $unset through a scalar), then the update applies', async () => {
      await c.updateOne({ _id: 1 }, {
        $inc: { fresh: 2 },
        $set: { 'arr.0.y': 2, 'new.deep': 1 },
        $unset: { 'n.x': '' },
        $push: { list: 'a' },
      } as Document);
      assert.deepEqual(
        await c.findOne({ _id: 1 }, { projection: { fresh: 1, arr: 1, new: 1, list: 1, n: 1 } }),
        {
          _id: 1,
          n: 5,
          arr: [{ x: 1, y: 2 }],
          fresh: 2,
          new: { deep: 1 },
          list: ['a'],
        },
      );
    });
  });
});
