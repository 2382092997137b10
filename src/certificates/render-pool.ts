/**
 * Renders and signs certificates in worker threads (render-worker.ts), never on the event loop
 * that serves requests. The issuing state machine (claims, serials, database writes, log
 * intents) stays on the main thread in issuing.ts; only the pure work of certificates/issue.ts
 * moves. A worker holds several jobs at once, since a job waits for its log checkpoint between
 * signing the credential and finishing the PDF. A worker that dies fails its jobs (the issuer
 * retries them once their claim runs out) and is replaced; each job has a time limit.
 */
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Association, CertificateData } from '../../certificates';
import type { KeyRing } from './keys';
import type { FromWorker, RenderJob, RenderWorkerData, ToWorker } from './render-worker';

export interface RenderRequest {
  data: CertificateData;
  credentialStatus?: Array<Record<string, string>>;
  logVerifierKey?: string;
  /** Records the signed credential and returns the proof to attach (the transparency log). */
  logProof?: (jws: string) => Promise<object | null>;
}

export interface RenderPoolOptions {
  /** Worker threads (default: 2, or 1 on a single core). */
  size?: number;
  /** Jobs one worker holds at once (default 32). */
  perWorker?: number;
  /** Time one job may take, log wait included (default 30 s). */
  timeoutMs?: number;
  /** V8 old-generation heap of each worker (default 256 MiB). */
  maxHeapMb?: number;
}

interface Job {
  id: number;
  request: RenderRequest;
  resolve(v: { pdf: Uint8Array; jws: string }): void;
  reject(e: Error): void;
  timer?: NodeJS.Timeout;
  slot?: Slot;
}

interface Slot {
  worker: Worker;
  jobs: Map<number, Job>;
}

// The worker is the sibling file of this one: render-worker.ts under tsx, .js once compiled.
const EXT = path.extname(__filename);
const WORKER_FILE = path.join(__dirname, `render-worker${EXT}`);
/** Under tsx a worker starts without its loader: register it, then load the TypeScript worker. */
const TS_BOOT = `const { workerData } = require('node:worker_threads'); require(workerData.tsx); require(workerData.file);`;

export class RenderPool {
  private readonly size: number;
  private readonly perWorker: number;
  private readonly timeoutMs: number;
  private readonly maxHeapMb: number;
  private readonly slots = new Set<Slot>();
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;
  /** Workers replaced after dying (for tests and monitoring). */
  replaced = 0;

  constructor(
    private readonly keys: Pick<KeyRing, 'signingKey' | 'pdfSigner'> &
      Partial<Pick<KeyRing, 'isDevelopment'>>,
    private readonly publicUrl: string,
    private readonly association?: Association,
    opts: RenderPoolOptions = {},
  ) {
    this.size = opts.size ?? Math.max(1, Math.min(2, availableParallelism()));
    this.perWorker = opts.perWorker ?? 32;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.maxHeapMb = opts.maxHeapMb ?? 256;
  }

  /** The certificate's PDF and credential JWS, rendered and signed in a worker. */
  issue(request: RenderRequest): Promise<{ pdf: Uint8Array; jws: string }> {
    if (this.closed) return Promise.reject(new Error('certificate rendering is shut down'));
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, request, resolve, reject });
      this.pump();
    });
  }

  /** Terminates the workers; their jobs and queued ones fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0))
      job.reject(new Error('certificate rendering is shut down'));
    await Promise.all(
      [...this.slots].map((s) => this.retire(s, new Error('certificate rendering is shut down'))),
    );
  }

  private pump(): void {
    while (this.queue.length > 0) {
      let slot = [...this.slots].sort((a, b) => a.jobs.size - b.jobs.size)[0];
      if (!slot || (slot.jobs.size > 0 && this.slots.size < this.size)) slot = this.spawn();
      if (slot.jobs.size >= this.perWorker) return;
      this.dispatch(slot, this.queue.shift()!);
    }
  }

  private dispatch(slot: Slot, job: Job): void {
    job.slot = slot;
    slot.jobs.set(job.id, job);
    job.timer = setTimeout(() => {
      this.finish(job);
      job.reject(new Error(`rendering a certificate took longer than ${this.timeoutMs / 1000} s`));
      slot.worker.postMessage({
        type: 'cancel',
        id: job.id,
        error: 'timed out',
      } satisfies ToWorker);
    }, this.timeoutMs);
    const { data, credentialStatus, logVerifierKey, logProof } = job.request;
    slot.worker.postMessage({
      type: 'render',
      id: job.id,
      data,
      credentialStatus,
      logVerifierKey,
      wantsProof: Boolean(logProof),
    } satisfies RenderJob);
  }

  private finish(job: Job): void {
    clearTimeout(job.timer);
    job.slot?.jobs.delete(job.id);
    job.slot = undefined;
  }

  private spawn(): Slot {
    const setup: RenderWorkerData = {
      signingKey: this.keys.signingKey,
      pdfSigner: this.keys.pdfSigner.parts(),
      publicUrl: this.publicUrl,
      association: this.association,
      development: this.keys.isDevelopment === true,
    };
    const workerData = {
      ...setup,
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
    const slot: Slot = { worker, jobs: new Map() };
    this.slots.add(slot);
    worker.on('message', (m: FromWorker) => {
      const job = slot.jobs.get(m.id);
      if (!job) return;
      if (m.type === 'jws') {
        job.request.logProof!(m.jws).then(
          (proof) => slot.worker.postMessage({ type: 'proof', id: m.id, proof } satisfies ToWorker),
          (e: unknown) => {
            slot.worker.postMessage({
              type: 'cancel',
              id: m.id,
              error: 'no log proof',
            } satisfies ToWorker);
            this.finish(job);
            job.reject(e instanceof Error ? e : new Error(String(e)));
            this.pump();
          },
        );
        return;
      }
      this.finish(job);
      if (m.type === 'done') job.resolve({ pdf: m.pdf, jws: m.jws });
      else
        job.reject(
          new Error(`rendering certificate ${job.request.data.serial} failed: ${m.error}`),
        );
      this.pump();
    });
    worker.on(
      'error',
      (e: NodeJS.ErrnoException) =>
        void this.retire(slot, new Error(`the certificate renderer stopped: ${e.message}`)),
    );
    worker.on(
      'exit',
      () => void this.retire(slot, new Error('the certificate renderer stopped unexpectedly')),
    );
    return slot;
  }

  /** Ends a worker (dead, or closing): its jobs fail with `reason`; later jobs get a new worker. */
  private async retire(slot: Slot, reason: Error): Promise<void> {
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
