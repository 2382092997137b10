import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openDurableStorage } from '../../../src/embedded-mongo/storage';
import { useTempDirs } from './helpers';

const holderScript = path.join(__dirname, 'fixtures', 'lock-holder.ts');
const racerScript = path.join(__dirname, 'fixtures', 'lock-racer.ts');

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
    const first = await openDurableStorage(dir);
    assert.equal(fs.readFileSync(lockFile(dir), 'utf8'), `${process.pid}\n${os.hostname()}\n`);
    await assert.rejects(
      openDurableStorage(dir),
      new RegExp(`locked by pid ${process.pid} \\(this process`),
    );
    await first.close();
    assert.equal(fs.existsSync(lockFile(dir)), false, 'close releases the lock');
    const second = await openDurableStorage(dir);
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
    await assert.rejects(openDurableStorage(dir), new RegExp(`locked by pid ${child.pid} `));
    child.stdin!.end();
    assert.equal(await done, 0, err.text);
    const storage = await openDurableStorage(dir);
    await storage.close();
  });

  it('when this process holds the dir, then a child process fails to open it and names our pid', async () => {
    const dir = tempDir();
    const storage = await openDurableStorage(dir);
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
    const storage = await openDurableStorage(dir);
    assert.equal(fs.readFileSync(lockFile(dir), 'utf8'), `${process.pid}\n${os.hostname()}\n`);
    await storage.close();
    assert.equal(fs.existsSync(lockFile(dir)), false);
  });

  it('when the lock file names our own pid but this process does not hold it (restarted container), then open takes it over', async () => {
    const dir = tempDir();
    fs.writeFileSync(lockFile(dir), `${process.pid}\n${os.hostname()}\n`);
    const storage = await openDurableStorage(dir);
    await storage.close();
  });

  it('when the lock file was written on another host, then open refuses since the pid cannot be checked', async () => {
    const dir = tempDir();
    fs.writeFileSync(lockFile(dir), `12345\nsome-other-host\n`);
    await assert.rejects(openDurableStorage(dir), /locked by pid 12345 on host some-other-host/);
    assert.equal(
      fs.readFileSync(lockFile(dir), 'utf8'),
      `12345\nsome-other-host\n`,
      'left untouched',
    );
  });

  it('when the lock file names a process that was killed but not yet reaped (a zombie), then open takes it over', async function () {
    if (process.platform !== 'linux') this.skip(); // /proc tells a zombie apart
    const dir = tempDir();
    // `sh` execs into `sleep`, which never waits: the killed holder stays a zombie. (The holder
    // keeps our stdin, which sh would otherwise replace with /dev/null for a background job.)
    const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
    const holder = `${q(process.execPath)} --import tsx ${q(holderScript)} ${q(dir)}`;
    const parent = spawn('sh', ['-c', `exec 3<&0; ${holder} <&3 & echo "PID $!"; exec sleep 600`], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    try {
      const out = collect(parent.stdout);
      while (!out.text.includes('ready\n')) await new Promise((r) => setTimeout(r, 20));
      const pid = Number(/PID (\d+)/.exec(out.text)![1]);
      assert.equal(fs.readFileSync(lockFile(dir), 'utf8'), `${pid}\n${os.hostname()}\n`);
      process.kill(pid, 'SIGKILL');
      const state = (): string | undefined =>
        /\) (\S)/.exec(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'))?.[1];
      while (state() !== 'Z') await new Promise((r) => setTimeout(r, 10));
      const storage = await openDurableStorage(dir);
      assert.equal(state(), 'Z', 'the old holder is still unreaped');
      assert.equal(fs.readFileSync(lockFile(dir), 'utf8'), `${process.pid}\n${os.hostname()}\n`);
      await storage.close();
    } finally {
      parent.kill('SIGKILL');
      await exited(parent);
    }
  });

  it('when two processes race for a stale lock, then in every round exactly one wins and the other names the winner', async function () {
    this.timeout(60_000);
    const racers = [0, 1].map(() => {
      const child = spawn(process.execPath, ['--import', 'tsx', racerScript], {
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      return { child, out: collect(child.stdout), err: collect(child.stderr), done: exited(child) };
    });
    const waitFor = async (pred: () => boolean, what: string): Promise<void> => {
      for (let t = 0; !pred(); t++) {
        assert.ok(
          t < 1500,
          `timed out waiting for ${what}: ${racers.map((r) => r.out.text + r.err.text).join(' | ')}`,
        );
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    try {
      await waitFor(
        () => racers.every((r) => r.out.text.includes('ready\n')),
        'the racers to start',
      );
      const dead = spawn(process.execPath, ['-e', '']);
      await exited(dead);
      const rounds = 40;
      const wins = [0, 0];
      for (let round = 0; round < rounds; round++) {
        const dir = tempDir();
        fs.writeFileSync(lockFile(dir), `${dead.pid}\n${os.hostname()}\n`); // left by a kill -9
        for (const r of racers) r.child.stdin!.write(`go ${dir}\n`);
        const result = (i: number): string | undefined =>
          racers[i]!.out.text.split('\n').find(
            (l) => l.startsWith(`won ${dir}`) || l.startsWith(`lost ${dir} `),
          );
        await waitFor(() => result(0) !== undefined && result(1) !== undefined, `round ${round}`);
        const won = [0, 1].filter((i) => result(i)!.startsWith('won '));
        assert.equal(
          won.length,
          1,
          `round ${round}: exactly one winner, got ${[result(0), result(1)].join(' / ')}`,
        );
        const winner = racers[won[0]!]!.child.pid!;
        assert.match(
          result(1 - won[0]!)!,
          new RegExp(`locked by pid ${winner} `),
          `round ${round}`,
        );
        assert.equal(fs.readFileSync(lockFile(dir), 'utf8'), `${winner}\n${os.hostname()}\n`);
        wins[won[0]!]!++;
      }
      console.log(`      ${rounds} rounds, wins ${wins.join(' / ')}`);
    } finally {
      for (const r of racers) r.child.stdin!.end('close\n');
      await Promise.all(racers.map((r) => r.done));
    }
  });
});
