import assert from 'node:assert/strict';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { runToEnd, spawnTs, startStoreProcess, uniqueDb, type StoreProcess } from './helpers';

const CLIENT = path.join(__dirname, 'fixtures', 'inc-client.ts');

/** Waits until the child prints `ready`. */
function whenReady(child: ReturnType<typeof spawnTs>): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (c: Buffer): void => {
      out += c.toString();
      if (out.includes('ready\n')) {
        child.stdout.off('data', onData);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.once('close', (code) => reject(new Error(`client exited (${code}) before it was ready`)));
  });
}

describe('embedded mongo: concurrency across client processes', function () {
  this.timeout(60_000);
  let store: StoreProcess;

  before(async () => {
    store = await startStoreProcess(['--memory', '--port', '0']);
  });
  after(async () => {
    store?.child.kill('SIGTERM');
    await store?.exited;
  });

  it('when two processes run 100 concurrent findOneAndUpdate($inc) upserts each on one counter, then they get exactly the values 1..200', async () => {
    const dbName = uniqueDb('conc');
    const clients = [
      spawnTs(CLIENT, [store.uri, dbName, '100']),
      spawnTs(CLIENT, [store.uri, dbName, '100']),
    ];
    const outputs = clients.map((c) => runToEnd(c, 45_000));
    await Promise.all(clients.map(whenReady));
    for (const c of clients) c.stdin.write('go\n');
    const results = (await Promise.all(outputs)).map(
      (out) => JSON.parse(out.trim().split('\n').at(-1)!) as { pid: number; values: number[] },
    );

    assert.notEqual(results[0].pid, results[1].pid, 'two separate processes');
    for (const r of results) assert.equal(r.values.length, 100);
    const all = results.flatMap((r) => r.values).sort((a, b) => a - b);
    assert.equal(new Set(all).size, 200, 'no value was handed out twice');
    assert.deepEqual(
      all,
      Array.from({ length: 200 }, (_, i) => i + 1),
    );

    const client = new MongoClient(store.uri);
    try {
      const counter = await client
        .db(dbName)
        .collection<{ _id: string; seq: number }>('counters')
        .find()
        .toArray();
      assert.deepEqual(
        counter,
        [{ _id: 'shared', seq: 200, __v: 0 }],
        'one counter document, upserted once',
      );
    } finally {
      await client.close();
    }
  });
});
