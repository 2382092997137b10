/** The app's one mongoose connection (the default one, which models register on). */
import mongoose from 'mongoose';
import type { Logger } from './logger';

export interface ConnectOptions {
  /** Overrides the database named in the URI (tests use a unique one each); default `eqi`. */
  dbName?: string;
  /**
   * Build schema indexes in the background on connect (default true). Production passes false:
   * the migrations build them, awaited, before the app serves (src/migrations).
   */
  autoIndex?: boolean;
}

/** Used when the URI names no database (mongoose would otherwise silently use `test`). */
export const DEFAULT_DB_NAME = 'eqi';

let listenersAttached = false;
let disconnecting = false;

function uriNamesDatabase(uri: string): boolean {
  return /^mongodb(?:\+srv)?:\/\/[^/]+\/[^?]+/.test(uri);
}

/** Connects the default mongoose connection; resolves once the server has answered. */
export async function connectDatabase(
  uri: string,
  logger: Logger,
  options: ConnectOptions = {},
): Promise<typeof mongoose> {
  if (!listenersAttached) {
    listenersAttached = true;
    // Attached once: they outlive reconnects, and tests connect many times per process.
    mongoose.connection.on('disconnected', () => {
      if (disconnecting) logger.info('database disconnected');
      else logger.warn('database connection lost');
    });
    mongoose.connection.on('reconnected', () => logger.info('database reconnected'));
    mongoose.connection.on('error', (err: unknown) => logger.error({ err }, 'database error'));
  }
  const m = await mongoose.connect(uri, {
    dbName: options.dbName ?? (uriNamesDatabase(uri) ? undefined : DEFAULT_DB_NAME),
    // Fail a bad URI within seconds at start-up instead of the driver's 30 s default.
    serverSelectionTimeoutMS: 10_000,
    connectTimeoutMS: 10_000,
    autoIndex: options.autoIndex ?? true,
    autoCreate: true,
  });
  logger.info({ db: m.connection.name, host: m.connection.host }, 'database connected');
  return m;
}

export async function disconnectDatabase(): Promise<void> {
  disconnecting = true;
  try {
    await mongoose.disconnect();
  } finally {
    disconnecting = false;
  }
}

export type PingResult =
  | { ok: true; latencyMs: number }
  /** `reason` is safe to show to anyone; `error` (the driver's) is for the log only. */
  | { ok: false; reason: string; error?: unknown };

/** Readiness: connected, and an admin `ping` answers within `timeoutMs`. Never throws. */
export async function pingDatabase(timeoutMs = 1000): Promise<PingResult> {
  const conn = mongoose.connection;
  if (conn.readyState !== mongoose.ConnectionStates.connected || !conn.db) {
    return { ok: false, reason: 'database not connected' };
  }
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<PingResult>((resolve) => {
    timer = setTimeout(
      () => resolve({ ok: false, reason: `database did not answer within ${timeoutMs} ms` }),
      timeoutMs,
    );
  });
  const ping = conn.db
    .admin()
    .command({ ping: 1 })
    .then(
      (): PingResult => ({ ok: true, latencyMs: Math.round(performance.now() - started) }),
      (error: unknown): PingResult => ({ ok: false, reason: 'database ping failed', error }),
    );
  try {
    return await Promise.race([ping, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
