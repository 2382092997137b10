import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import mongoose from 'mongoose';
import { LogCheckpoint, LogEntryRecord, LogIntent, LogTile } from '../../models/transparency-log';
import {
  ed25519Signer,
  ed25519Verifier,
  leafHash,
  MemoryHashReader,
  newTiles,
  openCheckpoint,
  rootFromLeafHashes,
  tileData,
  tileLevels,
  verifyConsistency,
  verifyInclusion,
  type LogEntry,
} from '../../src/tlog';
import { appendIntents, type Intent } from '../../src/transparency/intents';
import { LogForkError, Sequencer } from '../../src/transparency/sequencer';
import { bytes, LogReader } from '../../src/transparency/store';
import { useEmbeddedMongo } from '../helpers/db';

const ORIGIN = 'registry.test/log';
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const verifier = ed25519Verifier(ORIGIN, publicKey);
const signer = ed25519Signer(ORIGIN, privateKey);

function intent(i: number): Intent {
  const entry: LogEntry = {
    v: 1,
    type: 'initiative.published',
    at: new Date(1_700_000_000_000 + i).toISOString(),
    initiative: { version: i + 1, sha256: 'a'.repeat(64) },
  };
  return { key: `initiative.published:${i + 1}`, entry };
}

async function storedLeaves(): Promise<Buffer[]> {
  return (await LogEntryRecord.find({}).sort({ _id: 1 }).lean()).map((e) =>
    leafHash(bytes(e.data)),
  );
}

async function checkpoints(): Promise<Array<{ size: number; root: Buffer }>> {
  return (await LogCheckpoint.find({}).sort({ _id: 1 }).lean()).map((c) => {
    const opened = openCheckpoint(c.note, verifier);
    return { size: opened.size, root: opened.rootHash };
  });
}

describe('transparency log sequencer (src/transparency/sequencer.ts)', () => {
  useEmbeddedMongo();
  const reader = new LogReader();
  const seq = () => new Sequencer({ origin: ORIGIN, signer, reader });

  beforeEach(async () => {
    for (const c of ['log_intents', 'log_entries', 'log_tiles', 'log_checkpoints', 'leases'])
      await mongoose.connection.db!.collection(c).deleteMany({});
    await LogEntryRecord.createIndexes();
  });

  it('when the same intent is appended twice, then it is integrated once and the checkpoint verifies with the log key', async () => {
    await appendIntents([intent(0)]);
    await appendIntents([intent(0), intent(1)]);
    assert.equal(await seq().integrate(), 2);
    assert.equal(await LogEntryRecord.countDocuments(), 2);
    const [c] = await checkpoints();
    assert.equal(c.size, 2);
    assert.deepEqual(c.root, rootFromLeafHashes(await storedLeaves()));
    assert.equal(await LogIntent.countDocuments({ pending: true }), 0);
  });

  it('when 700 intents arrive over several passes, then every checkpoint extends the one before and the stored full tiles are the spec tiles', async () => {
    const s = seq();
    for (const [from, to] of [
      [0, 5],
      [5, 256],
      [256, 300],
      [300, 513],
      [513, 700],
    ]) {
      await appendIntents(Array.from({ length: to - from }, (_, i) => intent(from + i)));
      await s.integrate();
    }
    const cps = await checkpoints();
    assert.deepEqual(
      cps.map((c) => c.size),
      [5, 256, 300, 513, 700],
    );
    const leaves = await storedLeaves();
    const mem = new MemoryHashReader(leaves);
    for (let i = 1; i < cps.length; i++) {
      const proof = await reader.consistency(cps[i - 1].size, cps[i].size);
      assert.ok(
        verifyConsistency(cps[i - 1].size, cps[i].size, proof, cps[i - 1].root, cps[i].root),
      );
    }
    const levels = tileLevels(leaves);
    const full = newTiles(0, 700).filter((t) => t.width === 256 && t.level !== 'entries');
    assert.equal(await LogTile.countDocuments(), full.length);
    for (const t of full)
      assert.deepEqual(
        bytes((await LogTile.findById(`${t.level}/${t.index}`).lean())!.data),
        tileData(levels, t),
      );
    const proof = await reader.inclusion(600, 700);
    assert.ok(verifyInclusion(600, 700, leaves[600], proof, cps[4].root));
    assert.equal(mem.size, 700);
  });

  it('when a crash left entries stored but their intents still pending, then the next pass only marks them and signs', async () => {
    await appendIntents([intent(0), intent(1)]);
    const pending = await LogIntent.find({ pending: true }).sort({ createdAt: 1, _id: 1 }).lean();
    // The crash: entries written, intents not yet marked, no checkpoint.
    await LogEntryRecord.insertMany(
      pending.map((p, i) => ({
        _id: i,
        key: p._id,
        data: bytes(p.entry),
        hash: leafHash(bytes(p.entry)),
      })),
    );
    await seq().integrate();
    assert.equal(await LogEntryRecord.countDocuments(), 2);
    assert.deepEqual(
      (await checkpoints()).map((c) => c.size),
      [2],
    );
    assert.deepEqual(
      (await LogIntent.find({}).sort({ index: 1 }).lean()).map((i) => i.index),
      [0, 1],
    );
  });

  it('when another sequencer holds the lease, then a second one integrates nothing', async () => {
    await appendIntents([intent(0)]);
    const a = seq();
    const b = seq();
    assert.equal(await a.integrate(), 1);
    await appendIntents([intent(1)]);
    assert.equal(await b.integrate(), 0);
    assert.equal(await a.integrate(), 1);
    assert.deepEqual(
      (await checkpoints()).map((c) => c.size),
      [1, 2],
    );
  });

  it('when an entry under the last checkpoint was rewritten in storage, then the sequencer refuses to sign a new checkpoint', async () => {
    await appendIntents([intent(0), intent(1), intent(2)]);
    await seq().integrate();
    const forged = Buffer.from('{"forged":true}');
    await LogEntryRecord.updateOne({ _id: 1 }, { $set: { data: forged, hash: leafHash(forged) } });
    await appendIntents([intent(3)]);
    // A fresh sequencer (its reader caches nothing from before the rewrite) after the lease ran out.
    await mongoose.connection.db!.collection('leases').deleteMany({});
    const fresh = new Sequencer({ origin: ORIGIN, signer, reader: new LogReader() });
    await assert.rejects(() => fresh.integrate(), LogForkError);
    assert.deepEqual(
      (await checkpoints()).map((c) => c.size),
      [3],
    );
  });
});
