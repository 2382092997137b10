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
import path from 'node:path';
import type { Jwks } from '../../certificates/jws';
import type { PdfVerification } from '../../certificates/issue';
import { DEFAULT_PDF_LIMITS, type PdfLimitKind, type PdfLimits } from '../../certificates/limits';
import { AppError } from '../errors';
import { defaultPoolSize, WorkerPool, type JobHandle } from '../workers/pool';
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

type Upload = Omit<VerifyJob, 'id'>;

// The worker is the sibling file of this one: verify-worker.ts under tsx, .js once compiled.
const WORKER_FILE = path.join(__dirname, `verify-worker${path.extname(__filename)}`);

export class VerifyPool extends WorkerPool<Upload, PdfVerification, VerifyAnswer> {
  private readonly maxPending: number;
  private readonly limits: PdfLimits;
  private pending = 0;

  constructor(opts: VerifyPoolOptions = {}) {
    const limits = { ...DEFAULT_PDF_LIMITS, ...opts.limits };
    super({
      file: WORKER_FILE,
      workerData: { limits },
      size: opts.size ?? defaultPoolSize(),
      perWorker: 1,
      timeoutMs: opts.timeoutMs ?? 5000,
      maxHeapMb: opts.maxHeapMb ?? 192,
      // A verification that runs over is stuck in parsing: only ending the worker stops it.
      onTimeout: 'terminate',
    });
    this.maxPending = opts.maxPending ?? 16;
    this.limits = limits;
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
    return this.run({ bytes, jwks });
  }

  protected start(id: number, upload: Upload): VerifyJob {
    return { id, bytes: upload.bytes, jwks: upload.jwks };
  }

  protected answer(a: VerifyAnswer, job: JobHandle<Upload, PdfVerification>): void {
    if (a.ok) job.resolve(a.result);
    else if ('limit' in a) job.reject(new VerificationRefused(a.limit.kind, a.limit.message));
    else
      job.reject(
        new VerificationRefused(
          'unavailable',
          `The file could not be checked (${a.error}); try again.`,
        ),
      );
  }

  protected timedOut(): VerificationRefused {
    return new VerificationRefused(
      'time',
      `checking this PDF takes longer than ${this.settings.timeoutMs / 1000} s`,
    );
  }

  protected stopped(e?: NodeJS.ErrnoException): VerificationRefused {
    return e?.code === 'ERR_WORKER_OUT_OF_MEMORY'
      ? new VerificationRefused(
          'memory',
          `checking this PDF needs more than ${this.settings.maxHeapMb} MiB of memory`,
        )
      : new VerificationRefused('unavailable', 'The check stopped unexpectedly; try again.');
  }

  protected shutDown(): VerificationRefused {
    return new VerificationRefused('unavailable', 'The registry is shutting down.');
  }
}
