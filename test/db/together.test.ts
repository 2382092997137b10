import assert from 'node:assert/strict';
import mongoose from 'mongoose';
import {
  throwFailed,
  writeTogether,
  type TogetherUpdate,
  type TogetherWrite,
} from '../../src/db/together';
import { useEmbeddedMongo } from '../helpers/db';

describe('updates to several collections in one round trip (src/db/together.ts)', () => {
  useEmbeddedMongo({ monitorCommands: true, testCommands: true });

  const Left =
    mongoose.models.TogetherLeft ??
    mongoose.model('TogetherLeft', new mongoose.Schema({ n: Number }), 'together_left');
  const uniqueSchema = new mongoose.Schema({ email: String, k: Number });
  uniqueSchema.index({ email: 1 }, { unique: true });
  const Right =
    mongoose.models.TogetherRight ??
    mongoose.model('TogetherRight', uniqueSchema, 'together_right');

  let commands: string[] = [];
  const listen = (e: { commandName: string }) => commands.push(e.commandName);
  let leftId: mongoose.Types.ObjectId;

  before(async () => {
    await Right.syncIndexes();
    mongoose.connection.getClient().on('commandStarted', listen);
  });
  after(() => {
    mongoose.connection.getClient().off('commandStarted', listen);
  });
  beforeEach(async () => {
    await Left.deleteMany({});
    await Right.deleteMany({});
    leftId = (await Left.create({ n: 1 }))._id;
    await Right.create({ email: 'taken@example.cn', k: 0 });
    commands = [];
  });

  const updates = (): TogetherUpdate[] => [
    { model: Left, filter: { _id: leftId }, update: { $inc: { n: 1 } } },
    { model: Left, filter: { _id: new mongoose.Types.ObjectId() }, update: { $set: { n: 9 } } },
    { model: Right, filter: { email: 'new@example.cn' }, update: { $set: { k: 1 } }, upsert: true },
    // Changes `email` to one the unique index holds: an E11000 this update tolerates.
    {
      model: Right,
      filter: { email: 'new-2@example.cn' },
      update: { $set: { email: 'taken@example.cn' } },
      upsert: true,
      tolerate: [11000],
    },
  ];

  async function expectOutcomes(): Promise<void> {
    const list = updates();
    const outcomes = await writeTogether(list);
    assert.deepEqual(
      outcomes.map((o) => [o.matched, o.modified, o.upserted, o.error?.code]),
      [
        [1, 1, false, undefined],
        [0, 0, false, undefined],
        [0, 0, true, undefined],
        [0, 0, false, 11000],
      ],
    );
    throwFailed(list, outcomes); // the one error is tolerated
    assert.equal((await Left.findById(leftId).lean())?.n, 2);
    assert.equal((await Right.findOne({ email: 'new@example.cn' }).lean())?.k, 1);
  }

  it('when the server has the bulkWrite command, then all of them go in one round trip, each with its own outcome', async () => {
    await expectOutcomes();
    assert.deepEqual(commands.slice(0, 1), ['bulkWrite']);
    assert.equal(commands.filter((c) => c === 'update').length, 0);
  });

  /** An insert that breaks the unique index, then an update: ordered, the update never runs. */
  async function expectOrderedStop(): Promise<void> {
    const writes: TogetherWrite[] = [
      { model: Right, insert: { _id: new mongoose.Types.ObjectId(), email: 'taken@example.cn' } },
      { model: Left, filter: { _id: leftId }, update: { $set: { n: 77 } } },
    ];
    const outcomes = await writeTogether(writes, { ordered: true });
    assert.equal(outcomes[0].error?.code, 11000);
    assert.equal(outcomes[1].applied, false);
    assert.equal((await Left.findById(leftId).lean())?.n, 1);
    const fine = await writeTogether(
      [
        { model: Right, insert: { _id: new mongoose.Types.ObjectId(), email: 'z@example.cn' } },
        { model: Left, filter: { _id: leftId }, update: { $set: { n: 78 } } },
      ],
      { ordered: true },
    );
    assert.deepEqual(
      fine.map((o) => o.applied),
      [true, true],
    );
    assert.equal((await Left.findById(leftId).lean())?.n, 78);
  }

  it('when ordered writes meet an error, then the writes after it are not applied (bulkWrite)', async () => {
    await expectOrderedStop();
    assert.ok(commands.includes('bulkWrite'));
  });

  it('when an update fails with an error it does not tolerate, then throwFailed throws it after the others were applied', async () => {
    const list: TogetherUpdate[] = [
      {
        model: Right,
        filter: { email: 'x@example.cn' },
        update: { $set: { email: 'taken@example.cn' } },
        upsert: true,
      },
      { model: Left, filter: { _id: leftId }, update: { $set: { n: 5 } } },
    ];
    const outcomes = await writeTogether(list);
    assert.throws(
      () => throwFailed(list, outcomes),
      (e: Error & { code?: number }) => e.code === 11000,
    );
    assert.equal((await Left.findById(leftId).lean())?.n, 5);
  });
  it('when the server lacks it (mongod before 8.0: CommandNotFound), then each is sent on its own with the same outcomes', async () => {
    const admin = mongoose.connection.getClient().db('admin');
    await admin.command({
      configureFailPoint: 'failCommand',
      mode: { times: 1 },
      data: { failCommands: ['bulkWrite'], errorCode: 59 },
    });
    commands = [];
    await expectOutcomes();
    assert.deepEqual(commands.slice(0, 5), ['bulkWrite', 'update', 'update', 'update', 'update']);
    // Remembered: no further bulkWrite is tried on this client.
    commands = [];
    await writeTogether(updates().slice(0, 2));
    assert.deepEqual(commands, ['update', 'update']);
    // Ordered, on its own: one after the other, stopping at the first error.
    await Left.updateOne({ _id: leftId }, { $set: { n: 1 } });
    commands = [];
    await expectOrderedStop();
    assert.ok(!commands.includes('bulkWrite'));
  });
});
