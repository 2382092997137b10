/**
 * The one reader of file uploads (multipart/form-data): the API's POST /verify and the site's
 * upload form. One file in a named field, a size cap, no temp files; for a site form, the CSRF
 * token field is checked before any of the file is kept.
 *
 * Whatever the client sends or fails to send (a body cut off mid-part, a connection dropped
 * mid-upload, extra or misnamed parts) settles the promise exactly once with a named problem;
 * every part stream has an `error` listener, so no stream error can end the process.
 */
import busboy from 'busboy';
import type { Request } from 'express';
import type { Readable } from 'node:stream';
import { AppError, forbidden } from '../errors';

export type UploadProblem =
  'not-multipart' | 'malformed' | 'no-file' | 'empty' | 'too-large' | 'extra-parts';

export const UPLOAD_STATUS: Record<UploadProblem, number> = {
  'not-multipart': 415,
  malformed: 400,
  'no-file': 400,
  empty: 400,
  'too-large': 413,
  'extra-parts': 400,
};

export type UploadResult =
  { ok: true; bytes: Buffer; filename: string } | { ok: false; problem: UploadProblem };

export interface UploadOptions {
  /** Name of the file field. */
  field: string;
  /** The largest file accepted, in bytes (exactly this many is allowed). */
  maxBytes: number;
  /**
   * For a site form: whether the `csrfField` value is the visitor's. The token must come
   * before the file (browsers send controls in form order, and the form puts it first), so a
   * forged post is refused before any of its file is buffered.
   */
  csrfMatches?(sent: unknown): boolean;
  csrfField?: string;
}

/** Room for the part headers, the boundaries and a few small fields around the file. */
const ENVELOPE_BYTES = 64 * 1024;

const noop = (): void => undefined;

/**
 * Resolves with the file or a problem; rejects only with a 403 AppError when `csrfMatches` is
 * given and the token is missing, wrong or after the file.
 */
export function readUpload(req: Request, opts: UploadOptions): Promise<UploadResult> {
  if (!/^multipart\/form-data\s*(;|$)/i.test(req.get('content-type') ?? '')) {
    return Promise.resolve({ ok: false, problem: 'not-multipart' });
  }
  const declared = Number(req.get('content-length'));
  if (Number.isFinite(declared) && declared > opts.maxBytes + ENVELOPE_BYTES) {
    stopReading(req);
    return Promise.resolve({ ok: false, problem: 'too-large' });
  }
  return new Promise((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({
        headers: req.headers,
        defParamCharset: 'utf8', // browsers send file names as raw UTF-8
        // busboy reports 'limit' on reaching fileSize; one byte more tells "exactly the cap" (allowed) from over it.
        limits: { files: 1, fileSize: opts.maxBytes + 1, fields: 5, fieldSize: 1024, parts: 10 },
      });
    } catch {
      resolve({ ok: false, problem: 'malformed' }); // e.g. no boundary
      return;
    }
    const csrfField = opts.csrfField ?? '_csrf';
    let csrf: unknown;
    let csrfOk: boolean | undefined = opts.csrfMatches ? undefined : true;
    const checkCsrf = (): boolean => (csrfOk ??= opts.csrfMatches!(csrf));
    let file: { filename: string; chunks: Buffer[]; size: number } | undefined;
    let settled = false;

    const settle = (outcome: UploadResult | AppError, early: boolean): void => {
      if (settled) return;
      settled = true;
      if (file) file.chunks = [];
      if (early) {
        req.unpipe(bb);
        stopReading(req);
      }
      if (outcome instanceof AppError) reject(outcome);
      else resolve(outcome);
    };
    const problem = (p: UploadProblem, early = true) => settle({ ok: false, problem: p }, early);

    bb.on('field', (name, value) => {
      if (name === csrfField && csrf === undefined) csrf = value;
    });
    bb.on('file', (name, stream: Readable, info) => {
      stream.on('error', noop); // a cut-off body fails the part too; bb's 'error' answers
      if (settled || name !== opts.field) {
        stream.resume(); // a misnamed part is skipped; no file in the field is 'no-file'
        return;
      }
      if (!checkCsrf()) {
        stream.resume();
        settle(forbidden('Missing or wrong CSRF token.', { code: 'csrf' }), true);
        return;
      }
      const f = { filename: info.filename ?? '', chunks: [] as Buffer[], size: 0 };
      file = f;
      stream.on('data', (c: Buffer) => {
        if (settled) return;
        f.chunks.push(c);
        f.size += c.length;
      });
      stream.on('limit', () => problem('too-large'));
    });
    for (const limit of ['partsLimit', 'filesLimit', 'fieldsLimit'] as const) {
      bb.on(limit, () => problem('extra-parts'));
    }
    bb.on('error', () => problem('malformed'));
    bb.on('close', () => {
      if (settled) return;
      if (!checkCsrf()) settle(forbidden('Missing or wrong CSRF token.', { code: 'csrf' }), false);
      // A browser sends an empty part without a file name when no file was chosen.
      else if (!file || (file.filename === '' && file.size === 0)) problem('no-file', false);
      else if (file.size === 0) problem('empty', false);
      else settle({ ok: true, bytes: Buffer.concat(file.chunks), filename: file.filename }, false);
    });
    // The client went away mid-upload: busboy never sees the end, so settle here.
    req.on('error', noop);
    req.on('close', () => {
      if (!req.complete) problem('malformed');
    });
    req.pipe(bb);
  });
}

/**
 * Stops taking the rest of a body that will not be used (also for a route that refuses an
 * upload before reading it): the answer goes out at once and the
 * connection closes after it, instead of the server reading (say) a gigabyte to throw away.
 */
export function stopReading(req: Request): void {
  if (req.res && !req.res.headersSent) req.res.setHeader('Connection', 'close');
  req.resume();
}

/** The API's problem details for an upload problem. */
export function uploadError(
  problem: UploadProblem,
  opts: { field: string; maxBytes: number },
): AppError {
  const status = UPLOAD_STATUS[problem];
  const field = [{ path: opts.field, message: 'Choose a file to upload.' }];
  switch (problem) {
    case 'not-multipart':
      return new AppError({
        status,
        detail: `Upload the file as multipart/form-data in the field "${opts.field}".`,
      });
    case 'malformed':
      return new AppError({
        status,
        code: 'upload-malformed',
        detail:
          'The multipart body is malformed or incomplete (cut off before its end); send the file again.',
      });
    case 'no-file':
      return new AppError({
        status,
        code: 'upload-no-file',
        detail: `No file in the field "${opts.field}".`,
        errors: field,
      });
    case 'empty':
      return new AppError({
        status,
        code: 'upload-empty',
        detail: 'The file is empty (0 bytes).',
        errors: field,
      });
    case 'too-large':
      return new AppError({
        status,
        detail: `The file is larger than ${opts.maxBytes / 1048576} MiB (${opts.maxBytes} bytes).`,
      });
    case 'extra-parts':
      return new AppError({
        status,
        code: 'upload-extra-parts',
        detail: `Send one file in the field "${opts.field}" and nothing else.`,
      });
  }
}
