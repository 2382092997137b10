/**
 * The fault tests' checkers must be able to fail: a state a crash could leave behind (a lost
 * number, a USCC open twice, two valid certificates, a missing acknowledged write) is reported.
 */
import assert from 'node:assert/strict';
import { Types } from 'mongoose';
import { Certificate } from '../../models/certificate';
import { Counter } from '../../models/counter';
import { Pledge, PledgeStatus } from '../../models/pledge';
import { SEQUENCE_COUNTER } from '../../src/pledges/activation';
import { useEmbeddedMongo } from '../helpers/db';
import { checkInvariants, lostWrites } from './faults';

async function pledge(
  uscc: string,
  status: PledgeStatus,
  extra: Record<string, unknown> = {},
): Promise<Types.ObjectId> {
  const _id = new Types.ObjectId();
  await Pledge.collection.insertOne({
    _id,
    uscc,
    companyName: '检查示例有限公司',
    status,
    history: [{ to: status }],
    ...extra,
  } as never);
  return _id;
}

describe('fault test checkers', () => {
  useEmbeddedMongo();

  beforeEach(async () => {
    await Promise.all([
      Pledge.deleteMany({}),
      Certificate.deleteMany({}),
      Counter.collection.deleteMany({}),
    ]);
  });

  it('when numbers 1..3 were handed out but 2 is neither given nor held, then the gap is reported', async () => {
    await pledge('91350100M000100Y43', PledgeStatus.Active, { sequence: 1, foundingNumber: 1 });
    await pledge('91350100M00020001J', PledgeStatus.Active, { sequence: 3, foundingNumber: 3 });
    await Counter.collection.insertOne({ _id: SEQUENCE_COUNTER as never, seq: 3, inflight: [] });
    assert.deepEqual(await checkInvariants({ settled: false }), [
      'sequence numbers lost (neither given nor held): 2',
    ]);
    // Held by an interrupted activation, it is not lost, but it is not settled either.
    await Counter.collection.updateOne(
      { _id: SEQUENCE_COUNTER as never },
      { $set: { inflight: [{ seq: 2, pledge: new Types.ObjectId(), at: new Date() }] } },
    );
    assert.deepEqual(await checkInvariants({ settled: false }), []);
    assert.ok(
      (await checkInvariants({ settled: true })).includes('1 sequence reservations still held'),
    );
  });

  it('when one USCC has two open pledges and one pledge two valid certificates, then both are reported', async () => {
    const a = await pledge('91350100M000100Y43', PledgeStatus.PendingReview);
    await pledge('91350100M000100Y43', PledgeStatus.PendingConfirmation);
    for (const serial of ['S-1', 'S-2'])
      await Certificate.collection.insertOne({ serial, pledge: a, status: 'valid' } as never);
    assert.deepEqual(
      (await checkInvariants({ settled: false })).sort(),
      [
        `USCC 91350100M000100Y43 has 2 open pledges`,
        `pledge ${String(a)} has 2 valid certificates`,
      ].sort(),
    );
  });

  it('when an acknowledged signing or approval is not in the database, then it is reported lost', async () => {
    const id = await pledge('91350100M000100Y43', PledgeStatus.PendingReview);
    const gone = new Types.ObjectId().toHexString();
    const lost = await lostWrites([
      { op: 'sign', id: gone, uscc: '91350100M00020001J', email: 'x@example.cn' },
      { op: 'approve', id: String(id), sequence: 7, foundingNumber: 7 },
    ]);
    assert.equal(lost.length, 3, lost.join('\n'));
    assert.match(lost[0], /^sign .*: pledge missing$/);
    assert.match(lost[1], /^approve .*: sequence undefined/);
  });
});
