/**
 * Issue #14 section 3 (large values out of RAM): in a file-backed store, documents of at least
 * 16 KiB are read from the journal or snapshot that holds them instead of being kept in RAM slabs
 * (engine/large-docs.ts). Everything here goes through the driver over the wire, and compares
 * documents as the bytes the store sends back.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Binary, deserialize, serialize } from 'bson';
import fc from 'fast-check';
import { GridFSBucket, MongoClient, type Db } from 'mongodb';
import { startEmbeddedMongo, type EmbeddedMongo } from '../../src/embedded-mongo';
import { backupDataDir, restoreDataDir } from '../../src/embedded-mongo/backup';
import { BsonStore } from '../../src/embedded-mongo/engine/bson-store';
import { blobLoc, configureLargeDocs } from '../../src/embedded-mongo/engine/large-docs';
import { BlobFile } from '../../src/embedded-mongo/storage/blob-file';
import type { AnyDoc } from './helpers';

const KIB = 1024;

interface Memory {
  ramDocBytes: number;
  diskDocBytes: number;
  diskDocs: number;
  largeDocBytes: number;
}

async function memory(db: Db): Promise<Memory> {
  const s = await db.admin().command({ serverStatus: 1 });
  return s.embeddedStorage as Memory;
}

/** Every document of the collection as the bytes the store sends, by _id. */
async function rawDocs(db: Db, coll: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const docs = (await db.collection(coll).find({}, { raw: true }).toArray()) as unknown as Buffer[];
  for (const b of docs) out.set(String(deserialize(b)._id), Buffer.from(b).toString('hex'));
  return out;
}

/** Descriptors this process holds on deleted files of `dir` (old journals kept open). */
function deletedOpenFiles(dir: string): string[] {
  const out: string[] = [];
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      const target = fs.readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(dir) && target.endsWith('(deleted)')) out.push(target);
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

function certificate(i: number, bytes = 64 * KIB): AnyDoc {
  return {
    _id: i,
    serial: `QIP-${String(i).padStart(6, '0')}`,
    pdf: new Binary(randomBytes(bytes)),
  };
}

describe('embedded store: large documents read from the data files', function () {
  this.timeout(120_000);
  let dir: string;
  let store: EmbeddedMongo | undefined;
  let client: MongoClient | undefined;

  const open = async (opts: { compactAtBytes?: number } = {}): Promise<Db> => {
    await client?.close();
    await store?.close();
    store = await startEmbeddedMongo({ dataDir: dir, ...opts });
    client = await MongoClient.connect(store.uri);
    return client.db('t');
  };

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'large-docs-'));
  });
  afterEach(async () => {
    await client?.close();
    await store?.close();
    client = undefined;
    store = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('when 200 documents of 64 KiB are inserted into a file-backed store, then their bytes are on disk and not in RAM slabs (a memory store keeps them in RAM)', async () => {
    const db = await open();
    const docs = Array.from({ length: 200 }, (_, i) => certificate(i));
    await db.collection<AnyDoc>('certs').insertMany(docs);
    const m = await memory(db);
    assert.equal(m.largeDocBytes, 16 * KIB);
    assert.equal(m.diskDocs, 200);
    assert.ok(m.diskDocBytes > 200 * 64 * KIB, `on disk: ${m.diskDocBytes}`);
    assert.ok(m.ramDocBytes < 64 * KIB, `in RAM slabs: ${m.ramDocBytes}`);

    const mem = await startEmbeddedMongo({ inMemory: true });
    const memClient = await MongoClient.connect(mem.uri);
    try {
      await memClient
        .db('t')
        .collection<AnyDoc>('certs')
        .insertMany(docs.map((d) => ({ ...d })));
      const mm = await memory(memClient.db('t'));
      assert.equal(mm.diskDocs, 0);
      assert.ok(mm.ramDocBytes > 200 * 64 * KIB, `memory store RAM: ${mm.ramDocBytes}`);
    } finally {
      await memClient.close();
      await mem.close();
    }
  });

  it('when large documents are found, updated and deleted, then every answer is exact and an updated document is read in its new version only', async () => {
    const db = await open();
    const certs = db.collection<AnyDoc>('certs');
    await certs.createIndex({ serial: 1 }, { unique: true });
    const docs = Array.from({ length: 40 }, (_, i) => certificate(i, 20 * KIB + i * 997));
    await certs.insertMany(docs);
    assert.equal((await memory(db)).diskDocs, 40);

    const byId = await certs.findOne({ _id: 7 });
    assert.ok(Buffer.from(byId!.pdf.buffer).equals(Buffer.from(docs[7]!.pdf.buffer)));
    // Through the index on a field of documents whose bytes are on disk.
    const bySerial = await certs.findOne({ serial: 'QIP-000031' });
    assert.equal(bySerial!._id, 31);
    assert.ok(Buffer.from(bySerial!.pdf.buffer).equals(Buffer.from(docs[31]!.pdf.buffer)));
    const range = await certs.find({ serial: { $gte: 'QIP-000010', $lt: 'QIP-000013' } }).toArray();
    assert.deepEqual(
      range.map((d) => d._id),
      [10, 11, 12],
    );

    const before = await memory(db);
    const newPdf = new Binary(randomBytes(70 * KIB));
    await certs.updateOne({ _id: 7 }, { $set: { pdf: newPdf, revoked: true } });
    const after = await memory(db);
    assert.equal(after.diskDocs, 40, 'the old version is no longer counted');
    assert.equal(
      after.diskDocBytes - before.diskDocBytes,
      70 * KIB - (20 * KIB + 7 * 997) + Buffer.byteLength('revoked') + 3,
    );
    const updated = await certs.findOne({ _id: 7 });
    assert.equal(updated!.revoked, true);
    assert.ok(Buffer.from(updated!.pdf.buffer).equals(Buffer.from(newPdf.buffer)));
    assert.equal(await certs.countDocuments({ revoked: true }), 1);

    await certs.deleteMany({ _id: { $lt: 10 } });
    assert.equal((await memory(db)).diskDocs, 30);
    assert.equal(await certs.findOne({ _id: 7 }), null);
    assert.equal(await certs.findOne({ serial: 'QIP-000003' }), null);
    assert.equal(await certs.countDocuments(), 30);
  });

  it('when the store is compacted and restarted, then every document is byte-identical, the old files are closed and the documents stay on disk', async () => {
    let db = await open();
    const certs = db.collection<AnyDoc>('certs');
    await certs.insertMany(Array.from({ length: 60 }, (_, i) => certificate(i, 30 * KIB)));
    await certs.insertMany(Array.from({ length: 30 }, (_, i) => ({ _id: 1000 + i, small: i })));
    await certs.updateMany({ _id: { $lt: 10 } }, { $set: { touched: 1 } });
    await certs.deleteMany({ _id: { $gte: 50, $lt: 55 } });
    const expected = await rawDocs(db, 'certs');

    await store!.server.compactNow();
    assert.deepEqual(await rawDocs(db, 'certs'), expected);
    assert.deepEqual(deletedOpenFiles(dir), [], 'old journal descriptors are closed');
    assert.equal((await memory(db)).diskDocs, 55);
    // Written after the compaction: in the new journal.
    await certs.insertOne(certificate(500, 40 * KIB));
    await certs.updateOne({ _id: 20 }, { $set: { after: true } });
    const later = await rawDocs(db, 'certs');

    db = await open();
    assert.deepEqual(await rawDocs(db, 'certs'), later);
    const m = await memory(db);
    // _id 20's update journaled a delta: replayed, its new version is in RAM until a snapshot.
    assert.equal(m.diskDocs, 55);
    assert.ok(m.ramDocBytes < 64 * KIB, `in RAM after restart: ${m.ramDocBytes}`);
    await store!.server.compactNow();
    await store!.server.compactNow();
    assert.equal((await memory(db)).diskDocs, 56);
    assert.deepEqual(await rawDocs(db, 'certs'), later);
    assert.deepEqual(deletedOpenFiles(dir), []);
  });

  it('when large documents are still in RAM at a compaction (kept there by a higher threshold when written), then the committed snapshot takes them over, and one written again during the compaction keeps its new version', async () => {
    const db = await open();
    const certs = db.collection<AnyDoc>('certs');
    configureLargeDocs({ thresholdBytes: 1 << 30 });
    try {
      await certs.insertMany(Array.from({ length: 20 }, (_, i) => certificate(i, 30 * KIB)));
    } finally {
      configureLargeDocs({ thresholdBytes: 16 * KIB });
    }
    assert.equal((await memory(db)).diskDocs, 0);
    const expected = await rawDocs(db, 'certs');
    await store!.server.compactNow();
    const m = await memory(db);
    assert.equal(m.diskDocs, 20);
    assert.ok(m.ramDocBytes < 64 * KIB, `in RAM: ${m.ramDocBytes}`);
    assert.deepEqual(await rawDocs(db, 'certs'), expected);

    // A document written again while the snapshot is being written keeps its new version.
    configureLargeDocs({ thresholdBytes: 1 << 30 });
    let compacted: Promise<void>;
    try {
      await certs.insertOne(certificate(100, 30 * KIB));
      compacted = store!.server.compactNow();
      await certs.updateOne({ _id: 100 }, { $set: { v: 2 } });
    } finally {
      configureLargeDocs({ thresholdBytes: 16 * KIB });
    }
    await compacted;
    assert.equal((await certs.findOne({ _id: 100 }))!.v, 2);
    const restarted = await open();
    assert.equal((await restarted.collection<AnyDoc>('certs').findOne({ _id: 100 }))!.v, 2);
    assert.equal(await restarted.collection('certs').countDocuments(), 21);
  });

  it('when a document is written again between its snapshot copy and the commit, then the commit does not move it back to the copy (the store, directly)', () => {
    const file = path.join(dir, 'blob');
    const v1 = serialize({ _id: 1, pdf: new Binary(randomBytes(20 * KIB)) });
    const v2 = serialize({ _id: 1, pdf: new Binary(randomBytes(20 * KIB)) });
    fs.writeFileSync(file, Buffer.concat([v1, v2]));
    const blob = new BlobFile(file);
    try {
      const store = new BsonStore();
      store.set('k', null, v1);
      const version = store.versionIfSame('k', v1)!;
      assert.ok(version);
      assert.equal(store.versionIfSame('k', v2), undefined);
      // Rewritten with the same bytes: a new version all the same, which the commit leaves alone.
      store.set('k', null, v1);
      store.relocate('k', blobLoc(blob, 0, v1), version);
      assert.equal(store.diskDocs, 0);
      const now = store.versionIfSame('k', v1)!;
      store.relocate('k', blobLoc(blob, 0, v1), now);
      assert.equal(store.diskDocs, 1);
      assert.ok(Buffer.from(store.bytes('k')!).equals(v1));
      // And a version on disk is as exact: a later move of the same key needs its token.
      const onDisk = store.versionIfSame('k', v1)!;
      store.set('k', null, v2);
      store.relocate('k', blobLoc(blob, v1.length, v2), onDisk);
      assert.equal(store.diskDocs, 0);
      assert.ok(Buffer.from(store.bytes('k')!).equals(v2));
    } finally {
      blob.close();
    }
  });

  it('when a large document on disk gets small updates (journaled as deltas), then it reads exact, after a restart and after a compaction, where it goes back to disk', async () => {
    let db = await open();
    const certs = db.collection<AnyDoc>('certs');
    const doc = certificate(1, 64 * KIB);
    await certs.insertOne(doc);
    assert.equal((await memory(db)).diskDocs, 1);
    for (let i = 0; i < 5; i++) await certs.updateOne({ _id: 1 }, { $set: { views: i } });
    const journal = fs.statSync(path.join(dir, 'journal-000000.log')).size;
    assert.ok(journal < 64 * KIB * 2, `the updates journaled deltas (journal ${journal} B)`);
    const expected = await rawDocs(db, 'certs');
    assert.equal((await memory(db)).diskDocs, 0, 'the updated version is in RAM');

    db = await open();
    assert.deepEqual(await rawDocs(db, 'certs'), expected);
    await store!.server.compactNow();
    assert.equal((await memory(db)).diskDocs, 1, 'the snapshot holds it');
    assert.deepEqual(await rawDocs(db, 'certs'), expected);
    db = await open();
    assert.deepEqual(await rawDocs(db, 'certs'), expected);
    assert.equal((await memory(db)).diskDocs, 1);
  });

  it('when a store with large documents is backed up and restored, then the restored store has every document byte for byte', async () => {
    const db = await open();
    const certs = db.collection<AnyDoc>('certs');
    await certs.insertMany(Array.from({ length: 30 }, (_, i) => certificate(i, 50 * KIB)));
    await store!.server.compactNow();
    await certs.updateOne({ _id: 3 }, { $set: { revoked: true } });
    await certs.insertOne(certificate(99, 20 * KIB));
    const expected = await rawDocs(db, 'certs');
    const bak = path.join(dir, '..', `${path.basename(dir)}.bak`);
    const restored = `${dir}-restored`;
    try {
      backupDataDir(dir, bak);
      restoreDataDir(bak, restored);
      const other = await startEmbeddedMongo({ dataDir: restored });
      const otherClient = await MongoClient.connect(other.uri);
      try {
        assert.deepEqual(await rawDocs(otherClient.db('t'), 'certs'), expected);
      } finally {
        await otherClient.close();
        await other.close();
      }
    } finally {
      fs.rmSync(bak, { force: true });
      fs.rmSync(restored, { recursive: true, force: true });
    }
  });

  it('when the bytes of a large document change on disk under the store, then reading it is an error, never a different document', async () => {
    const db = await open();
    const certs = db.collection<AnyDoc>('certs');
    const pdf = randomBytes(40 * KIB);
    await certs.insertOne({ _id: 1, pdf: new Binary(pdf) });
    await certs.insertOne({ _id: 2, note: 'small, in RAM' });
    assert.equal((await memory(db)).diskDocs, 1);
    const journal = path.join(dir, 'journal-000000.log');
    const at = fs.readFileSync(journal).indexOf(pdf.subarray(0, 64));
    assert.ok(at > 0, 'the document is in the journal');
    const fd = fs.openSync(journal, 'r+');
    fs.writeSync(fd, Buffer.from([pdf[100]! ^ 0xff]), 0, 1, at + 100);
    fs.closeSync(fd);
    await assert.rejects(certs.findOne({ _id: 1 }), /is not what was written there/);
    await assert.rejects(certs.find().toArray(), /is not what was written there/);
    assert.equal((await certs.findOne({ _id: 2 }))!.note, 'small, in RAM');
  });

  it('when a 5 MiB file goes through GridFSBucket, then it downloads exactly, before and after a restart, with its chunks on disk', async () => {
    let db = await open();
    const file = randomBytes(5 * 1024 * KIB + 123);
    const sha = createHash('sha256').update(file).digest('hex');
    const bucket = new GridFSBucket(db, { bucketName: 'pdfs' });
    const up = bucket.openUploadStream('certificate.pdf');
    await pipeline(Readable.from([file]), up);
    const download = async (b: GridFSBucket): Promise<Buffer> => {
      const parts: Buffer[] = [];
      for await (const part of b.openDownloadStreamByName('certificate.pdf'))
        parts.push(part as Buffer);
      return Buffer.concat(parts);
    };
    assert.equal(
      createHash('sha256')
        .update(await download(bucket))
        .digest('hex'),
      sha,
    );
    const m = await memory(db);
    assert.equal(m.diskDocs, Math.ceil(file.length / (255 * KIB)));

    await store!.server.compactNow();
    db = await open();
    assert.equal(
      createHash('sha256')
        .update(await download(new GridFSBucket(db, { bucketName: 'pdfs' })))
        .digest('hex'),
      sha,
    );
  });

  it('when small and large documents are inserted, replaced and deleted between compactions and restarts, then the store always holds what a model holds', async () => {
    type Cmd =
      | { t: 'put'; id: number; size: number }
      | { t: 'del'; id: number }
      | { t: 'compact' }
      | { t: 'restart' };
    const cmd = fc.oneof(
      {
        weight: 6,
        arbitrary: fc.record({
          t: fc.constant('put' as const),
          id: fc.integer({ min: 0, max: 12 }),
          size: fc.oneof(
            fc.integer({ min: 10, max: 4 * KIB }),
            fc.integer({ min: 16 * KIB, max: 90 * KIB }),
          ),
        }),
      },
      {
        weight: 2,
        arbitrary: fc.record({
          t: fc.constant('del' as const),
          id: fc.integer({ min: 0, max: 12 }),
        }),
      },
      { weight: 1, arbitrary: fc.constant({ t: 'compact' as const }) },
      { weight: 1, arbitrary: fc.constant({ t: 'restart' as const }) },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(cmd, { minLength: 1, maxLength: 25 }),
        fc.integer(),
        async (cmds: Cmd[], seed) => {
          fs.rmSync(dir, { recursive: true, force: true });
          fs.mkdirSync(dir);
          let db = await open();
          const model = new Map<number, string>();
          let n = seed;
          for (const c of cmds) {
            if (c.t === 'put') {
              const data = Buffer.alloc(c.size, (n++ & 0xff) as number);
              data.writeInt32LE(n | 0, 0); // the seed may be near 2^31: wrap, not overflow
              await db
                .collection<AnyDoc>('m')
                .replaceOne({ _id: c.id }, { _id: c.id, data: new Binary(data) }, { upsert: true });
              model.set(c.id, data.toString('hex'));
            } else if (c.t === 'del') {
              await db.collection<AnyDoc>('m').deleteOne({ _id: c.id });
              model.delete(c.id);
            } else if (c.t === 'compact') await store!.server.compactNow();
            else db = await open();
          }
          const docs = await db.collection<AnyDoc>('m').find().sort({ _id: 1 }).toArray();
          assert.deepEqual(
            docs.map((d) => [d._id, Buffer.from(d.data.buffer).toString('hex')]),
            [...model].sort((a, b) => a[0] - b[0]),
          );
          db = await open();
          const again = await db.collection<AnyDoc>('m').find().sort({ _id: 1 }).toArray();
          assert.equal(again.length, model.size);
          for (const d of again)
            assert.equal(Buffer.from(d.data.buffer).toString('hex'), model.get(d._id as number));
          assert.deepEqual(deletedOpenFiles(dir), []);
        },
      ),
      { numRuns: 12 },
    );
  });
});
