import assert from 'node:assert/strict';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Catalog, WriteBatch } from '../../../src/embedded-mongo/engine/catalog';
import { openDurableStorage } from '../../../src/embedded-mongo/storage';
import { useTempDirs } from './helpers';

const DOCS = 3000;
const PAD = 'x'.repeat(40_000); // ~40 KB per document, as certificate-sized records

describe('compaction and the event loop', function () {
  this.timeout(120_000);
  const tempDir = useTempDirs();

  it('when a store of thousands of 40 KB documents is compacted while writes go on, then the loop never stalls 200 ms, writes are acknowledged meanwhile, and a reopen has every document', async () => {
    const dir = tempDir();
    const storage = await openDurableStorage(dir);
    const catalog = new Catalog();
    storage.recover((r) => catalog.applyRecord(r));
    const write = (fill: (batch: WriteBatch) => void): Promise<void> => {
      const batch = new WriteBatch();
      fill(batch); // memory and journal change in the same synchronous step
      return storage.append({ ops: batch.ops });
    };
    const insert = (batch: WriteBatch, i: number): void => {
      const coll = catalog.getOrCreate(batch, 'db', 'docs');
      const d = { _id: i, n: i, pad: PAD };
      coll.insert(d);
      batch.insert(coll, d);
    };
    for (let i = 0; i < DOCS; i += 100)
      await write((b) => {
        for (let j = i; j < i + 100; j++) insert(b, j);
      });

    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    let done = false;
    let ackedDuring = 0;
    const writes: Promise<void>[] = [];
    const compaction = storage.compact(() => catalog.dump()).finally(() => (done = true));
    let maxGapMs = 0; // the loop's own view too: a stall before the histogram's first sample still shows here
    for (let i = DOCS; !done; i++) {
      writes.push(write((b) => insert(b, i)).then(() => void (done || ackedDuring++)));
      const before = performance.now();
      await new Promise((r) => setTimeout(r, 2));
      maxGapMs = Math.max(maxGapMs, performance.now() - before - 2);
    }
    await compaction;
    await new Promise((r) => setTimeout(r, 20)); // let the histogram take its last sample
    delay.disable();
    await Promise.all(writes);
    const maxMs = Math.max(delay.max / 1e6, maxGapMs);
    console.log(
      `      max event-loop delay during compaction ${maxMs.toFixed(1)} ms; ${ackedDuring} writes acknowledged meanwhile`,
    );
    assert.ok(maxMs < 200, `the loop stalled ${maxMs.toFixed(1)} ms during compaction`);
    assert.ok(
      ackedDuring > 0,
      'writes made during the compaction were acknowledged before it ended',
    );
    await storage.close();

    const again = await openDurableStorage(dir);
    const recovered = new Catalog();
    recovered.beginRecovery();
    again.recover((r) => recovered.applyRecord(r));
    recovered.endRecovery();
    await again.close();
    const coll = recovered.get('db', 'docs')!;
    assert.equal(coll.docs.size, DOCS + writes.length);
    for (let i = 0; i < DOCS + writes.length; i++) {
      const d = coll.getById(i);
      assert.ok(d && d.n === i && d.pad === PAD, `document ${i} came back whole`);
    }
  });
});
