/**
 * Evidence files (issue #12 item 1), storage half: type sniffed from the bytes, size, truncation
 * and image-dimension caps (a PNG bomb), and the GridFS round trip through the embedded store.
 */
import assert from 'node:assert/strict';
import mongoose from 'mongoose';
import {
  EVIDENCE_MAX_BYTES,
  listEvidence,
  readEvidence,
  sniffEvidence,
  storeEvidence,
} from '../../src/pledges/evidence';
import { useRegistry } from '../helpers/registry';
import { jpeg, pdf, png } from './evidence-files';

describe('evidence files: sniffing', () => {
  it('when a PDF, PNG or JPEG is given, then its type (and image size) is read from the bytes', async () => {
    assert.deepEqual(sniffEvidence(await pdf()), { ok: true, contentType: 'application/pdf' });
    assert.deepEqual(sniffEvidence(png(800, 600)), {
      ok: true,
      contentType: 'image/png',
      width: 800,
      height: 600,
    });
    assert.deepEqual(sniffEvidence(jpeg(2480, 3508)), {
      ok: true,
      contentType: 'image/jpeg',
      width: 2480,
      height: 3508,
    });
  });

  it('when the bytes are of another type (whatever the name), then wrong-type', () => {
    for (const b of [
      Buffer.from('<html>not a letter</html>'),
      Buffer.from('PK\x03\x04 zip'),
      Buffer.from('GIF89a......'),
    ]) {
      assert.deepEqual(sniffEvidence(b), { ok: false, problem: 'wrong-type' });
    }
  });

  it('when a file is cut off, then truncated', async () => {
    const p = await pdf();
    assert.deepEqual(sniffEvidence(p.subarray(0, p.length - 40)), {
      ok: false,
      problem: 'truncated',
    });
    const i = png(100, 100);
    assert.deepEqual(sniffEvidence(i.subarray(0, i.length - 5)), {
      ok: false,
      problem: 'truncated',
    });
    assert.deepEqual(sniffEvidence(i.subarray(0, 20)), { ok: false, problem: 'truncated' });
    const j = jpeg(100, 100);
    assert.deepEqual(sniffEvidence(j.subarray(0, j.length - 1)), {
      ok: false,
      problem: 'truncated',
    });
  });

  it('when a small PNG declares a huge canvas (a PNG bomb), then too-many-pixels', () => {
    const bomb = png(100_000, 100_000, 1);
    assert.ok(bomb.length < 2000, `the bomb is small: ${bomb.length} bytes`);
    assert.deepEqual(sniffEvidence(bomb), { ok: false, problem: 'too-many-pixels' });
    assert.deepEqual(sniffEvidence(png(9000, 9000, 1)), { ok: false, problem: 'too-many-pixels' });
    assert.deepEqual(sniffEvidence(jpeg(65_000, 65_000)), {
      ok: false,
      problem: 'too-many-pixels',
    });
  });

  it('when a file is empty or 10 MB + 1 byte, then empty or too-large; exactly 10 MB is allowed', async () => {
    assert.deepEqual(sniffEvidence(Buffer.alloc(0)), { ok: false, problem: 'empty' });
    const head = Buffer.from('%PDF-1.7\n');
    const tail = Buffer.from('\n%%EOF\n');
    const padded = (n: number) =>
      Buffer.concat([head, Buffer.alloc(n - head.length - tail.length, 0x20), tail]);
    assert.deepEqual(sniffEvidence(padded(EVIDENCE_MAX_BYTES + 1)), {
      ok: false,
      problem: 'too-large',
    });
    assert.equal(padded(EVIDENCE_MAX_BYTES).length, EVIDENCE_MAX_BYTES);
    assert.deepEqual(sniffEvidence(padded(EVIDENCE_MAX_BYTES)), {
      ok: true,
      contentType: 'application/pdf',
    });
  });
});

describe('evidence files: GridFS through the embedded store', () => {
  useRegistry();

  it('when a 3 MB letter and a licence are stored for a pledge, then both read back byte for byte, listed with type, size and SHA-256', async () => {
    const pledge = new mongoose.Types.ObjectId();
    const letter = Buffer.concat([await pdf(), Buffer.alloc(3 * 1024 * 1024, 7)]);
    const licence = png(1200, 900);
    const a = await storeEvidence(pledge, 'authorisation-letter', 'application/pdf', letter);
    const b = await storeEvidence(pledge, 'business-licence', 'image/png', licence);
    assert.ok((await readEvidence(a.id)).equals(letter));
    assert.ok((await readEvidence(b.id)).equals(licence));
    const listed = await listEvidence(pledge);
    assert.deepEqual(
      listed.map((e) => [e.kind, e.contentType, e.length, e.sha256]),
      [
        ['authorisation-letter', 'application/pdf', letter.length, a.sha256],
        ['business-licence', 'image/png', licence.length, b.sha256],
      ],
    );
    const db = mongoose.connection.db!;
    assert.ok(
      (await db.collection('evidence.chunks').countDocuments({ files_id: a.id })) > 1,
      'stored in several chunks',
    );
    assert.deepEqual(await listEvidence(new mongoose.Types.ObjectId()), []);
  });

  it('when a file is stored, then its GridFS documents are the ones the driver’s own upload stream writes for the same bytes (chunk sizes and numbers, files fields in order), and the bucket’s indexes exist', async () => {
    const db = mongoose.connection.db!;
    const bytes = Buffer.concat([await pdf(), Buffer.alloc(600 * 1024, 3)]);
    const ours = await storeEvidence(
      new mongoose.Types.ObjectId(),
      'authorisation-letter',
      'application/pdf',
      bytes,
    );
    const bucket = new mongoose.mongo.GridFSBucket(db, { bucketName: 'evidence' });
    const theirsId = new mongoose.Types.ObjectId();
    await new Promise<void>((resolve, reject) => {
      const up = bucket.openUploadStreamWithId(theirsId, 'driver-upload', { metadata: { x: 1 } });
      up.once('error', reject).once('finish', () => resolve());
      up.end(bytes);
    });
    const files = db.collection('evidence.files');
    const mine = (await files.findOne({ _id: ours.id }))!;
    const theirs = (await files.findOne({ _id: theirsId }))!;
    assert.deepEqual(Object.keys(mine), Object.keys(theirs));
    assert.equal(mine.length, theirs.length);
    assert.equal(mine.chunkSize, theirs.chunkSize);
    const chunksOf = (id: unknown) =>
      db
        .collection('evidence.chunks')
        .find({ files_id: id })
        .sort({ n: 1 })
        .toArray()
        .then((cs) =>
          cs.map((c) => [Object.keys(c).join(), c.n, (c.data as mongoose.mongo.Binary).length()]),
        );
    assert.deepEqual(await chunksOf(ours.id), await chunksOf(theirsId));
    // The driver's bucket reads ours back.
    const read: Buffer[] = [];
    for await (const c of bucket.openDownloadStream(ours.id)) read.push(c as Buffer);
    assert.ok(Buffer.concat(read).equals(bytes));
    const keys = async (c: string) =>
      (await db.collection(c).listIndexes().toArray()).map((i) => JSON.stringify(i.key));
    assert.ok((await keys('evidence.files')).includes('{"filename":1,"uploadDate":1}'));
    assert.ok((await keys('evidence.chunks')).includes('{"files_id":1,"n":1}'));
  });
});
