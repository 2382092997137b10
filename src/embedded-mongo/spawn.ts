/**
 * Starts the embedded store as a separate process (for multi-process tests, crash tests and
 * benchmarks) and resolves once it prints `READY <uri>`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export interface SpawnedMongo {
  uri: string;
  /** The store's Unix socket URI, when it listens on one (cheaper per round trip than TCP). */
  socketUri: string | null;
  pid: number;
  child: ChildProcess;
  /** Everything the process wrote to stderr so far (its log). */
  stderr(): string;
  /** Graceful stop (SIGTERM), resolving when the process has exited. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>;
}

export interface SpawnOptions {
  dataDir?: string;
  memory?: boolean;
  port?: number;
  timeoutMs?: number;
}

const CLI = path.join(__dirname, 'cli.ts');

export function spawnEmbeddedMongo(opts: SpawnOptions): Promise<SpawnedMongo> {
  const args = ['--require', 'tsx/cjs', CLI, '--port', String(opts.port ?? 0)];
  if (opts.memory) args.push('--memory');
  else if (opts.dataDir) args.push('--data', opts.dataDir);
  else throw new Error('spawnEmbeddedMongo needs dataDir or memory');
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signal = async (sig: NodeJS.Signals): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(sig);
    await exited;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`embedded mongo did not start within ${opts.timeoutMs ?? 60_000} ms: ${err}`),
      );
    }, opts.timeoutMs ?? 60_000);
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /READY (\S+)(?: (\S+))?\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({
          uri: m[1],
          socketUri: m[2] ?? null,
          pid: child.pid!,
          child,
          stderr: () => err,
          stop: () => signal('SIGTERM'),
          kill: () => signal('SIGKILL'),
        });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`embedded mongo exited with ${code} before it was ready: ${err}`));
    });
  });
}
