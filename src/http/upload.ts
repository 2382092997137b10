/**
 * The one reader of file uploads (multipart/form-data): the API's POST /verify and the site's
 * upload form. One file in a named field (or several, readUploads), a size cap, no temp files; for a site form, the CSRF
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
export async function readUpload(req: Request, opts: UploadOptions): Promise<UploadResult> {
  const r = await readUploads(req, { ...opts, files: [{ field: opts.field, required: true }] });
  if (!r.ok) return { ok: false, problem: r.problem };
  const f = r.files[opts.field]!;
  return { ok: true, bytes: f.bytes, filename: f.filename };
}

export interface UploadsOptions extends Omit<UploadOptions, 'field'> {
  /** The file fields, each at most once; a required one missing is 'no-file' naming it. */
  files: ReadonlyArray<{ field: string; required?: boolean }>;
  /** Text fields kept (beside the CSRF token), each at most `maxFieldBytes` (default 1 kB). */
  textFields?: readonly string[];
  maxFieldBytes?: number;
}

export type UploadsResult =
  | {
      ok: true;
      files: Record<string, { bytes: Buffer; filename: string } | undefined>;
      fields: Record<string, string>;
    }
  | { ok: false; problem: UploadProblem; field?: string };

/**
 * Several named files (and a few text fields) in one multipart body; `maxBytes` caps each file.
 * Same guarantees as readUpload: settles exactly once, nothing kept after a problem.
 */
export function readUploads(req: Request, opts: UploadsOptions): Promise<UploadsResult> {
  if (!/^multipart\/form-data\s*(;|$)/i.test(req.get('content-type') ?? '')) {
    return Promise.resolve({ ok: false, problem: 'not-multipart' });
  }
  const fileFields = new Map(opts.files.map((f) => [f.field, f.required === true]));
  const textFields = new Set(opts.textFields ?? []);
  const maxFieldBytes = opts.maxFieldBytes ?? 1024;
  const declared = Number(req.get('content-length'));
  const cap = fileFields.size * opts.maxBytes + ENVELOPE_BYTES + textFields.size * maxFieldBytes;
  if (Number.isFinite(declared) && declared > cap) {
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
        limits: {
          files: fileFields.size,
          fileSize: opts.maxBytes + 1,
          fields: 5 + textFields.size,
          fieldSize: maxFieldBytes,
          parts: 10 + textFields.size + fileFields.size,
        },
      });
    } catch {
      resolve({ ok: false, problem: 'malformed' }); // e.g. no boundary
      return;
    }
    const csrfField = opts.csrfField ?? '_csrf';
    let csrf: unknown;
    let csrfOk: boolean | undefined = opts.csrfMatches ? undefined : true;
    const checkCsrf = (): boolean => (csrfOk ??= opts.csrfMatches!(csrf));
    const files = new Map<string, { filename: string; chunks: Buffer[]; size: number }>();
    const fields: Record<string, string> = {};
    let settled = false;

    const settle = (outcome: UploadsResult | AppError, early: boolean): void => {
      if (settled) return;
      settled = true;
      for (const f of files.values()) f.chunks = [];
      if (early) {
        req.unpipe(bb);
        stopReading(req);
      }
      if (outcome instanceof AppError) reject(outcome);
      else resolve(outcome);
    };
    const problem = (p: UploadProblem, early = true, field?: string) =>
      settle({ ok: false, problem: p, ...(field ? { field } : {}) }, early);

    bb.on('field', (name, value) => {
      if (name === csrfField && csrf === undefined) csrf = value;
      else if (textFields.has(name) && !(name in fields)) fields[name] = value;
    });
    bb.on('file', (name, stream: Readable, info) => {
      stream.on('error', noop); // a cut-off body fails the part too; bb's 'error' answers
      if (settled || !fileFields.has(name) || files.has(name)) {
        stream.resume(); // a misnamed or repeated part is skipped
        return;
      }
      if (!checkCsrf()) {
        stream.resume();
        settle(forbidden('Missing or wrong CSRF token.', { code: 'csrf' }), true);
        return;
      }
      const f = { filename: info.filename ?? '', chunks: [] as Buffer[], size: 0 };
      files.set(name, f);
      stream.on('data', (c: Buffer) => {
        if (settled) return;
        f.chunks.push(c);
        f.size += c.length;
      });
      stream.on('limit', () => problem('too-large', true, name));
    });
    for (const limit of ['partsLimit', 'filesLimit', 'fieldsLimit'] as const) {
      bb.on(limit, () => problem('extra-parts'));
    }
    bb.on('error', () => problem('malformed'));
    bb.on('close', () => {
      if (settled) return;
      if (!checkCsrf()) {
        settle(forbidden('Missing or wrong CSRF token.', { code: 'csrf' }), false);
        return;
      }
      const out: Record<string, { bytes: Buffer; filename: string } | undefined> = {};
      for (const [field, required] of fileFields) {
        const f = files.get(field);
        // A browser sends an empty part without a file name when no file was chosen.
        if (!f || (f.filename === '' && f.size === 0)) {
          if (required) return problem('no-file', false, field);
          continue;
        }
        if (f.size === 0) return problem('empty', false, field);
        out[field] = { bytes: Buffer.concat(f.chunks), filename: f.filename };
      }
      settle({ ok: true, files: out, fields }, false);
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
