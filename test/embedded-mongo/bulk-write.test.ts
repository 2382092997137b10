/**
 * The `bulkWrite` command (MongoDB 8.0) through the official driver's `MongoClient.bulkWrite`,
 * whose result parsing (counts, verbose per-operation results, write errors) nobody here wrote.
 */
import assert from 'node:assert/strict';
import { Long } from 'bson';
import {
  MongoClientBulkWriteError,
  MongoServerError,
  ObjectId,
  type AnyClientBulkWriteModel,
} from 'mongodb';
import { rejection, uniqueDb, useClient, useStore, type AnyDoc } from './helpers';

describe('embedded mongo: bulkWrite across collections (MongoClient.bulkWrite)', () => {
  const store = useStore();
  const h = useClient(store);
  const dbName = uniqueDb('bulkw');
  const a = `${dbName}.a`;
  const b = `${dbName}.b`;

  const write = (
    ops: AnyClientBulkWriteModel<AnyDoc>[],
    options?: Parameters<typeof h.client.bulkWrite>[1],
  ) => h.client.bulkWrite(ops as never, options); // namespaces are built at run time

  beforeEach(async () => {
    await h.client.db(dbName).dropDatabase();
    await h.client
      .db(dbName)
      .collection<AnyDoc>('a')
      .insertMany([
        { _id: 1, n: 1 },
        { _id: 2, n: 2 },
      ]);
    await h.client.db(dbName).collection<AnyDoc>('b').createIndex({ email: 1 }, { unique: true });
    await h.client.db(dbName).collection<AnyDoc>('b').insertOne({ _id: 10, email: 'x@example.cn' });
  });

  it('when inserts, updates, an upsert and deletes name two collections, then each lands and every count and per-operation result is mongod’s', async () => {
    const r = await write(
      [
        { namespace: a, name: 'insertOne', document: { _id: 3, n: 3 } },
        { namespace: a, name: 'updateOne', filter: { _id: 1 }, update: { $inc: { n: 10 } } },
        {
          namespace: a,
          name: 'updateMany',
          filter: { n: { $gte: 2 } },
          update: { $set: { big: true } },
        },
        {
          namespace: b,
          name: 'updateOne',
          filter: { email: 'y@example.cn' },
          update: { $set: { k: 1 } },
          upsert: true,
        },
        {
          namespace: b,
          name: 'updateOne',
          filter: { _id: 10 },
          update: { $set: { email: 'x@example.cn' } },
        },
        { namespace: a, name: 'deleteOne', filter: { _id: 2 } },
        { namespace: a, name: 'replaceOne', filter: { _id: 3 }, replacement: { n: 30 } },
      ],
      { verboseResults: true },
    );
    assert.equal(r.insertedCount, 1);
    // _id 1; all three by the updateMany (1 has n 11 by then); _id 10; _id 3 replaced.
    assert.equal(r.matchedCount, 6);
    assert.equal(r.upsertedCount, 1);
    assert.equal(r.deletedCount, 1);
    // _id 10's $set to its own value matched without modifying.
    assert.equal(r.modifiedCount, 5);
    assert.deepEqual(r.insertResults?.get(0), { insertedId: 3 });
    assert.equal(r.updateResults?.get(2)?.matchedCount, 3);
    const upsert = r.updateResults?.get(3);
    assert.equal(upsert?.didUpsert, true);
    assert.ok(upsert?.upsertedId instanceof ObjectId);
    assert.deepEqual(r.updateResults?.get(4), {
      matchedCount: 1,
      modifiedCount: 0,
      didUpsert: false,
    });
    assert.deepEqual(r.deleteResults?.get(5), { deletedCount: 1 });
    const docsA = await h.client
      .db(dbName)
      .collection<AnyDoc>('a')
      .find()
      .sort({ _id: 1 })
      .toArray();
    assert.deepEqual(docsA, [
      { _id: 1, n: 11, big: true },
      { _id: 3, n: 30 },
    ]);
    const docsB = await h.client
      .db(dbName)
      .collection<AnyDoc>('b')
      .find({}, { projection: { _id: 0 } })
      .sort({ email: 1 })
      .toArray();
    assert.deepEqual(docsB, [{ email: 'x@example.cn' }, { email: 'y@example.cn', k: 1 }]);
  });

  it('when an unordered write breaks a unique index, then only that operation fails, with E11000 at its index, and the rest are applied', async () => {
    const e = await rejection(
      write(
        [
          { namespace: b, name: 'insertOne', document: { email: 'x@example.cn' } },
          { namespace: a, name: 'updateOne', filter: { _id: 1 }, update: { $set: { seen: true } } },
        ],
        { ordered: false },
      ),
    );
    assert.ok(e instanceof MongoClientBulkWriteError);
    assert.deepEqual([...e.writeErrors.keys()], [0]);
    assert.equal(e.writeErrors.get(0)?.code, 11000);
    assert.equal(e.partialResult?.matchedCount, 1);
    assert.equal(
      (await h.client.db(dbName).collection<AnyDoc>('a').findOne({ _id: 1 }))?.seen,
      true,
    );
  });

  it('when an ordered write fails, then the operations after it are not applied', async () => {
    const e = await rejection(
      write([
        { namespace: a, name: 'insertOne', document: { _id: 1 } },
        { namespace: a, name: 'insertOne', document: { _id: 99 } },
      ]),
    );
    assert.ok(e instanceof MongoClientBulkWriteError);
    assert.equal(e.writeErrors.get(0)?.code, 11000);
    assert.equal(await h.client.db(dbName).collection<AnyDoc>('a').countDocuments({ _id: 99 }), 0);
  });

  it('when the reply is asked for raw, then it is mongod’s shape: a cursor on admin.$cmd.bulkWrite and int32 counts', async () => {
    const r = await h.client.db('admin').command(
      {
        bulkWrite: 1,
        ops: [
          { insert: 0, document: { _id: 5 } },
          { update: 0, filter: { _id: 404 }, updateMods: { $set: { x: 1 } }, multi: false },
          { delete: 1, filter: { _id: 10 }, multi: false },
        ],
        nsInfo: [{ ns: a }, { ns: b }],
        errorsOnly: false,
      },
      { promoteLongs: false },
    );
    assert.deepEqual(r, {
      cursor: {
        id: Long.fromNumber(0),
        firstBatch: [
          { ok: 1, idx: 0, n: 1 },
          { ok: 1, idx: 1, n: 0, nModified: 0 },
          { ok: 1, idx: 2, n: 1 },
        ],
        ns: 'admin.$cmd.bulkWrite',
      },
      nErrors: 0,
      nInserted: 1,
      nMatched: 0,
      nModified: 0,
      nUpserted: 0,
      nDeleted: 1,
      ok: 1,
    });
  });

  it('when errorsOnly is set, then the batch lists only the failed operations', async () => {
    const r = await h.client.db('admin').command({
      bulkWrite: 1,
      ops: [
        { insert: 0, document: { _id: 6 } },
        { insert: 0, document: { _id: 6 } },
      ],
      nsInfo: [{ ns: a }],
      ordered: false,
      errorsOnly: true,
    });
    assert.equal(r.cursor.firstBatch.length, 1);
    assert.equal(r.cursor.firstBatch[0].idx, 1);
    assert.equal(r.cursor.firstBatch[0].code, 11000);
    assert.equal(r.nErrors, 1);
    assert.equal(r.nInserted, 1);
  });

  it('when it is sent to a database other than admin, then it is refused and nothing is written', async () => {
    const e = await rejection(
      h.client
        .db(dbName)
        .command({ bulkWrite: 1, ops: [{ insert: 0, document: { _id: 7 } }], nsInfo: [{ ns: a }] }),
    );
    assert.ok(e instanceof MongoServerError);
    assert.equal(e.code, 13);
    assert.equal(await h.client.db(dbName).collection<AnyDoc>('a').countDocuments({ _id: 7 }), 0);
  });

  for (const [what, cmd] of [
    ['let', { let: { x: 1 } }],
    [
      "an update's sort",
      { ops: [{ update: 0, filter: {}, updateMods: { $set: { y: 1 } }, sort: { n: 1 } }] },
    ],
  ] as const) {
    it(`when it uses ${what}, which this store does not do, then the operation is refused by name`, async () => {
      const r = await h.client
        .db('admin')
        .command({
          bulkWrite: 1,
          ops: [{ insert: 0, document: { _id: 8 } }],
          nsInfo: [{ ns: a }],
          ...cmd,
        })
        .catch((e: unknown) => e as Error);
      const message =
        r instanceof Error
          ? r.message
          : String((r.cursor as { firstBatch: AnyDoc[] }).firstBatch[0].errmsg);
      assert.match(message, what === 'let' ? /'let'/ : /'sort'/);
      assert.match(message, /not supported by the embedded store/);
      assert.equal(await h.client.db(dbName).collection<AnyDoc>('a').countDocuments({ y: 1 }), 0);
    });
  }

  it('when an operation names an nsInfo entry that does not exist, then that operation fails and the valid ones before it stand', async () => {
    const r = await h.client.db('admin').command({
      bulkWrite: 1,
      ops: [
        { insert: 0, document: { _id: 9 } },
        { insert: 3, document: { _id: 10 } },
      ],
      nsInfo: [{ ns: a }],
    });
    assert.equal(r.nErrors, 1);
    assert.equal(r.cursor.firstBatch[1].ok, 0);
    assert.equal(r.cursor.firstBatch[1].code, 2);
    assert.equal(await h.client.db(dbName).collection<AnyDoc>('a').countDocuments({ _id: 9 }), 1);
  });
});
