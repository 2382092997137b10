/**
 * Issue #14 section 3: an update that changes a little of a large document journals the change
 * (engine/delta.ts), not the whole new document. Through the driver against a file-backed store:
 * the journal grows by the change, and a restart (or a restore from a backup, or a restart after
 * kill -9) gives back every document byte for byte as it was before.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { calculateObjectSize, Decimal128, deserialize, Double, Int32, Long } from 'bson';
import fc from 'fast-check';
import { MongoClient } from 'mongodb';
import { startEmbeddedMongo, type EmbeddedMongo } from '../../src/embedded-mongo';
import { backupDataDir, restoreDataDir } from '../../src/embedded-mongo/backup';
import { startStoreProcess, type AnyDoc, type StoreProcess } from './helpers';

/** Bytes of all journal files in a data directory. */
function journalBytes(dir: string): number {
  return fs
    .readdirSync(dir)
    .filter((f) => f.startsWith('journal-'))
    .reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
}

/** Every document of t.p in natural order, as the BSON the driver received (hex). */
async function contents(uri: string): Promise<string[]> {
  const client = await MongoClient.connect(uri);
  try {
    const docs = await client
      .db('t')
      .collection('p')
      .find({}, { raw: true } as object)
      .toArray();
    return docs.map((d) => Buffer.from(d as unknown as Uint8Array).toString('hex'));
  } finally {
    await client.close();
  }
}

/** A pledge-like document of about `kib` KiB, most of it a history array. */
function pledge(id: string, kib = 20): AnyDoc {
  const doc: AnyDoc = {
    _id: id,
    status: 'draft',
    company: { name: 'Acme', reviewer: { name: 'Li', level: 2 } },
    count: 1,
    history: [],
  };
  for (let i = 0; calculateObjectSize(doc) < kib * 1024; i++)
    doc.history.push({
      at: new Date(1_700_000_000_000 + i * 1000),
      by: `user-${i % 17}`,
      note: 'reviewed and confirmed the pledge text '.slice(0, 20 + (i % 20)),
      seq: i,
    });
  return doc;
}

describe('embedded store: updates journal their change, not the whole document', function () {
  this.timeout(120_000);
  let dir: string;
  let store: EmbeddedMongo | undefined;
  let client: MongoClient | undefined;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'restart-delta-'));
  });
  afterEach(async () => {
    await client?.close();
    client = undefined;
    await store?.close();
    store = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function open(): Promise<ReturnType<MongoClient['db']>> {
    store = await startEmbeddedMongo({ dataDir: dir });
    client = await MongoClient.connect(store.uri);
    return client.db('t');
  }

  /** Closes the store, starts it again over the same directory, and returns the documents. */
  async function restart(): Promise<string[]> {
    await client?.close();
    client = undefined;
    await store?.close();
    store = await startEmbeddedMongo({ dataDir: dir });
    return contents(store.uri);
  }

  /** Journal bytes that `write` adds. */
  async function growth(write: () => Promise<unknown>): Promise<number> {
    const at = journalBytes(dir);
    await write();
    return journalBytes(dir) - at;
  }

  it('when a short field of a 20 KiB document is $set, then the journal grows by far less than the document and a restart gives back the same bytes', async () => {
    const p = (await open()).collection<AnyDoc>('p');
    const full = await growth(() => p.insertOne(pledge('a')));
    assert.ok(full > 20_000, `the insert journals the whole document (${full} B)`);
    const small = await growth(() => p.updateOne({ _id: 'a' }, { $set: { status: 'sealed' } }));
    assert.ok(small < 300, `a one-field $set journals ${small} B (the document: ${full} B)`);
    const before = await contents(store!.uri);
    assert.deepEqual(await restart(), before);
    const c = new MongoClient(store!.uri);
    try {
      assert.equal(
        (await c.db('t').collection<AnyDoc>('p').findOne({ _id: 'a' }))?.status,
        'sealed',
      );
    } finally {
      await c.close();
    }
  });

  it('when a growing top-level array is $push-ed to many times, then each push journals about the new item and a restart gives back the same bytes', async () => {
    const p = (await open()).collection<AnyDoc>('p');
    await p.insertOne(pledge('a'));
    for (let i = 0; i < 40; i++) {
      const n = await growth(() =>
        p.updateOne({ _id: 'a' }, {
          $push: { history: { at: new Date(), by: 'x', seq: 1000 + i } },
          $inc: { count: 1 },
        } as never),
      );
      assert.ok(n < 300, `push ${i} journals ${n} B`);
    }
    await p.updateOne({ _id: 'a' }, { $push: { history: { $each: [1, 2, 3] } } } as never);
    const before = await contents(store!.uri);
    assert.deepEqual(await restart(), before);
  });

  it('when fields are $unset and a nested path is $set, then the journal grows a little and a restart gives back the same bytes', async () => {
    const p = (await open()).collection<AnyDoc>('p');
    await p.insertOne(pledge('a'));
    await p.insertOne(pledge('b'));
    const unset = await growth(() => p.updateOne({ _id: 'a' }, { $unset: { status: '' } }));
    const nested = await growth(() =>
      p.updateOne(
        { _id: 'b' },
        { $set: { 'company.reviewer.name': 'Wang', 'company.reviewer.since': 2024 } },
      ),
    );
    const both = await growth(() =>
      p.updateOne({ _id: 'b' }, { $unset: { count: '' }, $set: { added: 'new field at the end' } }),
    );
    for (const [what, n] of [
      ['$unset', unset],
      ['nested $set', nested],
      ['$unset with a new field', both],
    ] as const)
      assert.ok(n < 400, `${what} journals ${n} B`);
    const before = await contents(store!.uri);
    assert.deepEqual(await restart(), before);
    const c = new MongoClient(store!.uri);
    try {
      const [a, b] = await c.db('t').collection('p').find().toArray();
      assert.equal('status' in a!, false);
      assert.deepEqual(b!.company.reviewer, { name: 'Wang', level: 2, since: 2024 });
      assert.deepEqual(Object.keys(b!), ['_id', 'status', 'company', 'history', 'added']);
    } finally {
      await c.close();
    }
  });

  it('when numbers of every type are set and incremented, then after a restart each keeps its BSON type (int32, int64, integer-valued double, Decimal128)', async () => {
    const p = (await open()).collection<AnyDoc>('p');
    await p.insertOne(pledge('a'));
    await p.updateOne(
      { _id: 'a' },
      {
        $set: {
          i: 5,
          l: Long.fromString('9007199254740993'),
          d: new Double(3),
          m: Decimal128.fromString('1.10'),
        },
      },
    );
    await p.updateOne({ _id: 'a' }, { $inc: { i: 1, l: Long.fromInt(1), d: new Double(1) } });
    const n = await growth(() => p.updateOne({ _id: 'a' }, { $inc: { d: 2 } }));
    assert.ok(n < 300, `an $inc journals ${n} B`);
    const before = await contents(store!.uri);
    assert.deepEqual(await restart(), before);
    const raw = (await contents(store!.uri))[0]!;
    const doc = deserialize(Buffer.from(raw, 'hex'), { promoteValues: false });
    assert.ok(doc.i instanceof Int32 && doc.i.value === 6, 'int32');
    assert.ok(doc.l instanceof Long && doc.l.toString() === '9007199254740994', 'int64');
    assert.ok(doc.d instanceof Double && doc.d.value === 6, 'an integer-valued double');
    assert.ok(doc.m instanceof Decimal128 && doc.m.toString() === '1.10', 'Decimal128');
  });

  it('when a delta record meets a document other than the one it was made from, then the restart fails naming the record instead of storing a wrong document', async () => {
    const p = (await open()).collection<AnyDoc>('p');
    await p.insertOne(pledge('a'));
    await p.updateOne({ _id: 'a' }, { $set: { count: 2 } });
    await client!.close();
    client = undefined;
    await store!.close();
    store = undefined;
    // The inserted document's 'draft' becomes 'DRAFT' (same size), its frame's CRC made right.
    const file = path.join(
      dir,
      fs.readdirSync(dir).find((f) => f.startsWith('journal-'))!,
    );
    const j = fs.readFileSync(file);
    const at = j.indexOf('draft');
    assert.ok(at > 0 && j.indexOf('draft', at + 1) < 0, 'one draft in the journal');
    j.write('DRAFT', at, 'latin1');
    let pos = 0;
    while (pos + 8 + j.readUInt32LE(pos) <= at) pos += 8 + j.readUInt32LE(pos);
    j.writeUInt32LE(crc32(j.subarray(pos + 8, pos + 8 + j.readUInt32LE(pos))), pos + 4);
    fs.writeFileSync(file, j);
    await assert.rejects(startEmbeddedMongo({ dataDir: dir }), (e: Error) => {
      assert.match(e.message, /byte offset \d+ failed: a delta that does not give the document/);
      return true;
    });
  });

  it('when most of a document changes or its fields are reordered, then the whole document is journaled and a restart gives back the same bytes', async () => {
    const p = (await open()).collection<AnyDoc>('p');
    await p.insertOne(pledge('a'));
    const big = await growth(() =>
      p.updateOne({ _id: 'a' }, { $set: { history: pledge('x', 15).history.reverse() } }),
    );
    assert.ok(big > 15_000, `a big change journals the whole document (${big} B)`);
    const { _id, history, ...rest } = pledge('a');
    const reordered = await growth(() => p.replaceOne({ _id }, { history, ...rest }));
    assert.ok(reordered > 20_000, `a reordering journals the whole document (${reordered} B)`);
    const same = await growth(() => p.replaceOne({ _id }, { history, ...rest, status: 'x' }));
    assert.ok(same < 300, `a replacement in the same order journals the change (${same} B)`);
    const before = await contents(store!.uri);
    assert.deepEqual(await restart(), before);
  });

  it('when deltas follow a snapshot (compaction) and the data directory is backed up and restored, then both restarts give back the same bytes', async () => {
    store = await startEmbeddedMongo({ dataDir: dir, compactAtBytes: 64 * 1024 });
    client = await MongoClient.connect(store.uri);
    const p = client.db('t').collection<AnyDoc>('p');
    for (let i = 0; i < 6; i++) await p.insertOne(pledge(`p${i}`));
    for (let i = 0; i < 100 && !fs.readdirSync(dir).some((f) => f.endsWith('.bson')); i++)
      await new Promise((r) => setTimeout(r, 50));
    assert.ok(
      fs.readdirSync(dir).some((f) => f.endsWith('.bson')),
      'a snapshot was written',
    );
    // The compaction the inserts started may still be committing (old journals not yet removed):
    // one that is finished is the starting point.
    await store.server.compactNow();
    const snapshots = fs.readdirSync(dir).filter((f) => f.endsWith('.bson'));
    const at = journalBytes(dir);
    for (let i = 0; i < 30; i++)
      await p.updateOne({ _id: `p${i % 6}` }, {
        $push: { history: i },
        $set: { status: `s${i}` },
      } as never);
    const grew = journalBytes(dir) - at;
    assert.deepEqual(
      fs.readdirSync(dir).filter((f) => f.endsWith('.bson')),
      snapshots,
      'no compaction in between',
    );
    assert.ok(grew > 0 && grew < 30 * 300, `30 small updates journal ${grew} B`);
    const before = await contents(store.uri);
    const backup = path.join(dir, '..', `${path.basename(dir)}.backup`);
    const restored = `${dir}-restored`;
    try {
      backupDataDir(dir, backup);
      assert.deepEqual(await restart(), before);
      restoreDataDir(backup, restored);
      const other = await startEmbeddedMongo({ dataDir: restored });
      try {
        assert.deepEqual(await contents(other.uri), before);
      } finally {
        await other.close();
      }
    } finally {
      fs.rmSync(backup, { force: true });
      fs.rmSync(restored, { recursive: true, force: true });
    }
  });

  it('when random sequences of updates of every kind are made, then after a restart every document is byte-identical to before', async () => {
    const value = fc.oneof(
      fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      fc.integer().map((n) => Long.fromNumber(n * 1000)),
      fc.integer({ min: -1000, max: 1000 }).map((n) => new Double(n)),
      fc.double({ noNaN: true }),
      fc.integer().map((n) => Decimal128.fromString(`${n}.50`)),
      fc.string({ maxLength: 40 }),
      fc.nat(12_000).map((n) => 'z'.repeat(n)),
      fc.record({ k: fc.string({ maxLength: 5 }), v: fc.integer() }),
      fc.constant(null),
    );
    const field = fc.constantFrom('status', 'count', 'company', 'history', 'f1', 'f2', 'ü');
    const update = fc.oneof(
      fc.record({ $set: fc.dictionary(field, value, { minKeys: 1, maxKeys: 3 }) }),
      fc.record({ $unset: fc.dictionary(field, fc.constant(''), { minKeys: 1, maxKeys: 2 }) }),
      fc.record({ $push: fc.record({ history: value }) }),
      fc.record({
        $push: fc.record({ history: fc.record({ $each: fc.array(value, { maxLength: 4 }) }) }),
      }),
      fc.record({ $pop: fc.record({ history: fc.constantFrom(1, -1) }) }),
      fc.record({ $inc: fc.record({ count: fc.oneof(fc.integer(), fc.double({ noNaN: true })) }) }),
      fc.record({ $set: fc.record({ 'company.reviewer.name': value, 'company.x': value }) }),
      fc.record({ $rename: fc.record({ status: fc.constantFrom('f1', 'f2') }) }),
    );
    const step = fc.record({ doc: fc.constantFrom('a', 'b', 'c', 'all'), update });
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 25 }), async (steps) => {
        fs.rmSync(dir, { recursive: true, force: true });
        fs.mkdirSync(dir);
        const p = (await open()).collection<AnyDoc>('p');
        await p.insertMany([pledge('a', 1), pledge('b', 4), pledge('c', 22)]);
        for (const s of steps) {
          const q = s.doc === 'all' ? {} : { _id: s.doc };
          // Updates the store refuses ($inc of a string, $push to a non-array) change nothing.
          await p.updateMany(q, s.update as never).catch(() => undefined);
        }
        const before = await contents(store!.uri);
        const after = await restart();
        await store!.close();
        store = undefined;
        runs++;
        assert.deepEqual(after, before);
      }),
      { numRuns: 30 },
    );
    assert.equal(runs, 30);
  });
});

describe('embedded store: delta records survive kill -9', function () {
  this.timeout(90_000);
  let dir: string;
  let proc: StoreProcess | undefined;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'delta-crash-'));
  });
  after(async () => {
    if (proc && proc.child.exitCode === null && proc.child.signalCode === null) {
      proc.child.kill('SIGKILL');
      await proc.exited;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('when the store is killed while pushes to a large document are acknowledged, then after each restart the history holds every acknowledged push in order', async () => {
    let acked = -1;
    let next = 0;
    const rounds = 4;
    for (let round = 0; ; round++) {
      proc = await startStoreProcess(['--data', dir, '--port', '0']);
      const c = new MongoClient(proc.uri, { serverSelectionTimeoutMS: 1000, retryWrites: false });
      await c.connect();
      const p = c.db('t').collection<AnyDoc>('p');
      const doc = await p.findOne({ _id: 'a' });
      if (round === 0) await p.insertOne({ ...pledge('a'), pushed: [] });
      else {
        const pushed = doc!.pushed as number[];
        assert.deepEqual(
          pushed,
          Array.from({ length: pushed.length }, (_, i) => i),
          `round ${round}: in order, no gaps`,
        );
        assert.ok(pushed.length - 1 >= acked, `round ${round}: ${acked} was acknowledged`);
        assert.equal(doc!.last, pushed.length - 1);
        next = pushed.length;
      }
      if (round === rounds) {
        await c.close();
        proc.child.kill('SIGTERM');
        assert.equal((await proc.exited).code, 0, 'a clean shutdown after the kills');
        break;
      }
      let warm: () => void = () => undefined;
      const warmed = new Promise<void>((r) => (warm = r));
      const writer = (async () => {
        for (let i = next; ; i++) {
          try {
            await p.updateOne({ _id: 'a' }, { $push: { pushed: i }, $set: { last: i } } as never);
          } catch {
            return;
          }
          acked = i;
          if (i - next >= 20) warm();
        }
      })();
      await Promise.race([warmed, writer]);
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 200)));
      proc.child.kill('SIGKILL');
      const { signal } = await proc.exited;
      assert.equal(
        signal,
        'SIGKILL',
        `round ${round}: the store died on its own: ${proc.stderr()}`,
      );
      await writer;
      await c.close(true);
    }
    assert.ok(acked >= 80, `pushes were acknowledged (${acked + 1})`);
  });
});
