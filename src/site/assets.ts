/**
 * Static assets under public/, served at fingerprinted URLs (`/static/css/site.3f9a0c12de.css`)
 * so they can be cached for a year: a changed file gets a new URL, never a stale copy.
 * The files are small and few, so they are read once and kept in memory.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Request, RequestHandler, Response } from 'express';

export const STATIC_PREFIX = '/static/';
const LONG_CACHE = 'public, max-age=31536000, immutable';

const TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

export interface Assets {
  /** The fingerprinted URL of a file under public/ (e.g. `css/site.css`); throws for unknown files. */
  url(name: string): string;
  handler: RequestHandler;
}

function listFiles(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...listFiles(path.join(dir, entry.name), rel));
    else if (entry.isFile()) out.push(rel);
  }
  return out;
}

/** Sends a file whose URL changes with its content: cached for a year, revalidated by ETag. */
export function sendImmutable(
  req: Request,
  res: Response,
  file: { body: Buffer | string; type: string; etag: string },
): void {
  res.set({
    'Content-Type': file.type,
    'Cache-Control': LONG_CACHE,
    ETag: file.etag,
    'X-Content-Type-Options': 'nosniff',
  });
  if (req.headers['if-none-match'] === file.etag) {
    res.status(304).end();
    return;
  }
  res.send(file.body);
}

export function loadAssets(dir: string): Assets {
  const urls = new Map<string, string>();
  const byUrl = new Map<string, Asset>();
  for (const name of listFiles(dir)) {
    const ext = path.extname(name);
    const type = TYPES[ext];
    if (!type) continue; // only known types are published
    const body = readFileSync(path.join(dir, name));
    const hash = createHash('sha256').update(body).digest('hex').slice(0, 10);
    const url = `${STATIC_PREFIX}${name.slice(0, -ext.length)}.${hash}${ext}`;
    urls.set(name, url);
    byUrl.set(url, { body, type, etag: `"${hash}"` });
  }

  const handler: RequestHandler = (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    const asset = byUrl.get(req.path);
    if (!asset) return next();
    sendImmutable(req, res, asset);
  };

  return {
    url(name) {
      const url = urls.get(name);
      if (!url) throw new Error(`unknown asset: ${name}`);
      return url;
    },
    handler,
  };
}
