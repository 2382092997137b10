import assert from 'node:assert/strict';
import { Long, type Document } from 'bson';
import { MongoBulkWriteError, MongoServerError, type Db } from 'mongodb';
import { AnyDoc, rejection, uniqueDb, useClient, useStore } from './helpers';

/** Runs a command and returns the raw reply, with int64s left as Long. */
function run(db: Db, cmd: Document): Promise<Document> {
  return db.command(cmd, { promoteLongs: false });
}

describe('embedded mongo: command reply shapes (raw driver)', () => {
  const store = useStore();
  const h = useClient(store);
  const dbName = uniqueDb('cmds');
  let db: Db;
  before(() => {
    db = h.client.db(dbName);
  });

  describe('server information', () => {
    for (const name of ['hello', 'isMaster', 'ismaster']) {
      it(`when '${name}' is run, then it describes a writable standalone on wire version 21`, async () => {
        const r = await run(db, { [name]: 1 });
        assert.equal(r.ok, 1);
        assert.equal(r.ismaster, true);
        assert.equal(r.isWritablePrimary, true);
        assert.equal(r.maxWireVersion, 21);
        assert.equal(r.logicalSessionTimeoutMinutes, 30);
        assert.equal(r.setName, undefined);
        assert.equal(r.topologyVersion, undefined);
      });
    }

    it('when ping is run, then the reply is exactly {ok: 1}', async () => {
      assert.deepEqual(await run(db, { ping: 1 }), { ok: 1 });
    });

    it('when buildInfo is run, then it reports version 7.0.0 as string and array', async () => {
      const r = await run(db, { buildInfo: 1 });
      assert.equal(r.ok, 1);
      assert.equal(r.version, '7.0.0');
      assert.deepEqual(r.versionArray, [7, 0, 0, 0]);
      assert.equal(r.maxBsonObjectSize, 16 * 1024 * 1024);
    });

    it('when endSessions is run with session ids, then it answers ok', async () => {
      const session = h.client.startSession();
      const id = session.id!;
      await session.endSession();
      assert.deepEqual(await run(h.client.db('admin'), { endSessions: [id] }), { ok: 1 });
    });
  });

  describe('databases and collections', () => {
    it('when listDatabases is run, then it lists a database that has data with name, sizeOnDisk, empty and a totalSize', async () => {
      await db.collection<AnyDoc>('ld').insertOne({ a: 1 });
      const r = await run(h.client.db('admin'), { listDatabases: 1 });
      assert.equal(r.ok, 1);
      const mine = r.databases.find((d: Document) => d.name === dbName);
      assert.ok(mine, `${dbName} listed`);
      assert.equal(mine.empty, false);
      assert.equal(typeof mine.sizeOnDisk, 'number');
      assert.ok(mine.sizeOnDisk > 0);
      assert.equal(typeof r.totalSize, 'number');
      const names = await run(h.client.db('admin'), { listDatabases: 1, nameOnly: true });
      assert.deepEqual(
        names.databases.find((d: Document) => d.name === dbName),
        { name: dbName },
      );
      assert.equal(names.totalSize, undefined);
    });

    it('when listCollections is run, then it returns a cursor of {name, type, options, info, idIndex} in the $cmd.listCollections namespace', async () => {
      await run(db, { create: 'lc_a' });
      const r = await run(db, { listCollections: 1, filter: { name: 'lc_a' }, cursor: {} });
      assert.equal(r.ok, 1);
      assert.ok(r.cursor.id instanceof Long);
      assert.equal(r.cursor.id.isZero(), true);
      assert.equal(r.cursor.ns, `${dbName}.$cmd.listCollections`);
      assert.equal(r.cursor.firstBatch.length, 1);
      const info = r.cursor.firstBatch[0];
      assert.equal(info.name, 'lc_a');
      assert.equal(info.type, 'collection');
      assert.deepEqual(info.options, {});
      assert.equal(info.info.readOnly, false);
      assert.deepEqual(info.idIndex, { v: 2, key: { _id: 1 }, name: '_id_' });
      const only = await run(db, {
        listCollections: 1,
        filter: { name: 'lc_a' },
        nameOnly: true,
        cursor: {},
      });
      assert.deepEqual(only.cursor.firstBatch, [{ name: 'lc_a', type: 'collection' }]);
    });

    it('when create is run twice for one name, then the first succeeds and the second fails with 48 NamespaceExists', async () => {
      assert.deepEqual(await run(db, { create: 'twice' }), { ok: 1 });
      const e = await rejection(run(db, { create: 'twice' }));
      assert.ok(e instanceof MongoServerError);
      assert.equal(e.code, 48);
      assert.equal(e.codeName, 'NamespaceExists');
      assert.match(e.message, /already exists/);
    });

    it('when drop is run, then it reports nIndexesWas and ns, and dropping a missing collection is still ok', async () => {
      await db.collection<AnyDoc>('dropme').insertOne({ a: 1 });
      await db.collection<AnyDoc>('dropme').createIndex({ a: 1 });
      const r = await run(db, { drop: 'dropme' });
      assert.deepEqual(r, { nIndexesWas: 2, ns: `${dbName}.dropme`, ok: 1 });
      assert.equal(await db.collection<AnyDoc>('dropme').countDocuments(), 0);
      assert.deepEqual(await run(db, { drop: 'never_existed' }), { ok: 1 });
    });

    it('when dropDatabase is run, then it answers {dropped, ok} and the database is gone', async () => {
      const other = h.client.db(uniqueDb('dropdb'));
      await other.collection('x').insertOne({ a: 1 });
      const r = await run(other, { dropDatabase: 1 });
      assert.deepEqual(r, { dropped: other.databaseName, ok: 1 });
      const list = await run(h.client.db('admin'), { listDatabases: 1, nameOnly: true });
      assert.equal(
        list.databases.some((d: Document) => d.name === other.databaseName),
        false,
      );
    });
  });

  describe('writes', () => {
    it('when insert is run, then the reply is {n, ok}', async () => {
      const r = await run(db, { insert: 'ins', documents: [{ _id: 1 }, { _id: 2 }, { _id: 3 }] });
      assert.deepEqual(r, { n: 3, ok: 1 });
    });

    it('when an ordered insert hits a duplicate, then it stops there with one writeError carrying index, 11000, keyPattern and keyValue', async () => {
      const r = await run(db, {
        insert: 'ord',
        documents: [{ _id: 'a' }, { _id: 'a' }, { _id: 'b' }],
        ordered: true,
      });
      assert.equal(r.ok, 1);
      assert.equal(r.n, 1);
      assert.equal(r.writeErrors.length, 1);
      const we = r.writeErrors[0];
      assert.equal(we.index, 1);
      assert.equal(we.code, 11000);
      assert.equal(
        we.errmsg,
        `E11000 duplicate key error collection: ${dbName}.ord index: _id_ dup key: { _id: "a" }`,
      );
      assert.deepEqual(we.keyPattern, { _id: 1 });
      assert.deepEqual(we.keyValue, { _id: 'a' });
      assert.equal(
        await db.collection<AnyDoc>('ord').countDocuments({ _id: 'b' }),
        0,
        'nothing after the failure was inserted',
      );
    });

    it('when an unordered insert hits duplicates, then it inserts the rest and lists every failure in index order', async () => {
      await db.collection<AnyDoc>('unord').createIndex({ email: 1 }, { unique: true });
      const r = await run(db, {
        insert: 'unord',
        documents: [
          { email: 'a@x' },
          { email: 'a@x' },
          { email: 'b@x' },
          { email: 'b@x' },
          { email: 'c@x' },
        ],
        ordered: false,
      });
      assert.equal(r.n, 3);
      assert.deepEqual(
        r.writeErrors.map((w: Document) => [w.index, w.code]),
        [
          [1, 11000],
          [3, 11000],
        ],
      );
      assert.equal(
        r.writeErrors[0].errmsg,
        `E11000 duplicate key error collection: ${dbName}.unord index: email_1 dup key: { email: "a@x" }`,
      );
      assert.deepEqual(r.writeErrors[1].keyPattern, { email: 1 });
      assert.deepEqual(r.writeErrors[1].keyValue, { email: 'b@x' });
    });

    it('when the driver runs insertMany unordered over duplicates, then the bulk error reports insertedCount and each failed index', async () => {
      await db.collection<AnyDoc>('bulk').createIndex({ k: 1 }, { unique: true });
      const e = await rejection(
        db
          .collection<AnyDoc>('bulk')
          .insertMany([{ k: 1 }, { k: 1 }, { k: 2 }], { ordered: false }),
      );
      assert.ok(e instanceof MongoBulkWriteError);
      assert.equal(e.insertedCount, 2);
      const errs = Array.isArray(e.writeErrors) ? e.writeErrors : [e.writeErrors];
      assert.deepEqual(
        errs.map((w) => [w.index, w.code]),
        [[1, 11000]],
      );
    });

    it('when update modifies, leaves unchanged and upserts, then n, nModified and upserted[{index, _id}] say so', async () => {
      await db.collection<AnyDoc>('upd').insertMany([
        { _id: 1, v: 1 },
        { _id: 2, v: 2 },
      ]);
      const r = await run(db, {
        update: 'upd',
        updates: [
          { q: { _id: 1 }, u: { $set: { v: 10 } } },
          { q: { _id: 2 }, u: { $set: { v: 2 } } },
          { q: { _id: 3 }, u: { $set: { v: 3 } }, upsert: true },
        ],
      });
      assert.deepEqual(r, { n: 3, nModified: 1, upserted: [{ index: 2, _id: 3 }], ok: 1 });
      assert.deepEqual(await db.collection<AnyDoc>('upd').find().sort({ _id: 1 }).toArray(), [
        { _id: 1, v: 10 },
        { _id: 2, v: 2 },
        { _id: 3, v: 3 },
      ]);
    });

    it('when update is multi, then every match is counted; without multi only one', async () => {
      await db.collection<AnyDoc>('multi').insertMany([{ g: 1 }, { g: 1 }, { g: 1 }]);
      const one = await run(db, {
        update: 'multi',
        updates: [{ q: { g: 1 }, u: { $inc: { x: 1 } } }],
      });
      assert.deepEqual(one, { n: 1, nModified: 1, ok: 1 });
      const all = await run(db, {
        update: 'multi',
        updates: [{ q: { g: 1 }, u: { $inc: { x: 1 } }, multi: true }],
      });
      assert.deepEqual(all, { n: 3, nModified: 3, ok: 1 });
    });

    it('when an update violates a unique index, then it is a per-statement writeError and later statements still run when unordered', async () => {
      await db.collection<AnyDoc>('updu').createIndex({ u: 1 }, { unique: true });
      await db.collection<AnyDoc>('updu').insertMany([
        { _id: 1, u: 'a' },
        { _id: 2, u: 'b' },
      ]);
      const r = await run(db, {
        update: 'updu',
        ordered: false,
        updates: [
          { q: { _id: 2 }, u: { $set: { u: 'a' } } },
          { q: { _id: 2 }, u: { $set: { other: true } } },
        ],
      });
      assert.equal(r.n, 1);
      assert.equal(r.nModified, 1);
      assert.equal(r.writeErrors.length, 1);
      assert.equal(r.writeErrors[0].index, 0);
      assert.equal(r.writeErrors[0].code, 11000);
      assert.deepEqual(r.writeErrors[0].keyValue, { u: 'a' });
      assert.deepEqual(await db.collection<AnyDoc>('updu').findOne({ _id: 2 }), {
        _id: 2,
        u: 'b',
        other: true,
      });
    });

    it('when an update uses an unknown modifier, then it is a writeError even if nothing matches', async () => {
      const r = await run(db, {
        update: 'upd',
        updates: [{ q: { _id: 'none' }, u: { $sett: { v: 1 } } }],
      });
      assert.equal(r.n, 0);
      assert.equal(r.writeErrors.length, 1);
      assert.equal(r.writeErrors[0].index, 0);
      assert.match(r.writeErrors[0].errmsg, /Unknown modifier: \$sett/);
    });

    it('when delete is run with limit 1 and limit 0, then n counts what was removed', async () => {
      await db.collection<AnyDoc>('del').insertMany([{ t: 1 }, { t: 1 }, { t: 1 }, { t: 2 }]);
      assert.deepEqual(await run(db, { delete: 'del', deletes: [{ q: { t: 1 }, limit: 1 }] }), {
        n: 1,
        ok: 1,
      });
      assert.deepEqual(await run(db, { delete: 'del', deletes: [{ q: { t: 1 }, limit: 0 }] }), {
        n: 2,
        ok: 1,
      });
      assert.deepEqual(await run(db, { delete: 'del', deletes: [{ q: { t: 9 }, limit: 0 }] }), {
        n: 0,
        ok: 1,
      });
      assert.equal(await db.collection<AnyDoc>('del').countDocuments(), 1);
    });
  });

  describe('findAndModify', () => {
    before(async () => {
      await db.collection<AnyDoc>('fam').insertOne({ _id: 'existing', n: 1 });
    });

    it('when it upserts, then lastErrorObject is {n: 1, updatedExisting: false, upserted: _id}', async () => {
      const r = await run(db, {
        findAndModify: 'fam',
        query: { _id: 'new' },
        update: { $inc: { n: 1 } },
        upsert: true,
        new: true,
      });
      assert.deepEqual(r, {
        lastErrorObject: { n: 1, updatedExisting: false, upserted: 'new' },
        value: { _id: 'new', n: 1 },
        ok: 1,
      });
    });

    it('when it updates, then lastErrorObject is {n: 1, updatedExisting: true} and value is the old or new document', async () => {
      const before = await run(db, {
        findAndModify: 'fam',
        query: { _id: 'existing' },
        update: { $inc: { n: 1 } },
      });
      assert.deepEqual(before, {
        lastErrorObject: { n: 1, updatedExisting: true },
        value: { _id: 'existing', n: 1 },
        ok: 1,
      });
      const after = await run(db, {
        findAndModify: 'fam',
        query: { _id: 'existing' },
        update: { $inc: { n: 1 } },
        new: true,
      });
      assert.deepEqual(after, {
        lastErrorObject: { n: 1, updatedExisting: true },
        value: { _id: 'existing', n: 3 },
        ok: 1,
      });
    });

    it('when nothing matches and there is no upsert, then lastErrorObject is {n: 0, updatedExisting: false} and value null', async () => {
      const r = await run(db, {
        findAndModify: 'fam',
        query: { _id: 'nope' },
        update: { $set: { x: 1 } },
      });
      assert.deepEqual(r, {
        lastErrorObject: { n: 0, updatedExisting: false },
        value: null,
        ok: 1,
      });
    });

    it('when it removes, then lastErrorObject is {n: 1} and value the removed document', async () => {
      await db.collection<AnyDoc>('fam').insertOne({ _id: 'gone' });
      const r = await run(db, { findAndModify: 'fam', query: { _id: 'gone' }, remove: true });
      assert.deepEqual(r, { lastErrorObject: { n: 1 }, value: { _id: 'gone' }, ok: 1 });
      assert.equal(await db.collection<AnyDoc>('fam').findOne({ _id: 'gone' }), null);
    });

    it('when a sort is given, then the first document in that order is modified', async () => {
      await db.collection<AnyDoc>('famsort').insertMany([
        { _id: 1, p: 5 },
        { _id: 2, p: 9 },
        { _id: 3, p: 1 },
      ]);
      const r = await run(db, {
        findAndModify: 'famsort',
        query: {},
        sort: { p: -1 },
        update: { $set: { taken: true } },
        new: true,
        fields: { p: 1 },
      });
      assert.deepEqual(r.value, { _id: 2, p: 9 });
    });
  });

  describe('reads', () => {
    before(async () => {
      await db.collection<AnyDoc>('reads').insertMany(
        Array.from({ length: 250 }, (_, i) => ({
          _id: i,
          even: i % 2 === 0,
          tag: ['a', 'b', 'c'][i % 3],
        })),
      );
    });

    it('when find has no batchSize, then the first batch is 101 documents and the cursor id is a non-zero int64', async () => {
      const r = await run(db, { find: 'reads', filter: {}, sort: { _id: 1 } });
      assert.equal(r.ok, 1);
      assert.equal(r.cursor.ns, `${dbName}.reads`);
      assert.equal(r.cursor.firstBatch.length, 101);
      assert.equal(r.cursor.firstBatch[100]._id, 100);
      assert.ok(r.cursor.id instanceof Long, 'cursor id is a BSON int64');
      assert.equal(r.cursor.id.isZero(), false);
      await run(db, { killCursors: 'reads', cursors: [r.cursor.id] });
    });

    it('when getMore follows, then nextBatch continues where firstBatch stopped and id becomes 0 at the end', async () => {
      const first = await run(db, {
        find: 'reads',
        filter: { even: true },
        sort: { _id: 1 },
        batchSize: 100,
      });
      assert.equal(first.cursor.firstBatch.length, 100);
      const more = await run(db, { getMore: first.cursor.id, collection: 'reads', batchSize: 50 });
      assert.equal(more.ok, 1);
      assert.equal(more.cursor.ns, `${dbName}.reads`);
      assert.deepEqual(
        more.cursor.nextBatch.map((d: Document) => d._id),
        Array.from({ length: 25 }, (_, i) => 200 + 2 * i),
      );
      assert.ok(more.cursor.id instanceof Long);
      assert.equal(more.cursor.id.isZero(), true, 'exhausted cursor has id 0');
    });

    it('when killCursors is run, then the reply lists it as killed and a later getMore fails with 43 CursorNotFound', async () => {
      const first = await run(db, { find: 'reads', filter: {}, batchSize: 2 });
      const id: Long = first.cursor.id;
      const r = await run(db, { killCursors: 'reads', cursors: [id, Long.fromNumber(12345)] });
      assert.equal(r.ok, 1);
      assert.deepEqual(
        r.cursorsKilled.map((x: Long) => x.toString()),
        [id.toString()],
      );
      assert.deepEqual(
        r.cursorsNotFound.map((x: Long) => x.toString()),
        ['12345'],
      );
      assert.deepEqual(r.cursorsAlive, []);
      assert.deepEqual(r.cursorsUnknown, []);
      const e = await rejection(run(db, { getMore: id, collection: 'reads' }));
      assert.equal(e.code, 43);
      assert.equal(e.codeName, 'CursorNotFound');
    });

    it('when find has limit and singleBatch, then the cursor is closed (id 0) after that many documents', async () => {
      const r = await run(db, {
        find: 'reads',
        filter: { tag: 'b' },
        sort: { _id: -1 },
        limit: 1,
        singleBatch: true,
      });
      assert.deepEqual(r.cursor.firstBatch, [{ _id: 247, even: false, tag: 'b' }]);
      assert.equal(r.cursor.id.isZero(), true);
    });

    it('when count is run with query, skip and limit, then n reflects all three', async () => {
      assert.deepEqual(await run(db, { count: 'reads' }), { n: 250, ok: 1 });
      assert.deepEqual(await run(db, { count: 'reads', query: { tag: 'a' } }), { n: 84, ok: 1 });
      assert.deepEqual(await run(db, { count: 'reads', query: { tag: 'a' }, skip: 80 }), {
        n: 4,
        ok: 1,
      });
      assert.deepEqual(await run(db, { count: 'reads', query: { tag: 'a' }, limit: 10 }), {
        n: 10,
        ok: 1,
      });
      assert.deepEqual(await run(db, { count: 'missing_coll' }), { n: 0, ok: 1 });
    });

    it('when distinct is run, then values are unique, sorted, and array elements count separately', async () => {
      assert.deepEqual(await run(db, { distinct: 'reads', key: 'tag' }), {
        values: ['a', 'b', 'c'],
        ok: 1,
      });
      await db
        .collection<AnyDoc>('dist')
        .insertMany([{ v: [3, 1] }, { v: 2 }, { v: 1 }, { v: 'x' }, {}]);
      assert.deepEqual(await run(db, { distinct: 'dist', key: 'v', query: {} }), {
        values: [1, 2, 3, 'x'],
        ok: 1,
      });
    });

    it('when aggregate is run, then the reply is a cursor {firstBatch, id, ns}', async () => {
      const r = await run(db, {
        aggregate: 'reads',
        pipeline: [
          { $match: { even: true } },
          { $group: { _id: '$tag', n: { $sum: 1 } } },
          { $sort: { _id: 1 } },
        ],
        cursor: {},
      });
      assert.equal(r.ok, 1);
      assert.equal(r.cursor.ns, `${dbName}.reads`);
      assert.ok(r.cursor.id instanceof Long);
      assert.equal(r.cursor.id.isZero(), true);
      assert.deepEqual(r.cursor.firstBatch, [
        { _id: 'a', n: 42 },
        { _id: 'b', n: 41 },
        { _id: 'c', n: 42 },
      ]);
    });

    it('when aggregate has a cursor batchSize, then getMore returns the rest', async () => {
      const r = await run(db, {
        aggregate: 'reads',
        pipeline: [{ $sort: { _id: 1 } }, { $project: { _id: 1 } }],
        cursor: { batchSize: 5 },
      });
      assert.equal(r.cursor.firstBatch.length, 5);
      const more = await run(db, { getMore: r.cursor.id, collection: 'reads' });
      assert.equal(more.cursor.nextBatch.length, 245);
      assert.equal(more.cursor.id.isZero(), true);
    });
  });

  describe('batches capped by size', () => {
    it('when documents are about 1 MB each, then the first batch stops before 16 MiB and getMore delivers the rest', async () => {
      const coll = db.collection<AnyDoc>('big');
      const pad = 'x'.repeat(1024 * 1024 - 64);
      for (let i = 0; i < 40; i += 10) {
        await coll.insertMany(Array.from({ length: 10 }, (_, j) => ({ _id: i + j, pad })));
      }
      const r = await run(db, { find: 'big', filter: {}, sort: { _id: 1 } });
      const first = r.cursor.firstBatch as Document[];
      assert.ok(first.length > 0 && first.length < 40, `first batch of ${first.length}`);
      assert.ok(first.length < 101);
      const bytes = first.reduce((n, d) => n + (d.pad as string).length, 0);
      assert.ok(bytes < 16 * 1024 * 1024, `first batch holds ${bytes} bytes`);
      let seen = first.length;
      let id: Long = r.cursor.id;
      while (!id.isZero()) {
        const m = await run(db, { getMore: id, collection: 'big' });
        const next = m.cursor.nextBatch as Document[];
        assert.ok(next.reduce((n, d) => n + (d.pad as string).length, 0) < 16 * 1024 * 1024);
        assert.equal(next[0]._id, seen, 'batches continue in order');
        seen += next.length;
        id = m.cursor.id;
      }
      assert.equal(seen, 40);
      await coll.drop();
    });
  });

  describe('idle cursors', () => {
    it('when the reaper runs past the idle timeout, then the open cursor is closed and getMore fails with 43', async () => {
      const r = await run(db, { find: 'reads', filter: {}, batchSize: 1 });
      const before = store.db.server.openCursors;
      assert.ok(before >= 1);
      const reaped = store.db.server.reapCursors(Date.now() + 11 * 60_000);
      assert.ok(reaped >= 1);
      assert.equal(store.db.server.openCursors, 0);
      const e = await rejection(run(db, { getMore: r.cursor.id, collection: 'reads' }));
      assert.equal(e.code, 43);
    });

    it('when the reaper runs before the timeout, then a cursor in use survives', async () => {
      const r = await run(db, { find: 'reads', filter: {}, batchSize: 1 });
      store.db.server.reapCursors(Date.now() + 1000);
      const more = await run(db, { getMore: r.cursor.id, collection: 'reads', batchSize: 1 });
      assert.equal(more.cursor.nextBatch[0]._id, 1);
      await run(db, { killCursors: 'reads', cursors: [r.cursor.id] });
    });
  });

  describe('indexes', () => {
    it('when createIndexes builds a new index, then it reports before/after counts and whether the collection was created', async () => {
      const r = await run(db, {
        createIndexes: 'ix_new',
        indexes: [{ key: { a: 1 }, name: 'a_1' }],
      });
      assert.deepEqual(r, {
        numIndexesBefore: 1,
        numIndexesAfter: 2,
        createdCollectionAutomatically: true,
        ok: 1,
      });
      const again = await run(db, {
        createIndexes: 'ix_new',
        indexes: [{ key: { a: 1 }, name: 'a_1' }],
      });
      assert.deepEqual(again, {
        numIndexesBefore: 2,
        numIndexesAfter: 2,
        createdCollectionAutomatically: false,
        note: 'all indexes already exist',
        ok: 1,
      });
    });

    it('when listIndexes is run, then it returns a cursor of the specs including _id_', async () => {
      await run(db, {
        createIndexes: 'ix_list',
        indexes: [{ key: { b: -1, c: 1 }, name: 'b_-1_c_1', unique: true }],
      });
      const r = await run(db, { listIndexes: 'ix_list', cursor: {} });
      assert.equal(r.ok, 1);
      assert.equal(r.cursor.ns, `${dbName}.ix_list`);
      assert.equal(r.cursor.id.isZero(), true);
      assert.deepEqual(r.cursor.firstBatch, [
        { v: 2, key: { _id: 1 }, name: '_id_' },
        { v: 2, key: { b: -1, c: 1 }, name: 'b_-1_c_1', unique: true },
      ]);
    });

    it('when listIndexes names a missing collection, then it fails with 26 NamespaceNotFound', async () => {
      const e = await rejection(run(db, { listIndexes: 'no_such_coll', cursor: {} }));
      assert.equal(e.code, 26);
      assert.equal(e.codeName, 'NamespaceNotFound');
    });

    it('when dropIndexes is run by name, by key and with *, then nIndexesWas counts before and the indexes are gone', async () => {
      await run(db, {
        createIndexes: 'ix_drop',
        indexes: [
          { key: { a: 1 }, name: 'a_1' },
          { key: { b: 1 }, name: 'b_1' },
          { key: { c: 1 }, name: 'c_1' },
        ],
      });
      assert.deepEqual(await run(db, { dropIndexes: 'ix_drop', index: 'a_1' }), {
        nIndexesWas: 4,
        ok: 1,
      });
      assert.deepEqual(await run(db, { dropIndexes: 'ix_drop', index: { b: 1 } }), {
        nIndexesWas: 3,
        ok: 1,
      });
      assert.deepEqual(await run(db, { dropIndexes: 'ix_drop', index: '*' }), {
        nIndexesWas: 2,
        ok: 1,
      });
      const left = await run(db, { listIndexes: 'ix_drop', cursor: {} });
      assert.deepEqual(
        left.cursor.firstBatch.map((i: Document) => i.name),
        ['_id_'],
      );
      const e = await rejection(run(db, { dropIndexes: 'ix_drop', index: 'zzz_1' }));
      assert.equal(e.code, 27);
      assert.equal(e.codeName, 'IndexNotFound');
    });
  });
});

describe('embedded mongo: idle cursor timeout (short cursorTimeoutMs)', () => {
  const store = useStore({ cursorTimeoutMs: 1000 });
  const h = useClient(store);

  it('when a cursor sits idle past the timeout, then the background reaper closes it without being asked', async () => {
    const db = h.client.db(uniqueDb('reap'));
    await db.collection<AnyDoc>('c').insertMany(Array.from({ length: 10 }, (_, i) => ({ _id: i })));
    const r = await run(db, { find: 'c', filter: {}, batchSize: 2 });
    assert.equal(store.db.server.openCursors, 1);
    const deadline = Date.now() + 6000;
    while (store.db.server.openCursors > 0 && Date.now() < deadline)
      await new Promise((res) => setTimeout(res, 50));
    assert.equal(store.db.server.openCursors, 0);
    const e = await rejection(run(db, { getMore: r.cursor.id, collection: 'c' }));
    assert.equal(e.code, 43);
  });
});
