/**
 * A real database for tests: the embedded store in memory, one unique database per suite,
 * connected through the app's own mongoose connection (the one models register on).
 *
 * TEST_MONGODB_URI=mongodb://host:27017 (a standalone or a replica set, without a database
 * name) runs the same suites against that server instead: each suite still gets its own
 * database and drops it afterwards. Suites that test the embedded store itself, or start
 * several processes on a store of their own, keep using the embedded store.
 */
import { randomBytes } from 'node:crypto';
import mongoose from 'mongoose';
import { connectDatabase, disconnectDatabase } from '../../src/db';
import { startEmbeddedMongo } from '../../src/embedded-mongo';
import { silentLogger } from '../../src/logger';

export interface TestDatabase {
  /** The store's URI (without database name); valid once the suite's `before` has run. */
  readonly uri: string;
  /** The unique database this suite uses. */
  readonly dbName: string;
}

/**
 * Call inside a `describe`: starts an in-memory embedded store (or uses TEST_MONGODB_URI) before the suite, connects
 * mongoose to a fresh database, and drops it, disconnects and stops the store afterwards.
 */
/** `opts.monitorCommands`: the driver emits command events (tests that count round trips). */
/** `testCommands`: the store serves configureFailPoint (a MongoDB given by TEST_MONGODB_URI needs enableTestCommands). */
export function useEmbeddedMongo(
  opts: { monitorCommands?: boolean; testCommands?: boolean } = {},
): TestDatabase {
  let store: Awaited<ReturnType<typeof startEmbeddedMongo>> | undefined;
  const handle = { uri: '', dbName: '' };

  before(async function () {
    this.timeout(60_000);
    const external = process.env.TEST_MONGODB_URI?.trim();
    if (external) {
      handle.uri = external;
    } else {
      store = await startEmbeddedMongo({ inMemory: true, testCommands: opts.testCommands });
      handle.uri = store.uri;
    }
    handle.dbName = `test_${process.pid}_${randomBytes(4).toString('hex')}`;
    const uri = opts.monitorCommands
      ? `${handle.uri}${handle.uri.includes('?') ? '&' : '?'}monitorCommands=true`
      : handle.uri;
    await connectDatabase(uri, silentLogger(), { dbName: handle.dbName });
  });

  after(async function () {
    this.timeout(60_000);
    if (mongoose.connection.readyState === mongoose.ConnectionStates.connected) {
      await mongoose.connection.dropDatabase();
    }
    await disconnectDatabase();
    await store?.close();
    store = undefined;
  });

  return handle;
}
