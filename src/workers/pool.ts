/**
 * A pool of worker threads for one kind of job, so that CPU-heavy work never runs on the event
 * loop that serves requests. Jobs wait in a first-in-first-out queue; each worker holds up to
 * `perWorker` of them, and a new worker is started (up to `size`) before a busy one takes more.
 * Every job has a time limit; every worker has a heap cap. A worker that dies fails only its own
 * jobs and is replaced by the next job that needs one.
 *
 * A subclass names its worker file and says what a job's messages mean (`start`, `answer`) and
 * which error each failure is (`timedOut`, `stopped`, `shutDown`).
 */
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';

export interface WorkerPoolSettings {
  /** The worker's entry file: a .ts file (run under tsx) or a compiled .js one. */
  file: string;
  /** Given to every worker at start, as `workerData` (with `file` and `tsx` added). */
  workerData: object;
  /** Worker threads at most. */
  size: number;
  /** Jobs one worker holds at once. */
  perWorker: number;
  /** Time one job may take, from being sent to a worker. */
  timeoutMs: number;
  /** V8 old-generation heap of each worker. */
  maxHeapMb: number;
  /**
   * A job that runs over: `'terminate'` ends its worker (which is replaced); a function gives
   * the message that tells the worker to drop job `id`, and the worker is kept (for workers
   * that hold several jobs).
   */
  onTimeout: 'terminate' | ((id: number) => unknown);
}

/** The default number of workers: 2, or 1 on a single core. */
export function defaultPoolSize(): number {
  return Math.max(1, Math.min(2, availableParallelism()));
}

/** One job in a worker, as a subclass's `answer` sees it. */
export interface JobHandle<Task, Result> {
  readonly id: number;
  readonly task: Task;
  /** Sends the job's worker a message (a reply the worker waits for). */
  post(message: unknown): void;
  /** Settles the job and frees its place; later calls do nothing. */
  resolve(result: Result): void;
  reject(error: Error): void;
}

interface Job<Task, Result> {
  id: number;
  task: Task;
  resolve(v: Result): void;
  reject(e: Error): void;
  timer?: NodeJS.Timeout;
  slot?: Slot<Task, Result>;
}

interface Slot<Task, Result> {
  worker: Worker;
  jobs: Map<number, Job<Task, Result>>;
}

/** Under tsx a worker starts without its loader: register it, then load the TypeScript worker. */
const TS_BOOT = `const { workerData } = require('node:worker_threads'); require(workerData.tsx); require(workerData.file);`;

export abstract class WorkerPool<Task, Result, FromWorker extends { id: number }> {
  private readonly slots = new Set<Slot<Task, Result>>();
  private readonly queue: Job<Task, Result>[] = [];
  private nextId = 1;
  protected closed = false;
  /** Workers replaced after dying or running over with jobs in hand (for tests and monitoring). */
  replaced = 0;

  protected constructor(protected readonly settings: WorkerPoolSettings) {}

  /** The message that starts job `id` in a worker. */
  protected abstract start(id: number, task: Task): unknown;
  /** Handles a worker's message about one of its jobs: settles the job, or replies and waits. */
  protected abstract answer(message: FromWorker, job: JobHandle<Task, Result>): void;
  /** The error of a job that ran over its time. */
  protected abstract timedOut(): Error;
  /** The error of the jobs of a worker that stopped (`error` is absent when it just exited). */
  protected abstract stopped(error?: NodeJS.ErrnoException): Error;
  /** The error of jobs refused or ended because the pool is closed. */
  protected abstract shutDown(): Error;

  /** Queues `task`; its result comes from a worker. */
  protected run(task: Task): Promise<Result> {
    if (this.closed) return Promise.reject(this.shutDown());
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, task, resolve, reject });
      this.pump();
    });
  }

  /** Terminates the workers; their jobs and queued ones fail with `shutDown()`. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(this.shutDown());
    await Promise.all([...this.slots].map((s) => this.retire(s, this.shutDown())));
  }

  private pump(): void {
    while (this.queue.length > 0) {
      let slot = [...this.slots].sort((a, b) => a.jobs.size - b.jobs.size)[0];
      if (!slot || (slot.jobs.size > 0 && this.slots.size < this.settings.size))
        slot = this.spawn();
      if (slot.jobs.size >= this.settings.perWorker) return;
      this.dispatch(slot, this.queue.shift()!);
    }
  }

  private dispatch(slot: Slot<Task, Result>, job: Job<Task, Result>): void {
    job.slot = slot;
    slot.jobs.set(job.id, job);
    job.timer = setTimeout(() => {
      const { onTimeout } = this.settings;
      if (onTimeout === 'terminate') {
        void this.retire(slot, this.timedOut());
        return;
      }
      this.finish(job);
      job.reject(this.timedOut());
      slot.worker.postMessage(onTimeout(job.id));
      this.pump();
    }, this.settings.timeoutMs);
    slot.worker.postMessage(this.start(job.id, job.task));
  }

  private finish(job: Job<Task, Result>): void {
    clearTimeout(job.timer);
    job.slot?.jobs.delete(job.id);
    job.slot = undefined;
  }

  private handle(slot: Slot<Task, Result>, job: Job<Task, Result>): JobHandle<Task, Result> {
    const settle = (then: () => void) => {
      this.finish(job);
      then();
      this.pump();
    };
    return {
      id: job.id,
      task: job.task,
      post: (message) => slot.worker.postMessage(message),
      resolve: (result) => settle(() => job.resolve(result)),
      reject: (error) => settle(() => job.reject(error)),
    };
  }

  private spawn(): Slot<Task, Result> {
    const { file, maxHeapMb } = this.settings;
    const ts = path.extname(file) === '.ts';
    const workerData = {
      ...this.settings.workerData,
      file,
      tsx: ts ? require.resolve('tsx/cjs') : undefined,
    };
    const resourceLimits = { maxOldGenerationSizeMb: maxHeapMb, maxYoungGenerationSizeMb: 32 };
    const worker = ts
      ? new Worker(TS_BOOT, { eval: true, workerData, resourceLimits, execArgv: [] })
      : new Worker(file, { workerData, resourceLimits, execArgv: [] });
    // Idle workers must not keep the process alive (tests, a shutdown that forgot close()).
    worker.unref();
    const slot: Slot<Task, Result> = { worker, jobs: new Map() };
    this.slots.add(slot);
    worker.on('message', (m: FromWorker) => {
      const job = slot.jobs.get(m.id);
      if (job) this.answer(m, this.handle(slot, job));
    });
    worker.on('error', (e: NodeJS.ErrnoException) => void this.retire(slot, this.stopped(e)));
    worker.on('exit', () => void this.retire(slot, this.stopped()));
    return slot;
  }

  /** Ends a worker (dead, over time, or closing): its jobs fail with `reason`; later jobs get a new worker. */
  private async retire(slot: Slot<Task, Result>, reason: Error): Promise<void> {
    if (!this.slots.delete(slot)) return;
    const jobs = [...slot.jobs.values()];
    if (jobs.length > 0 && !this.closed) this.replaced++;
    for (const job of jobs) {
      this.finish(job);
      job.reject(reason);
    }
    slot.worker.removeAllListeners('message');
    slot.worker.on('error', () => undefined);
    if (!this.closed) this.pump();
    await slot.worker.terminate();
  }
}
