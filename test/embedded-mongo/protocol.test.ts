import assert from 'node:assert/strict';
import { Long } from 'bson';
import {
  MORE_TO_COME,
  OP_MSG,
  OP_REPLY,
  RawClient,
  newRequestId,
  opMsg,
  opQuery,
  uniqueDb,
  useStore,
} from './helpers';

/** True when the message's `ok` element has BSON type 1 (double). */
function okIsDouble(message: Buffer): boolean {
  const at = message.indexOf(Buffer.from('ok\0'));
  return at > 0 && message[at - 1] === 0x01;
}

describe('embedded mongo: wire protocol (raw sockets)', () => {
  const store = useStore();
  const db = uniqueDb('proto');
  let c: RawClient;

  beforeEach(async () => {
    c = await RawClient.connect(store.db.port);
  });
  afterEach(() => c.close());

  describe('OP_QUERY handshake', () => {
    it('when a driver-style ismaster arrives as OP_QUERY, then it is answered with an OP_REPLY to that request', async () => {
      const requestId = newRequestId();
      await c.write(
        opQuery(
          'admin.$cmd',
          {
            ismaster: 1,
            helloOk: true,
            client: { driver: { name: 'raw', version: '0' } },
            compression: ['zstd', 'snappy'],
          },
          { requestId },
        ),
      );
      const r = await c.next();
      assert.equal(r.opCode, OP_REPLY);
      assert.equal(r.responseTo, requestId);
      assert.equal(r.numberReturned, 1);
      const hello = r.doc;
      assert.equal(hello.ok, 1);
      assert.ok(okIsDouble(r.bytes), 'ok is a double, as mongod sends it');
      assert.equal(hello.ismaster, true);
      assert.equal(hello.isWritablePrimary, true);
      assert.equal(hello.helloOk, true);
      assert.equal(hello.maxWireVersion, 21);
      assert.equal(hello.minWireVersion, 0);
      assert.equal(hello.logicalSessionTimeoutMinutes, 30);
      assert.equal(hello.maxBsonObjectSize, 16 * 1024 * 1024);
      assert.equal(hello.maxMessageSizeBytes, 48_000_000);
      assert.equal(hello.maxWriteBatchSize, 100_000);
      assert.ok(hello.localTime instanceof Date);
      assert.equal(typeof hello.connectionId, 'number');
      assert.equal('topologyVersion' in hello, false, 'no topologyVersion (no streamed hello)');
      assert.equal('setName' in hello, false, 'standalone: no setName');
      assert.equal('compression' in hello, false, 'no compressor is echoed');
    });

    it('when OP_QUERY carries anything but a handshake, then it gets the UnsupportedOpQueryCommand error', async () => {
      await c.write(opQuery(`${db}.$cmd`, { find: 'x' }));
      const r = await c.next();
      assert.equal(r.opCode, OP_REPLY);
      assert.equal(r.doc.ok, 0);
      assert.equal(r.doc.code, 352);
      assert.ok(okIsDouble(r.bytes), 'ok is a double, as mongod sends it');
    });

    it('when two connections handshake, then each gets its own connectionId', async () => {
      const other = await RawClient.connect(store.db.port);
      try {
        await c.write(opQuery('admin.$cmd', { ismaster: 1 }));
        await other.write(opQuery('admin.$cmd', { ismaster: 1 }));
        const [a, b] = [await c.next(), await other.next()];
        assert.notEqual(a.doc.connectionId, b.doc.connectionId);
      } finally {
        other.close();
      }
    });
  });

  describe('OP_MSG sections', () => {
    it('when a command arrives as a kind-0 body, then the reply is an OP_MSG with flagBits 0 answering that request', async () => {
      const requestId = newRequestId();
      await c.write(opMsg({ hello: 1, $db: 'admin' }, { requestId }));
      const r = await c.next();
      assert.equal(r.opCode, OP_MSG);
      assert.equal(r.responseTo, requestId);
      assert.equal(r.flags, 0);
      assert.equal(r.doc.ok, 1);
      assert.ok(okIsDouble(r.bytes), 'ok is a double, as mongod sends it');
      assert.equal(r.doc.maxWireVersion, 21);
    });

    it('when insert documents come as a kind-1 sequence, then all of them are stored', async () => {
      const docs = Array.from({ length: 5 }, (_, i) => ({ _id: i, name: `n${i}` }));
      const reply = await c.command(
        { insert: 'seq', ordered: true, $db: db },
        { sequences: { documents: docs } },
      );
      assert.deepEqual(reply, { n: 5, ok: 1 });
      const found = await c.command({ find: 'seq', filter: {}, sort: { _id: 1 }, $db: db });
      assert.deepEqual(found.cursor.firstBatch, docs);
    });

    it('when update statements come as a kind-1 sequence beside body fields, then the sequence becomes the command array field', async () => {
      const reply = await c.command(
        { update: 'seq2', ordered: false, $db: db },
        {
          sequences: {
            updates: [
              { q: { _id: 1 }, u: { $set: { v: 1 } }, upsert: true },
              { q: { _id: 2 }, u: { $set: { v: 2 } }, upsert: true },
            ],
          },
        },
      );
      assert.equal(reply.n, 2);
      assert.deepEqual(
        reply.upserted.map((u: { index: number; _id: number }) => [u.index, u._id]),
        [
          [0, 1],
          [1, 2],
        ],
      );
    });
  });

  describe('framing', () => {
    it('when a message arrives one byte per TCP write, then it is reassembled and answered once', async () => {
      const requestId = newRequestId();
      const msg = opMsg(
        { insert: 'frag', documents: [{ _id: 'slow', pad: 'x'.repeat(200) }], $db: db },
        { requestId },
      );
      await c.writeInPieces(msg, 1);
      const r = await c.next();
      assert.equal(r.responseTo, requestId);
      assert.deepEqual(r.doc, { n: 1, ok: 1 });
      assert.equal(await c.outcome(100), 'nothing', 'exactly one reply');
    });

    it('when the 4-byte length prefix itself is split, then the message is still read correctly', async () => {
      const msg = opMsg({ ping: 1, $db: 'admin' });
      await c.write(msg.subarray(0, 2));
      await new Promise((r) => setTimeout(r, 20));
      await c.write(msg.subarray(2, 7));
      await new Promise((r) => setTimeout(r, 20));
      await c.write(msg.subarray(7));
      assert.equal((await c.next()).doc.ok, 1);
    });

    it('when several messages arrive in one write, then each is answered in order', async () => {
      const ids = [newRequestId(), newRequestId(), newRequestId()];
      const batch = Buffer.concat([
        opMsg({ insert: 'multi', documents: [{ _id: 1 }], $db: db }, { requestId: ids[0] }),
        opMsg({ insert: 'multi', documents: [{ _id: 2 }], $db: db }, { requestId: ids[1] }),
        opMsg({ count: 'multi', $db: db }, { requestId: ids[2] }),
      ]);
      await c.write(batch);
      const replies = [await c.next(), await c.next(), await c.next()];
      assert.deepEqual(
        replies.map((r) => r.responseTo),
        ids,
      );
      assert.deepEqual(replies[0].doc, { n: 1, ok: 1 });
      assert.deepEqual(replies[1].doc, { n: 1, ok: 1 });
      assert.deepEqual(
        replies[2].doc,
        { n: 2, ok: 1 },
        'the count sees both inserts that came before it',
      );
    });

    it('when one write holds one and a half messages, then the first is answered and the second waits for its rest', async () => {
      const a = opMsg({ ping: 1, $db: 'admin' });
      const b = opMsg({ count: 'multi', $db: db });
      const both = Buffer.concat([a, b]);
      const cut = a.length + 10;
      await c.write(both.subarray(0, cut));
      assert.equal((await c.next()).doc.ok, 1);
      assert.equal(await c.outcome(100), 'nothing');
      await c.write(both.subarray(cut));
      assert.equal((await c.next()).doc.n, 2);
    });
  });

  describe('moreToCome', () => {
    it('when an insert has flagBits 0x2, then no reply is sent but the write happens', async () => {
      await c.write(
        opMsg(
          { insert: 'quiet', documents: [{ _id: 'q1' }], writeConcern: { w: 0 }, $db: db },
          { flags: MORE_TO_COME },
        ),
      );
      assert.equal(await c.outcome(200), 'nothing', 'no reply to a moreToCome message');
      const r = await c.command({ find: 'quiet', filter: {}, $db: db });
      assert.deepEqual(r.cursor.firstBatch, [{ _id: 'q1' }]);
    });

    it('when endSessions is sent with moreToCome, then the next request is answered first (nothing queued ahead of it)', async () => {
      await c.write(opMsg({ endSessions: [], $db: 'admin' }, { flags: MORE_TO_COME }));
      const requestId = newRequestId();
      await c.write(opMsg({ ping: 1, $db: 'admin' }, { requestId }));
      const r = await c.next();
      assert.equal(r.responseTo, requestId);
      assert.equal(await c.outcome(100), 'nothing');
    });
  });

  describe('many connections', () => {
    it('when 50 connections each insert and count concurrently, then every one gets its own correct replies', async () => {
      const clients = await Promise.all(
        Array.from({ length: 50 }, () => RawClient.connect(store.db.port)),
      );
      try {
        const replies = await Promise.all(
          clients.map(async (cl, i) => {
            await cl.write(opQuery('admin.$cmd', { ismaster: 1, helloOk: true }));
            const hello = await cl.next();
            const ins = await cl.command({
              insert: 'conns',
              documents: [{ _id: i, by: i }],
              $db: db,
            });
            const mine = await cl.command({ find: 'conns', filter: { by: i }, $db: db });
            return { hello: hello.doc, ins, mine };
          }),
        );
        assert.equal(new Set(replies.map((r) => r.hello.connectionId)).size, 50);
        replies.forEach((r, i) => {
          assert.deepEqual(r.ins, { n: 1, ok: 1 });
          assert.deepEqual(r.mine.cursor.firstBatch, [{ _id: i, by: i }]);
        });
        const total = await c.command({ count: 'conns', $db: db });
        assert.equal(total.n, 50);
      } finally {
        for (const cl of clients) cl.close();
      }
    });

    it('when cursor ids are read from the raw reply, then they are BSON int64', async () => {
      await c.command({
        insert: 'ids',
        documents: Array.from({ length: 3 }, (_, i) => ({ _id: i })),
        $db: db,
      });
      const r = await c.command({ find: 'ids', filter: {}, batchSize: 1, $db: db });
      assert.ok(r.cursor.id instanceof Long, 'cursor.id is a Long');
      assert.equal(r.cursor.id.isZero(), false);
    });
  });
});
