import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { CLI, startStoreProcess, type StoreProcess } from './helpers';

/**
 * Starts the standalone store under a parent that never waits for it (`sh` exec'ing into `sleep`),
 * so after SIGKILL the store stays a zombie: its pid still "exists" for kill(pid, 0), exactly as
 * under a supervisor that restarts before it has reaped the dead child.
 */
function startUnreapedStore(
  dir: string,
): Promise<{ parent: ChildProcessWithoutNullStreams; pid: number; uri: string }> {
  const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const store = `${q(process.execPath)} --import tsx ${q(CLI)} --data ${q(dir)} --port 0`;
  const parent = spawn('sh', ['-c', `${store} & echo "PID $!"; exec sleep 600`], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  parent.stderr.on('data', (c: Buffer) => (err += c.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`store did not start: ${err}`)), 15_000);
    parent.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const pid = /PID (\d+)/.exec(out)?.[1];
      const uri = /READY (\S+)/.exec(out)?.[1];
      if (pid && uri) {
        clearTimeout(timer);
        resolve({ parent, pid: Number(pid), uri });
      }
    });
  });
}

/** The state letter from /proc/<pid>/stat ('Z' = zombie), or null once the pid is gone. */
function procState(pid: number): string | null {
  try {
    return /\) (\S)/.exec(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'))?.[1] ?? null;
  } catch {
    return null;
  }
}

describe('embedded mongo: restart right after kill -9 (holder not yet reaped)', function () {
  this.timeout(60_000);
  let dir: string;
  let parent: ChildProcessWithoutNullStreams | undefined;
  let restarted: StoreProcess | undefined;

  before(function () {
    if (process.platform !== 'linux') this.skip(); // /proc tells a zombie apart
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'emb-zombie-'));
  });
  after(async () => {
    if (restarted && restarted.child.exitCode === null) {
      restarted.child.kill('SIGKILL');
      await restarted.exited;
    }
    parent?.kill('SIGKILL'); // the zombie is then reaped by init
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('when the store is SIGKILLed and restarted on its dir while the dead process is still a zombie, then it starts and every acknowledged write is there', async () => {
    const first = await startUnreapedStore(dir);
    parent = first.parent;
    const client = new MongoClient(first.uri, {
      serverSelectionTimeoutMS: 5000,
      retryWrites: false,
    });
    const acked: number[] = [];
    try {
      const docs = client.db('z').collection<{ _id: number; pad: string }>('docs');
      for (let i = 0; i < 200; i++) {
        await docs.insertOne({ _id: i, pad: 'x'.repeat(i) });
        acked.push(i);
      }
      process.kill(first.pid, 'SIGKILL');
      for (let t = 0; procState(first.pid) !== 'Z'; t++) {
        assert.ok(t < 200, `the killed store should be a zombie, state ${procState(first.pid)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    } finally {
      await client.close(true);
    }

    restarted = await startStoreProcess(['--data', dir, '--port', '0']);
    assert.equal(
      procState(first.pid),
      'Z',
      'the old holder was still unreaped while the store restarted',
    );
    const again = new MongoClient(restarted.uri, { serverSelectionTimeoutMS: 5000 });
    try {
      const ids = (
        await again
          .db('z')
          .collection('docs')
          .find({}, { sort: { _id: 1 } })
          .toArray()
      ).map((d) => d._id);
      assert.deepEqual(ids, acked);
    } finally {
      await again.close();
    }
  });
});
