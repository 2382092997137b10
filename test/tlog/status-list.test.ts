import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import {
  MIN_STATUS_LIST_LENGTH,
  StatusList,
  StatusListError,
  parseStatusListIndex,
  randomStatusIndex,
} from '../../src/tlog/status-list';

// The encodedList of the spec's examples (w3c/vc-bitstring-status-list index.html at 74fcae1, W3C
// document licence): 16 KB of zeros, i.e. a 131,072-entry list with nothing revoked.
const SPEC_EMPTY = 'uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA';

describe('tlog status list (W3C Bitstring Status List v1.0)', () => {
  it("when decoding the spec's example, then it is 131,072 entries all clear, and an empty list encodes to it", () => {
    const list = StatusList.decode(SPEC_EMPTY);
    assert.equal(list.length, 131_072);
    assert.ok(list.bytes.every((b) => b === 0));
    assert.equal(new StatusList().encode(), SPEC_EMPTY);
  });

  it('when bits are set, then index 0 is the most significant bit of the first byte and the last index the least of the last', () => {
    const list = new StatusList();
    list.set(0, true);
    assert.equal(list.bytes[0], 0x80);
    list.set(7, true);
    assert.equal(list.bytes[0], 0x81);
    list.set(9, true);
    assert.equal(list.bytes[1], 0x40);
    list.set(MIN_STATUS_LIST_LENGTH - 1, true);
    assert.equal(list.bytes[list.bytes.length - 1], 0x01);
    list.set(0, false);
    assert.equal(list.bytes[0], 0x01);
    assert.equal(list.get(7), true);
    assert.equal(list.get(8), false);
  });

  it('when random bits are set, then the encoded list decodes to exactly those bits', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.nat({ max: MIN_STATUS_LIST_LENGTH - 1 }), { maxLength: 200 }),
        (indexes) => {
          const list = new StatusList();
          for (const i of indexes) list.set(i, true);
          const encoded = list.encode();
          assert.match(encoded, /^u[A-Za-z0-9_-]+$/);
          const back = StatusList.decode(encoded);
          const set = new Set(indexes);
          for (const i of [...indexes, 0, 1, MIN_STATUS_LIST_LENGTH - 1])
            assert.equal(back.get(i), set.has(i));
          assert.deepEqual(back.bytes, list.bytes);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('when an index is outside the list, then get and set refuse it', () => {
    const list = new StatusList();
    for (const i of [-1, MIN_STATUS_LIST_LENGTH, 1.5, NaN]) {
      assert.throws(() => list.get(i), StatusListError);
      assert.throws(() => list.set(i, true), StatusListError);
    }
    assert.throws(() => new StatusList(1024), StatusListError);
  });

  it('when an encodedList is malformed, short or a zip bomb, then decoding refuses it', () => {
    const b64 = (b: Buffer) => `u${b.toString('base64url')}`;
    for (const s of [
      SPEC_EMPTY.slice(1),
      `z${SPEC_EMPTY.slice(1)}`,
      `${SPEC_EMPTY}=`,
      SPEC_EMPTY.replace(/-/g, '+'),
      'u',
      b64(Buffer.from('not gzip')),
      b64(gzipSync(Buffer.alloc(1024))),
      b64(gzipSync(Buffer.alloc(64 * 1024 * 1024))),
    ]) {
      assert.throws(() => StatusList.decode(s), StatusListError, s.slice(0, 40));
    }
    assert.throws(
      () => StatusList.decode(b64(gzipSync(Buffer.alloc(16384))), 262_144),
      /fewer than/,
    );
  });

  it('when reading statusListIndex strings, then only plain base-10 is accepted', () => {
    assert.equal(parseStatusListIndex('0'), 0);
    assert.equal(parseStatusListIndex('94567'), 94567);
    for (const s of ['', '01', '-1', '+1', '1.0', '1e3', ' 1', '0x10', '99999999999999999'])
      assert.throws(() => parseStatusListIndex(s), StatusListError, s);
  });

  it('when assigning random indexes, then they are unique, in range, not sequential, and a full list is reported', () => {
    const taken = new Set<number>();
    for (let i = 0; i < 1000; i++) {
      const n = randomStatusIndex(MIN_STATUS_LIST_LENGTH, (k) => taken.has(k));
      assert.ok(n >= 0 && n < MIN_STATUS_LIST_LENGTH);
      assert.ok(!taken.has(n));
      taken.add(n);
    }
    const sorted = [...taken];
    assert.ok(
      sorted.some((n, i) => i > 0 && n < sorted[i - 1]),
      'not handed out in order',
    );
    const small = new Set<number>();
    for (let i = 0; i < 16; i++) small.add(randomStatusIndex(16, (k) => small.has(k)));
    assert.equal(small.size, 16);
    assert.throws(() => randomStatusIndex(16, (k) => small.has(k)), /full/);
  });
});
