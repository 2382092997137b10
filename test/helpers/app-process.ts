/**
 * Runs the registry as a separate process (`node --require tsx/cjs src/server.ts`, as `npm start`
 * does) and resolves with the URL from its `listening` log line. For multi-instance tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { ENV_VARS } from '../../src/config';

const ROOT = path.resolve(__dirname, '../..');

export interface AppProcess {
  url: string;
  pid: number;
  child: ChildProcess;
  /** The process's log so far (JSON lines from stdout, then stderr). */
  log(): string;
  /** SIGTERM and wait for exit; SIGKILL if it has not exited within `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** This process's environment without its app variables (src/config.ts), plus `env`. */
export function appEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base: Record<string, string | undefined> = { ...process.env };
  for (const v of ENV_VARS) delete base[v.name];
  return { ...base, ...env };
}

/** `env` holds the app's variables; the parent's own app variables are not passed on. */
export function startAppProcess(
  env: Record<string, string>,
  timeoutMs = 30_000,
  /** Another entry point that starts the server the same way (e.g. with extra test routes). */
  script = 'src/server.ts',
): Promise<AppProcess> {
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', path.resolve(ROOT, script)], {
    cwd: ROOT,
    env: appEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const keep = (s: string, c: Buffer) => (s + c.toString()).slice(-200_000); // always drained, never unbounded
  child.stderr!.on('data', (c: Buffer) => (err = keep(err, c)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const log = () => `${out}\n--- stderr ---\n${err}`;
  const stop = async (graceMs = 10_000): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    let ready = false;
    let pending = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`app did not start within ${timeoutMs} ms:\n${log()}`));
    }, timeoutMs);
    child.stdout!.on('data', (c: Buffer) => {
      out = keep(out, c);
      if (ready) return;
      pending += c.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        let rec: { msg?: string; url?: string };
        try {
          rec = JSON.parse(line) as typeof rec;
        } catch {
          continue;
        }
        if (rec.msg === 'listening' && rec.url) {
          ready = true;
          clearTimeout(timer);
          resolve({ url: rec.url, pid: child.pid!, child, log, stop });
          return;
        }
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (!ready) reject(new Error(`app exited (${code ?? signal}) before listening:\n${log()}`));
    });
  });
}

export interface JsonResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/**
 * A JSON request over real HTTP, on a connection of its own (no keep-alive): a pooled idle
 * socket can be closed by the server's keep-alive timeout just as it is reused, which under
 * load turns into a spurious ECONNRESET that has nothing to do with the app.
 */
export function httpJson(
  base: string,
  method: 'GET' | 'POST',
  path: string,
  opts: { body?: unknown; token?: string } = {},
): Promise<JsonResponse> {
  const payload = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
  const headers: http.OutgoingHttpHeaders = { accept: 'application/json' };
  if (payload)
    Object.assign(headers, {
      'content-type': 'application/json',
      'content-length': payload.length,
    });
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(path, base), { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON: keep the text
        }
        resolve({ status: res.statusCode!, headers: res.headers, body });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}
