/**
 * Starts the registry: config → database (embedded store when MONGODB_URI is unset) → HTTP.
 * `startServer` is also used by tests and benchmarks to run the real server in-process;
 * signals and process exit are handled only when this file is run directly (`npm start`).
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createApp, type AppDeps } from './app';
import { ConfigError, loadConfig, type Config } from './config';
import { connectDatabase, disconnectDatabase } from './db';
import type * as EmbeddedMongo from './embedded-mongo';
import { createLogger, type Logger } from './logger';
import { prepareDatabase } from './migrations';
import { createRegistry, type Registry } from './registry';
import { currentRequestId } from './request-context';

export interface StartOptions {
  logger?: Logger;
  routes?: AppDeps['routes'];
  renderErrorPage?: AppDeps['renderErrorPage'];
  /** How long close() lets in-flight requests finish before cutting connections. */
  shutdownGraceMs?: number;
}

export interface RunningServer {
  /** Where this process listens, e.g. http://127.0.0.1:3000 (PUBLIC_URL may differ). */
  url: string;
  /** The database the app uses (the embedded store's when MONGODB_URI is unset). */
  mongodbUri: string;
  server: Server;
  /** Stops accepting, lets requests finish, disconnects, closes the embedded store. Idempotent. */
  close(): Promise<void>;
}

export async function startServer(
  config: Config,
  options: StartOptions = {},
): Promise<RunningServer> {
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  if (config.jwtSecretEphemeral) {
    logger.warn(
      'JWT_SECRET is not set: using a random per-process secret; sessions end on restart',
    );
  }

  let embedded: { uri: string; socketUri: string | null; close(): Promise<void> } | undefined;
  let mongodbUri = config.mongodbUri;
  if (mongodbUri === undefined) {
    const dataDir = path.join(config.dataDir, 'db');
    // Loaded only when used: a registry on MongoDB does not carry the store's engine in memory.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { startEmbeddedMongo } = require('./embedded-mongo') as typeof EmbeddedMongo;
    embedded = await startEmbeddedMongo({
      dataDir,
      log: (msg) => logger.info({ component: 'embedded-mongo' }, msg),
    });
    // Its Unix socket when it has one: every round trip costs the app and the store less CPU.
    mongodbUri = embedded.socketUri ?? embedded.uri;
    const message = `MONGODB_URI is not set: using the embedded store, data in ${dataDir}`;
    if (config.isProduction) {
      logger.warn(`${message}. Production should use MongoDB: set MONGODB_URI.`);
    } else {
      logger.info(`${message} (production should use MongoDB)`);
    }
  }

  let server: Server | undefined;
  let registry: Registry | undefined;
  try {
    await connectDatabase(mongodbUri, logger, { autoIndex: !config.isProduction });
    // Index builds are awaited migrations; production refuses to serve without invariant indexes.
    await prepareDatabase({
      migrateOnStart: config.migrateOnStart,
      isProduction: config.isProduction,
      logger,
    });
    registry = createRegistry(config, logger);
    await registry.start();
    const app = createApp({
      config,
      logger,
      routes: [...registry.routes, ...(options.routes ?? [])],
      renderErrorPage: options.renderErrorPage,
    });
    server = await listen(app, config.port);
  } catch (err) {
    // Leave nothing running behind a failed start (a held data-dir lock would block a retry).
    await registry?.stop().catch(() => undefined);
    await disconnectDatabase().catch(() => undefined);
    await embedded?.close().catch(() => undefined);
    throw err;
  }

  const httpServer = server;
  const runningRegistry = registry;
  const { port } = httpServer.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  logger.info({ url, publicUrl: config.publicUrl }, 'listening');

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await closeHttpServer(httpServer, options.shutdownGraceMs ?? 10_000);
      await runningRegistry.stop();
      await disconnectDatabase();
      await embedded?.close();
      logger.info('stopped');
    })());

  return { url, mongodbUri, server: httpServer, close };
}

function listen(app: ReturnType<typeof createApp>, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port);
    server.once('listening', () => resolve(server));
    server.once('error', reject);
  });
}

async function closeHttpServer(server: Server, graceMs: number): Promise<void> {
  // close() stops accepting and drops idle keep-alive sockets; busy ones get graceMs to finish.
  const closed = new Promise<void>((resolve, reject) =>
    server.close((err) => (err ? reject(err) : resolve())),
  );
  const timer = setTimeout(() => server.closeAllConnections(), graceMs);
  timer.unref();
  try {
    await closed;
  } finally {
    clearTimeout(timer);
  }
}

/** What escaped every handler: an `uncaughtException` or an `unhandledRejection`. */
export type ProcessFailure = 'uncaughtException' | 'unhandledRejection';

export interface FailurePolicyDeps {
  logger: Logger;
  /** The same clean stop as on SIGTERM (stop accepting, finish requests, close the store). */
  shutdown: () => Promise<void>;
  exit: (code: number) => void;
  /** The clean stop may take this long; then the process exits anyway. */
  deadlineMs?: number;
}

/**
 * The process-wide policy for errors that no request handler caught. Errors inside a request
 * (thrown, rejected or passed to next) never get here: the app's error handler answers 500 and
 * the process serves on. What does get here left the program in a state nobody planned for, so
 * it is logged (with the request it happened in, when known), the server stops cleanly and the
 * process exits with 1 for its supervisor to restart it. Later failures during that stop are
 * logged and change nothing.
 */
export function processFailureHandler(
  deps: FailurePolicyDeps,
): (kind: ProcessFailure, err: unknown) => void {
  let stopping = false;
  return (kind, err) => {
    const requestId = currentRequestId();
    deps.logger.fatal(
      { err, kind, ...(requestId ? { requestId } : {}) },
      kind === 'uncaughtException'
        ? 'uncaught exception: stopping'
        : 'unhandled promise rejection: stopping',
    );
    if (stopping) return;
    stopping = true;
    let exited = false;
    const exit = () => {
      if (exited) return;
      exited = true;
      clearTimeout(deadline);
      // pino writes stdout synchronously; flush covers a buffered destination.
      deps.logger.flush(() => deps.exit(1));
    };
    const deadline = setTimeout(() => {
      deps.logger.error(
        { deadlineMs: deps.deadlineMs ?? FAILURE_DEADLINE_MS },
        'clean stop took too long: exiting',
      );
      exit();
    }, deps.deadlineMs ?? FAILURE_DEADLINE_MS);
    deps.shutdown().then(exit, (e: unknown) => {
      deps.logger.error({ err: e }, 'clean stop failed');
      exit();
    });
  };
}

const FAILURE_DEADLINE_MS = 15_000;

/** Installs the policy on this process; returns a function that removes it again. */
export function installFailurePolicy(deps: FailurePolicyDeps): () => void {
  const handle = processFailureHandler(deps);
  const onException = (err: unknown) => handle('uncaughtException', err);
  const onRejection = (reason: unknown) => handle('unhandledRejection', reason);
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return () => {
    process.off('uncaughtException', onException);
    process.off('unhandledRejection', onRejection);
  };
}

/**
 * `npm start`: config from the environment, the failure policy, the server, and signals (SIGTERM
 * or SIGINT: a clean stop and exit 0; a second signal: exit 1 at once). `options` add to the
 * server as in startServer.
 */
export async function runServer(options: Omit<StartOptions, 'logger'> = {}): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    // Before the logger exists: a plain message a person can act on.
    process.stderr.write(`${err instanceof ConfigError ? err.message : String(err)}\n`);
    process.exit(1);
  }

  const logger = createLogger({ level: config.logLevel });
  let running: RunningServer | undefined;
  // Installed before the start, so a failure while starting also ends in a clean exit.
  installFailurePolicy({
    logger,
    shutdown: () => running?.close() ?? Promise.resolve(),
    exit: (code) => process.exit(code),
  });

  try {
    running = await startServer(config, { ...options, logger });
  } catch (err) {
    logger.fatal({ err }, 'could not start');
    process.exit(1);
  }
  const server = running;

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    logger.info({ signal }, 'shutting down');
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

if (require.main === module) {
  void runServer();
}
