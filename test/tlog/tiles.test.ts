import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import fixtures from './fixtures/tessera-paths.json';
import {
  MemoryHashReader,
  consistencyProof,
  inclusionProof,
  leafHash,
  nodeHash,
  rootFromLeafHashes,
  treeRoot,
} from '../../src/tlog/merkle';
import {
  MAX_ENTRY_SIZE,
  bundleMatchesTile,
  encodeBundle,
  formatTileIndex,
  newTiles,
  parseBundle,
  parseTilePath,
  tileData,
  tileForLeaf,
  tileHashReader,
  tileLevels,
  tilePath,
  tilesForSize,
  TileCache,
  type TileCoord,
} from '../../src/tlog/tiles';

const W = (p: number): number => (p === 0 ? 256 : p);
const leaves = (n: number, salt = ''): Buffer[] =>
  Array.from({ length: n }, (_, i) => leafHash(Buffer.from(`${salt}entry ${i}`)));
/** MTH of consecutive hashes computed the slow way (RFC recursion), independent of the library. */
function mth(h: Buffer[]): Buffer {
  if (h.length === 1) return h[0];
  let k = 1;
  while (k * 2 < h.length) k *= 2;
  return createHash('sha256')
    .update(Buffer.from([1]))
    .update(mth(h.slice(0, k)))
    .update(mth(h.slice(k)))
    .digest();
}

describe('tlog tiles (C2SP tlog-tiles)', () => {
  it('when formatting indexes, then they are 3-digit groups with all but the last prefixed x', () => {
    assert.equal(formatTileIndex(1234067), 'x001/x234/067');
    assert.equal(formatTileIndex(0), '000');
    assert.equal(formatTileIndex(999), '999');
    assert.equal(formatTileIndex(1000), 'x001/000');
    assert.equal(formatTileIndex(123456789), 'x123/x456/789');
  });

  it("when building the paths of tessera's vectors, then each matches", () => {
    for (const v of fixtures.tilePath)
      assert.equal(tilePath({ level: v.level, index: v.index, width: W(v.p) }), v.path);
    for (const v of fixtures.entriesPath)
      assert.equal(tilePath({ level: 'entries', index: v.n, width: W(v.p) }), v.path);
    for (const v of fixtures.entriesPathForLogIndex)
      assert.equal(tilePath(tileForLeaf(v.seq, v.logSize, 'entries')), v.path);
  });

  it("when parsing tessera's vectors, then good paths parse to their coordinates and bad ones are refused", () => {
    for (const v of fixtures.parse) {
      const p = `tile/${v.level}/${v.index}`;
      if (v.wantErr || v.jsRefuses) assert.throws(() => parseTilePath(p), /not a tile path/, p);
      else
        assert.deepEqual(
          parseTilePath(p),
          { level: v.want!.level, index: v.want!.index, width: W(v.want!.p) },
          p,
        );
    }
    for (const v of [
      ...fixtures.tilePath.map((t) => t.path),
      ...fixtures.entriesPath.map((t) => t.path),
    ])
      assert.equal(tilePath(parseTilePath(v)), v);
  });

  it('when a path is not canonical, then it is refused', () => {
    for (const p of [
      'tile/00/000',
      'tile/01/000',
      'tile/0/x000/001',
      'tile/0/000.p/256',
      'tile/0/000.p/0',
      'tile/0/000.p/08',
      'tile/0/1',
      'tile/0/0001',
      'tile/0/x1/000',
      'tile/0/X001/000',
      'tile/0/000/',
      '/tile/0/000',
      'tile/0/000.p/1/',
      'tile/0//000',
      'tile/entries/000.p/',
      'tile/entries',
      'tile/data/000',
      'tile/8/0/000',
      'tiles/0/000',
      'tile/0/+01',
      'tile/0/ 01',
      'tile/0/x001/x002.p/3',
      'tile/0/001.p/3.p/4',
      'tile/0/000.P/3',
      'tile/0/٠٠١',
    ]) {
      assert.throws(() => parseTilePath(p), /not a tile path/, p);
    }
  });

  it('when paths are random coordinates, then formatting and parsing round-trip', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: 0, max: 63 }), fc.constant('entries' as const)),
        fc.maxSafeNat(),
        fc.integer({ min: 1, max: 256 }),
        (level, index, width) => {
          const t: TileCoord = { level, index, width };
          assert.deepEqual(parseTilePath(tilePath(t)), t);
        },
      ),
    );
  });

  it("when listing tiles for the spec's tree of 70,000, then they are as the spec describes", () => {
    const tiles = tilesForSize(70_000);
    const at = (l: number) => tiles.filter((t) => t.level === l);
    assert.equal(at(0).filter((t) => t.width === 256).length, 273);
    assert.deepEqual(
      at(0).filter((t) => t.width !== 256),
      [{ level: 0, index: 273, width: 112 }],
    );
    assert.deepEqual(at(1), [
      { level: 1, index: 0, width: 256 },
      { level: 1, index: 1, width: 17 },
    ]);
    assert.deepEqual(at(2), [{ level: 2, index: 0, width: 1 }]);
    assert.equal(tiles.length, 273 + 1 + 2 + 1);
    assert.deepEqual(tilesForSize(256), [
      { level: 0, index: 0, width: 256 },
      { level: 1, index: 0, width: 1 },
    ]);
    assert.deepEqual(tilesForSize(0), []);
    assert.deepEqual(tilesForSize(3, { entries: true }), [
      { level: 0, index: 0, width: 3 },
      { level: 'entries', index: 0, width: 3 },
    ]);
  });

  it('when a tree grows, then the new tiles are those of the new size that the old size lacked', () => {
    fc.assert(
      fc.property(fc.nat({ max: 200_000 }), fc.nat({ max: 200_000 }), (a, b) => {
        const [o, n] = a <= b ? [a, b] : [b, a];
        const before = new Set(tilesForSize(o).map(tilePath));
        const expected = tilesForSize(n).filter((t) => !before.has(tilePath(t)));
        assert.deepEqual(newTiles(o, n), expected);
      }),
    );
  });

  it('when computing tile contents, then level 0 holds leaf hashes and level 1 the MTH of each full tile', () => {
    const h = leaves(256 * 3 + 5);
    const levels = tileLevels(h);
    assert.equal(levels.length, 2);
    assert.deepEqual(
      tileData(levels, { level: 0, index: 1, width: 256 }),
      Buffer.concat(h.slice(256, 512)),
    );
    assert.equal(tileData(levels, { level: 0, index: 3, width: 5 }).length, 5 * 32);
    const l1 = tileData(levels, { level: 1, index: 0, width: 3 });
    assert.equal(l1.length, 96);
    for (let i = 0; i < 3; i++)
      assert.deepEqual(l1.subarray(i * 32, i * 32 + 32), mth(h.slice(i * 256, i * 256 + 256)));
    assert.throws(() => tileData(levels, { level: 1, index: 0, width: 4 }), /beyond/);
  });

  it('when proofs are read through tiles, then they equal proofs over the whole tree, for trees up to three levels', async function () {
    this.timeout(60_000);
    const all = leaves(256 * 256 + 300);
    const levels = tileLevels(all);
    const memory = new MemoryHashReader(all);
    let fetched = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: all.length }),
        fc.nat(),
        fc.nat(),
        async (size, a, b) => {
          // The tiles a tree of `size` publishes, cut from the full tree's levels.
          const published = new Set(tilesForSize(size).map(tilePath));
          const reader = tileHashReader(size, (t) => {
            fetched++;
            assert.ok(
              published.has(tilePath(t)),
              `asked for ${tilePath(t)}, which a tree of ${size} does not publish`,
            );
            return tileData(levels, t);
          });
          const index = a % size;
          const size1 = 1 + (b % size);
          assert.deepEqual(
            await inclusionProof(index, size, reader),
            await inclusionProof(index, size, memory),
          );
          assert.deepEqual(
            await consistencyProof(size1, size, reader),
            await consistencyProof(size1, size, memory),
          );
          assert.deepEqual(await treeRoot(size, reader), await treeRoot(size, memory));
        },
      ),
      { numRuns: 40 },
    );
    assert.ok(fetched > 0);
    assert.deepEqual(
      await treeRoot(
        all.length,
        tileHashReader(all.length, (t) => tileData(levels, t)),
      ),
      rootFromLeafHashes(all),
    );
  });

  it('when a tile cache is given, then each tile is fetched once across proofs and the proofs are unchanged', async () => {
    const all = leaves(256 * 4 + 9, 'c');
    const levels = tileLevels(all);
    const memory = new MemoryHashReader(all);
    const fetched: string[] = [];
    const cache = new TileCache(16);
    const reader = tileHashReader(
      all.length,
      (t) => {
        fetched.push(tilePath(t));
        return tileData(levels, t);
      },
      cache,
    );
    for (const i of [0, 1, 2, 300, 301, 1030])
      assert.deepEqual(
        await inclusionProof(i, all.length, reader),
        await inclusionProof(i, all.length, memory),
      );
    assert.equal(new Set(fetched).size, fetched.length, 'each tile fetched once');
    const first = fetched.length;
    await inclusionProof(1, all.length, reader);
    assert.equal(fetched.length, first, 'served from the cache');
    const failing = tileHashReader(
      10,
      () => Promise.reject(new Error('store down')),
      new TileCache(),
    );
    await assert.rejects(inclusionProof(3, 10, failing), /store down/);
  });

  it('when a tile store returns a tile of the wrong length, then the read fails', async () => {
    const reader = tileHashReader(10, () => Buffer.alloc(9 * 32));
    await assert.rejects(inclusionProof(3, 10, reader), /expected 320/);
  });

  it('when bundling entries, then each is length-prefixed big-endian and parses back', () => {
    const entries = [Buffer.from(''), Buffer.from('a'), Buffer.alloc(300, 7)];
    const b = encodeBundle(entries);
    assert.deepEqual(b.subarray(0, 5), Buffer.from([0, 0, 0, 1, 0x61]));
    assert.deepEqual(b.subarray(5, 7), Buffer.from([0x01, 0x2c]));
    assert.deepEqual(parseBundle(b, 3), entries);
    const tile = Buffer.concat(entries.map((e) => leafHash(e)));
    assert.equal(bundleMatchesTile(parseBundle(b), tile), true);
    assert.equal(bundleMatchesTile([entries[0], entries[1], Buffer.alloc(300, 8)], tile), false);
    assert.equal(bundleMatchesTile(entries.slice(0, 2), tile), false);
  });

  it('when an entry is 65,535 bytes it fits, and at 65,536 it is refused', () => {
    assert.equal(MAX_ENTRY_SIZE, 65535);
    const max = Buffer.alloc(65535, 1);
    assert.deepEqual(parseBundle(encodeBundle([max])), [max]);
    assert.throws(() => encodeBundle([Buffer.alloc(65536)]), /at most 65535/);
  });

  it('when a bundle is malformed, then parsing refuses it', () => {
    const good = encodeBundle([Buffer.from('ab'), Buffer.from('cd')]);
    assert.throws(() => parseBundle(Buffer.alloc(0)), /empty/);
    assert.throws(() => parseBundle(good.subarray(0, good.length - 1)), /truncated/);
    assert.throws(() => parseBundle(Buffer.concat([good, Buffer.from([0])])), /truncated length/);
    assert.throws(() => parseBundle(good, 3), /expected 3/);
    assert.equal(parseBundle(Buffer.alloc(256 * 2)).length, 256);
    assert.throws(() => parseBundle(Buffer.alloc(257 * 2)), /at most 256/);
    assert.throws(() => encodeBundle([]), /1–256/);
  });

  it('when bytes are random, then bundle parsing either returns entries that re-encode to them or throws a BundleError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        try {
          assert.deepEqual(encodeBundle(parseBundle(bytes)), Buffer.from(bytes));
        } catch (e) {
          assert.equal((e as Error).name, 'BundleError');
        }
      }),
    );
  });

  it('when a level-1 hash is rebuilt from a level-0 tile, then it is the node hash of the subtree', () => {
    const h = leaves(512, 'x');
    const levels = tileLevels(h);
    const t0 = tileData(levels, { level: 0, index: 1, width: 256 });
    let row = Array.from({ length: 256 }, (_, i) => t0.subarray(i * 32, i * 32 + 32));
    while (row.length > 1)
      row = Array.from({ length: row.length / 2 }, (_, i) => nodeHash(row[2 * i], row[2 * i + 1]));
    assert.deepEqual(row[0], tileData(levels, { level: 1, index: 0, width: 2 }).subarray(32));
  });
});
