/**
 * The eqi_queue_depth gauge counts work where it waits: mail and audit events carried on their
 * pledge (written with the transition) as well as those already moved to the outbox and the
 * events collection. No registry runs here, so no background pass moves anything mid-test.
 */
import assert from 'node:assert/strict';
import { Types } from 'mongoose';
import { Event } from '../../models/event';
import { Outbox } from '../../models/outbox';
import { Pledge } from '../../models/pledge';
import { queueDepths } from '../../src/metrics';
import { useEmbeddedMongo } from '../helpers/db';

describe('queue depths', () => {
  useEmbeddedMongo();
  const id = () => new Types.ObjectId();

  it('when nothing waits, then every queue is 0', async () => {
    assert.deepEqual(await queueDepths(), { mail: 0, certificates: 0, audit_sequencing: 0 });
  });

  it('when mail and events are carried on pledges and others are stored, then each queue counts both', async () => {
    await Pledge.collection.insertMany([
      { _id: id(), pendingEvents: [{ _id: id() }, { _id: id() }], mail: [{ _id: id() }] },
      { _id: id(), pendingEvents: [{ _id: id() }], needsCertificate: true },
      { _id: id(), pendingEvents: [], mail: [] },
    ]);
    await Outbox.collection.insertMany([
      { _id: id(), status: 'pending' },
      { _id: id(), status: 'sending' },
      { _id: id(), status: 'sent' },
    ]);
    await Event.collection.insertMany([
      { _id: id(), unsealed: true },
      { _id: id(), seq: 1 },
    ]);
    assert.deepEqual(await queueDepths(), { mail: 3, certificates: 1, audit_sequencing: 4 });
  });
});
