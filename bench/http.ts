/**
 * HTTP helpers for benchmarks: a keep-alive client with a fixed number of connections, a bare
 * express baseline, and starting the real server as a child process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { spawnEmbeddedMongo } from '../src/embedded-mongo/spawn';

export function agentFor(connections: number): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
}

export function requestJson(
  agent: http.Agent,
  url: string,
  method: 'GET' | 'POST',
  body?: unknown,
): Promise<{ status: number; body: string }> {
  return request(agent, url, method, body);
}

/**
 * A GET with the headers a browser sends (gzip accepted). Like wrk or autocannon, the body is
 * read to its end but not decompressed: the figure is the server's, not the load generator's,
 * which shares this machine's cores.
 */
export function requestPage(
  agent: http.Agent,
  url: string,
): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: 'GET', agent, headers: { 'accept-encoding': 'gzip' } },
      (res) => {
        let bytes = 0;
        res.on('data', (c: Buffer) => (bytes += c.length));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function request(
  agent: http.Agent,
  url: string,
  method: 'GET' | 'POST',
  body: unknown,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      url,
      {
        method,
        agent,
        headers: payload
          ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
          : {},
      },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (data += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
      },
    );
    req.on('error', (e: NodeJS.ErrnoException) => {
      // A kept-alive socket the server closed as this request went out (its idle timeout):
      // the request never reached it, so it is sent again, as Node's documentation advises.
      if (req.reusedSocket && e.code === 'ECONNRESET')
        request(agent, url, method, body).then(resolve, reject);
      else reject(e);
    });
    if (payload) req.end(payload);
    else req.end();
  });
}

/** Requests/s of `fn` with `connections` concurrent loops for `ms`. */
export async function throughput(
  connections: number,
  ms: number,
  fn: () => Promise<unknown>,
): Promise<number> {
  const end = Date.now() + ms;
  let n = 0;
  const start = Date.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (Date.now() < end) {
        await fn();
        n++;
      }
    }),
  );
  return (n * 1000) / (Date.now() - start);
}

/** A bare express app in a child process answering the same shape of JSON: the machine's HTTP ceiling. */
export async function startBareExpress(): Promise<{ url: string; stop: () => Promise<void> }> {
  return startChild(['--require', 'tsx/cjs', path.join(__dirname, 'bare-express.ts')], {});
}

export async function startChild(
  args: string[],
  env: Record<string, string>,
): Promise<{ url: string; child: ChildProcess; stop: () => Promise<void>; output: () => string }> {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const m = /"url":"(http:\/\/[^"]+)"|LISTENING (http:\/\/\S+)/.exec(out);
      if (m) {
        clearInterval(timer);
        resolve(m[1] ?? m[2]);
      }
    }, 50);
    child.once('exit', (code) => {
      clearInterval(timer);
      reject(new Error(`child exited with ${code}: ${out.slice(-2000)}`));
    });
  });
  return {
    url,
    child,
    output: () => out,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Runs a command to completion (e.g. the seed script), failing on a non-zero exit. */
export function runToCompletion(args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    child.once('exit', (code) =>
      code === 0
        ? resolve(out)
        : reject(new Error(`${args.join(' ')} exited with ${code}: ${out.slice(-2000)}`)),
    );
  });
}

/**
 * The real app as a child process on a fresh standalone store, seeded with `seed` fictional
 * active signatories, returned once their certificates are issued (that work is not measured).
 */
export async function startSeededApp(
  seed: number,
): Promise<{ url: string; storeUri: string; stop: () => Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-app-'));
  const store = await spawnEmbeddedMongo({ memory: true });
  const env = {
    NODE_ENV: 'test',
    PORT: '0',
    LOG_LEVEL: 'warn',
    DATA_DIR: dir,
    MONGODB_URI: `${store.uri}/bench`,
  };
  await runToCompletion(
    ['--require', 'tsx/cjs', path.join(__dirname, '..', 'scripts', 'seed.ts')],
    env,
  );
  // BENCH_APP_CPU_PROF=<dir>: the app's CPU profile (node --cpu-prof), written when it stops.
  const prof = process.env.BENCH_APP_CPU_PROF;
  const app = await startChild(
    [
      ...(prof ? ['--cpu-prof', '--cpu-prof-dir', prof] : []),
      '--require',
      'tsx/cjs',
      path.join(__dirname, '..', 'src', 'server.ts'),
    ],
    { ...env, LOG_LEVEL: 'info' },
  );
  const client = await MongoClient.connect(store.uri);
  const deadline = Date.now() + 120_000;
  while (
    (await client.db('bench').collection('certificates').countDocuments()) < seed &&
    Date.now() < deadline
  )
    await new Promise((r) => setTimeout(r, 200));
  await client.close();
  return {
    url: app.url,
    storeUri: store.uri,
    stop: async () => {
      await app.stop();
      await store.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
