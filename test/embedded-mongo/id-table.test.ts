/**
 * Issue #14 section 3 (footprint, restart): the store's id key -> location table
 * (engine/id-table.ts) replaces a Map<string, number>, so it is checked against a Map under random
 * sets, deletes and walks that are resumed between the writes (a scan across getMores does that),
 * including the renumbering that squeezes out holes once deletes outnumber the live keys.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { IdTable } from '../../src/embedded-mongo/engine/id-table';

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

  it('when most of many keys are deleted, then the rest keep their order and locations', () => {
    const table = new IdTable();
    for (let i = 0; i < 20_000; i++) table.set(`id${i}`, i * 83);
    const walk = table.keys();
    assert.equal(walk.next().value, 'id0');
    for (let i = 0; i < 20_000; i++) if (i % 10 !== 0) table.delete(`id${i}`);
    const rest = [...walk];
    assert.deepEqual(
      rest,
      Array.from({ length: 1999 }, (_, j) => `id${(j + 1) * 10}`),
    );
    for (let i = 0; i < 20_000; i += 10) assert.equal(table.get(`id${i}`), i * 83);
    assert.equal(table.size, 2000);
  });
});
