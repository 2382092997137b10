/**
 * Embedded-store backups (src/embedded-mongo/backup.ts, `npm run db:backup` / `db:restore`):
 * taken by a separate process while the store takes writes, restored into an empty directory,
 * and compared: the restored state is one the store passed through (acknowledged writes in
 * order, no gap, each multi-document insert whole), and with writes stopped it equals the live one.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import mongoose from 'mongoose';
import { startEmbeddedMongo } from '../../src/embedded-mongo';

const ROOT = path.resolve(__dirname, '../..');
const run = promisify(execFile);

function dbTool(...args: string[]) {
  return run(
    process.execPath,
    ['--require', 'tsx/cjs', path.join(ROOT, 'scripts/db-backup.ts'), ...args],
    { cwd: ROOT },
  );
}

type Doc = { _id: number; batch?: number };

async function readAll(uri: string): Promise<{ seq: Doc[]; batches: Doc[] }> {
  const client = await mongoose.mongo.MongoClient.connect(uri);
  try {
    const db = client.db('backup_test');
    return {
      seq: await db.collection<Doc>('seq').find().sort({ _id: 1 }).toArray(),
      batches: await db.collection<Doc>('batches').find().sort({ _id: 1 }).toArray(),
    };
  } finally {
    await client.close();
  }
}

const backup = (data: string, out: string) => dbTool('backup', '--data', data, '--out', out);
const restore = (bak: string, data: string) => dbTool('restore', '--in', bak, '--data', data);

/** Restores `bak` into the empty directory `data` and answers what the restored store holds. */
async function restoredState(bak: string, data: string): Promise<{ seq: Doc[]; batches: Doc[] }> {
  await restore(bak, data);
  const restored = await startEmbeddedMongo({ dataDir: data });
  try {
    return await readAll(restored.uri);
  } finally {
    await restored.close();
  }
}

describe('embedded store backup and restore', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eqi-backup-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('when a backup is taken under write load and restored, then the restored store is a state the live one passed through, and equals it once writes stop', async function () {
    this.timeout(120_000);
    const at = (name: string) => path.join(dir, name);
    const live = await startEmbeddedMongo({ dataDir: at('live') });
    const client = await mongoose.mongo.MongoClient.connect(live.uri);
    const db = client.db('backup_test');
    let stop = false;
    let acked = 0;
    // Writer 1: one document per command, each acknowledged before the next.
    const sequential = (async () => {
      for (let i = 0; !stop; i++) {
        await db.collection<Doc>('seq').insertOne({ _id: i });
        acked = i + 1;
      }
    })();
    // Writer 2: ten documents per command, concurrently with writer 1.
    const batched = (async () => {
      for (let b = 0; !stop; b++) {
        await db
          .collection<Doc>('batches')
          .insertMany(Array.from({ length: 10 }, (_, k) => ({ _id: b * 10 + k, batch: b })));
      }
    })();
    try {
      while (acked < 300) await new Promise((r) => setTimeout(r, 20));
      const ackedBefore = acked;
      await backup(at('live'), at('during.bak'));
      const ackedAfter = acked;
      assert.ok(ackedAfter > ackedBefore, 'writes went on during the backup');

      const { seq, batches } = await restoredState(at('during.bak'), at('restored-during'));
      // A prefix with no gap, holding everything acknowledged before the backup began.
      assert.deepEqual(
        seq.map((d) => d._id),
        seq.map((_, i) => i),
      );
      assert.ok(
        seq.length >= ackedBefore,
        `${seq.length} restored, ${ackedBefore} acknowledged before`,
      );
      assert.ok(
        seq.length <= ackedAfter + 1,
        `${seq.length} restored, ${ackedAfter} acknowledged after`,
      );
      // Each insertMany is one record: all ten or none, and batches in order.
      const perBatch = new Map<number, number>();
      for (const d of batches) perBatch.set(d.batch!, (perBatch.get(d.batch!) ?? 0) + 1);
      assert.ok(
        [...perBatch.values()].every((n) => n === 10),
        'no half batch',
      );
      assert.deepEqual(
        [...perBatch.keys()],
        [...perBatch.keys()].map((_, i) => i),
      );
      assert.ok(perBatch.size > 0);

      stop = true;
      await Promise.all([sequential, batched]);
      await backup(at('live'), at('quiet.bak'));
      const liveState = await readAll(live.uri);
      assert.deepEqual(await restoredState(at('quiet.bak'), at('restored-quiet')), liveState);
    } finally {
      stop = true;
      await Promise.allSettled([sequential, batched]);
      await client.close();
      await live.close();
    }
  });

  it('when the restore target is not empty or the backup is damaged, then restore refuses and changes nothing', async function () {
    this.timeout(60_000);
    const src = path.join(dir, 'src');
    const store = await startEmbeddedMongo({ dataDir: src });
    const client = await mongoose.mongo.MongoClient.connect(store.uri);
    await client.db('backup_test').collection<Doc>('seq').insertOne({ _id: 1 });
    await client.close();
    await store.close();
    const bak = path.join(dir, 'one.bak');
    await backup(src, bak);

    const target = path.join(dir, 'occupied');
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, 'keep.txt'), 'precious');
    await assert.rejects(restore(bak, target), /not empty/);
    assert.deepEqual(fs.readdirSync(target), ['keep.txt']);

    const damaged = path.join(dir, 'damaged.bak');
    const bytes = fs.readFileSync(bak);
    bytes[bytes.length - 3] ^= 0xff;
    fs.writeFileSync(damaged, bytes);
    await assert.rejects(restore(damaged, path.join(dir, 'never')), /damaged/);
    assert.ok(!fs.existsSync(path.join(dir, 'never')));
  });
});
