import assert from 'node:assert/strict';
import type { Collection, Db } from 'mongodb';
import fc from 'fast-check';
import { Schema } from 'mongoose';
import { AnyDoc, rejection, uniqueDb, useClient, useMongoose, useStore } from './helpers';

/**
 * Issue #14 §2: find projection operators. Expected values are mongod 7's documented results
 * (the $slice, $elemMatch and positional `$` projection pages, whose example collections are
 * used here) and its parser's error codes (projection_parser.cpp).
 */
describe('embedded mongo: projection operators ($slice, $elemMatch, positional $, nested)', () => {
  const store = useStore();
  const h = useClient(store);
  let db: Db;
  let c: Collection<AnyDoc>;
  let schools: Collection<AnyDoc>;
  let students: Collection<AnyDoc>;
  before(async () => {
    db = h.client.db(uniqueDb('proj'));
    c = db.collection<AnyDoc>('docs');
    await c.insertMany([
      { _id: 1, x: 'keep', arr: [1, 2, 3, 4, 5], n: 7 },
      {
        _id: 2,
        item: 'socks',
        qty: 100,
        details: { colors: ['blue', 'red'], sizes: ['S', 'M', 'L'] },
      },
      { _id: 3, a: [{ b: [1, 2], c: 1 }, { b: [3, 4] }, 'scalar'] },
      { _id: 4, a: [[1, { b: 1 }, { b: 2, c: 2 }, 'scalar']], s: 'not an array' },
      {
        _id: 5,
        name: 'player1',
        games: [
          { game: 'abc', score: 8 },
          { game: 'xyz', score: 5 },
        ],
        joined: new Date('2020-01-01'),
        lastLogin: new Date('2020-05-01'),
      },
    ]);
    schools = db.collection<AnyDoc>('schools');
    await schools.insertMany([
      {
        _id: 1,
        zipcode: '63109',
        students: [
          { name: 'john', school: 102, age: 10 },
          { name: 'jess', school: 102, age: 11 },
          { name: 'jeff', school: 108, age: 15 },
        ],
      },
      {
        _id: 2,
        zipcode: '63110',
        students: [
          { name: 'ajax', school: 100, age: 7 },
          { name: 'achilles', school: 100, age: 8 },
        ],
      },
      {
        _id: 3,
        zipcode: '63109',
        students: [
          { name: 'ajax', school: 100, age: 7 },
          { name: 'achilles', school: 100, age: 8 },
        ],
      },
      {
        _id: 4,
        zipcode: '63109',
        students: [
          { name: 'barney', school: 102, age: 7 },
          { name: 'ruth', school: 102, age: 16 },
        ],
      },
    ]);
    students = db.collection<AnyDoc>('students');
    await students.insertMany([
      { _id: 1, semester: 1, grades: [70, 87, 90] },
      { _id: 2, semester: 1, grades: [90, 88, 92] },
      { _id: 3, semester: 1, grades: [85, 100, 90] },
      { _id: 4, semester: 2, grades: [79, 85, 80] },
      { _id: 5, semester: 2, grades: [88, 88, 92] },
      { _id: 6, semester: 2, grades: [95, 90, 96] },
      {
        _id: 7,
        semester: 3,
        grades: [
          { grade: 80, mean: 75, std: 8 },
          { grade: 85, mean: 90, std: 5 },
          { grade: 90, mean: 85, std: 3 },
        ],
      },
    ]);
  });

  const one = (id: number, projection: AnyDoc): Promise<AnyDoc | null> =>
    c.findOne({ _id: id }, { projection });

  describe('$slice', () => {
    const cases: Array<[string, AnyDoc, AnyDoc]> = [
      [
        'a positive count, then the first n elements and every other field',
        { arr: { $slice: 2 } },
        { _id: 1, x: 'keep', arr: [1, 2], n: 7 },
      ],
      [
        'a negative count, then the last n elements',
        { arr: { $slice: -2 } },
        { _id: 1, x: 'keep', arr: [4, 5], n: 7 },
      ],
      [
        '[skip, limit], then limit elements after skip',
        { arr: { $slice: [1, 2] } },
        { _id: 1, x: 'keep', arr: [2, 3], n: 7 },
      ],
      [
        '[negative skip, limit], then counting starts from the end',
        { arr: { $slice: [-2, 5] } },
        { _id: 1, x: 'keep', arr: [4, 5], n: 7 },
      ],
      [
        'a skip past the end, then an empty array',
        { arr: { $slice: [10, 2] } },
        { _id: 1, x: 'keep', arr: [], n: 7 },
      ],
      [
        'a count larger than the array, then the whole array',
        { arr: { $slice: 50 } },
        { _id: 1, x: 'keep', arr: [1, 2, 3, 4, 5], n: 7 },
      ],
      [
        'it is beside an inclusion, then only the included fields, _id and the sliced array',
        { n: 1, arr: { $slice: 1 } },
        { _id: 1, arr: [1], n: 7 },
      ],
      [
        'it is beside _id: 1 only, then the projection is an inclusion',
        { _id: 1, arr: { $slice: 1 } },
        { _id: 1, arr: [1] },
      ],
      [
        'it is beside an exclusion, then the rest stays',
        { x: 0, arr: { $slice: -1 } },
        { _id: 1, arr: [5], n: 7 },
      ],
    ];
    for (const [when, projection, expected] of cases) {
      it(`when $slice is ${when}`, async () => {
        assert.deepEqual(await one(1, projection), expected);
      });
    }

    it('when a nested array is sliced alone, then the embedded document keeps its other fields (exclusion)', async () => {
      assert.deepEqual(await one(2, { 'details.colors': { $slice: 1 } }), {
        _id: 2,
        item: 'socks',
        qty: 100,
        details: { colors: ['blue'], sizes: ['S', 'M', 'L'] },
      });
    });

    it('when a nested array is sliced beside an inclusion, then the embedded document holds only the sliced array', async () => {
      assert.deepEqual(await one(2, { qty: 1, 'details.colors': { $slice: 1 } }), {
        _id: 2,
        qty: 100,
        details: { colors: ['blue'] },
      });
    });

    it('when the path runs through an array of documents, then each element’s array is sliced and other elements stay', async () => {
      assert.deepEqual(await one(3, { 'a.b': { $slice: 1 } }), {
        _id: 3,
        a: [{ b: [1], c: 1 }, { b: [3] }, 'scalar'],
      });
    });

    it('when the field is not an array or is missing, then it is returned unchanged or stays missing', async () => {
      assert.deepEqual(await one(4, { s: { $slice: 1 }, _id: 0, a: 0 }), { s: 'not an array' });
      assert.deepEqual(await one(1, { missing: { $slice: 1 } }), {
        _id: 1,
        x: 'keep',
        arr: [1, 2, 3, 4, 5],
        n: 7,
      });
    });

    const errors: Array<[string, AnyDoc, number]> = [
      ['the limit is zero', { arr: { $slice: [1, 0] } }, 31259],
      ['the limit is negative with a skip', { arr: { $slice: [1, -1] } }, 31259],
      ['the array has three numbers', { arr: { $slice: [1, 2, 3] } }, 31272],
      ['it collides with an inclusion of the same path', { arr: 1, 'arr.x': { $slice: 1 } }, 31249],
    ];
    for (const [when, projection, code] of errors) {
      it(`when ${when}, then the find fails with ${code}`, async () => {
        assert.equal((await rejection(one(1, projection))).code, code);
      });
    }
  });

  it('when any array is sliced with any count or [skip, limit], then the result is the documented window of it', async () => {
    // The $slice page: n > 0 the first n, n < 0 the last |n|; [skip, limit] skips from the start
    // (or from the end for a negative skip, at most to the start) and returns at most limit.
    const window = (arr: number[], spec: number | [number, number]): number[] => {
      if (typeof spec === 'number')
        return spec >= 0 ? arr.slice(0, spec) : arr.slice(Math.max(0, arr.length + spec));
      const [skip, limit] = spec;
      const start = skip >= 0 ? Math.min(skip, arr.length) : Math.max(0, arr.length + skip);
      return arr.slice(start, start + limit);
    };
    const sl = db.collection<AnyDoc>('slices');
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: -50, max: 50 }), { maxLength: 12 }),
        fc.oneof(
          fc.integer({ min: -15, max: 15 }),
          fc.tuple(fc.integer({ min: -15, max: 15 }), fc.integer({ min: 1, max: 15 })),
        ),
        async (arr, spec) => {
          await sl.replaceOne({ _id: 1 }, { arr, other: 'kept' }, { upsert: true });
          const got = await sl.findOne({ _id: 1 }, { projection: { arr: { $slice: spec } } });
          assert.deepEqual(got, { _id: 1, arr: window(arr, spec), other: 'kept' });
        },
      ),
      { numRuns: 150 },
    );
  });

  describe('$elemMatch', () => {
    it('when the array has a matching element, then only the first match is returned with _id; without one the field is absent', async () => {
      const docs = await schools
        .find({ zipcode: '63109' }, { projection: { students: { $elemMatch: { school: 102 } } } })
        .sort({ _id: 1 })
        .toArray();
      assert.deepEqual(docs, [
        { _id: 1, students: [{ name: 'john', school: 102, age: 10 }] },
        { _id: 3 },
        { _id: 4, students: [{ name: 'barney', school: 102, age: 7 }] },
      ]);
    });

    it('when the condition has several fields, then the first element meeting all of them is returned', async () => {
      const docs = await schools
        .find(
          { zipcode: '63109' },
          { projection: { students: { $elemMatch: { school: 102, age: { $gt: 10 } } } } },
        )
        .sort({ _id: 1 })
        .toArray();
      assert.deepEqual(docs, [
        { _id: 1, students: [{ name: 'jess', school: 102, age: 11 }] },
        { _id: 3 },
        { _id: 4, students: [{ name: 'ruth', school: 102, age: 16 }] },
      ]);
    });

    it('when it is listed before included fields, then it still comes after them', async () => {
      const doc = await one(5, {
        games: { $elemMatch: { score: { $gt: 5 } } },
        joined: 1,
        lastLogin: 1,
      });
      assert.deepEqual(Object.keys(doc!), ['_id', 'joined', 'lastLogin', 'games']);
      assert.deepEqual(doc!.games, [{ game: 'abc', score: 8 }]);
    });

    it('when _id: 0 is beside it, then only the matched field is returned', async () => {
      assert.deepEqual(await one(5, { _id: 0, games: { $elemMatch: { game: 'xyz' } } }), {
        games: [{ game: 'xyz', score: 5 }],
      });
    });

    const errors: Array<[string, AnyDoc, number]> = [
      ['the field is nested', { 'students.name': { $elemMatch: { a: 1 } } }, 31275],
      ['it is inside a sub-projection', { s: { t: { $elemMatch: { a: 1 } } } }, 31275],
      ['the argument is not an object', { students: { $elemMatch: 5 } }, 31274],
    ];
    for (const [when, projection, code] of errors) {
      it(`when ${when}, then the find fails with ${code}`, async () => {
        assert.equal((await rejection(schools.findOne({}, { projection }))).code, code);
      });
    }

    it('when $elemMatch follows a positional projection, then the find fails with 31255 (31256 the other way round)', async () => {
      const filter = { students: { $elemMatch: { school: 102 } } };
      assert.equal(
        (
          await rejection(
            schools.findOne(filter, {
              projection: { 'students.$': 1, other: { $elemMatch: { a: 1 } } },
            }),
          )
        ).code,
        31255,
      );
      assert.equal(
        (
          await rejection(
            schools.findOne(filter, {
              projection: { other: { $elemMatch: { a: 1 } }, 'students.$': 1 },
            }),
          )
        ).code,
        31256,
      );
    });
  });

  describe('positional $', () => {
    it('when the query selects array elements, then each document returns the first element that matched', async () => {
      const docs = await students
        .find({ semester: 1, grades: { $gte: 85 } }, { projection: { 'grades.$': 1 } })
        .sort({ _id: 1 })
        .toArray();
      assert.deepEqual(docs, [
        { _id: 1, grades: [87] },
        { _id: 2, grades: [90] },
        { _id: 3, grades: [85] },
      ]);
    });

    it('when the array holds documents and the query names one of their fields, then the matching document is returned', async () => {
      assert.deepEqual(
        await students.findOne({ 'grades.mean': { $gt: 80 } }, { projection: { 'grades.$': 1 } }),
        { _id: 7, grades: [{ grade: 85, mean: 90, std: 5 }] },
      );
    });

    it('when the query uses $elemMatch on the array, then its first match is returned beside other included fields', async () => {
      assert.deepEqual(
        await students.findOne(
          { grades: { $elemMatch: { mean: { $gt: 70 }, grade: { $gt: 85 } } } },
          { projection: { semester: 1, 'grades.$': 1 } },
        ),
        { _id: 7, semester: 3, grades: [{ grade: 90, mean: 85, std: 3 }] },
      );
    });

    // Cases from mongod's positional_projection.js.
    const recorded: Array<[string, AnyDoc, AnyDoc, AnyDoc]> = [
      [
        'the path is nested',
        { 'x.y.a': 1 },
        {
          x: {
            y: [
              { a: 1, b: 1 },
              { a: 1, b: 2 },
            ],
          },
        },
        { x: { y: [{ a: 1, b: 1 }] } },
      ],
      [
        '$in picks the first matching element',
        { a: { $in: [2, 3] } },
        { a: [1, 2, 3] },
        { a: [2] },
      ],
      [
        'an $or over the same field works as $in',
        { $or: [{ a: 2 }, { a: 3 }] },
        { a: [1, 2, 3] },
        { a: [2] },
      ],
      [
        '$and conditions: the last one decides',
        { $and: [{ a: 1 }, { a: 2 }, { a: 3 }] },
        { a: [1, 2, 3] },
        { a: [3] },
      ],
      [
        '$and conditions in the other order',
        { $and: [{ a: 3 }, { a: 2 }, { a: 1 }] },
        { a: [1, 2, 3] },
        { a: [1] },
      ],
      [
        '$elemMatch with a range',
        { a: { $elemMatch: { $gt: 1, $lt: 3 } } },
        { a: [1, 2, 3] },
        { a: [2] },
      ],
      [
        '$elemMatch on a field of the elements',
        { a: { $elemMatch: { y: { $exists: true } } } },
        { a: [{ y: 1 }, { y: 2 }] },
        { a: [{ y: 1 }] },
      ],
    ];
    for (const [when, filter, doc, expected] of recorded) {
      it(`when ${when}, then the recorded element is returned`, async () => {
        const pc = db.collection<AnyDoc>('positional');
        await pc.deleteMany({});
        await pc.insertOne({ _id: 1, ...doc });
        const path = 'x' in expected ? 'x.y.$' : 'a.$';
        assert.deepEqual(await pc.findOne(filter, { projection: { [path]: 1, _id: 0 } }), expected);
      });
    }

    const unrecorded: Array<[string, AnyDoc]> = [
      ['the whole array is compared', { a: [1, 2, 3] }],
      ['an $or spans other fields', { $or: [{ a: 1 }, { b: 5 }] }],
      ['$nor is used', { $nor: [{ a: -1 }, { a: -2 }], a: { $exists: true } }],
      ['$not is used', { a: { $not: { $elemMatch: { $eq: 100 } } } }],
    ];
    for (const [when, filter] of unrecorded) {
      it(`when ${when}, then no position is recorded and the find fails with 51246`, async () => {
        const pc = db.collection<AnyDoc>('positional');
        await pc.deleteMany({});
        await pc.insertOne({ _id: 1, a: [1, 2, 3], b: [4, 5, 6] });
        assert.equal(
          (await rejection(pc.findOne(filter, { projection: { 'a.$': 1 } }))).code,
          51246,
        );
      });
    }

    it('when findOneAndUpdate returns its document through a positional projection, then the element matched by its query is returned', async () => {
      const r = await students.findOneAndUpdate(
        { _id: 4, grades: { $gt: 80 } },
        { $set: { seen: true } },
        { projection: { 'grades.$': 1 }, returnDocument: 'after' },
      );
      assert.deepEqual(r, { _id: 4, grades: [85] });
    });

    const errors: Array<[string, AnyDoc, AnyDoc, number]> = [
      ['the query has no condition on the array', { semester: 1 }, { 'grades.$': 1 }, 31277],
      [
        'two positional projections are given',
        { grades: 90, semester: 1 },
        { 'grades.$': 1, 'semester.$': 1 },
        31276,
      ],
      ['the path has the operator twice', { grades: 90 }, { 'grades.$.x.$': 1 }, 31287],
      ['the path ends with .$.', { grades: 90 }, { 'grades.$.': 1 }, 31270],
      ['it is given an object', { grades: 90 }, { 'grades.$': { $slice: 1 } }, 31271],
      ['it is given a literal', { grades: 90 }, { 'grades.$': 'x' }, 31308],
    ];
    for (const [when, filter, projection, code] of errors) {
      it(`when ${when}, then the find fails with ${code}`, async () => {
        assert.equal((await rejection(students.findOne(filter, { projection }))).code, code);
      });
    }
  });

  describe('nested-object projections and invalid combinations', () => {
    it('when a sub-object includes fields, then it is the same as the dotted inclusion', async () => {
      const nested = await one(2, { details: { colors: 1 }, qty: 1 });
      assert.deepEqual(nested, { _id: 2, qty: 100, details: { colors: ['blue', 'red'] } });
      assert.deepEqual(await one(2, { 'details.colors': 1, qty: 1 }), nested);
    });

    it('when a sub-object and a dotted path name fields of the same document, then both are included', async () => {
      assert.deepEqual(await one(2, { 'details.colors': 1, details: { sizes: 1 } }), {
        _id: 2,
        details: { colors: ['blue', 'red'], sizes: ['S', 'M', 'L'] },
      });
    });

    it('when a sub-object excludes fields, then only those are removed', async () => {
      assert.deepEqual(await one(2, { details: { sizes: 0 }, item: 0 }), {
        _id: 2,
        qty: 100,
        details: { colors: ['blue', 'red'] },
      });
    });

    it('when an inclusion runs through nested arrays, then documents are projected, nested arrays kept and scalars dropped', async () => {
      assert.deepEqual(await one(4, { 'a.b': 1, _id: 0 }), { a: [[{ b: 1 }, { b: 2 }]] });
    });

    const errors: Array<[string, AnyDoc, number, RegExp]> = [
      ['an exclusion follows an inclusion', { a: 1, b: 0 }, 31254, /exclusion on field b/],
      ['an inclusion follows an exclusion', { a: 0, b: 1 }, 31253, /inclusion on field b/],
      ['a sub-object mixes them', { a: { b: 1, c: 0 } }, 31254, /exclusion on field c/],
      [
        'a path below an included path is added',
        { a: 1, 'a.b': 1 },
        31249,
        /Path collision at a\.b remaining portion b/,
      ],
      ['a path above an included path is added', { 'a.b': 1, a: 1 }, 31250, /Path collision at a$/],
      [
        'a sub-object repeats a dotted path',
        { 'a.b': 1, a: { b: 1 } },
        31250,
        /Path collision at b/,
      ],
      [
        'a sub-object goes below a dotted path',
        { 'a.b': 1, a: { b: { c: 1 } } },
        31250,
        /Path collision/,
      ],
    ];
    for (const [when, projection, code, message] of errors) {
      it(`when ${when}, then the find fails with ${code}`, async () => {
        const e = await rejection(one(1, projection));
        assert.equal(e.code, code);
        assert.match(e.message, message);
      });
    }

    it('when a find projection computes a value, then it is refused by name (115), not answered differently', async () => {
      for (const projection of [{ a: 'literal' }, { a: { $add: [1, 2] } }]) {
        const e = await rejection(one(1, projection));
        assert.equal(e.code, 115);
        assert.match(e.message, /find projection/);
      }
    });
  });

  describe('aggregation $project (where mongod takes none of find’s projection operators)', () => {
    const cases: Array<[string, AnyDoc, number]> = [
      ['a positional path', { 'grades.$': 1 }, 31324],
      ['$elemMatch', { grades: { $elemMatch: { $gt: 1 } } }, 168],
      ['find’s $slice: n', { grades: { $slice: 1 } }, 28667],
      ['find’s $slice: [skip, limit]', { grades: { $slice: [1, 1] } }, 28724],
    ];
    for (const [what, projection, code] of cases) {
      it(`when $project is given ${what}, then the aggregate fails with ${code} instead of answering as find() would`, async () => {
        const e = await rejection(
          students.aggregate([{ $match: { grades: 90 } }, { $project: projection }]).toArray(),
        );
        assert.equal(e.code, code);
      });
    }

    it('when $project uses the $slice expression, then it slices as mongod’s expression does', async () => {
      const docs = await students
        .aggregate([
          { $match: { _id: { $lte: 2 } } },
          { $sort: { _id: 1 } },
          { $project: { last: { $slice: ['$grades', -1] }, mid: { $slice: ['$grades', 1, 1] } } },
        ])
        .toArray();
      assert.deepEqual(docs, [
        { _id: 1, last: [90], mid: [87] },
        { _id: 2, last: [92], mid: [88] },
      ]);
    });
  });

  describe('through mongoose', () => {
    const m = useMongoose(store, () => db.databaseName);

    it('when a query selects with $slice, $elemMatch or a positional path, then the documents come back as mongod shapes them', async () => {
      const School = m.conn.model(
        'School',
        new Schema({
          _id: Number,
          zipcode: String,
          students: [{ _id: false, name: String, school: Number, age: Number }],
        }),
        'schools',
      );
      const sliced = await School.findById(1)
        .select({ students: { $slice: -1 } })
        .lean();
      assert.deepEqual(sliced?.students, [{ name: 'jeff', school: 108, age: 15 }]);
      const matched = await School.find({ zipcode: '63109' })
        .select({ students: { $elemMatch: { age: { $gte: 15 } } } })
        .sort({ _id: 1 })
        .lean();
      assert.deepEqual(matched, [
        { _id: 1, students: [{ name: 'jeff', school: 108, age: 15 }] },
        { _id: 3 },
        { _id: 4, students: [{ name: 'ruth', school: 102, age: 16 }] },
      ]);
      const positional = await School.findOne({ 'students.name': 'achilles', zipcode: '63110' })
        .select({ 'students.$': 1 })
        .lean();
      assert.deepEqual(positional, {
        _id: 2,
        students: [{ name: 'achilles', school: 100, age: 8 }],
      });
    });

    it('when findOneAndUpdate is given a $slice projection, then the updated document is sliced', async () => {
      const Doc = m.conn.model(
        'Doc',
        new Schema({ _id: Number, arr: [Number] }, { strict: false }),
        'docs',
      );
      const r = await Doc.findOneAndUpdate(
        { _id: 1 },
        { $push: { arr: 6 } },
        { returnDocument: 'after', projection: { arr: { $slice: -2 } } },
      ).lean();
      assert.deepEqual(r?.arr, [5, 6]);
      await c.updateOne({ _id: 1 }, { $pop: { arr: 1 } });
    });
  });
});
