import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openDurableStorage } from '../../../src/embedded-mongo/storage';
import { replayInto } from './fixtures/journal-writer';
import { useTempDirs } from './helpers';

const writerScript = path.join(__dirname, 'fixtures', 'journal-writer.ts');

interface Round {
  start: number;
  acked: number[];
  signal: NodeJS.Signals | null;
  stderr: string;
  killedAfterMs: number;
}

/**
 * Runs the writer until it has recovered and started appending, then SIGKILLs it after a random
 * delay. Spawned as `node --import tsx` (what `npx tsx` does) so that the pid we kill is the
 * writer itself, not a launcher that would leave it running.
 */
function runAndKill(dir: string, maxDelayMs: number): Promise<Round> {
  const child = spawn(process.execPath, ['--import', 'tsx', writerScript, dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const killedAfterMs = Math.floor(Math.random() * maxDelayMs);
  let stdout = '';
  let stderr = '';
  let timer: NodeJS.Timeout | undefined;
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
    if (!timer && stdout.includes('\n'))
      timer = setTimeout(() => child.kill('SIGKILL'), killedAfterMs);
  });
  // 'close' fires after exit and after all stdout written before the kill has been read; the
  // process is reaped by then, so its pid no longer holds the lock.
  return new Promise((resolve) =>
    child.once('close', (_code, signal) => {
      clearTimeout(timer);
      const lines = stdout.split('\n').filter(Boolean);
      const start = Number(/^start (\d+)$/.exec(lines[0] ?? '')?.[1] ?? NaN);
      resolve({ start, acked: lines.slice(1).map(Number), signal, stderr, killedAfterMs });
    }),
  );
}

describe('crash safety (journal writer killed with SIGKILL)', function () {
  this.timeout(60_000);
  const tempDir = useTempDirs();

  it('when the writer is killed at random moments, then every acknowledged number is recovered and the numbers stay gapless', async () => {
    const dir = tempDir();
    let recovered = 0;
    let totalAcked = 0;
    let tornTails = 0;
    let midCompaction = 0;
    const started = Date.now();
    for (let round = 0; round < 12 || (round < 40 && totalAcked < 2000); round++) {
      const r = await runAndKill(dir, 250);
      const where = `round ${round}, killed ${r.killedAfterMs} ms after start`;
      assert.equal(r.signal, 'SIGKILL', `${where}: writer died on its own: ${r.stderr}`);
      assert.equal(r.start, recovered, `${where}: the writer recovered the same state as the test`);
      // Acknowledgements arrive in append order, so they are consecutive after the recovered state.
      r.acked.forEach((n, i) => assert.equal(n, r.start + 1 + i, `${where}: acks out of order`));

      if (fs.readdirSync(dir).some((f) => f.endsWith('.tmp'))) midCompaction++;
      const state = { last: 0 };
      const storage = await openDurableStorage(dir);
      const stats = storage.recover(replayInto(state)); // throws on any gap
      await storage.close();
      const lastAcked = r.acked.at(-1) ?? r.start;
      assert.ok(
        state.last >= lastAcked,
        `${where}: acknowledged ${lastAcked} but recovered only up to ${state.last}`,
      );
      if (stats.truncatedBytes > 0) tornTails++;
      recovered = state.last;
      totalAcked += r.acked.length;
    }
    assert.ok(
      totalAcked >= 2000,
      `the writer should have acknowledged plenty of records, got ${totalAcked}`,
    );
    const generation = Math.max(
      0,
      ...fs.readdirSync(dir).map((f) => Number(/^snapshot-(\d+)\.bson$/.exec(f)?.[1] ?? 0)),
    );
    assert.ok(generation > 0, 'compactions happened during the run');
    // Informational: how often a kill landed mid-write or mid-compaction.
    console.log(
      `      ${totalAcked} acks, ${recovered} recovered, generation ${generation}, ${tornTails} torn tails, ${midCompaction} kills mid-snapshot, ${Date.now() - started} ms`,
    );
  });
});
