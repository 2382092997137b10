import assert from 'node:assert/strict';
import fc from 'fast-check';
import mongoose from 'mongoose';
import {
  chinaDate,
  chinaDateTime,
  chinaDayEnd,
  chinaDayExpression,
  chinaDayRange,
  chinaDayStart,
  chinaPeriodStart,
  toChinaIso,
} from '../../src/time/china';
import { intlBeijingFields } from '../helpers/china-time';
import { useEmbeddedMongo } from '../helpers/db';

// From 1992 on Asia/Shanghai is UTC+8 all year, so Intl's time-zone data is an independent oracle.
const instants = fc.date({
  min: new Date('1992-01-01T00:00:00Z'),
  max: new Date('2999-12-31T00:00:00Z'),
  noInvalidDate: true,
});

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
        const f = intlBeijingFields(d);
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
    for (const bad of [
      '',
      '2024-1-2',
      '2024-13-01',
      '2024-02-30',
      '2023-02-29',
      '2024-01-02T00:00',
      'x',
    ])
      assert.throws(() => chinaDayStart(bad), RangeError, bad);
  });
});

describe('China day ranges', () => {
  const days = fc
    .date({
      min: new Date('1992-01-01T00:00:00Z'),
      max: new Date('2999-12-30T00:00:00Z'),
      noInvalidDate: true,
    })
    .map(chinaDate);

  it('when from and to are China days, then an instant is in the range exactly when its China date lies between them', () => {
    fc.assert(
      fc.property(days, days, instants, (a, b, d) => {
        const [from, to] = a <= b ? [a, b] : [b, a];
        const r = chinaDayRange(from, to)!;
        const inside = r.$gte!.getTime() <= d.getTime() && d.getTime() < r.$lt!.getTime();
        assert.equal(inside, from <= chinaDate(d) && chinaDate(d) <= to);
      }),
      { numRuns: 1000 },
    );
  });

  it('when only one bound or none is given, then the other side stays open', () => {
    assert.equal(chinaDayRange(), undefined);
    assert.equal(chinaDayRange('', ''), undefined);
    assert.deepEqual(chinaDayRange('2026-12-02'), { $gte: new Date('2026-12-01T16:00:00Z') });
    assert.deepEqual(chinaDayRange(undefined, '2026-12-02'), {
      $lt: new Date('2026-12-02T16:00:00Z'),
    });
    assert.equal(chinaDayEnd('2026-12-31').toISOString(), '2026-12-31T16:00:00.000Z');
    assert.throws(() => chinaDayRange('2026-02-30'), RangeError);
  });

  it('when a month or a day key is given, then its period starts at China midnight of its first day', () => {
    assert.equal(chinaPeriodStart('2026-03').toISOString(), '2026-02-28T16:00:00.000Z');
    assert.equal(chinaPeriodStart('2026-03-05').toISOString(), '2026-03-04T16:00:00.000Z');
    assert.throws(() => chinaPeriodStart('2026-13'), RangeError);
  });
});

describe('China days in the database', () => {
  useEmbeddedMongo();

  it('when instants are grouped by chinaDayExpression, then each group key is the China date of its instants', async () => {
    const coll = mongoose.connection.db!.collection('china_days');
    const ats = [
      new Date('2026-12-01T15:59:59.999Z'),
      new Date('2026-12-01T16:00:00Z'),
      new Date('2026-12-31T23:00:00Z'),
      new Date('2024-02-28T16:30:00Z'),
    ];
    await coll.insertMany(ats.map((at) => ({ at })));
    const rows = await coll
      .aggregate<{ _id: string; n: number }>([
        { $group: { _id: chinaDayExpression('$at'), n: { $sum: 1 } } },
        { $sort: { _id: 1 } },
      ])
      .toArray();
    assert.deepEqual(rows, [
      { _id: '2024-02-29', n: 1 },
      { _id: '2026-12-01', n: 1 },
      { _id: '2026-12-02', n: 1 },
      { _id: '2027-01-01', n: 1 },
    ]);
    for (const at of ats) assert.ok(rows.some((r) => r._id === chinaDate(at)));
  });
});
