/**
 * An embedded, MongoDB-wire-compatible server for development, tests and small deployments.
 *
 * Self-contained (imports nothing from the app): `startEmbeddedMongo()` returns a URI any MongoDB
 * driver or mongoose can connect to. Production should use a real MongoDB (see README).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Catalog } from './engine/catalog';
import { WireServer } from './server';
import { openDurableStorage, openMemoryStorage, type DurableStorage } from './storage';
import { lockHolderAlive } from './storage/lock';
import { DECODE } from './wire';

/** Written into the data dir while a store serves it: `mongodb://host:port`. */
export const URI_FILE = 'embedded.uri';

/** The URI of a live store serving `dataDir`, if there is one (its lock socket answers). */
export async function runningStoreUri(dataDir: string): Promise<string | null> {
  let uri: string;
  try {
    uri = fs.readFileSync(path.join(dataDir, URI_FILE), 'utf8').trim();
  } catch {
    return null;
  }
  return (await lockHolderAlive(dataDir)) ? uri : null;
}

export interface EmbeddedMongoOptions {
  /** Directory for the journal and snapshots. Required unless `inMemory`. */
  dataDir?: string;
  /** Keep everything in memory (tests): nothing is written to disk. */
  inMemory?: boolean;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Idle server-side cursors are closed after this long (default 10 minutes, as mongod). */
  cursorTimeoutMs?: number;
  /** Journal size that triggers compaction into a snapshot (default 64 MiB). */
  compactAtBytes?: number;
  /** How often TTL indexes are swept (default 60 s, as mongod). */
  ttlIntervalMs?: number;
  log?: (msg: string) => void;
  /** Serve mongod's test commands (configureFailPoint's failCommand), as with enableTestCommands. */
  testCommands?: boolean;
  /**
   * Also listen on a Unix domain socket (default: yes, except on Windows), at this path or at
   * `<tmpdir>/eqi-mongodb-<port>.sock`; `false` for TCP only. Its URI is `socketUri`.
   */
  unixSocket?: boolean | string;
}

export interface EmbeddedMongo {
  /** `mongodb://host:port` (append a database name or pass `dbName` to your client). */
  uri: string;
  /** `mongodb://<percent-encoded socket path>`, when it listens on a Unix socket (cheaper per round trip). */
  socketUri: string | null;
  host: string;
  port: number;
  dataDir: string | null;
  /** Startup recovery figures (zeros in memory). */
  recovery: {
    snapshotRecords: number;
    journalRecords: number;
    truncatedBytes: number;
    millis: number;
  };
  /** The underlying server, for tests and benchmarks (cursor reaping, TTL sweeps). */
  server: WireServer;
  close(): Promise<void>;
}

export async function startEmbeddedMongo(opts: EmbeddedMongoOptions = {}): Promise<EmbeddedMongo> {
  const log = opts.log ?? (() => {});
  if (!opts.inMemory && !opts.dataDir)
    throw new Error('startEmbeddedMongo needs either dataDir or inMemory: true');
  const storage: DurableStorage = opts.inMemory
    ? openMemoryStorage()
    : await openDurableStorage(opts.dataDir!, { deserialize: DECODE });
  const catalog = new Catalog();
  let recovery;
  try {
    catalog.beginRecovery();
    recovery = storage.recover(
      (record, place) => catalog.applyRecord(record, place),
      (bytes, place) => catalog.applyRecordBytes(bytes, place),
    );
    catalog.endRecovery();
  } catch (e) {
    await storage.close();
    throw e;
  }
  if (recovery.truncatedBytes > 0)
    log(
      `embedded mongo: cut a torn journal tail of ${recovery.truncatedBytes} bytes (an unacknowledged write)`,
    );
  const server = new WireServer({
    storage,
    catalog,
    cursorTimeoutMs: opts.cursorTimeoutMs ?? 10 * 60_000,
    compactAtBytes: opts.compactAtBytes ?? 64 * 1024 * 1024,
    ttlIntervalMs: opts.ttlIntervalMs ?? 60_000,
    log,
    testCommands: opts.testCommands === true,
  });
  const host = opts.host ?? '127.0.0.1';
  let port: number;
  try {
    port = await server.listen(opts.port ?? 0, host);
  } catch (e) {
    await server.close();
    await storage.close();
    throw e;
  }
  let socketFile =
    opts.unixSocket === false || (opts.unixSocket === undefined && process.platform === 'win32')
      ? null
      : typeof opts.unixSocket === 'string'
        ? opts.unixSocket
        : path.join(os.tmpdir(), `eqi-mongodb-${port}.sock`);
  try {
    if (socketFile) await server.listenUnix(socketFile);
  } catch (e) {
    if (typeof opts.unixSocket !== 'string') {
      // The default place would not do (a long TMPDIR, a read-only one): TCP serves alone.
      log(`embedded mongo: no Unix socket at ${socketFile}: ${(e as Error).message}`);
      socketFile = null;
    } else {
      await server.close();
      await storage.close();
      throw e;
    }
  }
  const uriHost = host.includes(':') ? `[${host}]` : host;
  const uri = `mongodb://${uriHost}:${port}`;
  const socketUri = socketFile ? `mongodb://${encodeURIComponent(socketFile)}` : null;
  // Tools (CLI, seed) started while this store holds the data dir connect through this file.
  const uriFile = opts.inMemory ? null : path.join(opts.dataDir!, URI_FILE);
  if (uriFile) fs.writeFileSync(uriFile, uri + '\n');
  let closing: Promise<void> | null = null;
  return {
    uri,
    socketUri,
    host,
    port,
    dataDir: opts.inMemory ? null : opts.dataDir!,
    recovery,
    server,
    close: () =>
      (closing ??= (async () => {
        if (uriFile) fs.rmSync(uriFile, { force: true });
        await server.close();
        await storage.close();
      })()),
  };
}

export { MongoServerError } from './errors';
