/**
 * Issue #14 section 3 (footprint, restart): the store's id key -> location table
 * (engine/id-table.ts) replaces a Map<string, number>, so it is checked against a Map under random
 * sets, deletes and walks that are resumed between the writes (a scan across getMores does that),
 * including the renumbering that squeezes out holes once deletes outnumber the live keys.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { IdTable } from '../../src/embedded-mongo/engine/id-table';
import { runToEnd, sortInSlices } from '../../src/embedded-mongo/engine/slices';

type Op = ['set' | 'del', number, number] | ['step', number, number];

describe('embedded mongo: id table', () => {
  it('when keys are set, deleted and walked in any interleaving, then it answers as a Map does', () => {
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.tuple(fc.constant('set' as const), fc.integer({ min: 0, max: 300 }), fc.nat(1e6)),
      {
        arbitrary: fc.tuple(
          fc.constant('del' as const),
          fc.integer({ min: 0, max: 300 }),
          fc.constant(0),
        ),
        weight: 2,
      },
      fc.tuple(
        fc.constant('step' as const),
        fc.integer({ min: 0, max: 2 }),
        fc.integer({ min: 1, max: 40 }),
      ),
    );
    fc.assert(
      fc.property(fc.array(op, { minLength: 50, maxLength: 3000, size: 'max' }), (ops) => {
        const table = new IdTable(4);
        const model = new Map<string, number>();
        // Three walks of each, resumed now and then: what they yield must be what a Map iterator yields.
        const walks = [0, 1, 2].map(() => ({ mine: table.keys(), theirs: model.keys() }));
        for (const [kind, a, b] of ops) {
          const key = `k${a}`;
          if (kind === 'set') {
            table.set(key, b);
            model.set(key, b);
          } else if (kind === 'del') {
            assert.equal(table.delete(key), model.get(key));
            model.delete(key);
          } else {
            const w = walks[a]!;
            for (let i = 0; i < b; i++) {
              const x = w.mine.next();
              const y = w.theirs.next();
              assert.deepEqual(x, y);
              if (y.done) {
                walks[a] = { mine: table.keys(), theirs: model.keys() };
                break;
              }
            }
          }
          assert.equal(table.size, model.size);
        }
        for (const [k, v] of model) assert.equal(table.get(k), v);
        assert.equal(table.has('absent'), false);
        assert.deepEqual([...table.entries()], [...model.entries()]);
        const snap = table.snapshot();
        assert.deepEqual(snap.keys, [...model.keys()]);
        assert.deepEqual([...snap.locs], [...model.values()]);
      }),
      { numRuns: 200 },
    );
  });

  it('when most of many keys are deleted and new ones fill the slots, then a walk under way sees the rest and the new ones in order', () => {
    const table = new IdTable();
    for (let i = 0; i < 20_000; i++) table.set(`id${i}`, i * 83);
    const walk = table.keys();
    assert.equal(walk.next().value, 'id0');
    for (let i = 0; i < 20_000; i++) if (i % 10 !== 0) table.delete(`id${i}`);
    assert.equal(walk.next().value, 'id10');
    // New keys run the slots out: the holes are squeezed out under the walk.
    for (let i = 0; i < 20_000; i++) table.set(`new${i}`, i);
    const rest = [...walk];
    assert.deepEqual(rest, [
      ...Array.from({ length: 1998 }, (_, j) => `id${(j + 2) * 10}`),
      ...Array.from({ length: 20_000 }, (_, j) => `new${j}`),
    ]);
    for (let i = 0; i < 20_000; i += 10) assert.equal(table.get(`id${i}`), i * 83);
    assert.equal(table.size, 22_000);
  });
});

describe('embedded mongo: sorting in slices', () => {
  it('when the input is random, sorted, reversed or sorted with a shuffled head, then sortInSlices orders it as Array.prototype.sort does', () => {
    const shapes = (n: number, seed: number): number[][] => {
      let x = seed;
      const rnd = (): number => (x = (x * 1103515245 + 12345) % 2147483648) % 1000;
      const random = Array.from({ length: n }, rnd);
      const sorted = Array.from({ length: n }, (_, i) => i >> 1);
      const head = sorted.map((v, i) => (i < n / 50 ? rnd() : v));
      return [random, sorted, [...sorted].reverse(), head];
    };
    for (const n of [0, 5, 2048, 2049, 9000, 50_000])
      for (const items of shapes(n, n + 1)) {
        // Ties are told apart by position, so any instability would show.
        const pairs = items.map((v, i) => [v, i] as const);
        const cmp = (a: readonly [number, number], b: readonly [number, number]): number =>
          a[0] - b[0];
        const expected = [...pairs].sort(cmp);
        assert.deepEqual(runToEnd(sortInSlices([...pairs], cmp)), expected);
      }
  });
});
