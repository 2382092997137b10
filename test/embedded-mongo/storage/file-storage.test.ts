import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Binary, Decimal128, Int32, Long, ObjectId, serialize, type Document } from 'bson';
import { openDurableStorage, openMemoryStorage } from '../../../src/embedded-mongo/storage';
import { journalPath, reopen, useTempDirs, writeRecords } from './helpers';

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('openDurableStorage', () => {
  const tempDir = useTempDirs();

  describe('round trip', () => {
    it('when records of many BSON types are appended and the store is reopened, then they replay equal and in order', async () => {
      const dir = tempDir();
      const id = new ObjectId();
      const when = new Date('2024-05-06T07:08:09.123Z');
      const records: Document[] = [
        {
          op: 'insert',
          ns: 'db.c',
          docs: [{ _id: id, at: when, bin: new Binary(Buffer.from([0, 1, 2, 255]), 4) }],
        },
        { nested: { a: { b: { c: [1, [2, 3], { d: 'deep' }] } } }, empty: {}, list: [] },
        {
          int: 42,
          negative: -7,
          double: 3.25,
          big: Long.fromString('9007199254740993'),
          dec: Decimal128.fromString('1.10'),
        },
        { text: '企业质量诚信倡议书', bool: true, nothing: null },
      ];
      await writeRecords(dir, records);

      const { records: got, stats } = await reopen(dir);
      assert.equal(stats.journalRecords, 4);
      assert.equal(stats.truncatedBytes, 0);
      // Byte-identical BSON is the strictest equality, then check the promoted JS types.
      assert.deepEqual(
        got.map((r) => Buffer.from(serialize(r)).toString('hex')),
        records.map((r) => Buffer.from(serialize(r)).toString('hex')),
      );
      const doc = got[0]!.docs[0];
      assert.ok(doc._id instanceof ObjectId && doc._id.equals(id));
      assert.ok(doc.at instanceof Date && doc.at.getTime() === when.getTime());
      assert.ok(doc.bin instanceof Binary);
      assert.equal(doc.bin.sub_type, 4);
      assert.deepEqual([...doc.bin.buffer], [0, 1, 2, 255]);
      assert.equal(got[2]!.int, 42); // promoteValues: plain number, not Int32
      assert.equal(got[2]!.double, 3.25);
      assert.ok(got[2]!.big instanceof Long, 'a Long beyond 2^53 stays a Long');
    });

    it('when the caller passes deserialize options, then replay uses them', async () => {
      const dir = tempDir();
      await writeRecords(dir, [{ n: new Int32(5) }]);
      const { records } = await reopen(dir, { deserialize: { promoteValues: false } });
      assert.ok(records[0]!.n instanceof Int32);
    });

    it("when a record is larger than bson's 17 MB scratch buffer, then it is journaled and replays", async () => {
      const dir = tempDir();
      const blob = Buffer.alloc(18 << 20, 7);
      await writeRecords(dir, [{ big: new Binary(blob) }, { after: 1 }]);
      const { records } = await reopen(dir);
      assert.equal(records[0]!.big.buffer.length, blob.length);
      assert.equal(records[0]!.big.buffer[blob.length - 1], 7);
      assert.deepEqual(records[1], { after: 1 });
    });
  });

  describe('group commit', () => {
    it('when 1,000 appends are made concurrently, then all resolve in append order after far fewer fsyncs and replay in order', async () => {
      const dir = tempDir();
      const storage = await openDurableStorage(dir);
      storage.recover(() => undefined);
      const resolvedOrder: number[] = [];
      const fsyncsSeen: number[] = [];
      await Promise.all(
        Array.from({ length: 1000 }, (_, i) =>
          storage.append({ i }).then(() => {
            resolvedOrder.push(i);
            fsyncsSeen.push(storage.stats.fsyncs);
          }),
        ),
      );
      assert.deepEqual(
        resolvedOrder,
        Array.from({ length: 1000 }, (_, i) => i),
      );
      assert.ok(
        fsyncsSeen.every((n) => n >= 1),
        'no append resolved before an fsync',
      );
      assert.ok(storage.stats.flushes <= 10, `expected few batches, got ${storage.stats.flushes}`);
      assert.ok(
        storage.stats.fsyncs < 100,
        `expected far fewer fsyncs than appends, got ${storage.stats.fsyncs}`,
      );
      await storage.close();

      const { records } = await reopen(dir);
      assert.deepEqual(
        records.map((r) => r.i),
        resolvedOrder,
      );
    });

    it('when appends arrive while a batch is being written, then they wait and form the next batch', async () => {
      const dir = tempDir();
      const storage = await openDurableStorage(dir);
      storage.recover(() => undefined);
      const first = storage.append({ batch: 1 });
      await nextTurn(); // the flush loop has taken the first record and is writing it
      let firstDone = false;
      void first.then(() => (firstDone = true));
      const later = Array.from({ length: 100 }, (_, i) => storage.append({ batch: 2, i }));
      assert.equal(firstDone, false);
      await Promise.all([first, ...later]);
      assert.equal(storage.stats.flushes, 2);
      await storage.close();
      const { records } = await reopen(dir);
      assert.equal(records.length, 101);
      assert.deepEqual(records[0], { batch: 1 });
    });

    it('when the journal write fails (disk full), then waiting and all later appends reject and nothing is acknowledged', async function () {
      if (!fs.existsSync('/dev/full')) this.skip();
      const dir = tempDir();
      fs.symlinkSync('/dev/full', journalPath(dir)); // every write to the journal fails with ENOSPC
      const storage = await openDurableStorage(dir);
      storage.recover(() => undefined);
      const results = await Promise.allSettled([
        storage.append({ a: 1 }),
        storage.append({ a: 2 }),
      ]);
      for (const r of results) {
        assert.equal(r.status, 'rejected');
        assert.match(
          String((r as PromiseRejectedResult).reason),
          /journal write\/fsync .* failed: .*ENOSPC.*no longer guarantee durability/,
        );
      }
      await assert.rejects(storage.append({ a: 3 }), /storage is failed/);
      await assert.rejects(
        storage.compact(() => []),
        /storage is failed/,
      );
      assert.equal(storage.stats.flushes, 0);
      await storage.close();
      assert.equal(
        fs.existsSync(path.join(dir, 'mongod.lock')),
        false,
        'lock released even after a failure',
      );
    });
  });

  describe('torn tail', () => {
    const records = Array.from({ length: 5 }, (_, i) => ({ i, pad: 'x'.repeat(20 + i) }));

    /** Pristine journal bytes and where its last frame starts. */
    async function pristine(): Promise<{ bytes: Buffer; lastStart: number }> {
      const dir = tempDir();
      await writeRecords(dir, records.slice(0, -1));
      const lastStart = fs.statSync(journalPath(dir)).size;
      await writeRecords(dir, records.slice(-1));
      return { bytes: fs.readFileSync(journalPath(dir)), lastStart };
    }

    it('when the journal is cut at any byte inside the last frame, then earlier records replay, the tail is truncated and new appends survive', async () => {
      const { bytes, lastStart } = await pristine();
      for (let cut = lastStart + 1; cut < bytes.length; cut++) {
        const dir = tempDir();
        fs.writeFileSync(journalPath(dir), bytes.subarray(0, cut));

        const storage = await openDurableStorage(dir);
        const got: Document[] = [];
        const stats = storage.recover((r) => got.push(r));
        assert.deepEqual(got, records.slice(0, -1), `cut at ${cut}`);
        assert.equal(stats.truncatedBytes, cut - lastStart, `cut at ${cut}`);
        assert.equal(
          fs.statSync(journalPath(dir)).size,
          lastStart,
          'the torn bytes are gone from disk',
        );
        assert.equal(storage.journalBytes, lastStart);
        await storage.append({ after: cut });
        await storage.close();

        const again = await reopen(dir);
        assert.deepEqual(again.records, [...records.slice(0, -1), { after: cut }]);
        assert.equal(again.stats.truncatedBytes, 0);
      }
    });

    it('when the last frame has a bad CRC, then it is truncated as a torn write', async () => {
      const { bytes, lastStart } = await pristine();
      const dir = tempDir();
      const torn = Buffer.from(bytes);
      torn[torn.length - 3]! ^= 0x55;
      fs.writeFileSync(journalPath(dir), torn);
      const { records: got, stats } = await reopen(dir);
      assert.deepEqual(got, records.slice(0, -1));
      assert.equal(stats.truncatedBytes, bytes.length - lastStart);
    });

    it('when the journal ends in zeros (size grew but data never landed), then the zeros are truncated', async () => {
      const { bytes } = await pristine();
      const dir = tempDir();
      fs.writeFileSync(journalPath(dir), Buffer.concat([bytes, Buffer.alloc(4096)]));
      const { records: got, stats } = await reopen(dir);
      assert.deepEqual(got, records);
      assert.equal(stats.truncatedBytes, 4096);
    });
  });

  describe('corruption', () => {
    const records = Array.from({ length: 6 }, (_, i) => ({ i, text: `record number ${i}` }));

    async function journalWithOffsets(): Promise<{ dir: string; offsets: number[] }> {
      const dir = tempDir();
      const offsets: number[] = [];
      const storage = await openDurableStorage(dir);
      storage.recover(() => undefined);
      for (const r of records) {
        offsets.push(storage.journalBytes);
        await storage.append(r);
      }
      await storage.close();
      return { dir, offsets };
    }

    it('when a byte inside an early frame is flipped, then recover throws naming the file and offset and leaves the file alone', async () => {
      const { dir, offsets } = await journalWithOffsets();
      const bytes = fs.readFileSync(journalPath(dir));
      bytes[offsets[1]! + 8 + 10]! ^= 0x01; // inside the payload of record 1
      fs.writeFileSync(journalPath(dir), bytes);

      const storage = await openDurableStorage(dir);
      assert.throws(
        () => storage.recover(() => undefined),
        (err: Error) => {
          assert.ok(err.message.includes(journalPath(dir)), err.message);
          assert.match(
            err.message,
            new RegExp(
              `corrupt at byte offset ${offsets[1]} \\(CRC mismatch\\).*valid record follows at byte offset ${offsets[2]}`,
            ),
          );
          return true;
        },
      );
      await storage.close();
      assert.deepEqual(fs.readFileSync(journalPath(dir)), bytes, 'nothing truncated');
    });

    it('when the length field of an early frame is damaged, then recover throws instead of truncating everything after it', async () => {
      const { dir, offsets } = await journalWithOffsets();
      const bytes = fs.readFileSync(journalPath(dir));
      bytes.writeUInt32LE(0x7fffffff, offsets[2]!); // now "runs past end of file"
      fs.writeFileSync(journalPath(dir), bytes);
      const storage = await openDurableStorage(dir);
      assert.throws(
        () => storage.recover(() => undefined),
        new RegExp(`corrupt at byte offset ${offsets[2]} `),
      );
      await storage.close();
      assert.equal(fs.statSync(journalPath(dir)).size, bytes.length);
    });
  });

  describe('compaction', () => {
    type Op = { op: 'set'; k: string; v: number } | { op: 'del'; k: string };
    /** A toy engine: applies to memory, then appends in the same synchronous step (the contract). */
    class Model {
      readonly state = new Map<string, number>();
      apply(r: Document): void {
        const op = r as Op;
        if (op.op === 'set') this.state.set(op.k, op.v);
        else this.state.delete(op.k);
      }
      /** The state now (as the engine's dump: the snapshot is written later, while writes go on). */
      dump(): Iterable<Document> {
        return [...this.state].map(([k, v]) => ({ op: 'set', k, v }));
      }
    }
    const write = (
      storage: Awaited<ReturnType<typeof openDurableStorage>>,
      model: Model,
      op: Op,
    ): Promise<void> => {
      model.apply(op);
      return storage.append(op);
    };
    async function recoverModel(dir: string): Promise<Model> {
      const model = new Model();
      const storage = await openDurableStorage(dir);
      storage.recover((r) => model.apply(r));
      await storage.close();
      return model;
    }

    it('when the store is compacted and more records appended, then a reopen yields the same state from generation 1 files', async () => {
      const dir = tempDir();
      const model = new Model();
      const storage = await openDurableStorage(dir);
      storage.recover(() => undefined);
      const writes: Promise<void>[] = [];
      for (let i = 0; i < 300; i++)
        writes.push(write(storage, model, { op: 'set', k: `k${i % 50}`, v: i }));
      for (let i = 0; i < 10; i++) writes.push(write(storage, model, { op: 'del', k: `k${i}` }));
      await Promise.all(writes);
      assert.ok(storage.journalBytes > 0);

      await storage.compact(() => model.dump());
      assert.equal(storage.journalBytes, 0);
      assert.equal(storage.generation, 1);
      assert.deepEqual(fs.readdirSync(dir).sort(), [
        'journal-000001.log',
        'mongod.lock',
        'snapshot-000001.bson',
      ]);

      await Promise.all([
        write(storage, model, { op: 'set', k: 'after', v: 1 }),
        write(storage, model, { op: 'del', k: 'k20' }),
      ]);
      await storage.close();

      const recovered = await recoverModel(dir);
      assert.deepEqual([...recovered.state].sort(), [...model.state].sort());
      const { stats } = await reopen(dir);
      assert.equal(stats.snapshotRecords, 40);
      assert.equal(stats.journalRecords, 2);
    });

    it('when appends are pending at compaction and more arrive during it, then the earlier go to the old journal, the later to the new one, and the snapshot is the state at the switch', async () => {
      const dir = tempDir();
      const model = new Model();
      const storage = await openDurableStorage(dir);
      storage.recover(() => undefined);
      const inFlight = write(storage, model, { op: 'set', k: 'x', v: 0 });
      await nextTurn(); // the flush loop is now writing record x
      const before = Array.from({ length: 20 }, (_, i) =>
        write(storage, model, { op: 'set', k: `a${i}`, v: i }),
      );
      const compaction = storage.compact(() => model.dump());
      const meanwhile = Array.from({ length: 20 }, (_, i) =>
        write(storage, model, { op: 'set', k: `b${i}`, v: i }),
      );
      await Promise.all([inFlight, ...before, compaction, ...meanwhile]);
      assert.equal(storage.generation, 1);
      assert.ok(
        storage.journalBytes > 0,
        'the records made during the compaction are in journal 1',
      );
      await write(storage, model, { op: 'del', k: 'a0' });
      await storage.compact(() => model.dump()); // a second compaction: generation 2
      assert.equal(storage.generation, 2);
      await write(storage, model, { op: 'set', k: 'last', v: 1 });
      await storage.close();
      const recovered = await recoverModel(dir);
      assert.equal(recovered.state.size, 41);
      assert.deepEqual([...recovered.state].sort(), [...model.state].sort());
      const { stats } = await reopen(dir);
      assert.deepEqual([stats.snapshotRecords, stats.journalRecords], [40, 1]);
    });

    it('when the first compaction is reopened, then the snapshot holds the state at the switch and journal 1 the writes made meanwhile', async () => {
      const dir = tempDir();
      const model = new Model();
      const storage = await openDurableStorage(dir);
      storage.recover(() => undefined);
      await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          write(storage, model, { op: 'set', k: `a${i}`, v: i }),
        ),
      );
      const compaction = storage.compact(() => model.dump());
      const meanwhile = Array.from({ length: 5 }, (_, i) =>
        write(storage, model, { op: 'set', k: `a${i}`, v: -i }),
      );
      await Promise.all([compaction, ...meanwhile]);
      await storage.close();
      const { stats } = await reopen(dir);
      assert.deepEqual([stats.snapshotRecords, stats.journalRecords], [10, 5]);
      assert.deepEqual([...(await recoverModel(dir)).state].sort(), [...model.state].sort());
    });

    it('when a compaction crashed before its rename, then the leftover .tmp snapshot is ignored and removed', async () => {
      const dir = tempDir();
      const model = new Model();
      const storage = await openDurableStorage(dir);
      storage.recover(() => undefined);
      await write(storage, model, { op: 'set', k: 'a', v: 1 });
      await storage.compact(() => model.dump());
      await write(storage, model, { op: 'set', k: 'b', v: 2 });
      await storage.close();
      // What a crash halfway through writing generation 2 leaves: a partial copy of a snapshot.
      const partial = fs.readFileSync(path.join(dir, 'snapshot-000001.bson')).subarray(0, 10);
      fs.writeFileSync(path.join(dir, 'snapshot-000002.tmp'), partial);

      const recovered = await recoverModel(dir);
      assert.deepEqual([...recovered.state].sort(), [
        ['a', 1],
        ['b', 2],
      ]);
      assert.equal(fs.existsSync(path.join(dir, 'snapshot-000002.tmp')), false);
    });

    it('when a compaction crashed after its rename, then recovery uses the new snapshot and deletes the old generation', async () => {
      const dir = tempDir();
      const model = new Model();
      const storage = await openDurableStorage(dir);
      storage.recover(() => undefined);
      await write(storage, model, { op: 'set', k: 'a', v: 1 });
      const oldJournal = fs.readFileSync(journalPath(dir));
      await storage.compact(() => model.dump());
      await storage.close();
      // Crash right after the rename: new snapshot, no new journal yet, old journal still there.
      fs.rmSync(journalPath(dir, 1));
      fs.writeFileSync(journalPath(dir, 0), oldJournal);

      const recovered = await recoverModel(dir);
      assert.deepEqual([...recovered.state], [['a', 1]]);
      assert.deepEqual(fs.readdirSync(dir).sort(), ['journal-000001.log', 'snapshot-000001.bson']);
    });

    it('when dump() throws at once, then compact rejects and nothing changes', async () => {
      const dir = tempDir();
      const model = new Model();
      const storage = await openDurableStorage(dir);
      storage.recover(() => undefined);
      await write(storage, model, { op: 'set', k: 'a', v: 1 });
      await assert.rejects(
        storage.compact(() => {
          throw new Error('engine bug');
        }),
        /engine bug/,
      );
      await write(storage, model, { op: 'set', k: 'b', v: 2 });
      assert.equal(storage.generation, 0);
      await storage.close();
      assert.deepEqual(fs.readdirSync(dir).sort(), ['journal-000000.log']);
      assert.deepEqual([...(await recoverModel(dir)).state].sort(), [
        ['a', 1],
        ['b', 2],
      ]);
    });

    it('when the snapshot cannot be completed (dump fails midway, as a kill mid-compaction), then compact rejects, no snapshot is used, and recovery replays every journal since the last snapshot', async () => {
      const dir = tempDir();
      const model = new Model();
      const storage = await openDurableStorage(dir);
      storage.recover(() => undefined);
      await write(storage, model, { op: 'set', k: 'a', v: 1 });
      await storage.compact(() => model.dump()); // snapshot 1
      await write(storage, model, { op: 'set', k: 'b', v: 2 });
      const failing = function* (): Generator<Document> {
        yield { op: 'set', k: 'a', v: 1 };
        throw new Error('engine bug');
      };
      const compaction = storage.compact(failing);
      const meanwhile = write(storage, model, { op: 'set', k: 'c', v: 3 });
      await assert.rejects(compaction, /engine bug/);
      await meanwhile;
      await write(storage, model, { op: 'del', k: 'a' });
      assert.equal(storage.generation, 2, 'writes moved on to journal 2 at the switch');
      await storage.close();
      assert.deepEqual(fs.readdirSync(dir).sort(), [
        'journal-000001.log',
        'journal-000002.log',
        'snapshot-000001.bson',
      ]);
      fs.writeFileSync(path.join(dir, 'snapshot-000002.tmp'), 'partial'); // what a kill would leave
      assert.deepEqual([...(await recoverModel(dir)).state].sort(), [
        ['b', 2],
        ['c', 3],
      ]);
      assert.equal(fs.existsSync(path.join(dir, 'snapshot-000002.tmp')), false);
      const { stats } = await reopen(dir);
      assert.deepEqual([stats.snapshotRecords, stats.journalRecords], [1, 3]);
    });

    it('when a journal between the snapshot and the newest journal is missing or has a bad tail, then recover refuses', async () => {
      const dir = tempDir();
      const model = new Model();
      const storage = await openDurableStorage(dir);
      storage.recover(() => undefined);
      await write(storage, model, { op: 'set', k: 'a', v: 1 });
      const noSnapshot = (): Iterable<Document> => {
        throw new Error('later');
      };
      // Journal switches without a completed snapshot, twice: journals 0, 1, 2.
      for (let i = 0; i < 2; i++) {
        const rejected = assert.rejects(
          storage.compact(function* () {
            yield* noSnapshot();
          }),
          /later/,
        );
        await write(storage, model, { op: 'set', k: `k${i}`, v: i });
        await rejected;
      }
      assert.equal(storage.generation, 2);
      await storage.close();
      const j1 = fs.readFileSync(journalPath(dir, 1));
      fs.writeFileSync(journalPath(dir, 1), j1.subarray(0, j1.length - 1));
      const opened = await openDurableStorage(dir);
      assert.throws(
        () => opened.recover(() => undefined),
        /journal-000001\.log is corrupt at byte offset 0 .*only the newest journal can have a torn tail/,
      );
      await opened.close();
      fs.rmSync(journalPath(dir, 1));
      const again = await openDurableStorage(dir);
      assert.throws(() => again.recover(() => undefined), /journal-000001\.log is missing/);
      await again.close();
    });

    it('when the newest snapshot is damaged, then recover throws naming it', async () => {
      const dir = tempDir();
      const model = new Model();
      const storage = await openDurableStorage(dir);
      storage.recover(() => undefined);
      await write(storage, model, { op: 'set', k: 'a', v: 1 });
      await storage.compact(() => model.dump());
      await storage.close();
      const snap = path.join(dir, 'snapshot-000001.bson');
      const bytes = fs.readFileSync(snap);
      fs.writeFileSync(snap, bytes.subarray(0, bytes.length - 1));
      const reopened = await openDurableStorage(dir);
      assert.throws(
        () => reopened.recover(() => undefined),
        new RegExp(`snapshot ${snap} is corrupt at byte offset \\d+`),
      );
      await reopened.close();
    });
  });

  describe('lifecycle', () => {
    it('when append is called before recover or after close, then it rejects; close is idempotent', async () => {
      const dir = tempDir();
      const storage = await openDurableStorage(dir);
      await assert.rejects(storage.append({ a: 1 }), /call recover\(\) before append/);
      storage.recover(() => undefined);
      const acked = storage.append({ a: 2 });
      const closing = storage.close();
      assert.equal(storage.close(), closing);
      await assert.rejects(storage.append({ a: 3 }), /storage is closed/);
      await acked; // accepted before close: still flushed
      await closing;
      assert.deepEqual((await reopen(dir)).records, [{ a: 2 }]);
    });
  });
});

describe('openMemoryStorage', () => {
  it('when records are appended, then append resolves at once and recovery finds nothing', async () => {
    const storage = openMemoryStorage();
    assert.deepEqual(
      storage.recover(() => assert.fail('nothing to replay')),
      { snapshotRecords: 0, journalRecords: 0, truncatedBytes: 0, millis: 0 },
    );
    let resolved = false;
    void storage.append({ a: 1 }).then(() => (resolved = true));
    await Promise.resolve();
    assert.equal(resolved, true);
    await storage.close();
    await assert.rejects(storage.append({ a: 2 }), /closed/);
  });
});
