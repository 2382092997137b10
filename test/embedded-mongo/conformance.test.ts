import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Binary, Decimal128, Int32, Long, calculateObjectSize } from 'bson';
import { MongoClient, type Collection, type Db, type Document, type UpdateFilter } from 'mongodb';
import mongoose, { Schema, type Connection } from 'mongoose';
import { startEmbeddedMongo } from '../../src/embedded-mongo';
import { AnyDoc, rejection, uniqueDb, useClient, useStore } from './helpers';

/**
 * Cases where the store used to answer differently from mongod without an error (issue #14 §1).
 * Each expected value is what mongod 7 returns, per the MongoDB manual.
 */
describe('embedded mongo: conformance with mongod 7', () => {
  const store = useStore();
  const h = useClient(store);
  let db: Db;
  let conn: Connection;
  before(async () => {
    const name = uniqueDb('conf');
    db = h.client.db(name);
    conn = await mongoose
      .createConnection(store.db.uri, { dbName: name, serverSelectionTimeoutMS: 5000 })
      .asPromise();
  });
  after(async () => {
    await conn?.close();
  });

  let n = 0;
  const fresh = async (docs: AnyDoc[]): Promise<Collection<AnyDoc>> => {
    const c = db.collection<AnyDoc>(`c${++n}`);
    if (docs.length) await c.insertMany(docs);
    return c;
  };

  describe('$pull with a query condition', () => {
    // The driver's types only know a $pull of values; mongod (and mongoose) send conditions.
    const pull = (spec: Document): UpdateFilter<AnyDoc> =>
      ({ $pull: spec }) as UpdateFilter<AnyDoc>;
    it('when $pull uses $or over embedded documents, then every element matching either branch is removed', async () => {
      const c = await fresh([
        { _id: 1, arr: [{ a: 1 }, { b: 2 }, { a: 3, b: 3 }, { a: 1, b: 2 }] },
      ]);
      // mongod applies a $pull condition to each element as if it were a document of its own.
      const r = await c.updateOne({ _id: 1 }, pull({ arr: { $or: [{ a: 1 }, { b: 2 }] } }));
      assert.equal(r.modifiedCount, 1);
      assert.deepEqual((await c.findOne({ _id: 1 }))?.arr, [{ a: 3, b: 3 }]);
    });

    it('when $pull uses $and, $nor or a field operator on embedded documents, then the same element-as-document rule holds', async () => {
      const c = await fresh([{ _id: 1, arr: [{ a: 1, b: 1 }, { a: 1, b: 2 }, { a: 2 }] }]);
      await c.updateOne({ _id: 1 }, pull({ arr: { $and: [{ a: 1 }, { b: { $gt: 1 } }] } }));
      assert.deepEqual((await c.findOne({ _id: 1 }))?.arr, [{ a: 1, b: 1 }, { a: 2 }]);
      await c.updateOne({ _id: 1 }, pull({ arr: { $nor: [{ a: 1 }] } }));
      assert.deepEqual((await c.findOne({ _id: 1 }))?.arr, [{ a: 1, b: 1 }]);
    });

    it('when mongoose pulls subdocuments that have no _id, then they are removed from the stored array', async () => {
      const Line = new Schema({ sku: String, qty: Number }, { _id: false });
      const Order = conn.model('PullOrder', new Schema({ lines: [Line] }));
      const o = await Order.create({
        lines: [
          { sku: 'a', qty: 1 },
          { sku: 'b', qty: 2 },
          { sku: 'c', qty: 3 },
        ],
      });
      o.lines.pull(o.lines[0], o.lines[2]);
      await o.save();
      const stored = await Order.findById(o._id).lean();
      assert.deepEqual(stored?.lines, [{ sku: 'b', qty: 2 }]);
    });
  });

  describe('projection', () => {
    it('when a find projects {_id: 1} alone, then only _id comes back', async () => {
      const c = await fresh([{ _id: 1, a: 1, b: { c: 2 } }]);
      assert.deepEqual(await c.find({}, { projection: { _id: 1 } }).toArray(), [{ _id: 1 }]);
      assert.deepEqual(await c.findOne({}, { projection: { _id: true } }), { _id: 1 });
      assert.deepEqual(
        await c.findOneAndUpdate(
          { _id: 1 },
          { $set: { a: 2 } },
          { projection: { _id: 1 }, returnDocument: 'after' },
        ),
        { _id: 1 },
      );
      // {_id: 0} alone is an exclusion: everything but _id.
      assert.deepEqual(await c.findOne({}, { projection: { _id: 0 } }), { a: 2, b: { c: 2 } });
    });

    it('when mongoose selects only _id, then the lean result has only _id', async () => {
      const M = conn.model('ProjIdOnly', new Schema({ name: String, n: Number }));
      const m = await M.create({ name: 'x', n: 1 });
      assert.deepEqual(await M.findById(m._id).select('_id').lean(), { _id: m._id });
    });
  });

  describe('$all', () => {
    it('when $all is matched against a scalar field, then the field matches if it equals every listed value', async () => {
      const c = await fresh([
        { _id: 1, title: 'x' },
        { _id: 2, title: ['x', 'y'] },
        { _id: 3, title: 'y' },
      ]);
      const ids = async (f: AnyDoc): Promise<unknown[]> =>
        (await c.find(f).sort({ _id: 1 }).toArray()).map((d) => d._id);
      assert.deepEqual(await ids({ title: { $all: ['x'] } }), [1, 2]);
      assert.deepEqual(await ids({ title: { $all: ['x', 'y'] } }), [2]);
      assert.deepEqual(await ids({ title: { $all: [] } }), []);
      assert.deepEqual(await ids({ $or: [{ title: { $all: ['y'] } }, { _id: 1 }] }), [1, 2, 3]);
      assert.equal(await c.countDocuments({ title: { $all: ['x'] } }), 2);
      const later = await c
        .aggregate([{ $sort: { _id: -1 } }, { $match: { title: { $all: ['x'] } } }])
        .toArray();
      assert.deepEqual(
        later.map((d) => d._id),
        [2, 1],
      );
      const u = await c.updateMany({ title: { $all: ['x'] } }, { $set: { hit: true } });
      assert.deepEqual([u.matchedCount, u.modifiedCount], [2, 2]);
    });

    it('when $all holds $elemMatch conditions, then every one must match some element', async () => {
      const c = await fresh([
        { _id: 1, q: [{ a: 1 }, { a: 5 }] },
        { _id: 2, q: [{ a: 1 }] },
      ]);
      const r = await c
        .find({ q: { $all: [{ $elemMatch: { a: { $gt: 4 } } }, { $elemMatch: { a: 1 } }] } })
        .toArray();
      assert.deepEqual(
        r.map((d) => d._id),
        [1],
      );
    });
  });

  describe('BinData order', () => {
    // mongod orders BinData by length, then subtype, then bytes.
    const docs = (): AnyDoc[] => [
      { _id: 'len2-sub0-ff00', b: new Binary(Buffer.from([0xff, 0x00]), 0) },
      { _id: 'len3-sub0-000000', b: new Binary(Buffer.from([0, 0, 0]), 0) },
      { _id: 'len2-sub5-0000', b: new Binary(Buffer.from([0, 0]), 5) },
      { _id: 'len1-sub128-ff', b: new Binary(Buffer.from([0xff]), 128) },
      { _id: 'len2-sub0-0001', b: new Binary(Buffer.from([0, 1]), 0) },
    ];
    const order = [
      'len1-sub128-ff',
      'len2-sub0-0001',
      'len2-sub0-ff00',
      'len2-sub5-0000',
      'len3-sub0-000000',
    ];

    it('when documents are sorted by a BinData field, with and without an index, then length, subtype and bytes decide in that order', async () => {
      const c = await fresh(docs());
      assert.deepEqual(
        (await c.find().sort({ b: 1 }).toArray()).map((d) => d._id),
        order,
      );
      assert.deepEqual(
        (await c.find().sort({ b: -1 }).toArray()).map((d) => d._id),
        [...order].reverse(),
      );
      await c.createIndex({ b: 1 });
      assert.deepEqual(
        (await c.find().sort({ b: 1 }).toArray()).map((d) => d._id),
        order,
      );
      assert.deepEqual(
        (await c.aggregate([{ $sort: { b: 1 } }]).toArray()).map((d) => d._id),
        order,
      );
    });

    it('when a range query compares BinData, then the same order decides, with and without an index', async () => {
      const c = await fresh(docs());
      const pivot = new Binary(Buffer.from([0x80, 0x80]), 0);
      const want = ['len2-sub0-ff00', 'len2-sub5-0000', 'len3-sub0-000000'];
      const run = async (): Promise<unknown[]> =>
        (await c.find({ b: { $gt: pivot } }).toArray()).map((d) => d._id).sort();
      assert.deepEqual(await run(), want);
      assert.deepEqual(
        (await c.find({ b: { $lt: new Binary(Buffer.from([0]), 0) } }).toArray()).map((d) => d._id),
        [],
      );
      await c.createIndex({ b: 1 });
      assert.deepEqual(await run(), want);
      const u = await c.updateMany({ b: { $gt: pivot } }, { $set: { big: true } });
      assert.deepEqual([u.matchedCount, u.modifiedCount], [3, 3]);
    });
  });

  describe('field names that every JS object inherits', () => {
    const names = ['constructor', 'toString', 'hasOwnProperty', 'valueOf'];

    it('when documents use constructor, toString, hasOwnProperty or valueOf as fields, then filters, sorts, projections and updates treat them as ordinary fields', async () => {
      const c = await fresh([
        { _id: 1, constructor: 'b', toString: 2, hasOwnProperty: true, valueOf: [1, 2] },
        { _id: 2, constructor: 'a', toString: 1 },
        { _id: 3 },
      ]);
      const ids = async (f: AnyDoc, sort: AnyDoc = { _id: 1 }): Promise<unknown[]> =>
        (await c.find(f).sort(sort).toArray()).map((d) => d._id);
      assert.deepEqual(await ids({ constructor: 'b' }), [1]);
      assert.deepEqual(await ids({ toString: { $gte: 1 } }), [1, 2]);
      assert.deepEqual(await ids({ hasOwnProperty: { $exists: false } }), [2, 3]);
      assert.deepEqual(await ids({ valueOf: 2 }), [1]);
      assert.deepEqual(await ids({ constructor: null }), [3]);
      assert.deepEqual(await ids({}, { constructor: 1, _id: 1 }), [3, 2, 1]);
      assert.deepEqual(await c.findOne({ _id: 2 }, { projection: { constructor: 1, _id: 0 } }), {
        constructor: 'a',
      });
      await c.updateOne({ _id: 3 }, {
        $set: { constructor: 'z' },
        $inc: { toString: 5 },
        $push: { valueOf: 1 },
      } as unknown as UpdateFilter<AnyDoc>);
      assert.deepEqual(await c.findOne({ _id: 3 }), {
        _id: 3,
        constructor: 'z',
        toString: 5,
        valueOf: [1],
      });
      await c.updateOne({ _id: 1 }, { $unset: { hasOwnProperty: '' }, $rename: { toString: 'n' } });
      assert.deepEqual(await c.findOne({ _id: 1 }), {
        _id: 1,
        constructor: 'b',
        valueOf: [1, 2],
        n: 2,
      });
      for (const name of names)
        assert.equal(await c.countDocuments({ [`${name}.x`]: { $exists: true } }), 0);
    });

    it('when an aggregation groups, projects or looks up by an inherited name, then the result is the ordinary-field result', async () => {
      const c = await fresh([
        { _id: 1, constructor: 'a', n: 1 },
        { _id: 2, constructor: 'a', n: 2 },
        { _id: 3, n: 4 },
      ]);
      const groups = await c
        .aggregate([
          { $group: { _id: '$constructor', total: { $sum: '$n' } } },
          { $sort: { _id: 1 } },
        ])
        .toArray();
      assert.deepEqual(groups, [
        { _id: null, total: 4 },
        { _id: 'a', total: 3 },
      ]);
      const projected = await c
        .aggregate([{ $match: { _id: 1 } }, { $project: { toString: '$constructor', _id: 0 } }])
        .toArray();
      assert.deepEqual(projected, [{ toString: 'a' }]);
    });

    it('when an operator or stage is named after an inherited key, then it is refused as unknown, with its own name in the message', async () => {
      const c = await fresh([{ _id: 1 }]);
      for (const name of ['$constructor', '$toString', '$hasOwnProperty']) {
        const q = await rejection(c.find({ a: { [name]: 1 } }).toArray());
        assert.match(q.message, new RegExp(`\\${name}`), q.message);
        assert.doesNotMatch(q.message, /native code|not supported by the embedded store/);
      }
      for (const name of ['constructor', 'toString', '$constructor', '$toString', '__proto__']) {
        const e = await rejection(c.aggregate([{ [name]: {} }]).toArray());
        assert.doesNotMatch(
          e.message,
          /native code|\[object|not supported by the embedded store/,
          e.message,
        );
        assert.equal(e.code, 40324, e.message);
      }
      const acc = await rejection(
        c.aggregate([{ $group: { _id: null, x: { constructor: 1 } } }]).toArray(),
      );
      assert.equal(acc.message, "unknown group operator 'constructor'");
      for (const name of ['constructor', 'toString', 'hasOwnProperty']) {
        const e = await rejection(db.command({ [name]: 1 }));
        assert.equal(e.code, 59, e.message);
      }
    });

    it('when a document, update or filter uses a __proto__ field, then it is refused by name and nothing is stored', async () => {
      const c = await fresh([{ _id: 1, a: 1 }]);
      const refusedProto = (e: Error & Record<string, unknown>): void => {
        assert.equal(e.code, 115, e.message);
        assert.match(e.message, /'__proto__' is not supported by the embedded store/);
      };
      refusedProto(
        await rejection(
          c.insertOne(JSON.parse('{"_id": 2, "__proto__": {"polluted": 1}}') as AnyDoc),
        ),
      );
      refusedProto(
        await rejection(
          c.insertOne(JSON.parse('{"_id": 3, "a": {"__proto__": {"polluted": 1}}}') as AnyDoc),
        ),
      );
      refusedProto(
        await rejection(
          c.updateOne({ _id: 1 }, { $set: JSON.parse('{"__proto__": {"polluted": 1}}') as AnyDoc }),
        ),
      );
      refusedProto(
        await rejection(c.updateOne({ _id: 1 }, { $set: { 'a.__proto__.polluted': 1 } })),
      );
      refusedProto(await rejection(c.find({ '__proto__.polluted': 1 }).toArray()));
      assert.deepEqual(await c.find().toArray(), [{ _id: 1, a: 1 }]);
      assert.equal(({} as AnyDoc).polluted, undefined);
    });
  });

  describe('$project output order', () => {
    it('when $project computes fields, then _id comes first, included fields keep document order and computed fields follow in spec order', async () => {
      const c = await fresh([{ _id: 1, a: 1, b: 2, x: 5 }]);
      const [computed] = await c
        .aggregate([{ $project: { zeta: { $add: ['$x', 1] }, mid: '$b', alpha: '$a' } }])
        .toArray();
      assert.deepEqual(Object.entries(computed), [
        ['_id', 1],
        ['zeta', 6],
        ['mid', 2],
        ['alpha', 1],
      ]);
      const [mixed] = await c
        .aggregate([{ $project: { zeta: { $add: ['$x', 1] }, b: 1, alpha: '$a', a: 1 } }])
        .toArray();
      assert.deepEqual(Object.entries(mixed), [
        ['_id', 1],
        ['a', 1],
        ['b', 2],
        ['zeta', 6],
        ['alpha', 1],
      ]);
      const [nested] = await c
        .aggregate([{ $project: { _id: 0, out: { z: '$x', a: '$a' }, first: '$b' } }])
        .toArray();
      assert.deepEqual(JSON.stringify(nested), JSON.stringify({ out: { z: 5, a: 1 }, first: 2 }));
      const d = await fresh([{ _id: 1, n: { a: 1, b: 2, c: 3 } }]);
      const [dotted] = await d
        .aggregate([{ $project: { 'n.sum': { $add: ['$n.a', '$n.c'] }, 'n.c': 1, 'n.a': 1 } }])
        .toArray();
      assert.deepEqual(
        JSON.stringify(dotted),
        JSON.stringify({ _id: 1, n: { a: 1, c: 3, sum: 4 } }),
      );
    });
  });

  describe('$bucket', () => {
    it('when a value equals an inner boundary, then it goes to the bucket that boundary opens ([lower, upper)), and _id comes first', async () => {
      const c = await fresh(
        [{ v: 0 }, { v: 5 }, { v: 9 }, { v: 10 }, { v: 15 }, { v: 20 }, { v: 'x' }].map((d, i) => ({
          _id: i,
          ...d,
        })),
      );
      const out = await c
        .aggregate([
          {
            $bucket: {
              groupBy: '$v',
              boundaries: [0, 10, 20],
              default: 'other',
              output: { n: { $sum: 1 }, vs: { $push: '$v' } },
            },
          },
        ])
        .toArray();
      assert.deepEqual(
        JSON.stringify(out),
        JSON.stringify([
          { _id: 0, n: 3, vs: [0, 5, 9] },
          { _id: 10, n: 2, vs: [10, 15] },
          { _id: 'other', n: 2, vs: [20, 'x'] },
        ]),
      );
      const counted = await c
        .aggregate([
          { $match: { v: { $type: 'number' } } },
          { $bucket: { groupBy: '$v', boundaries: [0, 10, 21] } },
        ])
        .toArray();
      assert.deepEqual(
        JSON.stringify(counted),
        JSON.stringify([
          { _id: 0, count: 3 },
          { _id: 10, count: 3 },
        ]),
      );
    });

    it('when a value falls outside the boundaries and there is no default, or the boundaries are not ascending, then it fails as mongod does', async () => {
      const c = await fresh([{ _id: 1, v: 50 }]);
      const e = await rejection(
        c.aggregate([{ $bucket: { groupBy: '$v', boundaries: [0, 10] } }]).toArray(),
      );
      assert.equal(e.code, 40066, e.message);
      const unsorted = await rejection(
        c.aggregate([{ $bucket: { groupBy: '$v', boundaries: [10, 0] } }]).toArray(),
      );
      assert.equal(unsorted.code, 40194, unsorted.message);
      const inside = await rejection(
        c.aggregate([{ $bucket: { groupBy: '$v', boundaries: [0, 10], default: 5 } }]).toArray(),
      );
      assert.equal(inside.code, 40199, inside.message);
    });
  });

  describe('hint', () => {
    let c: Collection<AnyDoc>;
    before(async () => {
      c = await fresh([
        { _id: 3, a: 2, b: 'x' },
        { _id: 1, a: 3, b: 'z' },
        { _id: 2, a: 1, b: 'y' },
      ]);
      await c.createIndex({ a: 1 });
      await c.createIndex({ b: -1 }, { name: 'b_desc' });
    });
    const ids = (docs: AnyDoc[]): unknown[] => docs.map((d) => d._id);
    const missing = (e: Error & Record<string, unknown>): void => {
      assert.equal(e.code, 2, e.message);
      assert.match(e.message, /hint provided does not correspond to an existing index/);
    };

    it('when a hint names an index, then that index decides the order of an unsorted result', async () => {
      assert.deepEqual(ids(await c.find().hint({ a: 1 }).toArray()), [2, 3, 1]);
      assert.deepEqual(ids(await c.find().hint('b_desc').toArray()), [1, 2, 3]);
      assert.deepEqual(
        ids(
          await c
            .find({ a: { $gte: 2 } })
            .hint('a_1')
            .toArray(),
        ),
        [3, 1],
      );
      assert.deepEqual(ids(await c.find().hint('_id_').toArray()), [1, 2, 3]);
      assert.deepEqual(ids(await c.find().hint({ $natural: 1 }).toArray()), [3, 1, 2]);
      assert.deepEqual(ids(await c.find().hint({ $natural: -1 }).toArray()), [2, 1, 3]);
      assert.deepEqual(ids(await c.find().hint('b_desc').sort({ a: 1 }).toArray()), [2, 3, 1]);
      assert.deepEqual(
        ids(await c.aggregate([{ $project: { a: 1 } }], { hint: { a: 1 } }).toArray()),
        [2, 3, 1],
      );
    });

    it('when a hint names no existing index, then find, count, aggregate, update, delete and findOneAndUpdate fail with code 2', async () => {
      missing(await rejection(c.find().hint('nope').toArray()));
      missing(await rejection(c.find({ a: 1 }).hint({ c: 1 }).toArray()));
      missing(await rejection(c.countDocuments({}, { hint: 'nope' })));
      missing(await rejection(c.aggregate([{ $match: {} }], { hint: { zz: 1 } }).toArray()));
      missing(await rejection(c.updateOne({ _id: 1 }, { $set: { q: 1 } }, { hint: 'nope' })));
      missing(await rejection(c.deleteOne({ _id: 1 }, { hint: 'nope' })));
      missing(
        await rejection(c.findOneAndUpdate({ _id: 1 }, { $set: { q: 1 } }, { hint: { nope: 1 } })),
      );
      assert.equal(await c.countDocuments({ q: 1 }), 0);
      assert.equal(await c.countDocuments(), 3);
    });

    it('when mongoose passes a hint, then it decides the index', async () => {
      const M = conn.model('Hinted', new Schema({ a: Number }, { autoIndex: false }));
      await M.create([{ a: 2 }, { a: 1 }]);
      await M.collection.createIndex({ a: -1 });
      assert.deepEqual(
        (await M.find().hint({ a: -1 }).lean()).map((d) => d.a),
        [2, 1],
      );
      missing(await rejection(M.find().hint({ a: 1 }).exec()));
    });
  });

  describe('numbers keep the type they were stored with', () => {
    const big = Long.fromString('9007199254740993'); // 2^53 + 1: no double holds it

    it('when int64 values are stored, then a client asking for int64 gets int64 back (exactly, beyond 2^53) and int32 stays int32', async () => {
      const c = await fresh([
        { _id: 1, l: Long.fromNumber(5), i: new Int32(5), big },
        {
          _id: 2,
          l: Long.fromNumber(-7),
          i: new Int32(-7),
          big: Long.fromString('9007199254740992'),
        },
      ]);
      const raw = await c.findOne({ _id: 1 }, { promoteValues: false });
      assert.equal(raw?.l?._bsontype, 'Long');
      assert.equal(raw?.i?._bsontype, 'Int32');
      const typed = await c.find({}, { useBigInt64: true }).sort({ _id: 1 }).toArray();
      assert.deepEqual(
        typed.map((d) => [d.l, d.big]),
        [
          [5n, 9007199254740993n],
          [-7n, 9007199254740992n],
        ],
      );
      assert.deepEqual(
        (await c.find({ big }).toArray()).map((d) => d._id),
        [1],
      );
      assert.deepEqual(
        (await c.find({ l: 5 }).toArray()).map((d) => d._id),
        [1],
      );
      assert.deepEqual(
        (await c.find({ l: { $lt: Long.fromNumber(0) } }).toArray()).map((d) => d._id),
        [2],
      );
      assert.deepEqual(
        (await c.find().sort({ big: -1 }).toArray()).map((d) => d._id),
        [1, 2],
      );
      const [sum] = await c.aggregate([{ $group: { _id: null, total: { $sum: '$l' } } }]).toArray();
      assert.equal(Number(sum.total), -2);
    });

    it("when $inc, $mul, $min and $max change int64 and int32 fields, then the result types are mongod's", async () => {
      const c = await fresh([{ _id: 1, l: Long.fromNumber(5), i: 2147483647, j: 3, d: 1.5 }]);
      await c.updateOne(
        { _id: 1 },
        {
          $inc: { l: 1, i: 1, j: 1, d: 1, fresh: Long.fromNumber(2) },
          $mul: { m: Long.fromNumber(3) },
        },
      );
      const r = await c.findOne({ _id: 1 }, { promoteValues: false });
      assert.equal(r?.l?._bsontype, 'Long');
      assert.equal(String(r?.l), '6');
      assert.equal(r?.i?._bsontype, 'Long', 'an int32 overflow becomes int64');
      assert.equal(String(r?.i), '2147483648');
      assert.equal(r?.j?._bsontype, 'Int32');
      assert.equal(r?.d?._bsontype, 'Double');
      assert.equal(r?.fresh?._bsontype, 'Long');
      assert.equal(r?.m?._bsontype, 'Long');
      await c.updateOne({ _id: 1 }, { $max: { l: Long.fromNumber(10) }, $min: { j: 1 } });
      const s = await c.findOne({ _id: 1 }, { useBigInt64: true });
      assert.equal(s?.l, 10n);
      assert.equal(s?.j, 1);
      const e = await rejection(c.updateOne({ _id: 1 }, { $inc: { l: Long.MAX_VALUE } }));
      assert.match(e.message, /overflow/);
      // A positional $inc reaches an int64 element (its value; the type may narrow there).
      await c.updateOne({ _id: 1 }, { $set: { arr: [{ k: 1, n: Long.fromNumber(5) }] } });
      await c.updateOne({ _id: 1, 'arr.k': 1 }, { $inc: { 'arr.$.n': 1 } });
      assert.equal(Number((await c.findOne({ _id: 1 }))?.arr[0].n), 6);
    });

    it('when the store restarts from its data directory, then int64 and Decimal128 values come back with their types', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'emb-types-'));
      try {
        let s = await startEmbeddedMongo({ dataDir: dir });
        let client = await MongoClient.connect(s.uri);
        await client
          .db('t')
          .collection<AnyDoc>('c')
          .insertOne({ _id: 1, big, dec: Decimal128.fromString('1.10'), i: 7 });
        await client.close();
        await s.close();
        s = await startEmbeddedMongo({ dataDir: dir });
        client = await MongoClient.connect(s.uri);
        const back = await client
          .db('t')
          .collection<AnyDoc>('c')
          .findOne({ _id: 1 }, { promoteValues: false });
        assert.equal(back?.big?._bsontype, 'Long');
        assert.equal(String(back?.big), '9007199254740993');
        assert.equal(back?.dec?._bsontype, 'Decimal128');
        assert.equal(back?.i?._bsontype, 'Int32');
        await client.close();
        await s.close();
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it('when mongoose reads with useBigInt64, then an int64 field comes back as a bigint', async () => {
      const M = conn.model('BigCounter', new Schema({ n: Schema.Types.BigInt }));
      const m = await M.create({ n: 9007199254740993n });
      const back = await M.findById(m._id);
      assert.equal(back?.n, 9007199254740993n);
      await M.updateOne({ _id: m._id }, { $inc: { n: 1n } });
      assert.equal((await M.findById(m._id))?.n, 9007199254740994n);
    });

    it('when a Decimal128 is stored, then it comes back as the same Decimal128 and is found by its exact value, while arithmetic and inexact filters with one are refused by name', async () => {
      const c = await fresh([{ _id: 1, price: Decimal128.fromString('9.99') }]);
      await c.updateOne({ _id: 1 }, { $set: { tax: Decimal128.fromString('0.10') } });
      const r = await c.findOne({ _id: 1 });
      assert.equal(r?.price?._bsontype, 'Decimal128');
      assert.equal(String(r?.price), '9.99');
      assert.equal(String(r?.tax), '0.10');
      const found = await c.find({ price: Decimal128.fromString('9.99') }).toArray();
      assert.deepEqual(
        found.map((d) => d._id),
        [1],
      );
      const e = await rejection(
        c.find({ price: { $ne: Decimal128.fromString('9.99') } }).toArray(),
      );
      assert.equal(e.code, 115);
      assert.match(e.message, /Decimal128/);
      const inc = await rejection(c.updateOne({ _id: 1 }, { $inc: { price: 1 } }));
      assert.match(inc.message, /Decimal128/);
    });
  });

  describe('$set of _id', () => {
    it('when $set gives _id (or a part of it) the value it has, then the update applies; another value is refused with 66', async () => {
      const c = await fresh([
        { _id: 1, a: 1 },
        { _id: { k: 1, j: 2 }, a: 1 },
      ]);
      const r = await c.updateOne({ _id: 1 }, { $set: { _id: 1, a: 2 } });
      assert.equal(r.modifiedCount, 1);
      assert.deepEqual(await c.findOne({ _id: 1 }), { _id: 1, a: 2 });
      await c.updateOne({ '_id.k': 1 }, { $set: { '_id.j': 2, a: 3 } });
      assert.deepEqual(await c.findOne({ '_id.k': 1 }), { _id: { k: 1, j: 2 }, a: 3 });
      const e = await rejection(c.updateOne({ _id: 1 }, { $set: { _id: 2 } }));
      assert.equal(e.code, 66);
      const up = await c.updateOne({ a: 99 }, { $set: { _id: 'new', a: 99 } }, { upsert: true });
      assert.equal(up.upsertedId, 'new');
    });
  });

  describe('renameCollection', () => {
    it("when a collection is renamed, then its documents and indexes move, the old name is gone, and the target rules are mongod's", async () => {
      const src = await fresh([
        { _id: 1, a: 1 },
        { _id: 2, a: 2 },
      ]);
      await src.createIndex({ a: 1 }, { unique: true });
      const renamed = db.collection<AnyDoc>(
        (await src.rename(`${src.collectionName}_new`)).collectionName,
      );
      assert.deepEqual(await renamed.find().sort({ _id: 1 }).toArray(), [
        { _id: 1, a: 1 },
        { _id: 2, a: 2 },
      ]);
      assert.deepEqual((await renamed.listIndexes().toArray()).map((i) => i.name).sort(), [
        '_id_',
        'a_1',
      ]);
      assert.equal((await rejection(renamed.insertOne({ _id: 3, a: 1 }))).code, 11000);
      const names = (await db.listCollections().toArray()).map((i) => i.name);
      assert.ok(!names.includes(src.collectionName) && names.includes(renamed.collectionName));
      assert.equal((await rejection(src.rename('whatever'))).code, 26);
      const other = await fresh([{ _id: 'o' }]);
      assert.equal((await rejection(other.rename(renamed.collectionName))).code, 48);
      await other.rename(renamed.collectionName, { dropTarget: true });
      assert.deepEqual(await db.collection(renamed.collectionName).find().toArray(), [
        { _id: 'o' },
      ]);
    });

    it('when the store restarts after a rename, then the collection is found under its new name', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'emb-rename-'));
      try {
        let s = await startEmbeddedMongo({ dataDir: dir });
        let client = await MongoClient.connect(s.uri);
        const c = client.db('t').collection<AnyDoc>('before');
        await c.insertOne({ _id: 1 });
        await c.createIndex({ x: 1 });
        await c.rename('after');
        await client.close();
        await s.close();
        s = await startEmbeddedMongo({ dataDir: dir });
        client = await MongoClient.connect(s.uri);
        assert.deepEqual(await client.db('t').collection('after').find().toArray(), [{ _id: 1 }]);
        assert.deepEqual(
          (await client.db('t').listCollections().toArray()).map((i) => i.name),
          ['after'],
        );
        assert.equal((await client.db('t').collection('after').listIndexes().toArray()).length, 2);
        await client.close();
        await s.close();
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('dbStats and collStats', () => {
    it("when stats are asked for, then dataSize is the BSON size of the documents held, with counts, index sizes and scale in mongod's shape", async () => {
      const docs = Array.from({ length: 50 }, (_, i) => ({
        _id: i,
        name: `n${i}`,
        blob: 'x'.repeat(i * 10),
      }));
      const c = await fresh(docs);
      await c.createIndex({ name: 1 });
      const bytes = docs.reduce((n, d) => n + calculateObjectSize(d), 0);
      const cs = await db.command({ collStats: c.collectionName });
      assert.equal(cs.count, 50);
      assert.equal(cs.size, bytes);
      assert.equal(cs.avgObjSize, bytes / 50);
      assert.equal(cs.nindexes, 2);
      assert.deepEqual(Object.keys(cs.indexSizes).sort(), ['_id_', 'name_1']);
      assert.ok(cs.totalIndexSize > 0 && cs.totalSize === cs.size + cs.totalIndexSize);
      const kb = await db.command({ collStats: c.collectionName, scale: 1024 });
      assert.equal(kb.size, bytes / 1024);
      const ds = await db.stats();
      assert.ok(
        ds.dataSize >= bytes &&
          ds.objects >= 50 &&
          ds.indexSize > 0 &&
          ds.storageSize === ds.dataSize,
      );
      assert.equal((await rejection(db.command({ collStats: 'missing' }))).code, 26);
    });
  });

  describe('equality with null on a dotted path', () => {
    // mongod: a document element lacking the field counts as null; scalar elements do not.
    const docs = [
      { _id: 'doc-missing', a: {} },
      { _id: 'doc-null', a: { b: null } },
      { _id: 'doc-one', a: { b: 1 } },
      { _id: 'arr-empty-doc', a: [{}] },
      { _id: 'arr-mixed', a: [{ b: 1 }, { c: 1 }] },
      { _id: 'arr-scalar', a: [42] },
      { _id: 'arr-empty', a: [] },
      { _id: 'arr-null', a: [null] },
      { _id: 'arr-b', a: [{ b: 2 }] },
    ];
    const nullish = ['arr-empty-doc', 'arr-mixed', 'doc-missing', 'doc-null'];
    const ids = async (c: Collection<AnyDoc>, filter: Document): Promise<string[]> =>
      (await c.find(filter).sort({ _id: 1 }).toArray()).map((d) => String(d._id));

    it('when {a.b: null}, $in with null, $ne null or $nin with null is queried, then arrays of documents lacking b count as null, with or without an index', async () => {
      const c = await fresh(docs);
      for (const indexed of [false, true]) {
        if (indexed) await c.createIndex({ 'a.b': 1 });
        assert.deepEqual(await ids(c, { 'a.b': null }), nullish, `indexed: ${indexed}`);
        assert.deepEqual(await ids(c, { 'a.b': { $in: [null, 2] } }), ['arr-b', ...nullish]);
        assert.deepEqual(await ids(c, { 'a.b': { $ne: null } }), [
          'arr-b',
          'arr-empty',
          'arr-null',
          'arr-scalar',
          'doc-one',
        ]);
        assert.deepEqual(await ids(c, { 'a.b': { $nin: [null, 1] } }), [
          'arr-b',
          'arr-empty',
          'arr-null',
          'arr-scalar',
        ]);
      }
    });

    it('when $lookup joins a missing local field, then foreign arrays of documents lacking the field are matched', async () => {
      const foreign = await fresh(docs);
      const local = await fresh([{ _id: 'x' }]);
      const [out] = await local
        .aggregate([
          {
            $lookup: {
              from: foreign.collectionName,
              localField: 'k',
              foreignField: 'a.b',
              as: 'j',
            },
          },
        ])
        .toArray();
      assert.deepEqual((out!.j as AnyDoc[]).map((d) => d._id).sort(), nullish);
    });
  });

  describe('$out', () => {
    it('when a pipeline ends in $out, then its results replace the target, which keeps its indexes, and the cursor is empty', async () => {
      const src = await fresh([
        { _id: 1, k: 'a' },
        { _id: 2, k: 'b' },
      ]);
      const target = await fresh([{ _id: 9, k: 'old' }]);
      await target.createIndex({ k: 1 }, { unique: true });
      const out = await src
        .aggregate([{ $match: { _id: { $gt: 0 } } }, { $out: target.collectionName }])
        .toArray();
      assert.deepEqual(out, []);
      assert.deepEqual(await target.find().sort({ _id: 1 }).toArray(), [
        { _id: 1, k: 'a' },
        { _id: 2, k: 'b' },
      ]);
      const indexes = (await target.listIndexes().toArray()).map((i) => i.name).sort();
      assert.deepEqual(indexes, ['_id_', 'k_1']);
    });

    it('when $out would break a unique index of the target, then it fails and the target is unchanged', async () => {
      const src = await fresh([
        { _id: 1, k: 'same' },
        { _id: 2, k: 'same' },
      ]);
      const target = await fresh([{ _id: 9, k: 'old' }]);
      await target.createIndex({ k: 1 }, { unique: true });
      const e = await rejection(src.aggregate([{ $out: target.collectionName }]).toArray());
      assert.equal(e.code, 11000);
      assert.deepEqual(await target.find().toArray(), [{ _id: 9, k: 'old' }]);
      const names = (await db.listCollections().toArray()).map((i) => i.name);
      assert.equal(names.filter((n) => n.startsWith('tmp.agg_out.')).length, 0);
    });

    it("when $out is not the last stage, then mongod's error 40601 is returned", async () => {
      const src = await fresh([{ _id: 1 }]);
      const e = await rejection(src.aggregate([{ $out: 'x' }, { $match: {} }]).toArray());
      assert.equal(e.code, 40601);
    });
  });
});
