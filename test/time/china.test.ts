import assert from 'node:assert/strict';
import fc from 'fast-check';
import { chinaDate, chinaDateTime, chinaDayStart, toChinaIso } from '../../src/time/china';

// From 1992 on Asia/Shanghai is UTC+8 all year, so Intl's time-zone data is an independent oracle.
const instants = fc.date({ min: new Date('1992-01-01T00:00:00Z'), max: new Date('2999-12-31T00:00:00Z'), noInvalidDate: true });

/** Beijing wall-clock fields by Intl (not by the code under test). */
function intlFields(d: Date): Record<string, string> {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).formatToParts(d);
  return Object.fromEntries(parts.map((p) => [p.type, p.value]));
}

describe('China time', () => {
  it('when an instant is formatted, then it reads as Beijing wall-clock time with +08:00', () => {
    assert.equal(toChinaIso(new Date('2026-12-01T20:08:26.789Z')), '2026-12-02T04:08:26+08:00');
    assert.equal(chinaDate(new Date('2026-12-01T15:59:59.999Z')), '2026-12-01');
    assert.equal(chinaDate(new Date('2026-12-01T16:00:00Z')), '2026-12-02');
    assert.equal(chinaDateTime(new Date('2026-12-31T16:00:00Z')), '2027-01-01 00:00:00');
  });

  it('when any instant is formatted, then parsing it back gives the same second and Intl agrees on every field', () => {
    fc.assert(
      fc.property(instants, (d) => {
        const iso = toChinaIso(d);
        assert.match(iso, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$/);
        assert.equal(Date.parse(iso), Math.floor(d.getTime() / 1000) * 1000);
        const f = intlFields(d);
        assert.equal(iso, `${f.year}-${f.month}-${f.day}T${f.hour}:${f.minute}:${f.second}+08:00`);
        assert.equal(chinaDate(d), iso.slice(0, 10));
        assert.equal(chinaDateTime(d), iso.slice(0, 19).replace('T', ' '));
      }),
      { numRuns: 2000 },
    );
  });

  it('when a China day is given, then its start is the first instant whose China date is that day', () => {
    fc.assert(
      fc.property(instants, (d) => {
        const day = chinaDate(d);
        const start = chinaDayStart(day);
        assert.equal(chinaDate(start), day);
        assert.notEqual(chinaDate(new Date(start.getTime() - 1)), day);
        assert.ok(start.getTime() <= d.getTime() && d.getTime() < start.getTime() + 86_400_000);
      }),
      { numRuns: 1000 },
    );
    assert.equal(chinaDayStart('2024-01-02').toISOString(), '2024-01-01T16:00:00.000Z');
  });

  it('when the input is not a date or not a day, then a RangeError says so', () => {
    assert.throws(() => toChinaIso(new Date(Number.NaN)), RangeError);
    assert.throws(() => chinaDate(new Date('nonsense')), RangeError);
    for (const bad of ['', '2024-1-2', '2024-13-01', '2024-02-30', '2023-02-29', '2024-01-02T00:00', 'x']) assert.throws(() => chinaDayStart(bad), RangeError, bad);
  });
});
