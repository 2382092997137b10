import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openDurableStorage } from '../../../src/embedded-mongo/storage';
import { useTempDirs } from './helpers';

const holderScript = path.join(__dirname, 'fixtures', 'lock-holder.ts');

/** `node --import tsx` rather than `npx tsx`: the pid we see must be the process holding the lock. */
function startHolder(dir: string): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', holderScript, dir], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

function collect(stream: NodeJS.ReadableStream | null): { text: string } {
  const out = { text: '' };
  stream?.on('data', (chunk: Buffer) => (out.text += chunk.toString()));
  return out;
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('close', (code) => resolve(code)));
}

describe('mongod.lock', () => {
  const tempDir = useTempDirs();
  const lockFile = (dir: string): string => path.join(dir, 'mongod.lock');

  it('when the same process opens a dir twice, then the second open throws naming this pid, and works after close', async () => {
    const dir = tempDir();
    const first = openDurableStorage(dir);
    assert.equal(fs.readFileSync(lockFile(dir), 'utf8'), `${process.pid}\n${os.hostname()}\n`);
    assert.throws(
      () => openDurableStorage(dir),
      new RegExp(`locked by pid ${process.pid} \\(this process`),
    );
    await first.close();
    assert.equal(fs.existsSync(lockFile(dir)), false, 'close releases the lock');
    const second = openDurableStorage(dir);
    await second.close();
  });

  it('when another live process holds the dir, then open throws naming its pid; once it closes, open succeeds', async () => {
    const dir = tempDir();
    const child = startHolder(dir);
    const out = collect(child.stdout);
    const err = collect(child.stderr);
    const done = exited(child);
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', () => out.text.includes('ready\n') && resolve());
      void done.then(() => reject(new Error(`holder exited early: ${err.text}`)));
    });
    assert.throws(() => openDurableStorage(dir), new RegExp(`locked by pid ${child.pid} `));
    child.stdin!.end();
    assert.equal(await done, 0, err.text);
    const storage = openDurableStorage(dir);
    await storage.close();
  });

  it('when this process holds the dir, then a child process fails to open it and names our pid', async () => {
    const dir = tempDir();
    const storage = openDurableStorage(dir);
    const child = startHolder(dir);
    const err = collect(child.stderr);
    child.stdin!.end();
    assert.notEqual(await exited(child), 0);
    assert.match(err.text, new RegExp(`locked by pid ${process.pid} `));
    await storage.close();
  });

  it('when the lock file names a dead pid (kill -9 leftover), then open takes it over', async () => {
    const dir = tempDir();
    const dead = spawn(process.execPath, ['-e', '']);
    await exited(dead); // reaped: the pid no longer exists
    fs.writeFileSync(lockFile(dir), `${dead.pid}\n${os.hostname()}\n`);
    const storage = openDurableStorage(dir);
    assert.equal(fs.readFileSync(lockFile(dir), 'utf8'), `${process.pid}\n${os.hostname()}\n`);
    await storage.close();
    assert.equal(fs.existsSync(lockFile(dir)), false);
  });

  it('when the lock file names our own pid but this process does not hold it (restarted container), then open takes it over', async () => {
    const dir = tempDir();
    fs.writeFileSync(lockFile(dir), `${process.pid}\n${os.hostname()}\n`);
    const storage = openDurableStorage(dir);
    await storage.close();
  });

  it('when the lock file was written on another host, then open refuses since the pid cannot be checked', () => {
    const dir = tempDir();
    fs.writeFileSync(lockFile(dir), `12345\nsome-other-host\n`);
    assert.throws(() => openDurableStorage(dir), /locked by pid 12345 on host some-other-host/);
    assert.equal(
      fs.readFileSync(lockFile(dir), 'utf8'),
      `12345\nsome-other-host\n`,
      'left untouched',
    );
  });
});
