import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import jcs from './fixtures/jcs.json';
import { makeSerial } from '../../certificates/serial';
import { makeUscc } from '../../src/domain/uscc';
import {
  ENTRY_TYPES,
  EntryError,
  canonicalize,
  decodeEntry,
  encodeEntry,
  type LogEntry,
} from '../../src/tlog/entry';

const USCC = makeUscc({ provinceCode: '11', serial: 7 });
const SERIAL = makeSerial(2026, 123);
const SHA = 'ab'.repeat(32);
const AT = '2026-03-01T08:00:00.000Z';
const EXAMPLES: LogEntry[] = [
  {
    v: 1,
    type: 'pledge.activated',
    at: AT,
    uscc: USCC,
    sequence: 1,
    foundingNumber: 1,
    initiative: { version: 1, sha256: SHA },
  },
  {
    v: 1,
    type: 'pledge.activated',
    at: AT,
    uscc: USCC,
    sequence: 101,
    foundingNumber: null,
    initiative: { version: 2, sha256: SHA },
  },
  { v: 1, type: 'certificate.issued', at: AT, uscc: USCC, serial: SERIAL, credentialSha256: SHA },
  {
    v: 1,
    type: 'certificate.revoked',
    at: AT,
    uscc: USCC,
    serial: SERIAL,
    credentialSha256: SHA,
    reason: 'false-information',
  },
  {
    v: 1,
    type: 'certificate.withdrawn',
    at: AT,
    uscc: USCC,
    serial: SERIAL,
    credentialSha256: SHA,
  },
  {
    v: 1,
    type: 'certificate.superseded',
    at: AT,
    uscc: USCC,
    serial: SERIAL,
    credentialSha256: SHA,
  },
  { v: 1, type: 'initiative.published', at: AT, initiative: { version: 2, sha256: SHA } },
];

/** The ES6 number test file's lines, generated as cyberphone's numgen.js does (README there). */
function numgenLines(count: number, serialize: (n: number) => string): string {
  const statics = jcs.numgen.staticU64.map((h) => BigInt(`0x${h}`));
  const f64 = (u: bigint): number => new Float64Array(new BigUint64Array([u]).buffer)[0];
  const u64 = (f: number): bigint => new BigUint64Array(new Float64Array([f]).buffer)[0];
  let block = Buffer.alloc(32);
  let data: number[] = [];
  const out: string[] = [];
  for (let idx = 0; idx < count; idx++) {
    let f = 0;
    if (idx < statics.length) f = f64(statics[idx]);
    else if (idx < statics.length + jcs.numgen.serialCount)
      f = f64(0x0010000000000000n + BigInt(idx - statics.length));
    else {
      while (f === 0 || !Number.isFinite(f)) {
        if (data.length === 0) {
          block = createHash('sha256').update(block).digest();
          data = Array.from(
            new Float64Array(block.buffer.slice(block.byteOffset, block.byteOffset + 32)),
          );
        }
        f = data.shift()!;
      }
    }
    out.push(`${u64(f).toString(16)},${serialize(f)}\n`);
  }
  return out.join('');
}

describe('tlog entries (RFC 8785 JCS, entry schema)', () => {
  it("when canonicalizing the RFC 8785 reference inputs, then the output is the reference's, byte for byte", () => {
    for (const [name, c] of Object.entries(jcs.cases)) {
      const out = canonicalize(JSON.parse(c.input));
      assert.equal(out, c.output, name);
      assert.equal(Buffer.from(out, 'utf8').toString('hex'), c.outhex.replace(/\s+/g, ''), name);
    }
  });

  it('when serializing the ES6 number test sequence, then its SHA-256 is the published one', () => {
    for (const { lines, sha256, bytes } of jcs.numgen.sha256ByLines.filter(
      (h) => h.lines <= 100_000,
    )) {
      const text = numgenLines(lines, (n) => canonicalize(n));
      assert.equal(Buffer.byteLength(text), bytes, `${lines} lines`);
      assert.equal(createHash('sha256').update(text).digest('hex'), sha256, `${lines} lines`);
    }
  });

  it('when serializing the numbers of RFC 8785 Appendix B, then each is as listed', () => {
    const f64 = (h: string): number =>
      new Float64Array(new BigUint64Array([BigInt(`0x${h}`)]).buffer)[0];
    const table: [string, string][] = [
      ['0000000000000000', '0'],
      ['8000000000000000', '0'],
      ['0000000000000001', '5e-324'],
      ['8000000000000001', '-5e-324'],
      ['7fefffffffffffff', '1.7976931348623157e+308'],
      ['ffefffffffffffff', '-1.7976931348623157e+308'],
      ['4340000000000000', '9007199254740992'],
      ['c340000000000000', '-9007199254740992'],
      ['4430000000000000', '295147905179352830000'],
      ['44b52d02c7e14af5', '9.999999999999997e+22'],
      ['44b52d02c7e14af6', '1e+23'],
      ['44b52d02c7e14af7', '1.0000000000000001e+23'],
      ['444b1ae4d6e2ef4e', '999999999999999700000'],
      ['444b1ae4d6e2ef4f', '999999999999999900000'],
      ['444b1ae4d6e2ef50', '1e+21'],
      ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
      ['3eb0c6f7a0b5ed8d', '0.000001'],
      ['41b3de4355555553', '333333333.3333332'],
      ['41b3de4355555554', '333333333.33333325'],
      ['41b3de4355555555', '333333333.3333333'],
      ['41b3de4355555556', '333333333.3333334'],
      ['41b3de4355555557', '333333333.33333343'],
      ['becbf647612f3696', '-0.0000033333333333333333'],
      ['43143ff3c1cb0959', '1424953923781206.2'],
    ];
    for (const [h, want] of table) assert.equal(canonicalize(f64(h)), want, h);
    for (const h of ['7fffffffffffffff', '7ff0000000000000'])
      assert.throws(() => canonicalize(f64(h)), EntryError, h);
  });

  it('when sorting keys, then UTF-16 code units decide, not code points or locale', () => {
    // In code points U+1F602 > U+FB33, but in UTF-16 its lead surrogate 0xD83D < 0xFB33: the emoji sorts first.
    assert.equal(
      canonicalize({ '\ufb33': 1, '\u{1f602}': 2, '\u00f6': 3 }),
      '{"\u00f6":3,"\u{1f602}":2,"\ufb33":1}',
    );
    assert.equal(
      canonicalize({ b: [1, { z: null, a: true }], a: 'x' }),
      '{"a":"x","b":[1,{"a":true,"z":null}]}',
    );
  });

  it('when values are not I-JSON or not JSON, then canonicalize refuses them', () => {
    for (const v of [
      NaN,
      Infinity,
      undefined,
      () => 1,
      1n,
      Symbol('s'),
      new Date(0),
      { a: undefined },
      [undefined],
      '\ud800',
      { '\udc00': 1 },
      new Map(),
    ]) {
      assert.throws(() => canonicalize(v), EntryError, String(typeof v));
    }
    let deep: unknown = 1;
    for (let i = 0; i < 100; i++) deep = [deep];
    assert.throws(() => canonicalize(deep), /deeply/);
  });

  it('when JSON values are random, then canonical output parses back to the same value and is a fixed point', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const c = canonicalize(v);
        const back = JSON.parse(c);
        assert.equal(canonicalize(back), c);
        assert.deepEqual(back, JSON.parse(JSON.stringify(v)));
      }),
    );
  });

  it('when encoding each entry type, then the bytes are canonical JSON that decodes to the same entry', () => {
    assert.deepEqual([...new Set(EXAMPLES.map((e) => e.type))].sort(), [...ENTRY_TYPES].sort());
    for (const e of EXAMPLES) {
      const bytes = encodeEntry(e);
      assert.equal(bytes.toString('utf8'), canonicalize(e));
      assert.deepEqual(decodeEntry(bytes), e);
    }
    assert.equal(
      encodeEntry(EXAMPLES[2]).toString(),
      `{"at":"${AT}","credentialSha256":"${SHA}","serial":"${SERIAL}","type":"certificate.issued","uscc":"${USCC}","v":1}`,
    );
  });

  it('when an entry carries personal data or any unknown field, then it is refused', () => {
    for (const extra of [
      { signatoryName: '张三' },
      { email: 'a@example.com' },
      { phone: '13800000000' },
      { companyName: '示例有限公司' },
      { note: 'x' },
    ]) {
      for (const e of EXAMPLES)
        assert.throws(
          () => encodeEntry({ ...e, ...extra } as LogEntry),
          EntryError,
          `${e.type} + ${Object.keys(extra)[0]}`,
        );
    }
    assert.throws(
      () =>
        encodeEntry({
          ...EXAMPLES[0],
          initiative: { version: 1, sha256: SHA, title: 't' },
        } as unknown as LogEntry),
      EntryError,
    );
  });

  it('when fields are malformed, then the entry is refused', () => {
    const bad: Record<string, unknown>[] = [
      { ...EXAMPLES[0], v: 2 },
      { ...EXAMPLES[0], type: 'pledge.signed' },
      { ...EXAMPLES[0], at: '2026-03-01T08:00:00Z' },
      { ...EXAMPLES[0], at: '2026-02-30T08:00:00.000Z' },
      { ...EXAMPLES[0], at: '2026-03-01T08:00:00.000+08:00' },
      { ...EXAMPLES[0], uscc: USCC.toLowerCase() },
      { ...EXAMPLES[0], uscc: USCC.slice(0, 17) + (USCC[17] === '0' ? '1' : '0') },
      { ...EXAMPLES[0], sequence: 0 },
      { ...EXAMPLES[0], sequence: 1.5 },
      { ...EXAMPLES[0], foundingNumber: 101 },
      { ...EXAMPLES[0], foundingNumber: undefined },
      { ...EXAMPLES[0], initiative: { version: 1, sha256: SHA.toUpperCase() } },
      { ...EXAMPLES[2], serial: SERIAL.replace(/-/g, '') },
      { ...EXAMPLES[2], serial: SERIAL.slice(0, -1) + (SERIAL.endsWith('0') ? '1' : '0') },
      { ...EXAMPLES[2], credentialSha256: 'ab' },
      { ...EXAMPLES[3], reason: 'he was rude' },
      { ...EXAMPLES[3], reason: undefined },
      { ...EXAMPLES[6], uscc: USCC },
    ];
    for (const e of bad)
      assert.throws(() => encodeEntry(e as LogEntry), EntryError, JSON.stringify(e));
  });

  it('when entry bytes are not canonical, then decoding refuses them', () => {
    const good = encodeEntry(EXAMPLES[2]).toString();
    const obj = JSON.parse(good);
    for (const text of [
      JSON.stringify(obj, null, 1),
      JSON.stringify({ v: 1, ...obj }),
      good.replace('"v":1', '"v":1.0'),
      good.replace('}', ',"v":1}'),
      '\ufeff' + good,
      good + '\n',
    ]) {
      assert.throws(() => decodeEntry(Buffer.from(text)), EntryError, text);
    }
    assert.throws(() => decodeEntry(Buffer.from([0xff, 0x7b, 0x7d])), /UTF-8 JSON/);
    assert.throws(() => decodeEntry(Buffer.alloc(65536, 0x20)), /too large/);
  });
});
