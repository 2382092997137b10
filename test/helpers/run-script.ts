/**
 * Runs a TypeScript entry point of this repository as its own process (`node --require tsx/cjs
 * <script> ...args`, as the npm scripts do) and resolves with its exit code and whole output,
 * for tests of what an operator sees on the command line.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '../..');

export interface ScriptRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `script` is relative to the repository root. `env` is the child's whole environment (default:
 * this process's). `stdin`, if given, is piped in; otherwise stdin is closed. A process still
 * running after `timeoutMs` is killed, so a test fails instead of hanging.
 */
export function runScript(
  script: string,
  args: string[] = [],
  opts: { env?: NodeJS.ProcessEnv; stdin?: string; timeoutMs?: number } = {},
): Promise<ScriptRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--require', 'tsx/cjs', path.join(ROOT, script), ...args],
      {
        cwd: ROOT,
        env: opts.env ?? process.env,
        stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    if (child.stdin) {
      child.stdin.on('error', () => {}); // the script may exit before reading stdin (usage errors)
      child.stdin.end(opts.stdin);
    }
  });
}
