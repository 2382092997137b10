/**
 * The export's BSON field reader against bson's own decoder: for any document, the row made from
 * the picked fields is the row made from the whole decoded document.
 */
import assert from 'node:assert/strict';
import { Binary, Decimal128, Double, Int32, Long, ObjectId, serialize, deserialize } from 'bson';
import fc from 'fast-check';
import { pickRowFields } from '../../src/exports/bson-pick';
import { toRow } from '../../src/exports/rows';
import { syntheticPledge } from './fixtures';

/** Any value a stored field might hold, including types a pledge never stores. */
const anyValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string({ unit: 'binary' }),
    fc.string(),
    fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.date({ noInvalidDate: true }),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((b) => Long.fromBigInt(b)),
    fc.integer().map((n) => new Double(n)),
    fc.integer().map((n) => new Int32(n)),
    fc.constant(new ObjectId('65a1b2c3d4e5f60718293a4b')),
    fc.uint8Array({ maxLength: 8 }).map((u) => new Binary(u)),
    fc.constant(Decimal128.fromString('1.5')),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(
      fc.constantFrom('name', 'title', 'email', 'phone', 'version', 'x'),
      tie('value'),
      {
        maxKeys: 4,
      },
    ),
  ),
})).value;

const FIELDS = [
  'sequence',
  'foundingNumber',
  'companyName',
  'companyNameEn',
  'uscc',
  'province',
  'industry',
  'activatedAt',
  'status',
  'certificateSerial',
  'initiative',
  'signatory',
  'history',
  'other',
];

/** A row, or the error making it failed with (an unreadable date fails either way). */
function outcome(make: () => unknown): unknown {
  try {
    return { row: make() };
  } catch (e) {
    return { error: String(e) };
  }
}
/** The row from bson's decoding of the whole document (what the export made before). */
const rowOfWhole = (b: Buffer, contacts: boolean) => outcome(() => toRow(deserialize(b), contacts));
const rowOfPicked = (b: Buffer, contacts: boolean) =>
  outcome(() => toRow(pickRowFields(b), contacts));

describe('export rows read from BSON (pickRowFields)', () => {
  it('when a stored pledge is read, then its row is the row of the whole decoded document, with and without contacts', () => {
    for (let i = 0; i < 300; i++) {
      const b = Buffer.from(serialize(syntheticPledge(i)));
      for (const contacts of [false, true])
        assert.deepEqual(rowOfPicked(b, contacts), rowOfWhole(b, contacts));
    }
  });

  it('when any field holds any BSON value (or is missing), then the row is still the row of the whole decoded document', () => {
    fc.assert(
      fc.property(
        fc.record(Object.fromEntries(FIELDS.map((f) => [f, anyValue])), { requiredKeys: [] }),
        fc.boolean(),
        (doc, contacts) => {
          const b = Buffer.from(serialize(doc));
          assert.deepEqual(rowOfPicked(b, contacts), rowOfWhole(b, contacts));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('when sub-documents hold the nested fields with odd types, then the row matches bson', () => {
    fc.assert(
      fc.property(
        fc.record({
          initiative: fc.record({ version: anyValue, sha256: anyValue }, { requiredKeys: [] }),
          signatory: fc.record(
            { name: anyValue, title: anyValue, email: anyValue, phone: anyValue, x: anyValue },
            { requiredKeys: [] },
          ),
          sequence: anyValue,
          status: fc.constantFrom('active', 'withdrawn', 'revoked', 'odd'),
        }),
        (doc) => {
          const b = Buffer.from(serialize(doc));
          assert.deepEqual(rowOfPicked(b, true), rowOfWhole(b, true));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
