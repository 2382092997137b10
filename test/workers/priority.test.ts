import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';

/** A thread's nice value as the kernel reports it (field 19 of /proc/<pid>/task/<tid>/stat). */
function niceOf(tid: number): number {
  const stat = fs.readFileSync(`/proc/${process.pid}/task/${tid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

describe('worker thread priority (src/workers/priority.ts)', () => {
  before(function () {
    if (process.platform !== 'linux') this.skip();
  });

  it('when a worker lowers its priority, then only that thread runs at nice 10 and the request thread keeps its own', async () => {
    const before = os.getPriority();
    const file = path.join(__dirname, '..', '..', 'src', 'workers', 'priority.ts');
    const worker = new Worker(
      `require('tsx/cjs');
       const fs = require('node:fs');
       const { parentPort, workerData } = require('node:worker_threads');
       const lowered = require(workerData.file).lowerThreadPriority();
       const tid = Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
       parentPort.postMessage({ lowered, tid });
       parentPort.once('message', () => process.exit(0));`,
      { eval: true, workerData: { file } },
    );
    const { lowered, tid } = await new Promise<{ lowered: boolean; tid: number }>(
      (resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      },
    );
    try {
      assert.equal(lowered, true);
      assert.equal(niceOf(tid), 10);
      assert.equal(niceOf(process.pid), before, 'the main thread (tid = pid) is left as it was');
      assert.equal(os.getPriority(), before);
    } finally {
      worker.postMessage('exit');
      await new Promise((r) => worker.once('exit', r));
    }
  });
});
