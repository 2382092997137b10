import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  nameProblem,
  nameText,
  normalizeFreeText,
  normalizeName,
  refusedCharacters,
  searchText,
} from '../../src/domain/names';

const SEED = { seed: 20260110, numRuns: 2000 };

const BIDI = [
  0x061c, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069,
];
const CONTROLS = [
  ...Array.from({ length: 0x20 }, (_, i) => i).filter(
    (c) => ![0x09, 0x0a, 0x0b, 0x0c, 0x0d].includes(c),
  ),
  ...Array.from({ length: 0x21 }, (_, i) => 0x7f + i).filter((c) => c !== 0x85),
];
const SPACES = [' ', '\t', '\n', '\r', '\u00a0', '\u0085', '\u2000', '\u2001', '\u2028', '\u3000'];
const ZERO_WIDTH = ['\u200b', '\u2060', '\ufeff', '\u200c', '\u200d', '\u3164', '\u115f'];

/** Any text, lone surrogates and controls included, biased towards the characters that matter. */
const anyText = fc.string({
  unit: fc.oneof(
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
    fc.constantFrom(...SPACES, ...ZERO_WIDTH, 'e', '\u0301', '华', 'A', '\u1100', '\u1161'),
    fc.constantFrom(...BIDI, ...CONTROLS).map((c) => String.fromCodePoint(c)),
    fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
  ),
  maxLength: 40,
});

function insertAt(s: string, at: number, ch: string): string {
  const chars = [...s];
  const i = at % (chars.length + 1);
  return [...chars.slice(0, i), ch, ...chars.slice(i)].join('');
}

describe('names: normalisation and refused characters', () => {
  it('when any text is normalised twice, then the second pass changes nothing', () => {
    fc.assert(
      fc.property(anyText, (s) => {
        assert.equal(normalizeName(normalizeName(s)), normalizeName(s));
        assert.equal(normalizeFreeText(normalizeFreeText(s)), normalizeFreeText(s));
      }),
      SEED,
    );
  });

  it('when a name is accepted, then its stored form is NFC, trimmed, single-spaced, visible and free of refused characters', () => {
    fc.assert(
      fc.property(anyText, (s) => {
        if (nameProblem(s) !== undefined) return;
        const n = normalizeName(s);
        assert.equal(n, n.normalize('NFC'));
        assert.equal(n, n.trim());
        assert.doesNotMatch(n, /[\s\u0085]{2}|[^\S ]/u, 'only single ASCII spaces');
        assert.doesNotMatch(n, /[\u200b\u2060\ufeff]/u);
        assert.equal(refusedCharacters(n), undefined);
        assert.match(n, /[\p{L}\p{N}]/u);
      }),
      SEED,
    );
  });

  it('when a bidi control or a non-whitespace C0/C1 control is anywhere in a name, then it is refused', () => {
    fc.assert(
      fc.property(anyText, fc.nat(), fc.constantFrom(...BIDI, ...CONTROLS), (s, at, cp) => {
        const problem = nameProblem(insertAt(s, at, String.fromCodePoint(cp)));
        assert.ok(
          problem === 'bidi' || problem === 'control' || problem === 'malformed',
          `${cp.toString(16)}: ${problem}`,
        );
      }),
      SEED,
    );
  });

  it('when a name has only whitespace and zero-width or filler characters, then it is refused as invisible', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...SPACES, ...ZERO_WIDTH), { maxLength: 20 }),
        (parts) => {
          assert.equal(nameProblem(parts.join('')), 'invisible');
        },
      ),
      SEED,
    );
  });

  it('when words are separated by any run of whitespace or padded with it, then they are stored with single spaces', () => {
    const word = fc.stringMatching(/^[A-Za-z0-9\u4e00-\u4e2f]{1,8}$/);
    const gap = fc
      .array(fc.constantFrom(...SPACES), { minLength: 1, maxLength: 4 })
      .map((a) => a.join(''));
    fc.assert(
      fc.property(
        fc.array(word, { minLength: 1, maxLength: 5 }),
        gap,
        gap,
        gap,
        (words, inner, lead, tail) => {
          assert.equal(normalizeName(lead + words.join(inner) + tail), words.join(' '));
        },
      ),
      SEED,
    );
  });

  it('when a combining mark follows a dropped zero-width character, then it composes with its base', () => {
    assert.equal(normalizeName('Cafe\u200b\u0301'), 'Caf\u00e9');
  });

  it('when names are ordinary, then they are kept as written', () => {
    for (const s of [
      '华为技术有限公司',
      'Huawei Technologies Co., Ltd.',
      '李明',
      'O’Brien-Smith',
      '3M 中国有限公司',
    ]) {
      assert.equal(nameProblem(s), undefined, s);
      assert.equal(normalizeName(s), s);
    }
  });

  it('when the zod schema parses a name, then it normalises it and names the reason for refusing', () => {
    const schema = nameText(2, 10);
    assert.equal(schema.parse('  华为\u3000 技术\t'), '华为 技术');
    const reasons = (v: string) => {
      const r = schema.safeParse(v);
      return r.success
        ? []
        : r.error.issues.map((i) => (i.code === 'custom' ? String(i.params?.reason) : i.code));
    };
    assert.deepEqual(reasons('a\u202egnp'), ['bidi']);
    assert.deepEqual(reasons('a\u0000b'), ['control']);
    assert.deepEqual(reasons('\u200b\u200b\u200b'), ['too_small']);
    assert.deepEqual(reasons('\u3164\u3164'), ['invisible']);
    assert.deepEqual(reasons('\ud800ab'), ['malformed']);
    assert.deepEqual(reasons('  a  '), ['too_small'], 'measured after normalising');
    assert.deepEqual(reasons('123456789 '), [], 'trailing space does not count');
  });

  it('when a search term is normalised, then blank means no search and refused characters are named', () => {
    assert.equal(searchText(100).parse(' \u200b '), '');
    assert.equal(searchText(100).safeParse('\u0000').success, false);
  });
});
