/**
 * Issue #14 ("no 'known difference' left about numbers"): positional $inc/$mul, range comparisons
 * of int64 beyond 2^53 and aggregation stages after the planner's prefix give mongod's number
 * types and values. Expected values follow mongod 7's documented rules:
 * - $inc/$mul: https://www.mongodb.com/docs/manual/reference/operator/update/inc/ (types as the
 *   non-positional path; int32 overflow becomes int64);
 * - comparisons: numbers compare by their exact value across int32/int64/double
 *   (https://www.mongodb.com/docs/manual/reference/bson-type-comparison-order/#numeric-types);
 * - $sum: "If all operands are integers, $sum returns an integer; if it does not fit, a long;
 *   with a double, a double"; $add: the result type is the widest of the inputs, an int overflow
 *   becomes a long (https://www.mongodb.com/docs/manual/reference/operator/aggregation/sum/,
 *   .../aggregation/add/).
 * Read through the raw driver with promoteValues: false, which hands each number back as its
 * BSON type's class.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Decimal128, Double, Int32, Long, ObjectId, type Document } from 'bson';
import type { Collection } from 'mongodb';
import { AnyDoc, uniqueDb, useClient, useStore } from './helpers';

function typeOf(v: unknown): string {
  if (v instanceof Int32) return 'int';
  if (v instanceof Double) return 'double';
  if (v instanceof Long) return 'long';
  return typeof v;
}

/** A number read with promoteValues: false as [type, exact value as a string]. */
function typed(v: unknown): [string, string] {
  if (v instanceof Long) return ['long', v.toString()];
  if (v instanceof Int32 || v instanceof Double) return [typeOf(v), String(v.value)];
  return [typeof v, String(v)];
}

const RAW = { promoteValues: false } as const;

describe('embedded mongo: numbers give what mongod gives (no known differences)', () => {
  const store = useStore();
  const h = useClient(store);
  let c: Collection<AnyDoc>;
  beforeEach(() => {
    c = h.client.db(uniqueDb('numdiff')).collection('n');
  });

  async function stored(id: unknown): Promise<Document> {
    const d = await c.findOne({ _id: id } as AnyDoc, RAW);
    assert.ok(d, 'document is there');
    return d;
  }

  describe('positional $inc and $mul', () => {
    it('when $inc goes through the positional $ on an int64 element, then it stays an int64 with the exact sum', async () => {
      await c.insertOne({ _id: 1, a: [Long.fromNumber(1), Long.fromBigInt(2n ** 60n)] });
      await c.updateOne({ _id: 1, a: Long.fromBigInt(2n ** 60n) }, { $inc: { 'a.$': 1 } });
      const d = await stored(1);
      assert.deepEqual((d.a as unknown[]).map(typed), [
        ['long', '1'],
        ['long', String(2n ** 60n + 1n)],
      ]);
    });

    it('when $mul goes through $[] over int64 fields of subdocuments, then each stays an int64', async () => {
      await c.insertOne({
        _id: 2,
        a: [{ n: Long.fromNumber(3) }, { n: Long.fromBigInt(2n ** 55n + 1n) }],
      });
      await c.updateOne({ _id: 2 }, { $mul: { 'a.$[].n': 2 } });
      const d = await stored(2);
      assert.deepEqual(
        (d.a as Document[]).map((e) => typed(e.n)),
        [
          ['long', '6'],
          ['long', String(2n ** 56n + 2n)],
        ],
      );
    });

    it('when $inc goes through $[id] with arrayFilters, then only the filtered int64 elements change and stay int64', async () => {
      await c.insertOne({ _id: 3, a: [Long.fromNumber(5), Long.fromNumber(50), new Int32(7)] });
      await c.updateOne(
        { _id: 3 },
        { $inc: { 'a.$[big]': Long.fromNumber(1) } },
        { arrayFilters: [{ big: { $gte: 10 } }] },
      );
      const d = await stored(3);
      assert.deepEqual((d.a as unknown[]).map(typed), [
        ['long', '5'],
        ['long', '51'],
        ['int', '7'],
      ]);
    });

    it('when a positional $inc adds int32 to int32 past 2^31, then the element becomes an int64 as on the plain path', async () => {
      await c.insertOne({ _id: 4, a: [{ n: 2 ** 31 - 1 }] });
      await c.updateOne({ _id: 4, 'a.n': 2 ** 31 - 1 }, { $inc: { 'a.$.n': 1 } });
      const d = await stored(4);
      assert.deepEqual(typed((d.a as Document[])[0]!.n), ['long', String(2 ** 31)]);
    });

    it('when a positional $mul multiplies an int64 by a double, then the element is a double', async () => {
      await c.insertOne({ _id: 5, a: [Long.fromNumber(4)] });
      await c.updateOne({ _id: 5 }, { $mul: { 'a.$[]': 1.5 } });
      const d = await stored(5);
      assert.deepEqual(typed((d.a as unknown[])[0]), ['double', '6']);
    });

    it('when a positional $inc meets a string element, then it fails with TypeMismatch and nothing changes', async () => {
      await c.insertOne({ _id: 6, a: ['x', Long.fromNumber(1)] });
      await assert.rejects(c.updateOne({ _id: 6 }, { $inc: { 'a.$[]': 1 } }), { code: 14 });
      const d = await stored(6);
      assert.deepEqual((d.a as unknown[]).map(typed), [
        ['string', 'x'],
        ['long', '1'],
      ]);
    });
  });

  describe('range comparisons and sorts beyond 2^53', () => {
    const big = 2n ** 53n;
    const values = (): AnyDoc[] => [
      { _id: 1, v: Long.fromBigInt(big) },
      { _id: 2, v: Long.fromBigInt(big + 1n) },
      { _id: 3, v: Long.fromBigInt(big + 2n) },
      { _id: 4, v: new Double(Number(big)) },
      { _id: 5, v: Long.fromBigInt(2n ** 63n - 1n) },
      { _id: 6, v: 2 ** 63 },
    ];

    async function ids(filter: AnyDoc, indexed: boolean): Promise<unknown[]> {
      if (indexed) await c.createIndex({ v: 1 });
      const found = await c.find(filter).sort({ _id: 1 }).toArray();
      return found.map((d) => d._id);
    }

    for (const indexed of [false, true]) {
      const how = indexed ? 'through an index on the field' : 'by a collection scan';
      it(`when int64 values beyond 2^53 are filtered with $gt/$lte on an int64 ${how}, then the exact values decide`, async () => {
        await c.insertMany(values());
        assert.deepEqual(await ids({ v: { $gt: Long.fromBigInt(big) } }, indexed), [2, 3, 5, 6]);
        assert.deepEqual(await ids({ v: { $lte: Long.fromBigInt(big + 1n) } }, indexed), [1, 2, 4]);
        assert.deepEqual(
          await ids({ v: { $gt: Long.fromBigInt(big), $lt: Long.fromBigInt(big + 2n) } }, indexed),
          [2],
        );
      });

      it(`when int64 values are compared with a double ${how}, then int64 2^63-1 is below the double 2^63 and 2^53+1 above the double 2^53`, async () => {
        await c.insertMany(values());
        assert.deepEqual(await ids({ v: { $gt: 2 ** 53 } }, indexed), [2, 3, 5, 6]);
        assert.deepEqual(await ids({ v: { $gte: 2 ** 63 } }, indexed), [6]);
        assert.deepEqual(await ids({ v: { $lt: 2 ** 63 } }, indexed), [1, 2, 3, 4, 5]);
      });
    }

    it('when $elemMatch ranges look at int64 elements and subdocument fields beyond 2^53, then the exact values decide', async () => {
      await c.insertMany([
        { _id: 1, a: [Long.fromBigInt(big)], s: [{ n: Long.fromBigInt(big) }] },
        { _id: 2, a: [Long.fromBigInt(big + 1n)], s: [{ n: Long.fromBigInt(big + 1n) }] },
      ]);
      assert.deepEqual(await ids({ a: { $elemMatch: { $gt: 2 ** 53 } } }, false), [2]);
      assert.deepEqual(await ids({ s: { $elemMatch: { n: { $gt: 2 ** 53 } } } }, false), [2]);
      assert.deepEqual(await ids({ 's.n': { $gt: 2 ** 53 } }, false), [2]);
      assert.deepEqual(await ids({ a: { $gt: 2 ** 53 } }, false), [2]);
    });

    it('when documents are sorted on int64 values beyond 2^53 mixed with doubles, then they come in exact numeric order', async () => {
      await c.insertMany(values());
      const asc = await c.find({}).sort({ v: 1, _id: 1 }).toArray();
      assert.deepEqual(
        asc.map((d) => d._id),
        [1, 4, 2, 3, 5, 6],
      );
      const desc = await c.find({}).sort({ v: -1, _id: 1 }).toArray();
      assert.deepEqual(
        desc.map((d) => d._id),
        [6, 5, 3, 2, 1, 4],
      );
    });

    it('when documents are sorted on Decimal128 values next to doubles and int64s, then they come in exact numeric order (not by nearest double)', async () => {
      const D = (s: string): Decimal128 => Decimal128.fromString(s);
      // Each pair shares a nearest double; ties broken by _id descending would put them the other way.
      await c.insertMany([
        { _id: 1, v: D('0.1') },
        { _id: 2, v: 0.1 },
        { _id: 3, v: Long.fromBigInt(big) },
        { _id: 4, v: D(String(big + 1n)) },
        { _id: 5, v: D('1E+400') },
        { _id: 6, v: Infinity },
        { _id: 7, v: D('-Infinity') },
      ]);
      const asc = await c.find({}).sort({ v: 1, _id: -1 }).toArray();
      assert.deepEqual(
        asc.map((d) => d._id),
        [7, 1, 2, 3, 4, 5, 6],
      );
    });

    for (const indexed of [false, true]) {
      it(`when a filter compares with a Decimal128 by equality, $in or a range ${indexed ? 'through an index' : 'by a scan'}, then exact values decide (0.1 as a double is above Decimal128 0.1)`, async () => {
        const D = (s: string): Decimal128 => Decimal128.fromString(s);
        await c.insertMany([
          { _id: 1, v: D('0.1') },
          { _id: 2, v: 0.1 },
          { _id: 3, v: D('9007199254740993') },
          { _id: 4, v: Long.fromBigInt(big) },
          { _id: 5, v: D('2.50') },
        ]);
        assert.deepEqual(await ids({ v: D('0.1') }, indexed), [1]);
        assert.deepEqual(await ids({ v: { $in: [D('0.1'), D('2.5')] } }, indexed), [1, 5]);
        assert.deepEqual(await ids({ v: { $gt: D('0.1'), $lt: 1 } }, indexed), [2]);
        assert.deepEqual(await ids({ v: { $gte: D('9007199254740992.5') } }, indexed), [3]);
        assert.deepEqual(await ids({ v: { $lte: D('9007199254740992') } }, indexed), [1, 2, 4, 5]);
        assert.deepEqual(await ids({ $and: [{ v: { $eq: 2.5 } }] }, indexed), [5]);
      });
    }

    it('when a Decimal128 sits where the store cannot compare it exactly ($ne, $nin, $or, $elemMatch), then the filter is refused by name', async () => {
      const D = Decimal128.fromString('1');
      for (const filter of [
        { v: { $ne: D } },
        { v: { $nin: [D] } },
        { $or: [{ v: D }, { w: 1 }] },
        { a: { $elemMatch: { $gt: D } } },
        { v: { $in: [null, D] } },
      ])
        await assert.rejects(c.find(filter).toArray(), /Decimal128/, JSON.stringify(filter));
    });

    it('when random int64 values near 2^53..2^63 and doubles are filtered with $lt/$gt, then the matches are those of exact BigInt comparison (property)', async () => {
      const magnitude = fc.bigInt({ min: 2n ** 53n - 8n, max: 2n ** 63n - 1n });
      const exact = fc
        .tuple(magnitude, fc.boolean(), fc.integer({ min: -3, max: 3 }))
        .map(([m, neg, d]) => (neg ? -m : m) + BigInt(d));
      // A value is an int64 of its exact value, or the double nearest to it.
      const value = fc
        .tuple(exact, fc.boolean())
        .map(([x, isLong]) =>
          isLong && x >= -(2n ** 63n) && x < 2n ** 63n ? Long.fromBigInt(x) : Number(x),
        );
      const asBig = (v: Long | number): bigint => (v instanceof Long ? v.toBigInt() : BigInt(v));
      let run = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(value, { minLength: 1, maxLength: 8 }), value, async (vs, x) => {
          const coll = h.client.db(uniqueDb('numprop')).collection<AnyDoc>(`p${run++}`);
          if (run % 2 === 0) await coll.createIndex({ v: 1 });
          await coll.insertMany(vs.map((v, i) => ({ _id: i, v })));
          for (const [op, holds] of [
            ['$lt', (a: bigint, b: bigint) => a < b],
            ['$gt', (a: bigint, b: bigint) => a > b],
          ] as const) {
            const got = (await coll.find({ v: { [op]: x } }).toArray()).map((d) => d._id).sort();
            const want = vs
              .map((v, i) => [v, i] as const)
              .filter(([v]) => holds(asBig(v), asBig(x)))
              .map(([, i]) => i);
            assert.deepEqual(got, want, `${op} ${String(x)}`);
          }
        }),
        { numRuns: 40 },
      );
    });
  });

  describe('$toString and $convert to a string', () => {
    // mongod writes a double with printf "%g" (6 significant digits), int64 and Decimal128 as
    // their digits and an ObjectId as hex (ExpressionConvert's table: performFormatDouble).
    it('when numbers of every type and an ObjectId are made strings, then each string is mongod’s', async () => {
      const id = new ObjectId('6b100ef69f437c0016f0a5cd');
      await c.insertOne({
        _id: id,
        int: 5,
        whole: new Double(5),
        negZero: new Double(-0),
        frac: 1.23456789,
        big: 1e20,
        small: 0.00001234,
        tie: 1234565,
        long: Long.fromString('9007199254740993'),
        dec: Decimal128.fromString('1.10'),
      });
      const fields = ['_id', 'int', 'whole', 'negZero', 'frac', 'big', 'small', 'long', 'dec'];
      const spec = (f: string): Document => ({ $toString: `$${f}` });
      const [viaToString] = await c
        .aggregate([{ $project: Object.fromEntries(fields.map((f) => [f, spec(f)])) }])
        .toArray();
      const want = {
        _id: '6b100ef69f437c0016f0a5cd',
        int: '5',
        whole: '5',
        negZero: '-0',
        frac: '1.23457',
        big: '1e+20',
        small: '1.234e-05',
        long: '9007199254740993',
        dec: '1.10',
      };
      assert.deepEqual(viaToString, want);
      const [viaConvert] = await c
        .aggregate([
          {
            $project: Object.fromEntries(
              fields.map((f) => [f, { $convert: { input: `$${f}`, to: 'string' } }]),
            ),
          },
        ])
        .toArray();
      assert.deepEqual(viaConvert, want);
      const [tie] = await c
        .aggregate([{ $project: { _id: 0, t: { $toString: { $toDouble: '$tie' } } } }])
        .toArray();
      assert.deepEqual(tie, { t: '1.23456e+06' });
    });
  });

  describe('the other expression operators, checked one by one against mongod', () => {
    const agg = async (expr: Document): Promise<unknown> => {
      const [r] = await c.aggregate([{ $project: { _id: 0, r: expr } }], RAW).toArray();
      return r!.r;
    };

    it('when $dateDiff counts days, then the result is an int64 as in mongod', async () => {
      await c.insertOne({ _id: 1, a: new Date('2024-01-01'), b: new Date('2024-03-01') });
      const r = await agg({ $dateDiff: { startDate: '$a', endDate: '$b', unit: 'day' } });
      assert.deepEqual(typed(r), ['long', '60']);
    });

    it('when $firstN and $lastN get n as an int64, then they take that many and keep the elements’ types', async () => {
      await c.insertOne({ _id: 1, n: Long.fromNumber(2), arr: [Long.fromNumber(5), 1, 2, 3] });
      const first = (await agg({ $firstN: { input: '$arr', n: '$n' } })) as unknown[];
      assert.deepEqual(first.map(typed), [
        ['long', '5'],
        ['int', '1'],
      ]);
      const last = (await agg({ $lastN: { input: '$arr', n: '$n' } })) as unknown[];
      assert.deepEqual(last.map(typed), [
        ['int', '2'],
        ['int', '3'],
      ]);
    });

    it('when $dateToParts splits a date, then the parts come from the largest down, as mongod lists them', async () => {
      await c.insertOne({ _id: 1, a: new Date('2024-01-01T10:11:12.013Z') });
      assert.deepEqual(Object.keys((await agg({ $dateToParts: { date: '$a' } })) as Document), [
        'year',
        'month',
        'day',
        'hour',
        'minute',
        'second',
        'millisecond',
      ]);
      const iso = (await agg({ $dateToParts: { date: '$a', iso8601: true } })) as Document;
      assert.deepEqual(Object.keys(iso), [
        'isoWeekYear',
        'isoWeek',
        'isoDayOfWeek',
        'hour',
        'minute',
        'second',
        'millisecond',
      ]);
    });

    it('when $toHashedIndexKey is asked, then it is refused by name (mongod hashes with its own MD5)', async () => {
      await c.insertOne({ _id: 1 });
      await assert.rejects(agg({ $toHashedIndexKey: 'x' }), /\$toHashedIndexKey.*not supported/);
    });
  });

  describe('aggregation stages after the planner prefix', () => {
    const L = (x: bigint): Long => Long.fromBigInt(x);
    const seed = (): Promise<unknown> =>
      c.insertMany([
        { _id: 1, g: 'a', l: L(2n ** 60n + 1n), i: 2 ** 31 - 1, d: new Double(5), f: 2.5 },
        { _id: 2, g: 'a', l: L(7n), i: 2 ** 31 - 1, d: new Double(1), f: 2.5 },
        { _id: 3, g: 'b', l: L(-3n), i: 4, d: new Double(2), f: 0.25 },
      ]);
    // $addFields first, so every later stage runs after the prefix (in the aggregation layer).
    async function run(pipeline: Document[]): Promise<Document[]> {
      return c.aggregate([{ $addFields: { touched: true } }, ...pipeline], { ...RAW }).toArray();
    }

    it('when $project, $addFields and $group pass an int64 and an integer-valued double through, then they come back as int64 and double', async () => {
      await seed();
      const [p] = await run([{ $match: { _id: 1 } }, { $project: { l: 1, d: 1, lc: '$l' } }]);
      assert.deepEqual([p!.l, p!.d, p!.lc].map(typed), [
        ['long', String(2n ** 60n + 1n)],
        ['double', '5'],
        ['long', String(2n ** 60n + 1n)],
      ]);
      const [a] = await run([{ $match: { _id: 1 } }, { $addFields: { lc: '$l', dc: '$d' } }]);
      assert.deepEqual([a!.lc, a!.dc].map(typed), [
        ['long', String(2n ** 60n + 1n)],
        ['double', '5'],
      ]);
      const [g] = await run([
        { $match: { _id: 1 } },
        { $group: { _id: '$l', first: { $first: '$l' }, d: { $max: '$d' } } },
      ]);
      assert.deepEqual([g!._id, g!.first, g!.d].map(typed), [
        ['long', String(2n ** 60n + 1n)],
        ['long', String(2n ** 60n + 1n)],
        ['double', '5'],
      ]);
    });

    // mongod's $sum: int32 if all are int32 and it fits, else int64; a double makes it a double.
    const sums: Array<[string, Document, [string, string]]> = [
      ['int32 values that fit', { $sum: { $cond: [{ $eq: ['$g', 'b'] }, '$i', 1] } }, ['int', '6']],
      ['int32 values past 2^31', { $sum: '$i' }, ['long', String(2 * (2 ** 31 - 1) + 4)]],
      ['int64 values', { $sum: '$l' }, ['long', String(2n ** 60n + 1n + 7n - 3n)]],
      ['integer-valued doubles', { $sum: '$d' }, ['double', '8']],
      ['doubles adding up to a whole number', { $sum: '$f' }, ['double', '5.25']],
      ['a count ({$sum: 1})', { $sum: 1 }, ['int', '3']],
    ];
    for (const [what, acc, want] of sums) {
      it(`when $group sums ${what}, then the total is ${want[0]} ${want[1]}`, async () => {
        await seed();
        const [g] = await run([{ $group: { _id: null, s: acc } }]);
        assert.deepEqual(typed(g!.s), want);
      });
    }

    // mongod's $add/$multiply/$subtract: the widest input type; int32 overflow widens to int64.
    const arithmetic: Array<[string, Document, [string, string]]> = [
      ['$add of an int64 and an int32', { $add: ['$l', 1] }, ['long', String(2n ** 60n + 2n)]],
      ['$add of int32 past 2^31', { $add: ['$i', 1] }, ['long', String(2 ** 31)]],
      [
        '$add of an int32 and a whole double',
        { $add: ['$i', '$d'] },
        ['double', String(2 ** 31 + 4)],
      ],
      ['$subtract of int64s', { $subtract: ['$l', L(1n)] }, ['long', String(2n ** 60n)]],
      ['$multiply of doubles to a whole number', { $multiply: ['$f', 2] }, ['double', '5']],
      [
        '$multiply of an int64 by an int32',
        { $multiply: ['$l', 2] },
        ['long', String(2n ** 61n + 2n)],
      ],
      ['$divide of int32s', { $divide: [10, 5] }, ['double', '2']],
      ['$abs of an int64', { $abs: { $subtract: [0, '$l'] } }, ['long', String(2n ** 60n + 1n)]],
      [
        '$sum of fields (expression)',
        { $sum: ['$l', '$i'] },
        ['long', String(2n ** 60n + 1n + 2n ** 31n - 1n)],
      ],
      ['$avg of int32s (expression)', { $avg: [2, 4] }, ['double', '3']],
      ['$floor of a double', { $floor: '$f' }, ['double', '2']],
      ['$toLong of an int32', { $toLong: 5 }, ['long', '5']],
    ];
    for (const [what, expr, want] of arithmetic) {
      it(`when ${what} is computed, then it is ${want[0]} ${want[1]}`, async () => {
        await seed();
        const [p] = await run([{ $match: { _id: 1 } }, { $project: { v: expr } }]);
        assert.deepEqual(typed(p!.v), want);
      });
    }

    it('when $type looks at stored numbers, then it names int, long and double as mongod does', async () => {
      await seed();
      const [p] = await run([
        { $match: { _id: 1 } },
        { $project: { t: [{ $type: '$i' }, { $type: '$l' }, { $type: '$d' }, { $type: '$f' }] } },
      ]);
      assert.deepEqual(p!.t, ['int', 'long', 'double', 'double']);
    });

    it('when $group groups equal numbers of different types, then they are one group (as in mongod)', async () => {
      await c.insertMany([
        { _id: 1, k: 5 },
        { _id: 2, k: new Double(5) },
        { _id: 3, k: L(5n) },
        { _id: 4, k: L(2n ** 60n) },
        { _id: 5, k: L(2n ** 60n + 1n) },
      ]);
      const groups = await run([{ $group: { _id: '$k', n: { $sum: 1 } } }, { $sort: { _id: 1 } }]);
      assert.deepEqual(
        groups.map((g) => [typed(g._id)[1], typed(g.n)[1]]),
        [
          ['5', '3'],
          [String(2n ** 60n), '1'],
          [String(2n ** 60n + 1n), '1'],
        ],
      );
      const counted = await run([{ $sortByCount: '$k' }]);
      assert.deepEqual(typed(counted[0]!.count), ['int', '3']);
    });

    it('when $sort and $match run after other stages on int64 values beyond 2^53, then the exact values decide', async () => {
      await c.insertMany([
        { _id: 1, v: L(2n ** 53n + 1n) },
        { _id: 2, v: 2 ** 53 },
        { _id: 3, v: L(2n ** 53n + 2n) },
      ]);
      const sorted = await run([{ $sort: { v: -1 } }]);
      assert.deepEqual(
        sorted.map((d) => Number(typed(d._id)[1])),
        [3, 1, 2],
      );
      const matched = await run([{ $match: { v: { $gt: 2 ** 53 } } }, { $sort: { _id: 1 } }]);
      assert.deepEqual(
        matched.map((d) => Number(typed(d._id)[1])),
        [1, 3],
      );
      const compared = await run([
        { $project: { gt: { $gt: ['$v', L(2n ** 53n + 1n)] } } },
        { $sort: { _id: 1 } },
      ]);
      assert.deepEqual(
        compared.map((d) => d.gt),
        [false, false, true],
      );
    });

    it('when $group groups by strings, regexes, null and missing values, then each distinct value is its own group and null meets missing', async () => {
      await c.insertMany([
        { _id: 1, k: 'a' },
        { _id: 2, k: 'a' },
        { _id: 3, k: /x/ },
        { _id: 4, k: /y/i },
        { _id: 5, k: null },
        { _id: 6 },
      ]);
      const groups = await c
        .aggregate([{ $addFields: { t: 1 } }, { $group: { _id: '$k', n: { $sum: 1 } } }])
        .toArray();
      const byKey = new Map(groups.map((g) => [String(g._id), g.n]));
      assert.deepEqual(Object.fromEntries(byKey), { a: 2, '/x/': 1, '/y/i': 1, null: 2 });
    });

    it('when a pipeline update adds to an int64 field, then it stays an int64 with the exact sum', async () => {
      await c.insertOne({ _id: 1, l: L(2n ** 60n) });
      await c.updateOne({ _id: 1 }, [
        { $set: { l: { $add: ['$l', 1] }, d: { $multiply: [2.5, 2] } } },
      ]);
      const d = await stored(1);
      assert.deepEqual([d.l, d.d].map(typed), [
        ['long', String(2n ** 60n + 1n)],
        ['double', '5'],
      ]);
    });

    it('when $toInt meets an int64 beyond int32, then it fails with ConversionFailure (not a wrapped value)', async () => {
      await c.insertOne({ _id: 1, l: L(2n ** 40n) });
      // promoteValues: false also leaves the error's code an Int32.
      await assert.rejects(
        run([{ $project: { v: { $toInt: '$l' } } }]),
        (e: { code?: unknown }) => Number(String(e.code)) === 241,
      );
    });

    it('when $pow raises a zero of any type to a negative power, then it fails with 28764 as mongod does (not Infinity)', async () => {
      await c.insertOne({ _id: 1, zi: 0, zl: L(0n), zd: new Double(0), n: -1, nl: L(-2n) });
      for (const [base, exp] of [
        ['$zi', '$n'],
        ['$zl', '$nl'],
        ['$zd', -0.5],
      ]) {
        await assert.rejects(
          run([{ $project: { v: { $pow: [base, exp] } } }]),
          (e: { code?: unknown }) => Number(String(e.code)) === 28764,
          `${String(base)} ^ ${String(exp)}`,
        );
      }
      const [ok] = await run([{ $project: { v: { $pow: ['$zi', 0] }, w: { $pow: [2, '$n'] } } }]);
      assert.deepEqual([ok!.v, ok!.w].map(typed), [
        ['int', '1'],
        ['double', '0.5'],
      ]);
    });

    it('when a zero int64 or a zero double is a condition ($cond, $switch, $filter, $and, $not), then it is false as in mongod', async () => {
      await c.insertOne({ _id: 1, z: L(0n), zd: new Double(0), one: L(1n), a: [L(0n), L(2n)] });
      const [p] = await run([
        {
          $project: {
            cond: { $cond: ['$z', 'yes', 'no'] },
            condD: { $cond: { if: '$zd', then: 'yes', else: 'no' } },
            sw: {
              $switch: {
                branches: [
                  { case: '$z', then: 'z' },
                  { case: '$one', then: 'one' },
                ],
              },
            },
            kept: { $filter: { input: '$a', cond: '$$this' } },
            and: { $and: ['$one', '$z'] },
            not: { $not: ['$zd'] },
          },
        },
      ]);
      assert.deepEqual(
        [p!.cond, p!.condD, p!.sw, (p!.kept as unknown[]).map(typed), p!.and, p!.not],
        ['no', 'no', 'one', [['long', '2']], false, true],
      );
    });

    it('when $lookup joins by localField/foreignField on int64, int32 and double keys, then equal numbers of any type match (in the foreign order)', async () => {
      const orders = h.client.db(c.dbName).collection<AnyDoc>('orders');
      await c.insertMany([{ _id: 1, k: L(5n) }, { _id: 2, k: [L(2n ** 60n), 7] }, { _id: 3 }]);
      await orders.insertMany([
        { _id: 'a', ref: 5 },
        { _id: 'b', ref: new Double(7) },
        { _id: 'c', ref: L(2n ** 60n) },
        { _id: 'd', ref: L(2n ** 60n + 1n) },
        { _id: 'e', ref: null },
        { _id: 'f', ref: new Double(5) },
      ]);
      const out = await run([
        { $lookup: { from: 'orders', localField: 'k', foreignField: 'ref', as: 'o' } },
        { $sort: { _id: 1 } },
      ]);
      assert.deepEqual(
        out.map((d) => (d.o as Document[]).map((o) => o._id)),
        [['a', 'f'], ['b', 'c'], ['e']],
      );
    });

    it('when stored Decimal128 values are compared, maxed and used as conditions in a pipeline, then exact values decide (arithmetic other than an exact $add is refused by name)', async () => {
      const D = (x: string): Decimal128 => Decimal128.fromString(x);
      await c.insertMany([
        { _id: 1, g: 1, v: D('0.1'), z: D('0.00') },
        { _id: 2, g: 1, v: 0.1, z: D('0.00') },
      ]);
      const rows = await run([
        { $project: { above: { $gt: ['$v', D('0.1')] }, cond: { $cond: ['$z', 'yes', 'no'] } } },
        { $sort: { _id: 1 } },
      ]).catch((e: Error) => e);
      // A Decimal128 literal in a pipeline is still refused; stored values are compared instead.
      assert.ok(rows instanceof Error && /Decimal128/.test(rows.message));
      const cmp = await run([{ $group: { _id: '$g', max: { $max: '$v' }, min: { $min: '$v' } } }]);
      assert.deepEqual([typed(cmp[0]!.max), String(cmp[0]!.min)], [['double', '0.1'], '0.1']);
      assert.ok(cmp[0]!.min instanceof Decimal128);
      const [p] = await run([
        { $match: { _id: 1 } },
        { $project: { cond: { $cond: ['$z', 'yes', 'no'] } } },
      ]);
      assert.equal(p!.cond, 'no');
      // $add with integers is exact in decimal; with a double (converted first by mongod) refused.
      const [sum] = await run([{ $match: { _id: 1 } }, { $project: { s: { $add: ['$v', 1] } } }]);
      assert.ok(sum!.s instanceof Decimal128);
      assert.equal(String(sum!.s), '1.1');
      await assert.rejects(run([{ $project: { s: { $add: ['$v', 0.5] } } }]), /Decimal128/);
      await assert.rejects(run([{ $project: { s: { $multiply: ['$v', 2] } } }]), /Decimal128/);
    });

    it('when $addToSet, $stdDevPop and $group meet int64, whole doubles and Decimal128, then equal numbers are one value and exact differences stay apart', async () => {
      const D = (x: string): Decimal128 => Decimal128.fromString(x);
      await c.insertMany([
        { _id: 1, v: L(2n) },
        { _id: 2, v: 2 },
        { _id: 3, v: new Double(4) },
        { _id: 4, v: D('0.1') },
        { _id: 5, v: 0.1 },
        { _id: 6, v: D('4.00') },
      ]);
      const [g] = await run([
        { $match: { _id: { $lte: 3 } } },
        { $group: { _id: null, set: { $addToSet: '$v' }, sd: { $stdDevPop: '$v' } } },
      ]);
      assert.deepEqual((g!.set as unknown[]).map(typed), [
        ['long', '2'],
        ['double', '4'],
      ]);
      assert.deepEqual(typed(g!.sd), ['double', String(Math.sqrt(8 / 9))]);
      const groups = await run([{ $group: { _id: '$v', n: { $sum: 1 } } }]);
      const sizes = groups.map((x) => Number(String(x.n))).sort();
      // {2, Long 2}, {Double 4, Decimal 4.00}, {Decimal 0.1}, {double 0.1}
      assert.deepEqual(sizes, [1, 1, 2, 2]);
    });

    it('when $unwind includes the array index, then the index is an int64 (as mongod)', async () => {
      await c.insertOne({ _id: 1, a: [L(1n), L(2n)] });
      const out = await run([{ $unwind: { path: '$a', includeArrayIndex: 'ix' } }]);
      assert.deepEqual(
        out.map((d) => [typed(d.a), typed(d.ix)]),
        [
          [
            ['long', '1'],
            ['long', '0'],
          ],
          [
            ['long', '2'],
            ['long', '1'],
          ],
        ],
      );
    });

    it("when an operator that would compare int64 values in mingo's way ($setUnion) meets one, then it is refused by name", async () => {
      await c.insertOne({ _id: 1, a: [L(1n), 1] });
      await assert.rejects(run([{ $project: { u: { $setUnion: ['$a', []] } } }]), (e: Error) =>
        /\$setUnion on int64/.test(e.message),
      );
    });
  });
});
