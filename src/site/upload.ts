/**
 * Reads a browser's file upload (multipart/form-data) for a site form: its small text fields and
 * one file, with a size cap and no temp files. What a visitor can get wrong (no file, an empty or
 * oversized one, not a form upload at all) comes back as a named problem for the page to explain;
 * the form's CSRF token is checked before any of the file is kept.
 */
import busboy from 'busboy';
import type { Request } from 'express';
import { forbidden } from '../errors';
import { CSRF_FIELD } from './csrf';

export type UploadProblem = 'not-multipart' | 'malformed' | 'no-file' | 'empty' | 'too-large';

export const UPLOAD_STATUS: Record<UploadProblem, number> = {
  'not-multipart': 415,
  malformed: 400,
  'no-file': 400,
  empty: 400,
  'too-large': 413,
};

export type UploadResult =
  { ok: true; bytes: Buffer; filename: string } | { ok: false; problem: UploadProblem };

export interface UploadOptions {
  /** Name of the file control. */
  field: string;
  maxBytes: number;
  /** Whether the form's CSRF token (the `_csrf` field) is the visitor's. */
  csrfMatches(sent: unknown): boolean;
}

/**
 * Resolves with the file or a problem; rejects with a 403 when the CSRF token is missing or wrong.
 * The token must come before the file in the body: browsers send controls in form order, and
 * the form puts it first, so a forged post is refused before any of its file is buffered.
 */
export function readFormUpload(req: Request, opts: UploadOptions): Promise<UploadResult> {
  if (!/^multipart\/form-data\s*(;|$)/i.test(req.get('content-type') ?? '')) {
    return Promise.resolve({ ok: false, problem: 'not-multipart' });
  }
  return new Promise((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({
        headers: req.headers,
        defParamCharset: 'utf8', // browsers send file names as raw UTF-8
        limits: { files: 1, fileSize: opts.maxBytes, fields: 5, fieldSize: 1024, parts: 10 },
      });
    } catch {
      resolve({ ok: false, problem: 'malformed' }); // e.g. no boundary
      return;
    }
    let csrf: unknown;
    let checked = false;
    let forged = false;
    let file: { filename: string; chunks: Buffer[]; size: number } | undefined;
    let tooLarge = false;
    const csrfOk = (): boolean => {
      if (!checked) {
        checked = true;
        forged = !opts.csrfMatches(csrf);
      }
      return !forged;
    };
    bb.on('field', (name, value) => {
      if (name === CSRF_FIELD && !checked) csrf = value;
    });
    bb.on('file', (name, stream, info) => {
      if (name !== opts.field || file || !csrfOk()) {
        stream.resume();
        return;
      }
      const f = { filename: info.filename ?? '', chunks: [] as Buffer[], size: 0 };
      file = f;
      stream.on('data', (c: Buffer) => {
        f.chunks.push(c);
        f.size += c.length;
      });
      // A cut-off body fails the part too; the form's own 'error' below answers for both.
      stream.on('error', () => undefined);
      stream.on('limit', () => {
        tooLarge = true;
        f.chunks = []; // nothing of it will be used
      });
    });
    bb.on('error', () => {
      req.unpipe(bb);
      req.resume(); // read the rest, so the client gets the answer instead of a reset
      resolve({ ok: false, problem: 'malformed' });
    });
    bb.on('close', () => {
      if (!csrfOk()) reject(forbidden('Missing or wrong CSRF token.', { code: 'csrf' }));
      else if (tooLarge) resolve({ ok: false, problem: 'too-large' });
      // A browser sends an empty part without a file name when no file was chosen.
      else if (!file || (file.filename === '' && file.size === 0))
        resolve({ ok: false, problem: 'no-file' });
      else if (file.size === 0) resolve({ ok: false, problem: 'empty' });
      else resolve({ ok: true, bytes: Buffer.concat(file.chunks), filename: file.filename });
    });
    req.pipe(bb);
  });
}
