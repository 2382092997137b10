/**
 * CSV lines written straight from BSON (csv-bson.ts) against the general path: for any
 * document, the line is the one csvCell makes from toRow of the whole decoded document.
 */
import assert from 'node:assert/strict';
import { Binary, Double, Int32, Long, ObjectId, serialize, deserialize } from 'bson';
import fc from 'fast-check';
import { pickRowFields } from '../../src/exports/bson-pick';
import { csvBsonEncoder } from '../../src/exports/csv-bson';
import { csvCell } from '../../src/exports/formats';
import { COLUMNS, CONTACT_COLUMNS, OPEN_DATA_COLUMNS, toRow } from '../../src/exports/rows';
import type { ExportColumn } from '../../src/exports/rows';
import { PROVINCE_CODES } from '../../src/domain/provinces';
import { INDUSTRY_CODES } from '../../src/domain/industries';
import { syntheticPledge } from './fixtures';

/** The line of the whole decoded document, or the error making it failed with. */
function generalLine(b: Buffer, columns: ExportColumn[], contacts: boolean): string {
  const row = toRow(deserialize(b), contacts);
  return columns.map((c) => csvCell(row[c.key])).join(',') + '\r\n';
}
function outcome(make: () => string): { line: string } | { error: string } {
  try {
    return { line: make() };
  } catch (e) {
    return { error: String(e) };
  }
}
/** The encoder's line (its fallback is the general path, so only the direct path is under test). */
function encodedLine(b: Buffer, columns: ExportColumn[], contacts: boolean, direct: boolean[]) {
  return outcome(() =>
    csvBsonEncoder(columns, contacts)
      .lines([b], (d) => {
        direct.push(false);
        return generalLine(d, columns, contacts);
      })
      .toString('utf8'),
  );
}

const COLUMN_SETS: Array<[string, ExportColumn[], boolean]> = [
  ['admin', COLUMNS, false],
  ['admin with contacts', [...COLUMNS, ...CONTACT_COLUMNS], true],
  ['contact columns without includeContacts', [...COLUMNS, ...CONTACT_COLUMNS], false],
  ['open data', OPEN_DATA_COLUMNS, false],
];

/** Text cells a spreadsheet or a CSV parser would trip on, and Chinese, and bad UTF-16. */
const nastyText = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom(
    '',
    '=1+2',
    '+86 10 6000',
    '-1',
    '@SUM(A1)',
    '\tx',
    '\rx',
    'a,b',
    'say "hi"',
    'line\r\nbreak',
    '喆信精密制造示例有限公司',
    '\ud800',
    'a\u0000b',
  ),
);
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  nastyText,
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.date({ noInvalidDate: true }),
  fc.integer({ min: -8_640_000_000_000_000, max: 8_640_000_000_000_000 }).map((n) => new Date(n)),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((b) => Long.fromBigInt(b)),
  fc.integer().map((n) => new Double(n)),
  fc.integer().map((n) => new Int32(n)),
  fc.constant(new ObjectId('65a1b2c3d4e5f60718293a4b')),
  fc.uint8Array({ maxLength: 8 }).map((u) => new Binary(u)),
  fc.array(fc.string(), { maxLength: 2 }),
);
const codeOr = (codes: readonly string[]) => fc.oneof(fc.constantFrom(...codes), anyValue);
const doc = fc.record(
  {
    sequence: anyValue,
    foundingNumber: anyValue,
    companyName: anyValue,
    companyNameEn: anyValue,
    uscc: anyValue,
    province: codeOr(PROVINCE_CODES),
    industry: codeOr(INDUSTRY_CODES),
    activatedAt: anyValue,
    status: codeOr(['active', 'withdrawn', 'revoked', 'pending_review', 'expired', 'odd']),
    certificateSerial: anyValue,
    initiative: fc.oneof(
      fc.record({ version: anyValue, sha256: anyValue }, { requiredKeys: [] }),
      anyValue,
    ),
    signatory: fc.oneof(
      fc.record(
        { name: anyValue, title: anyValue, email: anyValue, phone: anyValue, x: anyValue },
        { requiredKeys: [] },
      ),
      anyValue,
    ),
    history: fc.array(fc.record({ at: fc.date({ noInvalidDate: true }), to: fc.string() }), {
      maxLength: 2,
    }),
    other: anyValue,
  },
  { requiredKeys: [] },
);

describe('CSV lines written straight from BSON (csv-bson)', () => {
  for (const [name, columns, contacts] of COLUMN_SETS) {
    it(`when stored pledges are written (${name} columns), then each line is the general path's line, without falling back`, () => {
      const docs = Array.from({ length: 400 }, (_, i) =>
        Buffer.from(serialize(syntheticPledge(i * 7919, { stepMs: 864_000 }))),
      );
      const direct: boolean[] = [];
      const out = csvBsonEncoder(columns, contacts)
        .lines(docs, (d) => {
          direct.push(false);
          return generalLine(d, columns, contacts);
        })
        .toString('utf8');
      assert.equal(out, docs.map((d) => generalLine(d, columns, contacts)).join(''));
      assert.equal(direct.length, 0, 'a stored pledge went the general way');
    });

    it(`when any field holds any value or is missing (${name} columns), then the line is still the general path's line`, () => {
      fc.assert(
        fc.property(doc, (d) => {
          const b = Buffer.from(serialize(d));
          assert.deepEqual(
            encodedLine(b, columns, contacts, []),
            outcome(() => generalLine(b, columns, contacts)),
          );
        }),
        { numRuns: 1500 },
      );
    });
  }

  it("when a stored pledge's text holds formula starts, quotes, separators, line breaks, Chinese or bad UTF-16, then its line is the general path's line", () => {
    let direct = 0;
    fc.assert(
      fc.property(
        fc.nat(1_000_000),
        fc.record(
          {
            companyName: nastyText,
            companyNameEn: nastyText,
            uscc: nastyText,
            certificateSerial: nastyText,
            name: nastyText,
            title: nastyText,
            email: nastyText,
            phone: nastyText,
          },
          { requiredKeys: [] },
        ),
        (i, t) => {
          const p = syntheticPledge(i);
          const { name, title, email, phone, ...top } = t;
          const signatory = { ...p.signatory, ...{ name, title, email, phone } };
          for (const k of Object.keys(signatory))
            if (signatory[k] === undefined) delete signatory[k];
          const b = Buffer.from(serialize({ ...p, ...top, signatory }));
          const fellBack: boolean[] = [];
          const columns = [...COLUMNS, ...CONTACT_COLUMNS];
          assert.deepEqual(
            encodedLine(b, columns, true, fellBack),
            outcome(() => generalLine(b, columns, true)),
          );
          if (fellBack.length === 0) direct++;
        },
      ),
      { numRuns: 3000 },
    );
    assert.ok(direct > 1000, `only ${direct} of 3,000 lines were written directly`);
  });

  it('when a stored string is not valid UTF-8, then its line is the one of the general path (U+FFFD in place of the bad bytes)', () => {
    const b = Buffer.from(serialize({ ...syntheticPledge(0), companyName: 'XXçYY' }));
    const at = b.indexOf('XXçYY');
    b[at + 2] = 0xff; // a lone byte that starts no UTF-8 sequence
    // bson's decoder refuses the document; the export's reader (pickRowFields) decodes as Buffer does.
    const row = toRow(pickRowFields(b), false);
    const expected = COLUMNS.map((c) => csvCell(row[c.key])).join(',') + '\r\n';
    const bytes = csvBsonEncoder(COLUMNS, false).lines([b], () => expected);
    assert.deepEqual(bytes, Buffer.from(expected, 'utf8'));
    assert.ok(expected.includes('XX\ufffd'));
  });

  it('when pledges are activated around midnight, year ends and leap days in China, then the time is written as toChinaIso writes it', () => {
    const instants = [
      '2024-02-28T16:00:00Z',
      '2024-02-29T15:59:59.999Z',
      '2024-12-31T15:59:59Z',
      '2024-12-31T16:00:00Z',
      '1970-01-01T00:00:00Z',
      '1969-12-31T16:00:00Z',
      '1969-12-31T15:59:59Z',
      '9999-12-31T15:59:59Z',
      '9999-12-31T16:00:00Z',
    ].map((s) => new Date(s));
    for (const at of instants) {
      const b = Buffer.from(serialize({ ...syntheticPledge(0), activatedAt: at }));
      const direct: boolean[] = [];
      assert.deepEqual(
        encodedLine(b, COLUMNS, false, direct),
        outcome(() => generalLine(b, COLUMNS, false)),
        at.toISOString(),
      );
    }
  });
});
