import assert from 'node:assert/strict';
import mongoose, { Schema, type Connection } from 'mongoose';
import { rejection, uniqueDb, useStore } from './helpers';

describe('embedded mongo: mongoose scenarios', () => {
  const store = useStore();
  let conn: Connection;

  before(async () => {
    conn = await mongoose
      .createConnection(store.db.uri, { dbName: uniqueDb('mg'), serverSelectionTimeoutMS: 5000 })
      .asPromise();
  });
  after(async () => {
    await conn?.close();
  });

  describe('documents', () => {
    it('when a model creates a document, then it is stored with _id and __v and reads back equal', async () => {
      const Thing = conn.model('Thing', new Schema({ name: String, qty: Number, tags: [String] }));
      const created = await Thing.create({ name: 'widget', qty: 3, tags: ['a', 'b'] });
      const raw = await conn.db!.collection('things').findOne({ _id: created._id });
      assert.deepEqual(raw, { _id: created._id, name: 'widget', qty: 3, tags: ['a', 'b'], __v: 0 });
      const found = await Thing.findById(created._id).lean();
      assert.equal(found?.name, 'widget');
    });

    it('when a unique field is violated, then mongoose surfaces error code 11000 with keyValue', async () => {
      const User = conn.model(
        'User',
        new Schema({ email: { type: String, unique: true, required: true } }),
      );
      await User.init();
      await User.create({ email: 'a@example.com' });
      const e = await rejection(User.create({ email: 'a@example.com' }));
      assert.equal(e.code, 11000);
      assert.deepEqual(e.keyValue, { email: 'a@example.com' });
      assert.deepEqual(e.keyPattern, { email: 1 });
      assert.match(e.message, /E11000 duplicate key error .* index: email_1 dup key/);
      assert.equal(await User.countDocuments(), 1);
    });

    it('when findOneAndUpdate increments a missing counter with upsert, then values run 1, 2, 3 and the first insert gets __v 0', async () => {
      const Counter = conn.model('Counter', new Schema({ _id: String, seq: Number }));
      const got: number[] = [];
      for (let i = 0; i < 3; i++) {
        const c = await Counter.findOneAndUpdate(
          { _id: 'invoice' },
          { $inc: { seq: 1 } },
          { upsert: true, returnDocument: 'after' },
        );
        got.push(c!.seq!);
      }
      assert.deepEqual(got, [1, 2, 3]);
      const raw = await conn.db!.collection('counters').findOne({ _id: 'invoice' as never });
      assert.deepEqual(raw, { _id: 'invoice', seq: 3, __v: 0 });
    });

    it('when countDocuments and estimatedDocumentCount are used, then they count with and without a filter', async () => {
      const Item = conn.model('Item', new Schema({ kind: String, n: Number }));
      await Item.insertMany(
        Array.from({ length: 30 }, (_, i) => ({ kind: i % 3 === 0 ? 'x' : 'y', n: i })),
      );
      assert.equal(await Item.countDocuments({ kind: 'x' }), 10);
      assert.equal(await Item.countDocuments({ kind: 'y', n: { $gte: 20 } }), 7);
      assert.equal(await Item.countDocuments({ kind: 'none' }), 0);
      assert.equal(await Item.countDocuments({}).skip(25), 5);
      assert.equal(await Item.estimatedDocumentCount(), 30);
    });

    it('when aggregate runs $match/$group/$sort, then the groups and their order are right', async () => {
      const Sale = conn.model('Sale', new Schema({ region: String, amount: Number, year: Number }));
      await Sale.insertMany([
        { region: 'north', amount: 10, year: 2024 },
        { region: 'south', amount: 5, year: 2024 },
        { region: 'north', amount: 7, year: 2024 },
        { region: 'east', amount: 30, year: 2024 },
        { region: 'south', amount: 100, year: 2023 },
      ]);
      const rows = await Sale.aggregate<{ _id: string; total: number; n: number }>([
        { $match: { year: 2024 } },
        { $group: { _id: '$region', total: { $sum: '$amount' }, n: { $sum: 1 } } },
        { $sort: { total: -1 } },
      ]);
      assert.deepEqual(rows, [
        { _id: 'east', total: 30, n: 1 },
        { _id: 'north', total: 17, n: 2 },
        { _id: 'south', total: 5, n: 1 },
      ]);
    });

    it('when a schema has timestamps, then createdAt/updatedAt are set and only updatedAt moves on update', async () => {
      const Note = conn.model('Note', new Schema({ text: String }, { timestamps: true }));
      const n = await Note.create({ text: 'v1' });
      assert.ok(n.createdAt instanceof Date);
      assert.equal(n.createdAt.getTime(), n.updatedAt.getTime());
      await new Promise((r) => setTimeout(r, 15));
      await Note.updateOne({ _id: n._id }, { $set: { text: 'v2' } });
      const after = await Note.findById(n._id).lean();
      assert.equal(after?.text, 'v2');
      assert.equal(after!.createdAt.getTime(), n.createdAt.getTime());
      assert.ok(after!.updatedAt.getTime() > n.updatedAt.getTime(), 'updatedAt moved forward');
    });

    it('when a ref is populated, then the referenced document replaces the id', async () => {
      const Author = conn.model('Author', new Schema({ name: String }));
      const Book = conn.model(
        'Book',
        new Schema({ title: String, author: { type: Schema.Types.ObjectId, ref: 'Author' } }),
      );
      const a = await Author.create({ name: 'Lu Xun' });
      await Book.create({ title: 'Call to Arms', author: a._id });
      await Book.create({ title: 'Wandering', author: a._id });
      const books = await Book.find()
        .sort({ title: 1 })
        .populate<{ author: { name: string } }>('author')
        .lean();
      assert.deepEqual(
        books.map((b) => [b.title, b.author.name]),
        [
          ['Call to Arms', 'Lu Xun'],
          ['Wandering', 'Lu Xun'],
        ],
      );
    });

    it('when save() modifies a loaded document, then the change and the version are persisted', async () => {
      const Profile = conn.model('Profile', new Schema({ name: String, langs: [String] }));
      const p = await Profile.create({ name: 'a', langs: ['zh'] });
      const loaded = (await Profile.findById(p._id))!;
      loaded.langs.push('en');
      loaded.name = 'b';
      await loaded.save();
      const raw = await conn.db!.collection('profiles').findOne({ _id: p._id });
      assert.deepEqual(raw, { _id: p._id, name: 'b', langs: ['zh', 'en'], __v: 1 });
    });

    it('when deleteOne and deleteMany run, then exactly the matching documents disappear', async () => {
      const Tmp = conn.model('Tmp', new Schema({ k: Number }));
      await Tmp.insertMany([{ k: 1 }, { k: 1 }, { k: 2 }, { k: 3 }]);
      assert.equal((await Tmp.deleteOne({ k: 1 })).deletedCount, 1);
      assert.equal((await Tmp.deleteMany({ k: { $lte: 2 } })).deletedCount, 2);
      assert.deepEqual(
        (await Tmp.find().lean()).map((d) => d.k),
        [3],
      );
    });
  });

  describe('cursors', () => {
    it('when a QueryCursor over 10k documents is left early with break, then the server cursor stays open until reaped', async () => {
      const Row = conn.model('Row', new Schema({ i: Number }));
      const docs = Array.from({ length: 10_000 }, (_, i) => ({ i }));
      await Row.insertMany(docs);
      assert.equal(await Row.estimatedDocumentCount(), 10_000);
      const baseline = store.db.server.openCursors;
      const seen: number[] = [];
      for await (const row of Row.find().sort({ i: 1 }).cursor({ batchSize: 100 })) {
        seen.push(row.i!);
        if (seen.length === 250) break;
      }
      assert.deepEqual(
        seen,
        Array.from({ length: 250 }, (_, i) => i),
      );
      // Breaking out sends nothing (see WIRE-NOTES): the server's cursor is still open...
      assert.equal(store.db.server.openCursors, baseline + 1);
      // ...until the idle reaper closes it.
      assert.equal(store.db.server.reapCursors(Date.now() + 11 * 60_000), baseline + 1);
      assert.equal(store.db.server.openCursors, 0);
    });

    it('when a QueryCursor is read to the end, then it yields every document once and leaves no server cursor', async () => {
      const Row = conn.model('Row');
      let n = 0;
      let sum = 0;
      for await (const row of Row.find({ i: { $lt: 1000 } }).cursor({ batchSize: 64 })) {
        n++;
        sum += row.i as number;
      }
      assert.equal(n, 1000);
      assert.equal(sum, (999 * 1000) / 2);
      assert.equal(store.db.server.openCursors, 0);
    });

    it('when a QueryCursor is closed explicitly, then killCursors closes the server cursor', async () => {
      const Row = conn.model('Row');
      const cursor = Row.find().cursor({ batchSize: 10 });
      await cursor.next();
      assert.equal(store.db.server.openCursors, 1);
      await cursor.close();
      assert.equal(store.db.server.openCursors, 0);
    });
  });

  describe('indexes', () => {
    it('when syncIndexes runs on a model whose collection does not exist yet, then it creates the schema indexes', async () => {
      const schema = new Schema(
        { code: String, region: String },
        { autoIndex: false, autoCreate: false },
      );
      schema.index({ code: 1 }, { unique: true });
      schema.index({ region: 1, code: -1 });
      const Org = conn.model('Org', schema);
      const dropped = await Org.syncIndexes();
      assert.deepEqual(dropped, []);
      const names = (await conn.db!.collection('orgs').listIndexes().toArray())
        .map((i) => i.name)
        .sort();
      assert.deepEqual(names, ['_id_', 'code_1', 'region_1_code_-1']);
    });

    it('when syncIndexes finds an index the schema no longer declares, then it drops it and keeps the declared ones', async () => {
      await conn.db!.collection('orgs').createIndex({ legacy: 1 });
      const dropped = await conn.model('Org').syncIndexes();
      assert.deepEqual(dropped, ['legacy_1']);
      const names = (await conn.db!.collection('orgs').listIndexes().toArray())
        .map((i) => i.name)
        .sort();
      assert.deepEqual(names, ['_id_', 'code_1', 'region_1_code_-1']);
      const e = await rejection(conn.model('Org').create([{ code: 'A' }, { code: 'A' }]));
      assert.equal(e.code, 11000, 'the unique index synced by mongoose is enforced');
    });
  });
});
