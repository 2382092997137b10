/**
 * Checks uploaded PDFs in a small pool of worker threads, so that no upload can stall the
 * event loop (a hostile PDF can cost seconds of parsing). Each verification has caps: inflated
 * bytes and object count (certificates/limits.ts, inside the worker), heap size (the worker's
 * resourceLimits) and time (the worker is terminated). A worker that dies or runs over is
 * replaced; its request gets a 422 (over a cap) or a 503, and the process goes on.
 *
 * Uploads are admitted before their body is read (`admit`), so the bytes buffered for
 * verification are bounded too: at most `maxPending` uploads are in flight at once.
 */
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Jwks } from '../../certificates/jws';
import type { PdfVerification } from '../../certificates/issue';
import { DEFAULT_PDF_LIMITS, type PdfLimitKind, type PdfLimits } from '../../certificates/limits';
import { AppError } from '../errors';
import type { VerifyAnswer, VerifyJob } from './verify-worker';

export type RefusalKind = PdfLimitKind | 'busy' | 'unavailable';

/** Why a file was not checked: over a cap (422) or no capacity right now (503). */
export class VerificationRefused extends AppError {
  constructor(
    readonly kind: RefusalKind,
    detail: string,
  ) {
    const capacity = kind === 'busy' || kind === 'unavailable';
    super(
      capacity
        ? { status: 503, code: 'verification-busy', detail, retryAfter: 5 }
        : { status: 422, code: 'pdf-too-complex', title: 'Unprocessable Content', detail },
    );
  }
}

export interface VerifyPoolOptions {
  /** Worker threads (default: 2, or 1 on a single core). */
  size?: number;
  /** Uploads admitted at once, reading or waiting or being checked (default 16). */
  maxPending?: number;
  /** Time one verification may take (default 5 s). */
  timeoutMs?: number;
  /** V8 old-generation heap of each worker (default 192 MiB). */
  maxHeapMb?: number;
  limits?: Partial<PdfLimits>;
}

interface Job extends VerifyJob {
  resolve(v: PdfVerification): void;
  reject(e: Error): void;
}

interface Slot {
  worker: Worker;
  job?: Job;
  timer?: NodeJS.Timeout;
}

// The worker is the sibling file of this one: verify-worker.ts under tsx, .js once compiled.
const EXT = path.extname(__filename);
const WORKER_FILE = path.join(__dirname, `verify-worker${EXT}`);
/** Under tsx a worker starts without its loader: register it, then load the TypeScript worker. */
const TS_BOOT = `const { workerData } = require('node:worker_threads'); require(workerData.tsx); require(workerData.file);`;

export class VerifyPool {
  private readonly size: number;
  private readonly maxPending: number;
  private readonly timeoutMs: number;
  private readonly maxHeapMb: number;
  private readonly limits: PdfLimits;
  private readonly slots = new Set<Slot>();
  private readonly queue: Job[] = [];
  private pending = 0;
  private nextId = 1;
  private closed = false;
  /** Workers replaced after dying or running over (for tests and monitoring). */
  replaced = 0;

  constructor(opts: VerifyPoolOptions = {}) {
    this.size = opts.size ?? Math.max(1, Math.min(2, availableParallelism()));
    this.maxPending = opts.maxPending ?? 16;
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.maxHeapMb = opts.maxHeapMb ?? 192;
    this.limits = { ...DEFAULT_PDF_LIMITS, ...opts.limits };
  }

  /** The cap on one file's inflated bytes and objects, for messages. */
  get pdfLimits(): Readonly<PdfLimits> {
    return this.limits;
  }

  /**
   * Takes a place for one upload (call before reading its body); the returned function gives
   * it back. A 503 VerificationRefused when every place is taken.
   */
  admit(): () => void {
    if (this.closed || this.pending >= this.maxPending)
      throw new VerificationRefused(
        'busy',
        'Many certificates are being checked right now; try again in a few seconds.',
      );
    this.pending++;
    let released = false;
    return () => {
      if (!released) this.pending--;
      released = true;
    };
  }

  /** The offline verification of `bytes`, computed in a worker; rejects with VerificationRefused. */
  verify(bytes: Uint8Array, jwks: Jwks): Promise<PdfVerification> {
    if (this.closed)
      return Promise.reject(
        new VerificationRefused('unavailable', 'The registry is shutting down.'),
      );
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, bytes, jwks, resolve, reject });
      this.pump();
    });
  }

  /** Terminates the workers; queued verifications are refused with a 503. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0))
      job.reject(new VerificationRefused('unavailable', 'The registry is shutting down.'));
    await Promise.all(
      [...this.slots].map((s) =>
        this.retire(s, new VerificationRefused('unavailable', 'The registry is shutting down.')),
      ),
    );
  }

  private pump(): void {
    while (this.queue.length > 0) {
      let slot = [...this.slots].find((s) => !s.job);
      if (!slot) {
        if (this.slots.size >= this.size) return;
        slot = this.spawn();
      }
      this.dispatch(slot, this.queue.shift()!);
    }
  }

  private dispatch(slot: Slot, job: Job): void {
    slot.job = job;
    slot.timer = setTimeout(() => {
      void this.retire(
        slot,
        new VerificationRefused(
          'time',
          `checking this PDF takes longer than ${this.timeoutMs / 1000} s`,
        ),
      );
    }, this.timeoutMs);
    const message: VerifyJob = { id: job.id, bytes: job.bytes, jwks: job.jwks };
    slot.worker.postMessage(message);
  }

  private spawn(): Slot {
    const workerData = {
      limits: this.limits,
      file: WORKER_FILE,
      tsx: EXT === '.ts' ? require.resolve('tsx/cjs') : undefined,
    };
    const resourceLimits = { maxOldGenerationSizeMb: this.maxHeapMb, maxYoungGenerationSizeMb: 32 };
    const worker =
      EXT === '.ts'
        ? new Worker(TS_BOOT, { eval: true, workerData, resourceLimits, execArgv: [] })
        : new Worker(WORKER_FILE, { workerData, resourceLimits, execArgv: [] });
    // Idle workers must not keep the process alive (tests, a shutdown that forgot close()).
    worker.unref();
    const slot: Slot = { worker };
    this.slots.add(slot);
    worker.on('message', (a: VerifyAnswer) => {
      const job = slot.job;
      if (!job || a.id !== job.id) return;
      this.release(slot);
      if (a.ok) job.resolve(a.result);
      else if ('limit' in a) job.reject(new VerificationRefused(a.limit.kind, a.limit.message));
      else
        job.reject(
          new VerificationRefused(
            'unavailable',
            `The file could not be checked (${a.error}); try again.`,
          ),
        );
      this.pump();
    });
    worker.on('error', (e: NodeJS.ErrnoException) => {
      const oom = e.code === 'ERR_WORKER_OUT_OF_MEMORY';
      void this.retire(
        slot,
        oom
          ? new VerificationRefused(
              'memory',
              `checking this PDF needs more than ${this.maxHeapMb} MiB of memory`,
            )
          : new VerificationRefused('unavailable', 'The check stopped unexpectedly; try again.'),
      );
    });
    worker.on('exit', () => {
      void this.retire(
        slot,
        new VerificationRefused('unavailable', 'The check stopped unexpectedly; try again.'),
      );
    });
    return slot;
  }

  private release(slot: Slot): void {
    clearTimeout(slot.timer);
    slot.job = undefined;
    slot.timer = undefined;
  }

  /** Ends a worker (over time, dead, or closing): its job gets `reason`; the next job gets a new worker. */
  private async retire(slot: Slot, reason: VerificationRefused): Promise<void> {
    if (!this.slots.delete(slot)) return;
    const job = slot.job;
    this.release(slot);
    if (job) {
      this.replaced++;
      job.reject(reason);
    }
    slot.worker.removeAllListeners('message');
    slot.worker.on('error', () => undefined);
    this.pump();
    await slot.worker.terminate();
  }
}
