import pino, { type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config';

export type { Logger };

export interface LoggerOptions {
  level: LogLevel;
  /** Added to every line, e.g. the process role when several run side by side. */
  name?: string;
}

/**
 * JSON lines on stdout (or `destination`), at the configured level. Credentials that might end
 * up in a logged object are redacted so that debug logging is safe to turn on in production.
 */
export function createLogger(options: LoggerOptions, destination?: DestinationStream): Logger {
  const opts: pino.LoggerOptions = {
    level: options.level,
    name: options.name,
    base: { pid: process.pid },
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'res.headers["set-cookie"]',
        'password',
        'token',
        '*.password',
        '*.token',
        '*.jwtSecret',
        '*.p12Password',
      ],
      censor: '[redacted]',
    },
  };
  return destination ? pino(opts, destination) : pino(opts);
}

/** A logger that writes nothing, for tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
