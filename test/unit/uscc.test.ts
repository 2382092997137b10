import assert from 'node:assert/strict';
import {
  isValidUscc,
  makeUscc,
  normalizeUscc,
  USCC_ALPHABET,
  USCC_WEIGHTS,
  usccCheckChar,
  validateUscc,
} from '../../src/domain/uscc';
import { PROVINCES, provinceFromUscc } from '../../src/domain/provinces';

// The valid examples from DOMAIN.md.
const EXAMPLES = [
  '91350100M000100Y43',
  '91110108100000008B',
  '91310115MA1FL1237Y',
  '9144030027939873X7',
  '91330100143500002J',
];

describe('USCC (GB 32100-2015)', () => {
  it('when the weights are derived, then they are 3^(i-1) mod 31 as listed in DOMAIN.md', () => {
    assert.deepEqual(
      [...USCC_WEIGHTS],
      [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28],
    );
    assert.equal(USCC_ALPHABET.length, 31);
    assert.doesNotMatch(USCC_ALPHABET, /[IOSVZ]/);
  });

  it('when given the DOMAIN.md examples, then each is valid with its province', () => {
    const provinces = EXAMPLES.map((code) => {
      const result = validateUscc(code);
      assert.ok(result.ok, `${code} should be valid`);
      assert.equal(result.uscc, code);
      return result.provinceCode;
    });
    assert.deepEqual(provinces, ['35', '11', '31', '44', '33']);
  });

  it('when any single character of an example is changed to another code character, then a check fails', () => {
    let checked = 0;
    for (const code of EXAMPLES) {
      for (let i = 0; i < code.length; i++) {
        for (const ch of USCC_ALPHABET) {
          if (ch === code[i]) continue;
          const changed = code.slice(0, i) + ch + code.slice(i + 1);
          const result = validateUscc(changed);
          assert.equal(result.ok, false, `${changed} (position ${i + 1}) must fail`);
          // Positions 1–8 may also break the authority, type or region rule, 9–17 the
          // organisation code's check digit (mod 11 misses some); the final check catches the rest.
          const reason = !result.ok && result.reason;
          const allowed =
            i < 8
              ? ['authority', 'type', 'region', 'checksum']
              : i < 17
                ? ['org-check', 'checksum']
                : ['checksum'];
          assert.ok(allowed.includes(String(reason)), `${changed}: ${reason}`);
          checked++;
        }
      }
    }
    assert.equal(checked, EXAMPLES.length * 18 * 30);
  });

  it('when any single character of an example is changed to a non-code character, then the charset check fails', () => {
    for (const code of EXAMPLES) {
      for (let i = 0; i < code.length; i++) {
        for (const ch of ['I', 'O', '-', '*', '０']) {
          const result = validateUscc(code.slice(0, i) + ch + code.slice(i + 1));
          assert.equal(!result.ok && result.reason, 'charset');
        }
      }
    }
  });

  it('when given in lower case with surrounding spaces, then it is accepted and normalised', () => {
    const result = validateUscc('  91310115ma1fl1237y \n');
    assert.deepEqual(result, { ok: true, uscc: '91310115MA1FL1237Y', provinceCode: '31' });
    assert.equal(normalizeUscc(' 9144030027939873x7 '), '9144030027939873X7');
    assert.ok(isValidUscc('91330100143500002j'));
  });

  for (const letter of ['I', 'O', 'S', 'V', 'Z']) {
    it(`when it contains ${letter}, then it is rejected with a charset reason naming the character`, () => {
      const code = `9131011${letter}MA1FL1237Y`;
      const result = validateUscc(code);
      assert.equal(result.ok, false);
      assert.equal(!result.ok && result.reason, 'charset');
      assert.match(!result.ok ? result.message : '', new RegExp(`"${letter}" at position 8`));
    });
  }

  for (const code of [
    '',
    '9131011',
    '91310115MA1FL1237',
    '91310115MA1FL1237YY',
    '91310115 MA1FL1237Y',
  ]) {
    it(`when it has ${normalizeUscc(code).length} characters, then it is rejected with a length reason`, () => {
      const result = validateUscc(code);
      assert.equal(!result.ok && result.reason, 'length');
    });
  }

  it('when asked for the check character of an example body, then it gives the example’s last character', () => {
    for (const code of EXAMPLES) assert.equal(usccCheckChar(code.slice(0, 17)), code[17]);
    assert.throws(() => usccCheckChar('123'), RangeError);
    assert.throws(() => usccCheckChar('9131011IMA1FL1237'), RangeError);
  });

  it('when generating codes for every province, then each is valid and maps back to its province', () => {
    for (const province of PROVINCES) {
      const code = makeUscc({ provinceCode: province.code, serial: 42 });
      assert.ok(isValidUscc(code), code);
      assert.equal(provinceFromUscc(code), province);
    }
  });

  it('when generating by serial, then distinct serials give distinct valid codes, reproducibly', () => {
    const codes = Array.from({ length: 500 }, (_, serial) =>
      makeUscc({ provinceCode: '33', serial }),
    );
    assert.equal(new Set(codes).size, codes.length);
    assert.ok(codes.every(isValidUscc));
    assert.equal(makeUscc({ provinceCode: '33', serial: 7 }), codes[7]);
  });

  it('when generating randomly, then a seeded random source reproduces the same code', () => {
    const seeded = () => {
      let s = 12345;
      return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    };
    const a = makeUscc({ provinceCode: '44', random: seeded() });
    assert.equal(makeUscc({ provinceCode: '44', random: seeded() }), a);
    assert.ok(isValidUscc(a));
    for (let i = 0; i < 200; i++) assert.ok(isValidUscc(makeUscc()));
  });

  it('when the generator is given an unknown province, then it throws', () => {
    assert.throws(() => makeUscc({ provinceCode: '99' as never }), RangeError);
  });
});
