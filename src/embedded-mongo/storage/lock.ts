/**
 * One process per data dir.
 *
 * The lock is a listening Unix-domain socket that only its holder has open: on Linux an
 * abstract-namespace name derived from the dir's device and inode, elsewhere `mongod.sock` in the
 * dir. The kernel closes it when the holder dies, however it dies (kill -9, OOM, and before a
 * supervisor has reaped the zombie), so liveness is "does the socket answer", never "does the pid
 * exist". Binding is atomic: of processes racing for a free or stale lock, exactly one bind succeeds.
 *
 * `mongod.lock` ("pid\nhostname\n") names the holder in messages and for tools, and guards dirs
 * shared between hosts, where a socket cannot be probed: a lock file written on another host is
 * refused.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export const LOCK_FILE = 'mongod.lock';
/** The lock socket's file where there is no abstract namespace (not Linux). */
export const LOCK_SOCKET_FILE = 'mongod.sock';

/** Lock files held (or being taken) by this process: a second open in-process must fail. */
const heldHere = new Set<string>();

export interface DirLock {
  readonly file: string;
  release(): void;
}

export async function acquireLock(dir: string): Promise<DirLock> {
  const file = path.resolve(dir, LOCK_FILE);
  if (heldHere.has(file))
    throw new Error(
      `data dir ${dir} is locked by pid ${process.pid} (this process already has it open)`,
    );
  heldHere.add(file);
  try {
    const holder = readHolder(file);
    if (holder && holder.host !== os.hostname()) {
      throw new Error(
        `data dir ${dir} is locked by pid ${holder.pid} on host ${holder.host}; its liveness cannot be checked ` +
          `from ${os.hostname()}. Delete ${file} if that process is gone.`,
      );
    }
    const server = await bindLockSocket(dir, file);
    const content = `${process.pid}\n${os.hostname()}\n`;
    try {
      writeAtomically(file, content); // replaces a file left by a dead holder
    } catch (err) {
      server.close();
      throw err;
    }
    return { file, release: () => release(file, content, server) };
  } catch (err) {
    heldHere.delete(file);
    throw err;
  }
}

/** Whether a live process holds `dir` (its lock socket answers). */
export function lockHolderAlive(dir: string): Promise<boolean> {
  let address: string;
  try {
    address = lockAddress(dir);
  } catch {
    return Promise.resolve(false); // no such dir
  }
  return probe(address).then((holder) => holder !== null);
}

/** The socket address for `dir`: stable across the paths that reach the dir (dev + inode). */
export function lockAddress(dir: string): string {
  if (process.platform !== 'linux') return path.join(path.resolve(dir), LOCK_SOCKET_FILE);
  const st = fs.statSync(dir, { bigint: true });
  const id = createHash('sha256').update(`${st.dev}:${st.ino}`).digest('hex').slice(0, 40);
  return `\0eqi-embedded-mongo/${id}`;
}

async function bindLockSocket(dir: string, file: string): Promise<net.Server> {
  const address = lockAddress(dir);
  for (let attempt = 0; attempt < 20; attempt++) {
    // Anyone may connect (that is the liveness probe); the holder answers with its pid.
    const server = net.createServer((socket) => {
      socket.on('error', () => socket.destroy());
      socket.end(`${process.pid}\n`);
    });
    const err = await listen(server, address);
    if (!err) {
      server.unref(); // holding the lock must not keep the process alive
      return server;
    }
    if (err.code !== 'EADDRINUSE') throw err;
    const holder = await probe(address);
    if (holder !== null) {
      throw new Error(
        `data dir ${dir} is locked by pid ${holder} (${file}); is another embedded mongod running?`,
      );
    }
    if (address.startsWith('\0')) {
      // The holder is dying: a killed process shows as a zombie while its other threads still
      // tear down, and its socket closes with the last of them. Give it a moment.
      await new Promise((resolve) => setTimeout(resolve, 5 * (attempt + 1)));
      continue;
    }
    // A socket file outlives its holder: clear it. Two processes clearing it at the same instant
    // can both bind (Node has no conditional unlink); Linux, with no file, has no such window.
    try {
      fs.unlinkSync(address);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  throw new Error(`could not take ${file}: its lock socket stays bound but nobody answers on it`);
}

function listen(server: net.Server, address: string): Promise<NodeJS.ErrnoException | null> {
  return new Promise((resolve) => {
    server.once('error', resolve);
    server.listen({ path: address, exclusive: true }, () => {
      server.off('error', resolve);
      resolve(null);
    });
  });
}

/**
 * The holder's pid as it tells it ("unknown" if it is alive but its loop is too busy to answer),
 * or null if nobody holds `address` or its holder is dying (the connection closes unanswered).
 */
function probe(address: string): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = net.connect({ path: address });
    let text = '';
    let busy = false;
    const timer = setTimeout(() => {
      busy = true; // connected and not closed: alive
      socket.destroy();
    }, 2000);
    socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
    socket.on('error', () => undefined); // ECONNREFUSED, ENOENT, ECONNRESET: see 'close'
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(/^(\d+)\n/.exec(text)?.[1] ?? (busy ? 'unknown' : null));
    });
  });
}

/** Private temp file, fsync, rename into place: the lock file is never seen half-written. */
function writeAtomically(file: string, content: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeFileSync(fd, content);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
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

function release(file: string, content: string, server: net.Server): void {
  if (!heldHere.delete(file)) return;
  try {
    // The file first: once the socket closes, the next holder may write its own.
    if (fs.readFileSync(file, 'utf8') === content) fs.unlinkSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  } finally {
    server.close();
  }
}
