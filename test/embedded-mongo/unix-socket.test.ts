import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { startEmbeddedMongo } from '../../src/embedded-mongo';

describe('embedded mongo: the Unix domain socket (as mongod listens on /tmp/mongodb-<port>.sock)', () => {
  before(function () {
    if (process.platform === 'win32') this.skip();
  });

  it('when the store starts, then it also listens on <tmpdir>/eqi-mongodb-<port>.sock, owner only, and the driver works through it', async () => {
    const db = await startEmbeddedMongo({ inMemory: true });
    const file = path.join(os.tmpdir(), `eqi-mongodb-${db.port}.sock`);
    try {
      assert.equal(db.socketUri, `mongodb://${encodeURIComponent(file)}`);
      const st = fs.statSync(file);
      assert.ok(st.isSocket());
      assert.equal(st.mode & 0o777, 0o700);
      const client = await MongoClient.connect(db.socketUri!);
      try {
        await client.db('u').collection('c').insertOne({ a: 1 });
        // The same store as over TCP.
        const tcp = await MongoClient.connect(db.uri);
        assert.equal(await tcp.db('u').collection('c').countDocuments({ a: 1 }), 1);
        await tcp.close();
      } finally {
        await client.close();
      }
    } finally {
      await db.close();
    }
    assert.equal(fs.existsSync(file), false, 'the socket file is removed on close');
  });

  it('when a stale socket file is in the way, then it is replaced; with unixSocket: false there is none', async () => {
    const file = path.join(os.tmpdir(), `eqi-test-${process.pid}.sock`);
    fs.writeFileSync(file, 'stale');
    const db = await startEmbeddedMongo({ inMemory: true, unixSocket: file });
    try {
      assert.ok(fs.statSync(file).isSocket());
      const client = await MongoClient.connect(db.socketUri!);
      assert.deepEqual(await client.db('admin').command({ ping: 1 }), { ok: 1 });
      await client.close();
    } finally {
      await db.close();
    }
    const tcpOnly = await startEmbeddedMongo({ inMemory: true, unixSocket: false });
    try {
      assert.equal(tcpOnly.socketUri, null);
      assert.equal(
        fs.existsSync(path.join(os.tmpdir(), `eqi-mongodb-${tcpOnly.port}.sock`)),
        false,
      );
    } finally {
      await tcpOnly.close();
    }
  });
});
