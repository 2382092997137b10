import assert from 'node:assert/strict';
import type { Collection, Db, Document } from 'mongodb';
import { Schema } from 'mongoose';
import { AnyDoc, rejection, uniqueDb, useClient, useMongoose, useStore } from './helpers';

/**
 * Issue #14 §2: explain for find, aggregate, count and distinct in mongod 7's shapes (the
 * "Explain Results" page: queryPlanner.winningPlan with COLLSCAN / IDHACK / FETCH over IXSCAN
 * with indexName, keyPattern, direction and indexBounds; executionStats with nReturned,
 * totalKeysExamined and totalDocsExamined). Expected figures follow from the documents inserted.
 */
describe('embedded mongo: explain', () => {
  const store = useStore();
  const h = useClient(store);
  let db: Db;
  let c: Collection<AnyDoc>;
  // 12 documents: a = i % 4 (three of each), b = i, tag only on the even ones.
  before(async () => {
    db = h.client.db(uniqueDb('explain'));
    c = db.collection<AnyDoc>('items');
    await c.insertMany(
      Array.from({ length: 12 }, (_, i) => ({
        _id: i,
        a: i % 4,
        b: i,
        ...(i % 2 === 0 ? { tag: 'even' } : {}),
      })),
    );
    await c.createIndex({ a: 1 });
    await c.createIndex({ b: -1 }, { name: 'b_desc' });
  });

  const winning = (e: Document): Document => e.queryPlanner.winningPlan;

  describe('find', () => {
    it('when no index serves the filter, then the plan is a COLLSCAN with the filter and every document is examined', async () => {
      const e = await c.find({ tag: 'even' }).explain('executionStats');
      assert.equal(e.explainVersion, '1');
      assert.equal(e.queryPlanner.namespace, `${db.databaseName}.items`);
      assert.deepEqual(e.queryPlanner.parsedQuery, { tag: 'even' });
      assert.deepEqual(winning(e), {
        stage: 'COLLSCAN',
        filter: { tag: 'even' },
        direction: 'forward',
      });
      assert.deepEqual(e.queryPlanner.rejectedPlans, []);
      assert.equal(e.executionStats.executionSuccess, true);
      assert.equal(e.executionStats.nReturned, 6);
      assert.equal(e.executionStats.totalDocsExamined, 12);
      assert.equal(e.executionStats.totalKeysExamined, 0);
      assert.equal(e.executionStats.executionStages.stage, 'COLLSCAN');
      assert.equal(e.ok, 1);
    });

    it('when an equality is on an indexed field, then the plan is FETCH over IXSCAN of that index and only its keys and documents are examined', async () => {
      const e = await c.find({ a: 2 }).explain('executionStats');
      const plan = winning(e);
      assert.equal(plan.stage, 'FETCH');
      assert.equal(plan.filter, undefined);
      assert.equal(plan.inputStage.stage, 'IXSCAN');
      assert.equal(plan.inputStage.indexName, 'a_1');
      assert.deepEqual(plan.inputStage.keyPattern, { a: 1 });
      assert.equal(plan.inputStage.direction, 'forward');
      assert.deepEqual(plan.inputStage.indexBounds, { a: ['[2, 2]'] });
      assert.equal(plan.inputStage.isMultiKey, false);
      assert.equal(plan.inputStage.isUnique, false);
      assert.equal(e.executionStats.nReturned, 3);
      assert.equal(e.executionStats.totalKeysExamined, 3);
      assert.equal(e.executionStats.totalDocsExamined, 3);
      assert.equal(e.executionStats.executionStages.inputStage.keysExamined, 3);
    });

    it('when other conditions come with the indexed one, then FETCH carries them as its filter', async () => {
      const plan = winning(await c.find({ a: 0, tag: 'even' }).explain('queryPlanner'));
      assert.equal(plan.stage, 'FETCH');
      assert.deepEqual(plan.filter, { tag: 'even' });
      assert.equal(plan.inputStage.indexName, 'a_1');
    });

    it('when the filter is a range or $in, then the index bounds are its intervals in index order', async () => {
      assert.deepEqual(
        winning(await c.find({ a: { $gt: 1 } }).explain('queryPlanner')).inputStage.indexBounds,
        { a: ['(1, inf.0]'] },
      );
      assert.deepEqual(
        winning(await c.find({ a: { $in: [3, 1] } }).explain('queryPlanner')).inputStage
          .indexBounds,
        { a: ['[1, 1]', '[3, 3]'] },
      );
    });

    it('when the query is on _id alone, then the plan is IDHACK examining one key and one document', async () => {
      const e = await c.find({ _id: 5 }).explain('executionStats');
      assert.deepEqual(winning(e), { stage: 'IDHACK' });
      assert.equal(e.executionStats.nReturned, 1);
      assert.equal(e.executionStats.totalKeysExamined, 1);
      assert.equal(e.executionStats.totalDocsExamined, 1);
    });

    it('when the sort follows an index backwards, then that index is walked backward with no SORT stage', async () => {
      const plan = winning(await c.find({}).sort({ a: -1 }).explain('queryPlanner'));
      assert.equal(plan.stage, 'FETCH');
      assert.equal(plan.inputStage.indexName, 'a_1');
      assert.equal(plan.inputStage.direction, 'backward');
      assert.deepEqual(plan.inputStage.indexBounds, { a: ['[MaxKey, MinKey]'] });
    });

    it('when the sort has no index, then a SORT stage with the sort pattern sits above the scan, with LIMIT above it', async () => {
      const e = await c.find({ tag: 'even' }).sort({ tag: 1, _id: -1 }).limit(2).explain();
      const plan = winning(e);
      assert.equal(plan.stage, 'LIMIT');
      assert.equal(plan.limitAmount, 2);
      assert.equal(plan.inputStage.stage, 'SORT');
      assert.deepEqual(plan.inputStage.sortPattern, { tag: 1, _id: -1 });
      assert.equal(plan.inputStage.inputStage.stage, 'COLLSCAN');
      assert.equal(e.executionStats.nReturned, 2);
      assert.deepEqual(e.executionStats.allPlansExecution, []);
    });

    it('when a hint names an index, then the plan scans that index', async () => {
      const plan = winning(await c.find({ a: 1 }).hint('b_desc').explain('queryPlanner'));
      assert.equal(plan.inputStage.indexName, 'b_desc');
      assert.deepEqual(plan.inputStage.keyPattern, { b: -1 });
      assert.deepEqual(plan.inputStage.indexBounds, { b: ['[MaxKey, MinKey]'] });
      assert.deepEqual(plan.filter, { a: 1 });
    });

    it('when verbosity is queryPlanner, then there are no executionStats', async () => {
      const e = await c.find({ a: 1 }).explain('queryPlanner');
      assert.equal(e.executionStats, undefined);
      assert.ok(e.queryPlanner);
    });

    it('when the collection does not exist, then the plan is EOF and nothing is examined', async () => {
      const e = await db.collection('nothing').find({ a: 1 }).explain('executionStats');
      assert.deepEqual(winning(e), { stage: 'EOF' });
      assert.equal(e.executionStats.nReturned, 0);
    });

    it('when an unknown verbosity is given, then the command fails with FailedToParse', async () => {
      const e = await rejection(
        db.command({ explain: { find: 'items', filter: {} }, verbosity: 'everything' }),
      );
      assert.equal(e.code, 9);
    });
  });

  describe('count, distinct and aggregate', () => {
    it('when a count is explained, then COUNT sits over the scan (RECORD_STORE_FAST_COUNT for no query)', async () => {
      const e = await db.command({
        explain: { count: 'items', query: { a: 3 } },
        verbosity: 'executionStats',
      });
      assert.equal(winning(e).stage, 'COUNT');
      assert.equal(winning(e).inputStage.stage, 'FETCH');
      assert.equal(winning(e).inputStage.inputStage.indexName, 'a_1');
      assert.equal(e.executionStats.totalKeysExamined, 3);
      assert.equal(e.executionStats.nReturned, 0);
      const all = await db.command({ explain: { count: 'items' }, verbosity: 'queryPlanner' });
      assert.deepEqual(winning(all), { stage: 'RECORD_STORE_FAST_COUNT' });
    });

    it('when a distinct is explained, then its plan scans with the query and examines what it reads', async () => {
      const e = await db.command({
        explain: { distinct: 'items', key: 'b', query: { tag: 'even' } },
        verbosity: 'executionStats',
      });
      assert.equal(winning(e).inputStage.stage, 'COLLSCAN');
      assert.equal(e.executionStats.totalDocsExamined, 12);
      assert.equal(e.executionStats.nReturned, 6);
    });

    it('when a distinct has no key, then it fails with TypeMismatch', async () => {
      const e = await rejection(db.command({ explain: { distinct: 'items', query: {} } }));
      assert.equal(e.code, 14);
    });

    it('when an aggregate is only $match and $sort, then it is explained as the find it is', async () => {
      const e = await c
        .aggregate([{ $match: { a: 1 } }, { $sort: { a: 1 } }])
        .explain('executionStats');
      assert.equal(winning(e).inputStage.indexName, 'a_1');
      assert.equal(e.executionStats.nReturned, 3);
    });

    it('when an aggregate has further stages, then $cursor carries the query plan and the stages follow', async () => {
      const group = { $group: { _id: '$tag', n: { $sum: 1 } } };
      const e = await c
        .aggregate([{ $match: { a: { $lte: 1 } } }, group])
        .explain('executionStats');
      assert.equal(e.stages.length, 2);
      const cursor = e.stages[0].$cursor;
      assert.equal(cursor.queryPlanner.winningPlan.inputStage.indexName, 'a_1');
      assert.deepEqual(cursor.queryPlanner.winningPlan.inputStage.indexBounds, {
        a: ['[-inf.0, 1]'],
      });
      assert.equal(cursor.executionStats.nReturned, 6);
      assert.deepEqual(e.stages[1], group);
    });

    it('when aggregate is sent with explain: true, then the queryPlanner explain is the reply', async () => {
      const e = await db.command({
        aggregate: 'items',
        pipeline: [{ $match: { a: 0 } }],
        explain: true,
      });
      assert.equal(winning(e).inputStage.indexName, 'a_1');
      assert.equal(e.executionStats, undefined);
    });

    it('when a $collStats pipeline is explained, then it is refused by name', async () => {
      const e = await rejection(
        c.aggregate([{ $collStats: { count: {} } }]).explain('queryPlanner'),
      );
      assert.equal(e.code, 115);
      assert.match(e.message, /explain of a \$collStats pipeline/);
    });

    it('when an update is explained, then it is refused by name', async () => {
      const e = await rejection(
        db.command({ explain: { update: 'items', updates: [{ q: {}, u: { $set: { x: 1 } } }] } }),
      );
      assert.equal(e.code, 115);
      assert.match(e.message, /explain of update/);
    });
  });

  describe('through mongoose', () => {
    const m = useMongoose(store, () => db.databaseName);

    it('when a mongoose query or aggregate calls .explain(), then it gets the plan and the figures', async () => {
      const Item = m.conn.model('Item', new Schema({ _id: Number, a: Number, b: Number }), 'items');
      const e = (await Item.find({ a: 3 }).explain('executionStats')) as unknown as Document;
      assert.equal(e.queryPlanner.winningPlan.inputStage.indexName, 'a_1');
      assert.equal(e.executionStats.nReturned, 3);
      const one = (await Item.findOne({ _id: 4 }).explain('queryPlanner')) as unknown as Document;
      assert.deepEqual(one.queryPlanner.winningPlan, { stage: 'IDHACK' });
      const agg = (await Item.aggregate([{ $match: { b: { $gte: 10 } } }]).explain(
        'executionStats',
      )) as unknown as Document;
      assert.equal(agg.queryPlanner.winningPlan.inputStage.indexName, 'b_desc');
      assert.deepEqual(agg.queryPlanner.winningPlan.inputStage.indexBounds, {
        b: ['[inf.0, 10]'],
      });
      assert.equal(agg.executionStats.nReturned, 2);
    });
  });
});
