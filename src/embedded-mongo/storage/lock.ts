/**
 * `mongod.lock`: one process per data dir. The file holds "pid\nhostname\n". A lock whose pid is
 * dead (left by kill -9) is taken over; a live holder, or one on another host whose pid we cannot
 * check, is refused with an error naming it.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const LOCK_FILE = 'mongod.lock';

/** Lock files held by this process: a second open in-process must fail even though our pid is alive. */
const heldHere = new Set<string>();

export interface DirLock {
  readonly file: string;
  release(): void;
}

export function acquireLock(dir: string): DirLock {
  const file = path.resolve(dir, LOCK_FILE);
  if (heldHere.has(file))
    throw new Error(
      `data dir ${dir} is locked by pid ${process.pid} (this process already has it open)`,
    );
  const content = `${process.pid}\n${os.hostname()}\n`;
  for (let attempt = 0; attempt < 5; attempt++) {
    if (tryCreate(file, content)) {
      heldHere.add(file);
      return { file, release: () => release(file, content) };
    }
    const holder = readHolder(file);
    if (holder === null) continue; // vanished between our create and read: try again
    if (holder.host !== os.hostname()) {
      throw new Error(
        `data dir ${dir} is locked by pid ${holder.pid} on host ${holder.host}; its liveness cannot be checked ` +
          `from ${os.hostname()}. Delete ${file} if that process is gone.`,
      );
    }
    // Our own pid here is a previous incarnation (e.g. pid 1 in a restarted container): heldHere says it is not us.
    if (holder.pid !== process.pid && isAlive(holder.pid)) {
      throw new Error(
        `data dir ${dir} is locked by pid ${holder.pid} (${file}); is another embedded mongod running?`,
      );
    }
    // Stale: unlink and race for O_EXCL creation again. Two processes taking over the same
    // stale lock at the same instant is not fully excluded (no flock in Node); fine for this server.
    try {
      fs.unlinkSync(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  throw new Error(`could not take ${file}: it keeps being re-created by another process`);
}

/** Writes the content to a private temp file, then link()s it into place: atomic, fails if the lock exists, and never leaves a half-written lock. */
function tryCreate(file: string, content: string): boolean {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, content);
  const fd = fs.openSync(tmp, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.linkSync(tmp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    fs.unlinkSync(tmp);
  }
}

function readHolder(file: string): { pid: number; host: string } | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const [pidLine = '', host = ''] = text.split('\n');
  const pid = Number(pidLine);
  if (!Number.isSafeInteger(pid) || pid <= 0)
    throw new Error(
      `lock file ${file} is not ours (content ${JSON.stringify(text.slice(0, 80))}); delete it if no process uses this dir`,
    );
  return { pid, host };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by another user
  }
}

function release(file: string, content: string): void {
  if (!heldHere.delete(file)) return;
  try {
    if (fs.readFileSync(file, 'utf8') === content) fs.unlinkSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
