/**
 * Renders and signs certificates in worker threads (render-worker.ts), never on the event loop
 * that serves requests. The issuing state machine (claims, serials, database writes, log
 * intents) stays on the main thread in issuing.ts; only the pure work of certificates/issue.ts
 * moves. A worker holds several jobs at once, since a job waits for its log checkpoint between
 * signing the credential and finishing the PDF. A worker that dies fails its jobs (the issuer
 * retries them once their claim runs out) and is replaced; each job has a time limit.
 */
import path from 'node:path';
import type { Association, CertificateData } from '../../certificates';
import { defaultPoolSize, WorkerPool, type JobHandle } from '../workers/pool';
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

type Rendered = { pdf: Uint8Array; jws: string };

// The worker is the sibling file of this one: render-worker.ts under tsx, .js once compiled.
const WORKER_FILE = path.join(__dirname, `render-worker${path.extname(__filename)}`);

export class RenderPool extends WorkerPool<RenderRequest, Rendered, FromWorker> {
  constructor(
    keys: Pick<KeyRing, 'signingKey' | 'pdfSigner'> & Partial<Pick<KeyRing, 'isDevelopment'>>,
    publicUrl: string,
    association?: Association,
    opts: RenderPoolOptions = {},
  ) {
    const workerData: RenderWorkerData = {
      signingKey: keys.signingKey,
      pdfSigner: keys.pdfSigner.parts(),
      publicUrl,
      association,
      development: keys.isDevelopment === true,
    };
    super({
      file: WORKER_FILE,
      workerData,
      size: opts.size ?? defaultPoolSize(),
      perWorker: opts.perWorker ?? 32,
      timeoutMs: opts.timeoutMs ?? 30_000,
      maxHeapMb: opts.maxHeapMb ?? 256,
      onTimeout: (id) => ({ type: 'cancel', id, error: 'timed out' }) satisfies ToWorker,
    });
  }

  /** The certificate's PDF and credential JWS, rendered and signed in a worker. */
  issue(request: RenderRequest): Promise<Rendered> {
    return this.run(request);
  }

  protected start(id: number, request: RenderRequest): RenderJob {
    const { data, credentialStatus, logVerifierKey, logProof } = request;
    return {
      type: 'render',
      id,
      data,
      credentialStatus,
      logVerifierKey,
      wantsProof: Boolean(logProof),
    };
  }

  protected answer(m: FromWorker, job: JobHandle<RenderRequest, Rendered>): void {
    if (m.type === 'jws') {
      job.task.logProof!(m.jws).then(
        (proof) => job.post({ type: 'proof', id: m.id, proof } satisfies ToWorker),
        (e: unknown) => {
          job.post({ type: 'cancel', id: m.id, error: 'no log proof' } satisfies ToWorker);
          job.reject(e instanceof Error ? e : new Error(String(e)));
        },
      );
    } else if (m.type === 'done') job.resolve({ pdf: m.pdf, jws: m.jws });
    else job.reject(new Error(`rendering certificate ${job.task.data.serial} failed: ${m.error}`));
  }

  protected timedOut(): Error {
    return new Error(
      `rendering a certificate took longer than ${this.settings.timeoutMs / 1000} s`,
    );
  }

  protected stopped(e?: NodeJS.ErrnoException): Error {
    return new Error(
      e
        ? `the certificate renderer stopped: ${e.message}`
        : 'the certificate renderer stopped unexpectedly',
    );
  }

  protected shutDown(): Error {
    return new Error('certificate rendering is shut down');
  }
}
