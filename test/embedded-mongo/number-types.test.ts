/**
 * Issue #14 (section 1, "keep integer types as stored", and section 3, documents kept as BSON):
 * every number comes back with the BSON type it was stored with, and $inc/$mul follow mongod's
 * type rules (https://www.mongodb.com/docs/manual/reference/operator/update/inc/,
 * .../update/mul/#multiplication-of-mixed-numeric-types). Read through the raw driver with
 * promoteValues: false, which hands every number back as its BSON type's class.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Binary, Decimal128, Double, Int32, Long, ObjectId, serialize, type Document } from 'bson';
import type { Collection } from 'mongodb';
import { AnyDoc, uniqueDb, useClient, useStore } from './helpers';

function typeOf(v: unknown): string {
  if (v instanceof Int32) return 'int';
  if (v instanceof Double) return 'double';
  if (v instanceof Long) return 'long';
  if (v instanceof Decimal128) return 'decimal';
  return typeof v;
}

describe('embedded mongo: numbers keep their BSON types', () => {
  const store = useStore();
  const h = useClient(store);
  let c: Collection<AnyDoc>;
  beforeEach(() => {
    c = h.client.db(uniqueDb('numtypes')).collection('n');
  });

  async function stored(id: unknown): Promise<Document> {
    const d = await c.findOne({ _id: id } as AnyDoc, { promoteValues: false });
    assert.ok(d, 'document is there');
    return d;
  }

  it('when int32, int64, double (also integer-valued) and Decimal128 are inserted, then each comes back with its own type and value', async () => {
    await c.insertOne({
      _id: 1,
      i: new Int32(5),
      l: Long.fromNumber(5),
      d: new Double(5),
      f: 5.5,
      z: new Double(-0),
      dec: Decimal128.fromString('1.10'),
    });
    const d = await stored(1);
    assert.deepEqual(Object.fromEntries(Object.entries(d).map(([k, v]) => [k, typeOf(v)])), {
      _id: 'int',
      i: 'int',
      l: 'long',
      d: 'double',
      f: 'double',
      z: 'double',
      dec: 'decimal',
    });
    assert.equal(String(d.dec), '1.10');
    assert.ok(Object.is((d.z as Double).value, -0));
  });

  it('when int64 is read with useBigInt64, then it is a bigint (promoteLongs: false gives a Long)', async () => {
    await c.insertOne({ _id: 2, l: Long.fromBigInt(2n ** 60n + 1n) });
    const big = await c.findOne({ _id: 2 }, { useBigInt64: true });
    assert.equal(big!.l, 2n ** 60n + 1n);
    const long = await c.findOne({ _id: 2 }, { promoteLongs: false });
    assert.ok(long!.l instanceof Long);
    assert.equal((long!.l as Long).toBigInt(), 2n ** 60n + 1n);
  });

  it('when an update changes another field, then the untouched numbers keep their types', async () => {
    await c.insertOne({
      _id: 3,
      d: new Double(5),
      l: Long.fromNumber(7),
      i: new Int32(3),
      dec: Decimal128.fromString('2.50'),
      nested: { d: new Double(1) },
    });
    await c.updateOne({ _id: 3 }, { $set: { other: 'x' } });
    const d = await stored(3);
    assert.deepEqual([d.d, d.l, d.i, d.dec, (d.nested as Document).d].map(typeOf), [
      'double',
      'long',
      'int',
      'decimal',
      'double',
    ]);
    assert.equal(String(d.dec), '2.50');
  });

  it('when $set writes an integer-valued double, then it is stored as a double', async () => {
    await c.insertOne({ _id: 4, v: 1 });
    await c.updateOne({ _id: 4 }, { $set: { v: new Double(8) } });
    assert.equal(typeOf((await stored(4)).v), 'double');
  });

  // [start value, operator, operand, expected type, expected value]: mongod's rules.
  const table: Array<[unknown, '$inc' | '$mul', unknown, string, string]> = [
    [new Int32(2), '$inc', new Int32(3), 'int', '5'],
    [new Int32(2 ** 31 - 1), '$inc', new Int32(1), 'long', '2147483648'],
    [new Int32(-(2 ** 31)), '$inc', new Int32(-1), 'long', '-2147483649'],
    [new Int32(2), '$inc', 1.5, 'double', '3.5'],
    [new Int32(2), '$inc', new Double(1), 'double', '3'],
    [new Double(2), '$inc', new Int32(1), 'double', '3'],
    [2.5, '$inc', 0.5, 'double', '3'],
    [Long.fromNumber(2), '$inc', new Int32(3), 'long', '5'],
    [Long.fromNumber(2), '$inc', 0.5, 'double', '2.5'],
    [new Int32(2 ** 16), '$mul', new Int32(2 ** 16), 'long', '4294967296'],
    [new Int32(3), '$mul', new Int32(4), 'int', '12'],
    [new Int32(3), '$mul', 2.5, 'double', '7.5'],
    [new Int32(3), '$mul', Long.fromNumber(2), 'long', '6'],
    [new Double(3), '$mul', new Int32(2), 'double', '6'],
  ];
  for (const [start, op, operand, type, value] of table) {
    it(`when ${typeOf(start)} ${String((start as object).valueOf())} gets ${op} ${typeOf(operand)} ${String((operand as object).valueOf())}, then the result is ${type} ${value}`, async () => {
      await c.insertOne({ _id: 10, v: start });
      await c.updateOne({ _id: 10 }, { [op]: { v: operand } });
      const v = (await stored(10)).v;
      assert.equal(typeOf(v), type);
      assert.equal(String((v as { valueOf(): unknown }).valueOf()), value);
    });
  }

  it('when $mul sets a missing field, then it is zero of the multiplier type', async () => {
    await c.insertOne({ _id: 11 });
    await c.updateOne({ _id: 11 }, { $mul: { i: new Int32(3), d: 2.5, l: Long.fromNumber(2) } });
    const d = await stored(11);
    assert.deepEqual([d.i, d.d, d.l].map(typeOf), ['int', 'double', 'long']);
  });

  it('when updateMany and updateOne filter by an int64, Decimal128 or integer-valued double, then the matched documents are modified (as mongod does)', async () => {
    await c.insertMany([
      {
        _id: 1,
        l: Long.fromString('9007199254740993'),
        dec: Decimal128.fromString('2.50'),
        d: new Double(3),
        n: 0,
      },
      {
        _id: 2,
        l: Long.fromString('9007199254740993'),
        dec: Decimal128.fromString('2.50'),
        d: new Double(3),
        n: 0,
      },
      { _id: 3, l: Long.fromNumber(7), dec: Decimal128.fromString('1'), d: 4.5, n: 0 },
    ]);
    const byLong = await c.updateMany(
      { l: Long.fromString('9007199254740993') },
      { $inc: { n: 1 } },
    );
    assert.deepEqual([byLong.matchedCount, byLong.modifiedCount], [2, 2]);
    const byDec = await c.updateMany(
      { dec: Decimal128.fromString('2.5') },
      { $set: { tag: 'dec' } },
    );
    assert.deepEqual([byDec.matchedCount, byDec.modifiedCount], [2, 2]);
    const byDouble = await c.updateOne(
      { d: new Double(3), l: { $gt: Long.fromNumber(8) } },
      { $set: { tag: 'double' } },
    );
    assert.deepEqual([byDouble.matchedCount, byDouble.modifiedCount], [1, 1]);
    // A positional update re-matches the filter against the array: the int64 must match there too.
    await c.insertOne({
      _id: 4,
      a: [
        { k: Long.fromNumber(1), v: 0 },
        { k: Long.fromNumber(2), v: 0 },
      ],
    });
    const positional = await c.updateMany({ 'a.k': Long.fromNumber(2) }, { $set: { 'a.$.v': 1 } });
    assert.deepEqual([positional.matchedCount, positional.modifiedCount], [1, 1]);
    const filtered = await c.updateOne(
      { _id: 4 },
      { $set: { 'a.$[e].v': 9 } },
      { arrayFilters: [{ 'e.k': Long.fromNumber(1) }] },
    );
    assert.deepEqual([filtered.matchedCount, filtered.modifiedCount], [1, 1]);
    const docs = await c.find({}, { sort: { _id: 1 } }).toArray();
    assert.deepEqual(
      docs.map((d) => [d._id, d.n, d.tag]),
      [
        [1, 1, 'double'],
        [2, 1, 'dec'],
        [3, 0, undefined],
        [4, undefined, undefined],
      ],
    );
    assert.deepEqual(
      (docs[3]!.a as { v: number }[]).map((e) => e.v),
      [9, 1],
    );
  });

  it('when the stored documents are read back raw, then they are byte for byte what the driver sent (property)', async () => {
    const scalar = fc.oneof(
      fc.integer().map((n) => new Int32(n | 0)),
      fc.double({ noNaN: true }).map((n) => new Double(n)),
      fc.integer({ min: -1000, max: 1000 }).map((n) => new Double(n)),
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((n) => Long.fromBigInt(n)),
      fc.string(),
      fc.boolean(),
      fc.constant(null),
      fc.date({ noInvalidDate: true }),
      fc.uint8Array({ maxLength: 20 }).map((b) => new Binary(b)),
      fc
        .tuple(fc.integer({ min: -999999, max: 999999 }), fc.integer({ min: 0, max: 6 }))
        .map(([m, e]) => Decimal128.fromString(`${m}E-${e}`)),
    );
    const value = fc.letrec((tie) => ({
      v: fc.oneof({ depthSize: 'small' }, scalar, tie('arr'), tie('obj')),
      arr: fc.array(tie('v'), { maxLength: 4 }),
      obj: fc.dictionary(
        fc
          .string({ minLength: 1, maxLength: 6 })
          .filter(
            (k) => !k.startsWith('$') && !k.includes('.') && !k.includes('\0') && k !== '__proto__',
          ),
        tie('v'),
        { maxKeys: 4 },
      ),
    }));
    let n = 0;
    await fc.assert(
      fc.asyncProperty(value.obj, async (fields) => {
        const doc = { _id: new ObjectId(), ...(fields as Document) };
        const sent = serialize(doc);
        await c.insertOne(doc);
        const back = await c.findOne({ _id: doc._id }, { raw: true });
        assert.ok(back, 'document found');
        assert.equal(
          Buffer.compare(Buffer.from(back as unknown as Uint8Array), Buffer.from(sent)),
          0,
        );
        n++;
      }),
      { numRuns: 150 },
    );
    assert.equal(n, 150);
  });
});
