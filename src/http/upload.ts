/** Reads one uploaded file (multipart/form-data field `file`) with a size cap, without temp files. */
import busboy from 'busboy';
import type { Request } from 'express';
import { badRequest, payloadTooLarge, AppError } from '../errors';

export async function readUpload(req: Request, opts: { field: string; maxBytes: number }): Promise<Buffer> {
  const type = req.headers['content-type'] ?? '';
  if (!/^multipart\/form-data/i.test(type)) {
    throw new AppError({ status: 415, detail: `Upload the file as multipart/form-data in the field "${opts.field}".` });
  }
  return new Promise<Buffer>((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({ headers: req.headers, limits: { files: 1, fileSize: opts.maxBytes, fields: 10, parts: 20 } });
    } catch (e) {
      reject(badRequest(`Malformed multipart request: ${(e as Error).message}`));
      return;
    }
    const chunks: Buffer[] = [];
    let found = false;
    let failed: AppError | null = null;
    bb.on('file', (name, stream) => {
      if (name !== opts.field || found) {
        stream.resume();
        return;
      }
      found = true;
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('limit', () => {
        failed = payloadTooLarge(`The file is larger than ${Math.round(opts.maxBytes / 1048576)} MB.`);
      });
    });
    bb.on('error', (e) => reject(failed ?? badRequest(`Malformed multipart request: ${(e as Error).message}`)));
    bb.on('close', () => {
      if (failed) reject(failed);
      else if (!found) reject(badRequest(`No file in the field "${opts.field}".`, { errors: [{ path: opts.field, message: 'Choose a file to upload.' }] }));
      else resolve(Buffer.concat(chunks));
    });
    req.pipe(bb);
  });
}
