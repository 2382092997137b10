/**
 * The running server the upload-abuse tests talk to: the registry in its own process (what the
 * crash cases used to do is end the process), raw HTTP exchanges on their own connections, and
 * the check that the process is still up and answering.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { startAppProcess, type AppProcess } from '../helpers/app-process';

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** From the request's start to the end of the body. */
  ms: number;
}

/** One HTTP exchange; a fresh connection unless `agent` is given. Resolves with the whole body. */
export function send(
  base: string,
  method: string,
  urlPath: string,
  headers: Record<string, string>,
  body?: Buffer,
  agent: http.Agent | false = false,
): Promise<Reply> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(
      new URL(urlPath, base),
      {
        method,
        headers: body ? { ...headers, 'content-length': String(body.length) } : headers,
        agent,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
            ms: performance.now() - t0,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export const get = (base: string, urlPath: string, headers: Record<string, string> = {}) =>
  send(base, 'GET', urlPath, headers);

export const post = (
  base: string,
  urlPath: string,
  headers: Record<string, string>,
  body: Buffer,
) => send(base, 'POST', urlPath, headers, body);

/** Opens /verify like a browser: the session cookie and the form's CSRF token. */
export async function siteForm(base: string): Promise<{ cookie: string; csrf: string }> {
  const page = await get(base, '/verify', { accept: 'text/html' });
  assert.equal(page.status, 200);
  const cookie = (page.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).join('; ');
  const m = /name="_csrf" value="([^"]+)"/.exec(page.text);
  assert.ok(m, 'the verify page has a CSRF token');
  return { cookie, csrf: m[1]! };
}

/**
 * Starts `src/server.ts` as the upload tests run it: info logs (kept for failure messages) and
 * the verify rate limit out of the way, on a free port. `dataDir` defaults to a fresh one.
 */
export function startUploadServer(
  opts: { dataDir?: string; publicUrl?: string } = {},
): Promise<AppProcess> {
  return startAppProcess({
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    PORT: '0',
    DATA_DIR: opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'eqi-uploads-')),
    PUBLIC_URL: opts.publicUrl ?? 'https://registry.test',
    RATE_LIMIT_VERIFY_PER_MIN: '100000',
  });
}

/** Fails unless the process is still running (its log tail says why not) and /healthz answers 200. */
export async function assertAlive(app: AppProcess, what = 'the server'): Promise<void> {
  assert.equal(
    app.child.exitCode,
    null,
    `${what}: the process is still running\n${app.log().slice(-3000)}`,
  );
  const h = await get(app.url, '/healthz');
  assert.equal(h.status, 200, `${what}: /healthz answers`);
}
