import assert from 'node:assert/strict';
import {
  Binary,
  BSONRegExp,
  Double,
  Int32,
  Long,
  MaxKey,
  MinKey,
  ObjectId,
  Timestamp,
  UUID,
  type Document,
} from 'bson';
import mongoose, { Schema, type Connection } from 'mongoose';
import type { Collection } from 'mongodb';
import { AnyDoc, uniqueDb, useClient, useStore } from './helpers';

describe('embedded mongo: BSON types round trip', () => {
  const store = useStore();
  const h = useClient(store);
  let c: Collection<AnyDoc>;
  before(() => {
    c = h.client.db(uniqueDb('types')).collection('t');
  });

  const oid = new ObjectId();
  const uuid = new UUID();
  const sample = {
    _id: oid,
    date: new Date('2024-02-29T12:34:56.789Z'),
    oldDate: new Date(-1_000_000_000_000),
    int: 42,
    negInt: -7,
    long: Long.fromNumber(2 ** 40 + 3),
    double: 3.25,
    tiny: 5e-324,
    nan: NaN,
    inf: Infinity,
    ninf: -Infinity,
    t: true,
    f: false,
    nil: null,
    str: '企业质量诚信 ✓',
    empty: '',
    arr: [1, 'two', [3, [4]], { five: 5 }, null],
    emptyArr: [],
    nested: { z: 1, a: { y: [{ deep: { deeper: 'yes' } }] }, m: {} },
    bin: new Binary(Buffer.from([0, 1, 2, 255])),
    uuid,
    userBin: new Binary(Buffer.from('hi'), 0x80),
    re: /^ab+c$/im,
    ts: new Timestamp({ t: 1_700_000_000, i: 3 }),
    min: new MinKey(),
    max: new MaxKey(),
  };

  it('when a document with every supported type is inserted, then it reads back deep-equal with field order kept', async () => {
    await c.insertOne(sample);
    const back = await c.findOne({ _id: oid });
    assert.ok(back);
    assert.deepEqual(Object.keys(back), Object.keys(sample));
    assert.deepEqual(Object.keys(back.nested), ['z', 'a', 'm']);
    assert.ok(back._id instanceof ObjectId && back._id.equals(oid));
    assert.ok(back.date instanceof Date);
    assert.equal(back.date.getTime(), sample.date.getTime());
    assert.equal(back.oldDate.getTime(), -1_000_000_000_000);
    assert.equal(back.int, 42);
    assert.equal(back.negInt, -7);
    assert.equal(back.long, 2 ** 40 + 3, 'int64 values come back as the same number');
    assert.equal(back.double, 3.25);
    assert.equal(back.tiny, 5e-324);
    assert.ok(Number.isNaN(back.nan));
    assert.equal(back.inf, Infinity);
    assert.equal(back.ninf, -Infinity);
    assert.equal(back.t, true);
    assert.equal(back.f, false);
    assert.equal(back.nil, null);
    assert.equal(back.str, '企业质量诚信 ✓');
    assert.equal(back.empty, '');
    assert.deepEqual(back.arr, [1, 'two', [3, [4]], { five: 5 }, null]);
    assert.deepEqual(back.emptyArr, []);
    assert.deepEqual(back.nested, sample.nested);
    assert.ok(back.bin instanceof Binary);
    assert.equal(back.bin.sub_type, 0);
    assert.deepEqual([...back.bin.buffer], [0, 1, 2, 255]);
    assert.ok(back.uuid instanceof Binary);
    assert.equal(back.uuid.sub_type, 4);
    assert.equal(back.uuid.toUUID().toHexString(), uuid.toHexString());
    assert.equal(back.userBin.sub_type, 0x80);
    assert.equal(Buffer.from(back.userBin.buffer).toString(), 'hi');
    assert.ok(back.re instanceof RegExp);
    assert.equal(back.re.source, '^ab+c$');
    assert.equal(back.re.flags, 'im');
    assert.ok(back.ts instanceof Timestamp);
    assert.equal(back.ts.t, 1_700_000_000);
    assert.equal(back.ts.i, 3);
    assert.ok(back.min instanceof MinKey);
    assert.ok(back.max instanceof MaxKey);
  });

  it('when querying by a value of each type, then equality finds the document', async () => {
    const by = async (filter: Document): Promise<boolean> =>
      (await c.countDocuments({ _id: oid, ...filter })) === 1;
    assert.ok(await by({ date: new Date('2024-02-29T12:34:56.789Z') }), 'Date');
    assert.ok(await by({ _id: new ObjectId(oid.toHexString()) }), 'ObjectId');
    assert.ok(await by({ long: Long.fromNumber(2 ** 40 + 3) }), 'Long');
    assert.ok(await by({ double: new Double(3.25) }), 'Double');
    assert.ok(await by({ int: new Int32(42) }), 'Int32');
    assert.ok(await by({ bin: new Binary(Buffer.from([0, 1, 2, 255])) }), 'Binary');
    assert.ok(await by({ uuid }), 'UUID');
    assert.ok(await by({ t: true, f: false }), 'booleans');
    assert.ok(await by({ nil: null }), 'null');
    assert.ok(await by({ str: '企业质量诚信 ✓' }), 'unicode string');
    assert.ok(await by({ str: /诚信/ }), 'regex against a string');
    assert.ok(await by({ arr: 'two' }), 'array element');
    assert.ok(await by({ 'arr.3.five': 5 }), 'path into an array element');
    assert.ok(await by({ 'nested.a.y.deep.deeper': 'yes' }), 'path through an array of documents');
    assert.ok(await by({ ts: new Timestamp({ t: 1_700_000_000, i: 3 }) }), 'Timestamp');
    assert.equal(
      await c.countDocuments({ _id: oid, bin: new Binary(Buffer.from([0, 1, 2, 254])) }),
      0,
      'different bytes do not match',
    );
    assert.equal(
      await c.countDocuments({ bin: new Binary(Buffer.from([0, 1, 2, 254])) }),
      0,
      'different bytes do not match (scan)',
    );
    assert.equal(
      await c.countDocuments({ bin: { $in: [new Binary(Buffer.from([0, 1, 2, 254])), 'x'] } }),
      0,
      'different bytes are not $in',
    );
    assert.equal(
      await c.countDocuments({ bin: { $in: [new Binary(Buffer.from([0, 1, 2, 255])), 'x'] } }),
      1,
    );
    assert.equal(
      await c.countDocuments({ bin: new Binary(Buffer.from([0, 1, 2, 255]), 0x80) }),
      0,
      'a different subtype does not match',
    );
    assert.equal(
      await c.countDocuments({ _id: oid, date: new Date('2024-02-29T12:34:56.788Z') }),
      0,
      'a different millisecond does not match',
    );
  });

  it('when an embedded document is compared for equality, then field order matters (as in MongoDB)', async () => {
    await c.insertOne({ _id: 'order', sub: { a: 1, b: 2 }, list: [{ x: 1, y: 2 }] });
    assert.equal(await c.countDocuments({ sub: { a: 1, b: 2 } }), 1);
    assert.equal(
      await c.countDocuments({ sub: { a: 1.0, b: Long.fromNumber(2) } }),
      1,
      'numbers inside still compare by value',
    );
    assert.equal(await c.countDocuments({ sub: { b: 2, a: 1 } }), 0);
    assert.equal(await c.countDocuments({ sub: { $eq: { b: 2, a: 1 } } }), 0);
    assert.equal(await c.countDocuments({ $and: [{ sub: { b: 2, a: 1 } }] }), 0);
    assert.equal(
      await c.countDocuments({ list: { x: 1, y: 2 } }),
      1,
      'an array element equal to the document matches',
    );
    assert.equal(await c.countDocuments({ list: { y: 2, x: 1 } }), 0);
    assert.equal(await c.countDocuments({ sub: { a: 1 } }), 0, 'a subset is not equal');
  });

  it('when _id is a string, number, Date, embedded document or Binary, then it is found again by the same value', async () => {
    const idsToTry: Array<string | number | object> = [
      's',
      12.5,
      new Date(5),
      { k: 1, j: [1] },
      new Binary(Buffer.from([9])),
    ];
    for (const id of idsToTry) await c.insertOne({ _id: id, kind: 'id-test' });
    for (const id of idsToTry)
      assert.equal((await c.findOne({ _id: id }))?.kind, 'id-test', `_id ${String(id)}`);
  });

  // KNOWN GAP: documents are held with numbers promoted to JS numbers, so the BSON numeric type
  // is not preserved: Long(7) and Double(5) come back as int32, Long(2^40) as double. Values are
  // equal (which is what mongoose and default drivers see), but `promoteValues: false` readers
  // and `$type` queries can tell the difference. Enable once the engine keeps numeric types.
  it.skip('when int32, int64 and integral doubles are stored, then they come back as the same BSON types', async () => {
    await c.insertOne({
      _id: 'numtypes',
      i: new Int32(5),
      l: Long.fromNumber(7),
      d: new Double(5),
    });
    const raw = await c.findOne({ _id: 'numtypes' }, { promoteValues: false, promoteLongs: false });
    assert.ok(raw!.i instanceof Int32);
    assert.ok(raw!.l instanceof Long);
    assert.ok(raw!.d instanceof Double);
    assert.equal(await c.countDocuments({ _id: 'numtypes', d: { $type: 'double' } }), 1);
    assert.equal(await c.countDocuments({ _id: 'numtypes', i: { $type: 'double' } }), 0);
  });

  // KNOWN GAP: MongoDB matches {field: /re/} against a stored regex by equal pattern and flags;
  // the store only tests the pattern against strings.
  it.skip('when a stored regex is queried with the same regex, then it matches', async () => {
    assert.equal(await c.countDocuments({ _id: oid, re: new BSONRegExp('^ab+c$', 'im') }), 1);
  });
});

describe('embedded mongo: mongoose schema types round trip', () => {
  const store = useStore();
  let conn: Connection;
  before(async () => {
    conn = await mongoose
      .createConnection(store.db.uri, {
        dbName: uniqueDb('mgtypes'),
        serverSelectionTimeoutMS: 5000,
      })
      .asPromise();
  });
  after(async () => {
    await conn?.close();
  });

  it('when a mongoose document uses Date, ObjectId, Number, Buffer, Boolean, arrays, maps, subdocuments and Mixed, then it reads back equal', async () => {
    const Rec = conn.model(
      'Rec',
      new Schema({
        when: Date,
        ref: Schema.Types.ObjectId,
        n: Number,
        price: Number,
        blob: Buffer,
        ok: Boolean,
        tags: [String],
        counts: { type: Map, of: Number },
        addr: new Schema({ city: String, zip: String }, { _id: false }),
        items: [new Schema({ sku: String, qty: Number })],
        extra: Schema.Types.Mixed,
      }),
    );
    const ref = new ObjectId();
    const created = await Rec.create({
      when: new Date('2030-01-01T00:00:00Z'),
      ref,
      n: 12,
      price: 19.99,
      blob: Buffer.from('pdf-bytes'),
      ok: false,
      tags: ['b', 'a'],
      counts: { x: 1, y: 2 },
      addr: { city: '杭州', zip: '310000' },
      items: [
        { sku: 'A', qty: 1 },
        { sku: 'B', qty: 2 },
      ],
      extra: { any: ['thing', 1, null, { deep: true }] },
    });
    const back = await Rec.findById(created._id);
    assert.ok(back);
    assert.equal(back.when!.toISOString(), '2030-01-01T00:00:00.000Z');
    assert.ok(back.ref!.equals(ref));
    assert.equal(back.n, 12);
    assert.equal(back.price, 19.99);
    assert.equal(Buffer.from(back.blob!).toString(), 'pdf-bytes');
    assert.equal(back.ok, false);
    assert.deepEqual([...back.tags], ['b', 'a']);
    assert.equal(back.counts!.get('y'), 2);
    assert.equal(back.addr!.city, '杭州');
    assert.deepEqual(
      back.items.map((i) => [i.sku, i.qty]),
      [
        ['A', 1],
        ['B', 2],
      ],
    );
    assert.ok(back.items[0]._id instanceof mongoose.Types.ObjectId);
    assert.deepEqual(back.extra, { any: ['thing', 1, null, { deep: true }] });
    assert.equal(
      await Rec.countDocuments({
        'items.sku': 'B',
        'addr.city': '杭州',
        when: { $gt: new Date('2029-12-31') },
      }),
      1,
    );
  });
});
