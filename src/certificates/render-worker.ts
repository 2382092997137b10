/**
 * The worker side of render-pool.ts: renders and signs certificates (certificates/issue.ts),
 * several at once, so that no certificate costs the event loop that serves requests. Keys come
 * once in workerData. A job that wants a log proof pauses after its credential is signed: the
 * worker sends the JWS, the main thread logs it and answers with the proof, and the PDF is
 * finished here.
 */
import { parentPort, workerData } from 'node:worker_threads';
import {
  issueCertificate,
  PdfSigner,
  type Association,
  type CertificateData,
  type PdfSignerParts,
  type SigningKey,
} from '../../certificates';

export interface RenderWorkerData {
  signingKey: SigningKey;
  pdfSigner: PdfSignerParts;
  publicUrl: string;
  association?: Association;
  /** The keys are generated development ones: certificates say so (SAMPLE watermark, claim). */
  development?: boolean;
}

export interface RenderJob {
  type: 'render';
  id: number;
  data: CertificateData;
  credentialStatus?: Array<Record<string, string>>;
  logVerifierKey?: string;
  /** Pause for a log proof after signing the credential (a 'jws' message, then a 'proof' one). */
  wantsProof: boolean;
}

export type ToWorker =
  | RenderJob
  | { type: 'proof'; id: number; proof: object | null }
  | { type: 'cancel'; id: number; error: string };

export type FromWorker =
  | { type: 'jws'; id: number; jws: string }
  | { type: 'done'; id: number; pdf: Uint8Array; jws: string }
  | { type: 'failed'; id: number; error: string };

const setup = workerData as RenderWorkerData & { file?: string };
const signingKey = setup.signingKey;
const pdfSigner = PdfSigner.fromParts(setup.pdfSigner);
const port = parentPort!;
const waitingForProof = new Map<
  number,
  { resolve(p: object | null): void; reject(e: Error): void }
>();

async function render(job: RenderJob): Promise<void> {
  try {
    const { pdf, jws } = await issueCertificate(job.data, {
      signingKey,
      p12Signer: pdfSigner,
      publicUrl: setup.publicUrl,
      association: setup.association,
      development: setup.development,
      credentialStatus: job.credentialStatus,
      logVerifierKey: job.logVerifierKey,
      logProof: job.wantsProof
        ? (jws) =>
            new Promise<object | null>((resolve, reject) => {
              waitingForProof.set(job.id, { resolve, reject });
              port.postMessage({ type: 'jws', id: job.id, jws } satisfies FromWorker);
            })
        : undefined,
    });
    port.postMessage({ type: 'done', id: job.id, pdf, jws } satisfies FromWorker);
  } catch (e) {
    port.postMessage({
      type: 'failed',
      id: job.id,
      error: e instanceof Error ? e.message : String(e),
    } satisfies FromWorker);
  }
}

port.on('message', (m: ToWorker) => {
  if (m.type === 'render') void render(m);
  else {
    const waiting = waitingForProof.get(m.id);
    if (!waiting) return;
    waitingForProof.delete(m.id);
    if (m.type === 'proof') waiting.resolve(m.proof);
    else waiting.reject(new Error(m.error));
  }
});
