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
import { Double, Int32, Long, type Document } from 'bson';
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
});
