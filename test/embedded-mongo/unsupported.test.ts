import assert from 'node:assert/strict';
import { Decimal128, Long } from 'bson';
import { MongoServerError, type Collection, type Db } from 'mongodb';
import mongoose, { Schema, type Connection } from 'mongoose';
import {
  AnyDoc,
  RETRY_CODES,
  isClearUnsupported,
  pingsOk,
  rejection,
  uniqueDb,
  useClient,
  useStore,
} from './helpers';

/**
 * What the store refuses must fail loudly, naming the feature, with an error drivers treat as
 * final (no retry, no pool reset, no "not master").
 */
describe('embedded mongo: unsupported features fail clearly', () => {
  const store = useStore();
  const h = useClient(store);
  let db: Db;
  let c: Collection<AnyDoc>;
  before(async () => {
    db = h.client.db(uniqueDb('unsup'));
    c = db.collection<AnyDoc>('docs');
    await c.insertMany([
      { _id: 1, text: 'quality pledge', n: 1 },
      { _id: 2, text: 'integrity', n: 2 },
    ]);
  });
  afterEach(async () => {
    assert.ok(await pingsOk(store.db.port), 'the server still answers after the refusal');
  });

  const expectRefused = async (
    p: Promise<unknown>,
    feature: RegExp,
    code = 115,
  ): Promise<Error & Record<string, unknown>> => {
    const e = await rejection(p);
    assert.equal(isClearUnsupported(e, feature), null);
    assert.equal(e.code, code, `code for ${feature}: ${e.message}`);
    return e;
  };

  describe('transactions', () => {
    it('when a read runs inside withTransaction, then it fails with 115 CommandNotSupported that names transactions', async () => {
      const session = h.client.startSession();
      let attempts = 0;
      try {
        const e = await rejection(
          session.withTransaction(async () => {
            attempts++;
            await c.findOne({ _id: 1 }, { session });
          }),
        );
        assert.ok(e instanceof MongoServerError);
        assert.equal(e.code, 115);
        assert.match(e.message, /transaction.* is not supported by the embedded store/);
        assert.equal(isClearUnsupported(e, /transaction/i), null);
        assert.equal(attempts, 1, 'withTransaction did not retry');
      } finally {
        await session.endSession();
      }
    });

    it("when a write runs inside withTransaction, then the store's own refusal reaches the caller (not the driver's retryable-writes wording) and nothing is written", async () => {
      const session = h.client.startSession();
      try {
        const e = await rejection(
          session.withTransaction(async () => {
            await c.insertOne({ _id: 'txn' }, { session });
          }),
        );
        assert.ok(e instanceof MongoServerError);
        // The driver rewrites code 20 on writes into "does not support retryable writes"; 115 it passes on.
        assert.equal(e.code, 115);
        assert.match(e.message, /transaction.* is not supported by the embedded store/);
        assert.doesNotMatch(e.message, /retryable writes/);
        assert.equal(await c.countDocuments({ _id: 'txn' }), 0);
      } finally {
        await session.endSession();
      }
    });

    it('when commitTransaction or a startTransaction command arrives, then it is refused with 115', async () => {
      await expectRefused(
        db.command({
          find: 'docs',
          filter: {},
          txnNumber: Long.fromNumber(1),
          startTransaction: true,
          autocommit: false,
        }),
        /transaction/i,
      );
      await expectRefused(h.client.db('admin').command({ commitTransaction: 1 }), /transaction/i);
    });

    it('when mongoose uses connection.transaction(), then the error reaches the caller', async () => {
      const conn: Connection = await mongoose
        .createConnection(store.db.uri, { dbName: db.databaseName })
        .asPromise();
      try {
        const M = conn.model('TxnThing', new Schema({ a: Number }));
        await M.createCollection();
        const e = await rejection(
          conn.transaction(async (session) => void (await M.findOne({}, null, { session }))),
        );
        assert.equal(e.code, 115);
        const w = await rejection(
          conn.transaction(async (session) => void (await M.create([{ a: 1 }], { session }))),
        );
        assert.equal(w.code, 115);
        assert.match(w.message, /transaction.* is not supported by the embedded store/);
        assert.equal(await M.countDocuments(), 0);
      } finally {
        await conn.close();
      }
    });
  });

  describe('aggregation stages mingo cannot run as mongod does', () => {
    it('when $setWindowFields or $fill is used, at the top or inside $facet or $lookup, then the error names the stage (not $function)', async () => {
      const window = {
        $setWindowFields: {
          sortBy: { n: 1 },
          output: { total: { $sum: '$n', window: { documents: ['unbounded', 'current'] } } },
        },
      };
      const fill = { $fill: { sortBy: { n: 1 }, output: { text: { method: 'locf' } } } };
      await expectRefused(c.aggregate([window]).toArray(), /\$setWindowFields/);
      await expectRefused(c.aggregate([fill]).toArray(), /\$fill/);
      await expectRefused(
        c.aggregate([{ $facet: { w: [window] } }]).toArray(),
        /\$setWindowFields/,
      );
      await expectRefused(
        c.aggregate([{ $lookup: { from: 'docs', pipeline: [fill], as: 'x' } }]).toArray(),
        /\$fill/,
      );
    });
  });

  describe('query operators and options', () => {
    it('when $text is used, then the error names $text', async () => {
      await expectRefused(c.find({ $text: { $search: 'quality' } }).toArray(), /\$text/);
    });

    it('when $where is used, then the error names $where', async () => {
      await expectRefused(c.find({ $where: 'this.n > 1' }).toArray(), /\$where/);
    });

    it('when $where hides inside $or or an aggregation $match, then it is still refused', async () => {
      await expectRefused(c.find({ $or: [{ n: 1 }, { $where: 'true' }] }).toArray(), /\$where/);
      await expectRefused(c.aggregate([{ $match: { $where: 'true' } }]).toArray(), /\$where/);
    });

    it('when a collation is given to find, update or createIndex, then the error names collation', async () => {
      await expectRefused(
        c.find({ text: 'a' }, { collation: { locale: 'zh' } }).toArray(),
        /collation/,
      );
      await expectRefused(
        c.updateOne({ _id: 1 }, { $set: { x: 1 } }, { collation: { locale: 'en', strength: 2 } }),
        /collation/,
      );
      await expectRefused(c.createIndex({ text: 1 }, { collation: { locale: 'en' } }), /collation/);
    });

    it('when a simple collation is given, then it is accepted (it is the default)', async () => {
      assert.equal(
        (await c.find({ _id: 1 }, { collation: { locale: 'simple' } }).toArray()).length,
        1,
      );
    });

    it('when an update or delete is explained, then the error names what was explained', async () => {
      await expectRefused(
        db.command({ explain: { update: 'docs', updates: [{ q: {}, u: { $set: { n: 3 } } }] } }),
        /explain of update/,
      );
      await expectRefused(
        db.command({ explain: { delete: 'docs', deletes: [{ q: {}, limit: 0 }] } }),
        /explain of delete/,
      );
      assert.equal(await c.countDocuments(), 2);
    });
  });

  describe('Decimal128', () => {
    it('when a document holds a Decimal128, then it is stored and read back as the same Decimal128', async () => {
      await c.insertOne({ _id: 'dec', price: Decimal128.fromString('9.99') });
      const back = await c.findOne({ _id: 'dec' });
      assert.ok(back?.price instanceof Decimal128);
      assert.equal(String(back.price), '9.99');
      await c.deleteOne({ _id: 'dec' });
    });

    it('when a filter (other than equality, $in and ranges), update or pipeline uses a Decimal128, then it is refused instead of comparing it as a string', async () => {
      await expectRefused(
        c.find({ n: { $ne: Decimal128.fromString('1') } }).toArray(),
        /Decimal128/,
      );
      await expectRefused(
        c.find({ n: { $nin: [Decimal128.fromString('2')] } }).toArray(),
        /Decimal128/,
      );
      await expectRefused(
        c.updateOne({ _id: 1 }, { $inc: { n: Decimal128.fromString('0.5') } }),
        /Decimal128/,
      );
      await expectRefused(
        c.aggregate([{ $project: { x: { $toDecimal: '$n' } } }]).toArray(),
        /Decimal128/,
      );
      assert.equal((await c.findOne({ _id: 1 }))?.n, 1);
    });

    it('when mongoose saves a Decimal128 path, then it reads back equal and is found by its value, and a $ne query is refused naming Decimal128', async () => {
      const conn: Connection = await mongoose
        .createConnection(store.db.uri, { dbName: db.databaseName })
        .asPromise();
      try {
        const Price = conn.model('Price', new Schema({ amount: Schema.Types.Decimal128 }));
        const p = await Price.create({ amount: '12.30' });
        assert.equal(String((await Price.findById(p._id))?.amount), '12.30');
        assert.equal(
          String((await Price.findOne({ amount: p.amount }).exec())?._id),
          String(p._id),
        );
        const e = await rejection(Price.findOne({ amount: { $ne: p.amount } }).exec());
        assert.equal(e.code, 115);
        assert.match(e.message, /Decimal128/);
      } finally {
        await conn.close();
      }
    });

    it('when an int64 is outside ±2^53, then it is stored and read back exactly', async () => {
      await c.insertOne({ _id: 'big', v: Long.fromString('9007199254740993') });
      const back = await c.findOne({ _id: 'big' }, { useBigInt64: true });
      assert.equal(back?.v, 9007199254740993n);
      await c.deleteOne({ _id: 'big' });
    });
  });

  describe('aggregation stages, change streams and collection options', () => {
    it('when $merge is used, then the error names the stage and no collection is written', async () => {
      await expectRefused(c.aggregate([{ $merge: { into: 'copy' } }]).toArray(), /\$merge/);
      // Inside a sub-pipeline mingo would run them as no-ops; mongod fails.
      const lookup = { from: c.collectionName, pipeline: [{ $out: 'copy' }], as: 'j' };
      await expectRefused(c.aggregate([{ $lookup: lookup }]).toArray(), /\$out inside/);
      await expectRefused(c.aggregate([{ $facet: { f: [{ $out: 'copy' }] } }]).toArray(), /\$out/);
      const names = (await db.listCollections().toArray()).map((i) => i.name);
      assert.equal(names.includes('copy'), false);
    });

    it('when collection.watch() is iterated, then it fails naming change streams and does not resume', async () => {
      const stream = c.watch();
      try {
        const e = await rejection(stream.next());
        assert.equal(isClearUnsupported(e, /change streams/), null);
        assert.equal(e.code, 115);
      } finally {
        await stream.close();
      }
    });

    it('when a capped collection is created, then the error names the capped option and no collection exists', async () => {
      await expectRefused(db.createCollection('ring', { capped: true, size: 4096 }), /capped/);
      assert.equal((await db.listCollections({ name: 'ring' }).toArray()).length, 0);
    });

    it('when a validator, a time-series or a view is requested, then each is refused by name', async () => {
      await expectRefused(db.createCollection('v', { validator: { n: { $gt: 0 } } }), /validator/);
      await expectRefused(
        db.createCollection('ts', { timeseries: { timeField: 't' } }),
        /timeseries/,
      );
      await expectRefused(db.createCollection('view', { viewOn: 'docs', pipeline: [] }), /viewOn/);
    });

    it('when a text or 2dsphere index is requested, then the index type is named', async () => {
      await expectRefused(c.createIndex({ text: 'text' }), /index type 'text'/);
      await expectRefused(c.createIndex({ loc: '2dsphere' }), /index type '2dsphere'/);
      assert.deepEqual(
        (await c.listIndexes().toArray()).map((i) => i.name),
        ['_id_'],
      );
    });

    it('when geospatial query operators are used, then they are refused by name', async () => {
      await expectRefused(c.find({ loc: { $near: [0, 0] } }).toArray(), /\$near/);
    });
  });

  it('every refusal code used above is outside the set that makes drivers retry', () => {
    for (const code of [20, 115]) assert.equal(RETRY_CODES.includes(code), false);
  });
});
