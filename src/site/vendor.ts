/**
 * Third-party browser code the app serves itself (no CDN: the CSP allows scripts from 'self'
 * only). Today that is pdf.js, which renders an evidence PDF's first page in the console. The
 * package version is in the URL, so a file can be cached for a year: an upgrade gets new URLs.
 * Only the files listed here are served, read once from node_modules and kept in memory.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { RequestHandler } from 'express';
import { sendImmutable } from './assets';

const PDFJS_DIR = path.dirname(require.resolve('pdfjs-dist/package.json'));
const PDFJS_VERSION = (
  JSON.parse(readFileSync(path.join(PDFJS_DIR, 'package.json'), 'utf8')) as { version: string }
).version;

/** Where the pages find pdf.js: its legacy build (wider browser support) and its worker. */
export const PDFJS_URLS = Object.freeze({
  lib: `/vendor/pdfjs-${PDFJS_VERSION}/pdf.min.mjs`,
  worker: `/vendor/pdfjs-${PDFJS_VERSION}/pdf.worker.min.mjs`,
});

interface VendorFile {
  body: Buffer;
  etag: string;
}

let files: Map<string, VendorFile> | undefined;
function vendorFiles(): Map<string, VendorFile> {
  if (files) return files;
  files = new Map();
  for (const [url, rel] of [
    [PDFJS_URLS.lib, 'legacy/build/pdf.min.mjs'],
    [PDFJS_URLS.worker, 'legacy/build/pdf.worker.min.mjs'],
  ] as const) {
    const body = readFileSync(path.join(PDFJS_DIR, rel));
    const etag = `"${createHash('sha256').update(body).digest('hex').slice(0, 16)}"`;
    files.set(url, { body, etag });
  }
  return files;
}

/** Serves the listed files under /vendor/; anything else there falls through (to the 404 page). */
export const vendorHandler: RequestHandler = (req, res, next) => {
  if (!req.path.startsWith('/vendor/') || (req.method !== 'GET' && req.method !== 'HEAD'))
    return next();
  const file = vendorFiles().get(req.path);
  if (!file) return next();
  sendImmutable(req, res, { ...file, type: 'text/javascript; charset=utf-8' });
};
