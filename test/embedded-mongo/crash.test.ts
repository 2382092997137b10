import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { startStoreProcess, type StoreProcess } from './helpers';

interface WriterState {
  /** _ids whose insert the server acknowledged. */
  acked: Set<string>;
  /** Highest counter value the server acknowledged. */
  maxCounter: number;
}

/**
 * Inserts (and bumps a counter) with `lanes` concurrent loops until the server goes away;
 * `warm` resolves once `minAcks` inserts of this round are acknowledged.
 */
function startWriter(
  client: MongoClient,
  round: number,
  lanes: number,
  minAcks: number,
  state: WriterState,
): { warm: Promise<void>; done: Promise<void> } {
  const docs = client
    .db('crash')
    .collection<{ _id: string; round: number; lane: number; i: number; pad: string }>('docs');
  const counters = client.db('crash').collection<{ _id: string; n: number }>('counters');
  let acks = 0;
  let signalWarm: () => void = () => undefined;
  const warm = new Promise<void>((resolve) => (signalWarm = resolve));
  const lane = async (l: number): Promise<void> => {
    for (let i = 0; ; i++) {
      const _id = `r${round}-l${l}-${i}`;
      try {
        if (i % 5 === 4) {
          const r = await counters.findOneAndUpdate(
            { _id: 'c' },
            { $inc: { n: 1 } },
            { upsert: true, returnDocument: 'after' },
          );
          state.maxCounter = Math.max(state.maxCounter, r!.n);
        } else {
          await docs.insertOne({ _id, round, lane: l, i, pad: 'x'.repeat((i * 37) % 500) });
          state.acked.add(_id);
          if (++acks >= minAcks) signalWarm();
        }
      } catch {
        return; // the server was killed
      }
    }
  };
  return {
    warm,
    done: Promise.all(Array.from({ length: lanes }, (_, l) => lane(l))).then(() => undefined),
  };
}

async function verify(uri: string, state: WriterState, where: string): Promise<number> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5000 });
  try {
    const ids = new Set(
      (
        await client
          .db('crash')
          .collection('docs')
          .find({}, { projection: { _id: 1 } })
          .toArray()
      ).map((d) => String(d._id)),
    );
    const missing = [...state.acked].filter((id) => !ids.has(id));
    assert.deepEqual(
      missing.slice(0, 10),
      [],
      `${where}: ${missing.length} acknowledged inserts lost`,
    );
    const counter = await client
      .db('crash')
      .collection<{ _id: string; n: number }>('counters')
      .findOne({ _id: 'c' });
    assert.ok(
      (counter?.n ?? 0) >= state.maxCounter,
      `${where}: counter ${counter?.n} is behind the acknowledged ${state.maxCounter}`,
    );
    return ids.size;
  } finally {
    await client.close();
  }
}

describe('embedded mongo: crash safety of the whole server (SIGKILL under load)', function () {
  this.timeout(90_000);
  let dir: string;
  let store: StoreProcess | undefined;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'emb-crash-'));
  });
  after(async () => {
    if (store && store.child.exitCode === null && store.child.signalCode === null) {
      store.child.kill('SIGKILL');
      await store.exited;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('when the store is killed at random moments during inserts, then every acknowledged write is there after each restart', async () => {
    const state: WriterState = { acked: new Set(), maxCounter: 0 };
    const rounds = 10;
    const started = Date.now();
    for (let round = 0; round < rounds; round++) {
      const where = `round ${round}`;
      // Restarting on the same directory requires taking over the dead process's lock.
      store = await startStoreProcess(['--data', dir, '--port', '0']);
      await verify(store.uri, state, `${where} (after restart)`);
      const client = new MongoClient(store.uri, {
        serverSelectionTimeoutMS: 1000,
        retryWrites: false,
        maxPoolSize: 16,
      });
      await client.connect();
      const writer = startWriter(client, round, 16, 20, state);
      await Promise.race([writer.warm, writer.done]); // done: the store died before warming up (asserted below)
      const delay = Math.floor(Math.random() * 300);
      await new Promise((r) => setTimeout(r, delay));
      store.child.kill('SIGKILL');
      const { signal } = await store.exited;
      assert.equal(signal, 'SIGKILL', `${where}: the store died on its own: ${store.stderr()}`);
      await writer.done;
      await client.close(true);
    }
    store = await startStoreProcess(['--data', dir, '--port', '0']);
    const stored = await verify(store.uri, state, 'final restart');
    assert.ok(
      state.acked.size >= rounds * 20,
      `the writer got plenty acknowledged (${state.acked.size})`,
    );
    assert.ok(stored >= state.acked.size);
    store.child.kill('SIGTERM');
    const { code } = await store.exited;
    assert.equal(code, 0, 'a clean shutdown after the crashes');
    console.log(
      `      ${rounds} kills, ${state.acked.size} acknowledged inserts, ${stored} stored, counter ≥ ${state.maxCounter}, ${Date.now() - started} ms`,
    );
  });
});
