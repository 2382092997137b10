/**
 * Issue #14 section 3 (footprint): index entries are packed into parallel arrays per chunk
 * (engine/sorted-list.ts) and _id keys are flat, compact strings (engine/values.ts). Both are
 * unit-tested against plain references: the list against a sorted array under random inserts,
 * deletes and range reads; the keys for the properties the store relies on (one document per
 * _id, ObjectId order kept, the same key from a decoded value and from the stored bytes).
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ObjectId, serialize } from 'bson';
import { SortedList } from '../../src/embedded-mongo/engine/sorted-list';
import { idKey } from '../../src/embedded-mongo/engine/values';
import { idKeyOfBson } from '../../src/embedded-mongo/engine/catalog';
import { decodeBson, decodeTopFields } from '../../src/embedded-mongo/engine/bson-store';
import { filterFields } from '../../src/embedded-mongo/engine/collection';

type Entry = [number, string];
const byEntry = (a: Entry, b: Entry): number =>
  a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0);

describe('embedded mongo: packed index entries and compact id keys', () => {
  it('when entries are appended in key order and then inserted and deleted anywhere, then the list stays the sorted array', () => {
    const list = new SortedList<number>((a, b) => a - b);
    const model: Entry[] = [];
    for (let i = 0; i < 5000; i++) {
      list.insert(i, `id${i}`);
      model.push([i, `id${i}`]);
    }
    let x = 7;
    for (let j = 0; j < 3000; j++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      const k = x % 6000;
      if (j % 3 === 0) {
        const at = model.findIndex((e) => e[0] === k && e[1] === `id${k}`);
        assert.equal(list.delete(k, `id${k}`), at >= 0);
        if (at >= 0) model.splice(at, 1);
      } else if (!model.some((e) => e[0] === k && e[1] === `x${j}`)) {
        list.insert(k, `x${j}`);
        model.push([k, `x${j}`]);
        model.sort(byEntry);
      }
    }
    assert.deepEqual([...list.entries()], model);
    assert.equal(list.size, model.length);
    const lo = (k: number): number => k - 1000;
    const hi = (k: number): number => k - 1200;
    assert.deepEqual(
      [...list.range(lo, hi)],
      model.filter((e) => e[0] >= 1000 && e[0] <= 1200).map((e) => e[1]),
    );
  });

  it('when entries are inserted and deleted in any order, then the list holds and ranges them as a sorted array would', () => {
    const op = fc.oneof(
      fc.tuple(
        fc.constant('ins' as const),
        fc.integer({ min: 0, max: 50 }),
        fc.integer({ min: 0, max: 30 }),
      ),
      fc.tuple(
        fc.constant('del' as const),
        fc.integer({ min: 0, max: 50 }),
        fc.integer({ min: 0, max: 30 }),
      ),
    );
    fc.assert(
      fc.property(
        fc.array(op, { maxLength: 1500 }),
        fc.integer({ min: 0, max: 50 }),
        fc.integer({ min: 0, max: 50 }),
        fc.boolean(),
        (ops, a, b, reverse) => {
          const list = new SortedList<number>((x, y) => x - y);
          let ref: Entry[] = [];
          for (const [kind, key, n] of ops) {
            const id = `d${n}`;
            const has = ref.some((e) => e[0] === key && e[1] === id);
            if (kind === 'ins' && !has) {
              list.insert(key, id);
              ref.push([key, id]);
            } else if (kind === 'del') {
              assert.equal(list.delete(key, id), has);
              ref = ref.filter((e) => !(e[0] === key && e[1] === id));
            }
          }
          ref.sort(byEntry);
          assert.equal(list.size, ref.length);
          assert.deepEqual([...list.entries()], ref);
          const [lo, hi] = a <= b ? [a, b] : [b, a];
          const want = ref.filter((e) => e[0] >= lo && e[0] <= hi).map((e) => e[1]);
          if (reverse) want.reverse();
          const got = [
            ...list.range(
              (k) => k - lo,
              (k) => k - hi,
              reverse,
            ),
          ];
          assert.deepEqual(got, want);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('when a list is built from sorted entries, then inserts and ranges continue from it', () => {
    const keys = Array.from({ length: 2000 }, (_, i) => i >> 1);
    const ids = keys.map((_, i) => `d${i % 2}`);
    const list = SortedList.fromSorted(keys, ids, (x: number, y: number) => x - y);
    list.insert(500, 'd1x');
    assert.deepEqual(
      [
        ...list.range(
          (k) => k - 500,
          (k) => k - 500,
        ),
      ],
      ['d0', 'd1', 'd1x'],
    );
    assert.equal(list.size, 2001);
  });

  it('when ObjectIds are keyed, then the keys are 13 characters, distinct, ordered as the ObjectIds and the same from the stored bytes', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 12, maxLength: 12 }),
        fc.uint8Array({ minLength: 12, maxLength: 12 }),
        (x, y) => {
          const a = new ObjectId(x);
          const b = new ObjectId(y);
          const ka = idKey(a);
          const kb = idKey(b);
          assert.equal(ka.length, 13);
          assert.equal(ka === kb, a.equals(b));
          const hex =
            a.toHexString() < b.toHexString() ? -1 : a.toHexString() > b.toHexString() ? 1 : 0;
          assert.equal(ka < kb ? -1 : ka > kb ? 1 : 0, hex);
          assert.equal(idKeyOfBson(serialize({ _id: a, v: 1 })), ka);
        },
      ),
    );
  });

  it('when string ids of any length and content are keyed, then equal strings share a key, different ones do not, and the stored bytes give the same key', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 40, unit: 'binary' }),
        fc.string({ maxLength: 40, unit: 'binary' }),
        (x, y) => {
          assert.equal(idKey(x) === idKey(y), x === y);
          assert.notEqual(idKey(x), idKey(1));
          if (x === x.normalize() && Buffer.from(x).toString() === x)
            assert.equal(idKeyOfBson(serialize({ _id: x })), idKey(x));
        },
      ),
    );
  });
});

describe('embedded mongo: decoding only the fields a filter or an index reads', () => {
  it('when some top-level fields of any document are picked, then they decode exactly as in the whole document', () => {
    const value = fc.oneof(
      fc.integer(),
      fc.double({ noNaN: true }),
      fc.string(),
      fc.boolean(),
      fc.constant(null),
      fc.date({ noInvalidDate: true }),
      fc.array(fc.integer(), { maxLength: 3 }),
      fc.dictionary(fc.string({ minLength: 1, maxLength: 3 }), fc.integer(), { maxKeys: 3 }),
      fc
        .uint8Array({ maxLength: 8 })
        .map(
          (b) => new ObjectId(Buffer.concat([Buffer.from(b), Buffer.alloc(12)]).subarray(0, 12)),
        ),
    );
    const name = fc
      .string({ minLength: 1, maxLength: 6 })
      .filter((s) => !s.includes('\0') && !s.startsWith('$') && s !== '__proto__');
    fc.assert(
      fc.property(
        fc.dictionary(name, value, { maxKeys: 8 }),
        fc.array(name, { maxLength: 4 }),
        (doc, names) => {
          const bytes = serialize(doc);
          const whole = decodeBson(bytes);
          const picked = decodeTopFields(bytes, 0, new Set(names));
          const want: Record<string, unknown> = {};
          for (const k of Object.keys(whole)) if (names.includes(k)) want[k] = whole[k];
          assert.deepEqual(picked, want);
        },
      ),
    );
  });

  it('when a filter uses $expr, $where or $jsonSchema, then it reads the whole document; otherwise only its top-level fields', () => {
    assert.deepEqual(
      [...filterFields({ 'a.b': 1, $or: [{ c: 2 }, { 'd.0': { $gt: 1 } }], $comment: 'x' })!],
      ['a', 'c', 'd'],
    );
    assert.equal(filterFields({ $expr: { $eq: ['$a', 1] } }), null);
    assert.equal(filterFields({ a: 1, $where: 'true' }), null);
    assert.equal(filterFields({ $and: [{ $jsonSchema: {} }] }), null);
  });
});
