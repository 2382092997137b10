import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SERIAL_ALPHABET, makeSerial, parseSerial } from '../../certificates';
import { en } from '../../src/i18n/messages/en';
import { zhCN } from '../../src/i18n/messages/zh-CN';
import { consoleEn } from '../../src/i18n/messages/console-en';
import { consoleZhCN } from '../../src/i18n/messages/console-zh-CN';

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
          if (ch === serial[i]!.toLowerCase() || (serial[i] === '-' && ch === ' ')) {
            // Case is not a change, nor is a space for a dash: both are accepted on purpose.
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
      'EQI 2026 000123 F',
      'eqi 2026 000123 f',
      'EQI  2026-000123 F',
      '  EQI2026 000123-f ',
      'ＥＱＩ－２０２６－０００１２３－Ｆ',
      'EQI\u30002026\u3000000123\u3000F',
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
      'EQI_2026_000123_F',
      'EQI--2026-000123-F',
      'EQI- 2026-000123-F',
      'EQI\t2026\t000123\tF',
      'EQI 2026 000 123 F',
      'E QI 2026 000123 F',
      'EQI.2026.000123.F',
      'EQI-2026-000000-0',
      'EQİ-2026-000123-F',
      'EQI-2026-000123-F'.repeat(3),
    ]) {
      assert.deepEqual(parseSerial(bad), { ok: false, error: 'format' }, bad);
    }
    assert.deepEqual(parseSerial(123 as unknown as string), { ok: false, error: 'format' });
  });

  it('when any serial is typed with any mix of case, dashes, spaces and full-width forms, then it parses to the canonical form', () => {
    const sep = fc.constantFrom('', '-', ' ', '  ', '\u3000', '－');
    fc.assert(
      fc.property(
        fc.integer({ min: 2000, max: 2999 }),
        fc.integer({ min: 1, max: 999_999 }),
        fc.tuple(sep, sep, sep),
        fc.array(fc.boolean(), { minLength: 17, maxLength: 17 }),
        fc.boolean(),
        fc.constantFrom('', ' ', '\t', '\u3000'),
        (year, seq, [s1, s2, s3], lower, wide, pad) => {
          const canonical = makeSerial(year, seq);
          const [p, y, n, c] = canonical.split('-') as [string, string, string, string];
          let typed = [...`${p}${s1}${y}${s2}${n}${s3}${c}`]
            .map((ch, i) => (lower[i % 17] ? ch.toLowerCase() : ch))
            .join('');
          if (wide)
            typed = typed.replace(/[!-~]/g, (ch) => String.fromCharCode(ch.charCodeAt(0) + 0xfee0));
          assert.deepEqual(parseSerial(pad + typed + pad), {
            ok: true,
            serial: canonical,
            year,
            seq,
          });
        },
      ),
      { numRuns: 500 },
    );
  });

  it('when a serial is typed with spaces and a wrong check character, then the error is still checksum', () => {
    const s = makeSerial(2026, 1);
    assert.equal(s, 'EQI-2026-000001-6');
    assert.deepEqual(parseSerial('EQI 2026 000001 7'), { ok: false, error: 'checksum' });
    assert.deepEqual(parseSerial('eqi 2026 000001 6'), { ok: true, serial: s, year: 2026, seq: 1 });
  });

  it('when the message catalogs show a serial as an example, then every such example passes its own check', () => {
    // Anything that looks like a serial, however mangled, so a wrong example cannot slip past.
    const serialLike =
      /EQI[^\p{L}\p{N}]{0,3}\d{4}[^\p{L}\p{N}]{0,3}\d{3,7}[^\p{L}\p{N}]{0,3}[0-9A-Z]?/giu;
    const found: string[] = [];
    for (const catalog of [zhCN, en, consoleZhCN, consoleEn] as Record<string, string>[]) {
      for (const [key, text] of Object.entries(catalog)) {
        for (const m of text.matchAll(serialLike)) {
          found.push(m[0]);
          assert.equal(
            parseSerial(m[0]).ok,
            true,
            `${key}: example ${m[0]} does not pass parseSerial`,
          );
        }
      }
    }
    // The verify hint has one in each language; if the examples vanish this test must say so.
    assert.ok(found.length >= 2, `found only ${found.length} serial examples`);
    assert.ok(zhCN['verify.serial.hint'].includes(makeSerial(2026, 123)));
    assert.ok(en['verify.serial.hint'].includes(makeSerial(2026, 123)));
  });
});
