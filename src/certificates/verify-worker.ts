/**
 * The verification worker: checks one uploaded PDF at a time, off the app's event loop (see
 * verify-pool.ts). Answers each job with the offline verification, or with the cap the file
 * went over; anything else it cannot do is an `error` answer, never a dead worker.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { lowerThreadPriority } from '../workers/priority';
import type { Jwks } from '../../certificates/jws';
import { PdfLimitError, setPdfLimits, type PdfLimits } from '../../certificates/limits';
import { verifyCertificatePdf } from '../../certificates/issue';

export interface VerifyJob {
  id: number;
  bytes: Uint8Array;
  jwks: Jwks;
}

export type VerifyAnswer =
  | { id: number; ok: true; result: Awaited<ReturnType<typeof verifyCertificatePdf>> }
  | { id: number; ok: false; limit: { kind: PdfLimitError['kind']; message: string } }
  | { id: number; ok: false; error: string };

// pdf-lib logs every broken object it skips; a hostile file has thousands of them.
console.warn = () => undefined;
console.log = () => undefined;

// Verification yields the CPU to the app's event loop.
lowerThreadPriority();

setPdfLimits((workerData as { limits?: Partial<PdfLimits> } | null)?.limits ?? {});

const port = parentPort!;
port.on('message', (job: VerifyJob) => {
  const answer = async (): Promise<VerifyAnswer> => {
    try {
      return { id: job.id, ok: true, result: await verifyCertificatePdf(job.bytes, job.jwks) };
    } catch (e) {
      if (e instanceof PdfLimitError)
        return { id: job.id, ok: false, limit: { kind: e.kind, message: e.message } };
      return { id: job.id, ok: false, error: (e as Error)?.message ?? String(e) };
    }
  };
  void answer().then((a) => port.postMessage(a));
});
