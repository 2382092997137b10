import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { serialize } from 'bson';
import {
  OP_COMPRESSED,
  OP_MSG,
  RawClient,
  newRequestId,
  opMsg,
  opQuery,
  pingsOk,
  rawMessage,
  uniqueDb,
  useStore,
  type Reply,
} from './helpers';

/** OP_MSG bytes with a hand-made body section (flags + whatever follows). */
function opMsgBytes(flags: number, sections: Buffer): Buffer {
  const f = Buffer.alloc(4);
  f.writeUInt32LE(flags, 0);
  return rawMessage(OP_MSG, Buffer.concat([f, sections]));
}

/** A BSON document {ping: 1, $db: "admin"} with a chosen byte patched afterwards. */
function patched(doc: object, patch: (b: Buffer) => void): Buffer {
  const b = Buffer.from(serialize(doc));
  patch(b);
  return b;
}

describe('embedded mongo: bad input over raw sockets', () => {
  const store = useStore();
  const db = uniqueDb('bad');
  let c: RawClient;

  beforeEach(async () => {
    c = await RawClient.connect(store.db.port);
  });
  afterEach(async () => {
    c.close();
    assert.ok(
      await pingsOk(store.db.port),
      'a fresh connection still gets ping → ok (server alive)',
    );
  });

  /** The server must either answer with an error or close the connection: never hang, never crash. */
  const errorOrClose = async (): Promise<Reply | 'closed'> => {
    const o = await c.outcome(2000);
    if (o === 'nothing') assert.fail('the server neither answered nor closed the connection');
    if (o !== 'closed') assert.equal(o.doc.ok, 0, `an error reply, got ${JSON.stringify(o.doc)}`);
    return o;
  };

  describe('framing', () => {
    it('when the length prefix is above 48 MB, then the connection is closed without reading the body', async () => {
      const h = Buffer.alloc(16);
      h.writeInt32LE(48_000_001, 0);
      h.writeInt32LE(newRequestId(), 4);
      h.writeInt32LE(OP_MSG, 12);
      await c.write(h);
      assert.equal(await c.outcome(2000), 'closed');
    });

    it('when the length prefix is below 16 (or negative), then the connection is closed', async () => {
      for (const len of [8, 15, 0, -1]) {
        const other = await RawClient.connect(store.db.port);
        try {
          const h = Buffer.alloc(16);
          h.writeInt32LE(len, 0);
          await other.write(h);
          assert.equal(await other.outcome(2000), 'closed', `length ${len}`);
        } finally {
          other.close();
        }
      }
    });

    it('when random garbage bytes arrive, then the connection is closed or answered with an error', async () => {
      const garbage = randomBytes(4096);
      garbage.writeInt32LE(4096, 0); // plausible length so the framer hands it to the parser
      await c.write(garbage);
      await errorOrClose();
    });

    it('when a message is cut off and the client disconnects, then the server just drops the connection', async () => {
      const msg = opMsg({ insert: 'cut', documents: [{ _id: 1 }], $db: db });
      await c.write(msg.subarray(0, msg.length - 5));
      assert.equal(await c.outcome(200), 'nothing', 'the server waits for the rest');
      c.close();
      const fresh = await RawClient.connect(store.db.port);
      try {
        const r = await fresh.command({ count: 'cut', $db: db });
        assert.equal(r.n, 0, 'the partial insert was not applied');
      } finally {
        fresh.close();
      }
    });

    it('when a good message is followed by a bad one in the same write, then the good one is answered before the close', async () => {
      const id = newRequestId();
      const bad = Buffer.alloc(16);
      bad.writeInt32LE(7, 0);
      await c.write(Buffer.concat([opMsg({ ping: 1, $db: 'admin' }, { requestId: id }), bad]));
      const o = await c.outcome(2000);
      // Framing fails on the whole chunk, so the server may close before answering; either is safe.
      if (o === 'nothing') assert.fail('the server neither answered nor closed the connection');
      if (o !== 'closed') assert.equal(o.responseTo, id);
    });
  });

  describe('opcodes', () => {
    for (const [name, opCode] of [
      ['an unknown opcode (9999)', 9999],
      ['OP_COMPRESSED', OP_COMPRESSED],
      ['legacy OP_INSERT (2002)', 2002],
      ['legacy OP_GET_MORE (2005)', 2005],
      ['OP_REPLY sent to the server', 1],
    ] as const) {
      it(`when ${name} arrives, then the connection is closed or answered with an error`, async () => {
        const body = Buffer.concat([Buffer.alloc(9), Buffer.from(serialize({ ping: 1 }))]);
        await c.write(rawMessage(opCode, body));
        await errorOrClose();
      });
    }
  });

  describe('malformed OP_MSG and BSON', () => {
    const cases: Array<[string, () => Buffer]> = [
      [
        'a BSON length larger than the message',
        () =>
          opMsgBytes(
            0,
            Buffer.concat([
              Buffer.from([0]),
              patched({ ping: 1, $db: 'admin' }, (b) => b.writeInt32LE(1000, 0)),
            ]),
          ),
      ],
      [
        'a BSON length smaller than 5',
        () =>
          opMsgBytes(
            0,
            Buffer.concat([
              Buffer.from([0]),
              patched({ ping: 1, $db: 'admin' }, (b) => b.writeInt32LE(3, 0)),
            ]),
          ),
      ],
      [
        'an unknown BSON element type',
        () =>
          opMsgBytes(
            0,
            Buffer.concat([
              Buffer.from([0]),
              patched({ ping: 1, $db: 'admin' }, (b) => (b[4] = 0x77)),
            ]),
          ),
      ],
      [
        'a missing document terminator',
        () =>
          opMsgBytes(
            0,
            Buffer.concat([
              Buffer.from([0]),
              patched({ ping: 1, $db: 'admin' }, (b) => (b[b.length - 1] = 0x01)),
            ]),
          ),
      ],
      [
        'invalid UTF-8 in a string',
        () =>
          opMsgBytes(
            0,
            Buffer.concat([
              Buffer.from([0]),
              patched({ ping: 1, $db: 'admin' }, (b) => b.fill(0xff, b.length - 7, b.length - 2)),
            ]),
          ),
      ],
      [
        'an unknown section kind',
        () =>
          opMsgBytes(
            0,
            Buffer.concat([Buffer.from([2]), Buffer.from(serialize({ ping: 1, $db: 'admin' }))]),
          ),
      ],
      ['no body section at all', () => opMsgBytes(0, Buffer.alloc(0))],
      [
        'only a document sequence and no body',
        () =>
          opMsgBytes(
            0,
            Buffer.concat([
              Buffer.from([1]),
              Buffer.from([10, 0, 0, 0]),
              Buffer.from('docs\0'),
              Buffer.from([0]),
            ]),
          ),
      ],
      [
        'two body sections',
        () =>
          opMsgBytes(
            0,
            Buffer.concat([
              Buffer.from([0]),
              Buffer.from(serialize({ ping: 1 })),
              Buffer.from([0]),
              Buffer.from(serialize({ ping: 1 })),
            ]),
          ),
      ],
      [
        'a document sequence whose size overruns the message',
        () => {
          const seq = Buffer.concat([
            Buffer.from([1]),
            Buffer.from([0xff, 0, 0, 0]),
            Buffer.from('documents\0'),
          ]);
          return opMsgBytes(
            0,
            Buffer.concat([
              Buffer.from([0]),
              Buffer.from(serialize({ insert: 'x', $db: db })),
              seq,
            ]),
          );
        },
      ],
      [
        'an unknown required flag bit',
        () =>
          opMsgBytes(
            0x4,
            Buffer.concat([Buffer.from([0]), Buffer.from(serialize({ ping: 1, $db: 'admin' }))]),
          ),
      ],
      ['a truncated OP_QUERY', () => opQuery('admin.$cmd', { ismaster: 1 }).subarray(0, 30)],
    ];
    for (const [name, build] of cases) {
      it(`when an OP_MSG has ${name}, then the connection is closed or answered with an error`, async () => {
        const msg = build();
        if (msg.readInt32LE(0) !== msg.length) msg.writeInt32LE(msg.length, 0); // keep the frame itself consistent
        await c.write(msg);
        await errorOrClose();
      });
    }

    it('when a truncated OP_QUERY header is framed consistently, then nothing is inserted and the server lives', async () => {
      const msg = rawMessage(2004, Buffer.from('admin.$cmd\0'));
      await c.write(msg);
      await errorOrClose();
    });
  });

  describe('commands', () => {
    it('when an unknown command is sent, then the reply is 59 CommandNotFound and the connection stays usable', async () => {
      const r = await c.command({ frobnicate: 1, $db: db });
      assert.equal(r.ok, 0);
      assert.equal(r.code, 59);
      assert.equal(r.codeName, 'CommandNotFound');
      assert.match(r.errmsg, /frobnicate/);
      assert.deepEqual(await c.command({ ping: 1, $db: 'admin' }), { ok: 1 });
    });

    it('when the command body is empty, then the reply is an error and the connection stays usable', async () => {
      const r = await c.command({});
      assert.equal(r.ok, 0);
      assert.equal(typeof r.code, 'number');
      assert.deepEqual(await c.command({ ping: 1, $db: 'admin' }), { ok: 1 });
    });

    it('when a command has fields of the wrong type, then each gets an error reply, not a closed connection', async () => {
      for (const cmd of [
        { insert: 5, documents: [{}], $db: db },
        { insert: 'x', documents: 'nope', $db: db },
        { find: 'x', filter: 'nope', $db: db },
        { find: 'x', sort: { a: 'sideways' }, $db: db },
        { update: 'x', updates: [{ q: {}, u: { $bogus: { a: 1 } } }], $db: db },
        { getMore: 'abc', collection: 'x', $db: db },
        { aggregate: 'x', pipeline: [{ $nope: {} }], cursor: {}, $db: db },
        { createIndexes: 'x', indexes: [{ key: {}, name: '' }], $db: db },
        { find: 'x', $db: 'bad.db.name' },
      ]) {
        const r = await c.command(cmd);
        assert.equal(
          r.ok === 0 || (Array.isArray(r.writeErrors) && r.writeErrors.length > 0),
          true,
          `error for ${JSON.stringify(cmd)}: ${JSON.stringify(r)}`,
        );
      }
    });

    it('when a document nests deeper than 100 levels, then the insert fails with an error reply', async () => {
      let deep: Record<string, unknown> = { leaf: true };
      for (let i = 0; i < 150; i++) deep = { d: deep };
      const r = await c.command({ insert: 'deep', documents: [deep], $db: db });
      assert.equal(r.n, 0);
      assert.equal(r.writeErrors[0].code, 2);
    });

    it('when a document is over 16 MB, then the insert fails with BSONObjectTooLarge and nothing is stored', async () => {
      const big = { _id: 'big', pad: 'x'.repeat(17 * 1024 * 1024) };
      const r = await c.command({ insert: 'huge', documents: [big], $db: db });
      assert.equal(r.n, 0);
      assert.equal(r.writeErrors[0].code, 10334);
      const n = await c.command({ count: 'huge', $db: db });
      assert.equal(n.n, 0);
    });
  });
});
