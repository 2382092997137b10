import assert from 'node:assert/strict';
import { SERIAL_ALPHABET, makeSerial, parseSerial } from '../../certificates';

const PRINTABLE = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i));

describe('certificate serials', () => {
  it('when a serial is made, then it has the EQI-YYYY-NNNNNN-C shape and parses back to the same year and sequence', () => {
    for (const [year, seq] of [
      [2026, 1],
      [2026, 123],
      [2030, 999_999],
      [2099, 500_000],
    ] as const) {
      const s = makeSerial(year, seq);
      assert.match(s, /^EQI-\d{4}-\d{6}-[0-9A-HJ-NP-RT-UW-Y]$/);
      assert.deepEqual(parseSerial(s), { ok: true, serial: s, year, seq });
    }
    assert.equal(makeSerial(2026, 123), 'EQI-2026-000123-F');
  });

  it('when year or sequence is out of range, then makeSerial refuses', () => {
    assert.throws(() => makeSerial(2026, 0), RangeError);
    assert.throws(() => makeSerial(2026, 1_000_000), RangeError);
    assert.throws(() => makeSerial(1999, 1), RangeError);
    assert.throws(() => makeSerial(2026, 1.5), RangeError);
  });

  it('when any single character of a serial is replaced by any other printable character, then parsing rejects it', () => {
    for (const serial of [makeSerial(2026, 123), makeSerial(2027, 900_001), makeSerial(2026, 7)]) {
      let tried = 0;
      for (let i = 0; i < serial.length; i++) {
        for (const ch of PRINTABLE) {
          if (ch === serial[i]) continue;
          const changed = serial.slice(0, i) + ch + serial.slice(i + 1);
          const r = parseSerial(changed);
          tried++;
          if (ch === serial[i]!.toLowerCase()) {
            // Case is not a change: typing in lower case is accepted on purpose.
            assert.deepEqual(r, parseSerial(serial), changed);
          } else {
            assert.equal(r.ok, false, `${changed} was accepted`);
          }
        }
      }
      assert.ok(tried > 1500);
    }
  });

  it('when a digit is mistyped or two digits are swapped, then the error is checksum (not format)', () => {
    const s = makeSerial(2026, 123456);
    // The year's leading '2' is structural (a format error when changed), so it is left out here.
    const digits = [5, 6, 7, 9, 10, 11, 12, 13, 14];
    for (const i of digits) {
      for (let d = 0; d <= 9; d++) {
        if (String(d) === s[i]) continue;
        const changed = s.slice(0, i) + d + s.slice(i + 1);
        if (changed.slice(9, 15) === '000000') continue;
        assert.deepEqual(parseSerial(changed), { ok: false, error: 'checksum' }, changed);
      }
    }
    for (const i of digits) {
      for (const j of digits) {
        if (j <= i || s[i] === s[j]) continue;
        const a = [...s];
        [a[i], a[j]] = [a[j]!, a[i]!];
        assert.deepEqual(parseSerial(a.join('')), { ok: false, error: 'checksum' }, a.join(''));
      }
    }
  });

  it('when the check character is any other alphabet character, then the error is checksum', () => {
    const s = makeSerial(2026, 42);
    for (const c of SERIAL_ALPHABET) {
      if (c === s.at(-1)) continue;
      assert.deepEqual(parseSerial(s.slice(0, -1) + c), { ok: false, error: 'checksum' });
    }
  });

  it('when a serial is typed in lower case, without dashes or with surrounding spaces, then it parses to the canonical form', () => {
    const s = makeSerial(2026, 123);
    for (const typed of [
      s.toLowerCase(),
      s.replace(/-/g, ''),
      ` ${s}\t`,
      'eqi2026000123f',
      'EQI-2026000123-F',
    ]) {
      const r = parseSerial(typed);
      assert.deepEqual(r, { ok: true, serial: s, year: 2026, seq: 123 }, typed);
    }
  });

  it('when the input is malformed, then the error is format', () => {
    for (const bad of [
      '',
      'EQI',
      'EQI-2026-123-F',
      'EQI-2026-0001234-F',
      'ABC-2026-000123-F',
      'EQI 2026 000123 F',
      'EQI-2026-000000-0',
      'EQİ-2026-000123-F',
      'EQI-2026-000123-F'.repeat(3),
    ]) {
      assert.deepEqual(parseSerial(bad), { ok: false, error: 'format' }, bad);
    }
    assert.deepEqual(parseSerial(123 as unknown as string), { ok: false, error: 'format' });
  });
});
