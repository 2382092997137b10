/**
 * The generic worker pool (src/workers/pool.ts) on its own, with a fixture worker that can be
 * told to answer, ask, throw, exit or hang: a dead worker fails only its own jobs and is
 * replaced; a job that runs over is refused and its worker replaced (or, for workers that hold
 * several jobs, told to drop it); jobs start in the order they came, within the pool's caps.
 * Real worker threads.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import fc from 'fast-check';
import { WorkerPool, type JobHandle, type WorkerPoolSettings } from '../../src/workers/pool';
import type { FixtureMessage, FixtureTask } from './fixture-worker';

type Answer = { value: number; thread: number };

class FixturePool extends WorkerPool<FixtureTask, Answer, FixtureMessage> {
  /** Ids of the jobs in the order they were sent to a worker. */
  readonly started: number[] = [];
  /** Jobs sent and not yet answered (counted for the queue property, where none fails). */
  inFlight = 0;
  mostInFlight = 0;
  readonly threads = new Set<number>();

  constructor(settings: Partial<WorkerPoolSettings> = {}) {
    super({
      file: path.join(__dirname, 'fixture-worker.ts'),
      workerData: {},
      size: 1,
      perWorker: 1,
      timeoutMs: 20_000,
      maxHeapMb: 64,
      onTimeout: 'terminate',
      ...settings,
    });
  }

  send(task: FixtureTask): Promise<Answer> {
    return this.run(task);
  }

  protected start(id: number, task: FixtureTask): unknown {
    this.started.push(id);
    this.mostInFlight = Math.max(this.mostInFlight, ++this.inFlight);
    return { id, ...task };
  }

  protected answer(m: FixtureMessage, job: JobHandle<FixtureTask, Answer>): void {
    if ('question' in m) {
      job.post({ type: 'reply', id: job.id, value: m.question * 2 });
      return;
    }
    this.inFlight--;
    if ('failed' in m) job.reject(new Error(m.failed));
    else {
      this.threads.add(m.thread);
      job.resolve({ value: m.value, thread: m.thread });
    }
  }

  protected timedOut(): Error {
    return new Error(`over ${this.settings.timeoutMs} ms`);
  }

  protected stopped(e?: NodeJS.ErrnoException): Error {
    return new Error(e ? `stopped: ${e.message}` : 'exited');
  }

  protected shutDown(): Error {
    return new Error('shut down');
  }
}

describe('workers: the generic pool', function () {
  this.timeout(60_000);
  const pools: FixturePool[] = [];
  const pool = (settings?: Partial<WorkerPoolSettings>) => {
    const p = new FixturePool(settings);
    pools.push(p);
    return p;
  };
  after(async () => {
    await Promise.all(pools.map((p) => p.close()));
  });

  it('when a job is sent, then its worker answers it, and a reply the worker asks for reaches it', async () => {
    const p = pool();
    assert.equal((await p.send({ op: 'echo', value: 7 })).value, 7);
    assert.equal((await p.send({ op: 'ask', value: 21 })).value, 42);
    assert.equal(p.replaced, 0);
  });

  for (const op of ['throw', 'exit'] as const) {
    it(`when a worker dies (${op}) with a job in hand, then only that job fails and the next one runs in a new worker`, async () => {
      const p = pool({ size: 1, perWorker: 2 });
      const before = await p.send({ op: 'echo', value: 1 });
      const waiting = assert.rejects(
        p.send({ op: 'never' }),
        op === 'throw' ? /stopped/ : /exited/,
      );
      await assert.rejects(
        p.send({ op }),
        op === 'throw' ? /stopped: fixture worker broke/ : /exited/,
      );
      await waiting;
      assert.equal(p.replaced, 1);
      const after = await p.send({ op: 'echo', value: 2 });
      assert.equal(after.value, 2);
      assert.notEqual(after.thread, before.thread);
    });
  }

  it('when a job runs over and the pool ends such workers, then the job is refused and its worker replaced', async () => {
    const p = pool({ timeoutMs: 300 });
    const before = await p.send({ op: 'echo', value: 1 });
    for (const n of [1, 2]) {
      await assert.rejects(p.send({ op: 'spin' }), /over 300 ms/);
      assert.equal(p.replaced, n);
    }
    const after = await p.send({ op: 'echo', value: 2 });
    assert.notEqual(after.thread, before.thread);
  });

  it('when a job runs over and the pool cancels such jobs, then the job is refused, the worker is told and kept, and its other jobs finish', async () => {
    const p = pool({ perWorker: 4, timeoutMs: 300, onTimeout: (id) => ({ type: 'cancel', id }) });
    const slow = p.send({ op: 'echo', value: 5, ms: 100 });
    await assert.rejects(p.send({ op: 'never' }), /over 300 ms/);
    const cancels = await p.send({ op: 'cancels' });
    assert.equal(cancels.value, 1);
    assert.equal((await slow).thread, cancels.thread);
    assert.equal(p.replaced, 0);
    assert.equal((await p.send({ op: 'echo', value: 3 })).thread, cancels.thread);
  });

  it('when jobs come faster than the workers take them, then they start in the order they came, within size × perWorker at once, and each gets its own answer', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 12 }),
        async (size, perWorker, delays) => {
          const p = new FixturePool({ size, perWorker });
          try {
            const answers = await Promise.all(
              delays.map((ms, value) => p.send({ op: 'echo', value, ms })),
            );
            assert.deepEqual(
              answers.map((a) => a.value),
              delays.map((_, i) => i),
            );
            assert.deepEqual(
              p.started,
              [...p.started].sort((a, b) => a - b),
            );
            assert.equal(p.started.length, delays.length);
            assert.ok(p.mostInFlight <= size * perWorker, `${p.mostInFlight} in flight`);
            assert.ok(p.threads.size <= size, `${p.threads.size} workers`);
          } finally {
            await p.close();
          }
        },
      ),
      { numRuns: 8 },
    );
  });

  it('when the pool is closed, then running and queued jobs fail and new ones are refused', async () => {
    const p = pool({ size: 1, perWorker: 1 });
    const running = assert.rejects(p.send({ op: 'never' }), /shut down/);
    const queued = assert.rejects(p.send({ op: 'echo', value: 1 }), /shut down/);
    await p.close();
    await running;
    await queued;
    await assert.rejects(p.send({ op: 'echo', value: 2 }), /shut down/);
    assert.equal(p.replaced, 0);
  });
});
