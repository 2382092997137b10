import { createHash } from 'node:crypto';
import pino, { type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config';

export type { Logger };

export interface LoggerOptions {
  level: LogLevel;
  /** Added to every line, e.g. the process role when several run side by side. */
  name?: string;
}

/**
 * Fields that may hold a credential, a single-use link or an address when an object is logged
 * (an error with its request, a config, a mail). The code logs none of them on purpose; this is
 * the net under that rule, at every level.
 */
const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-csrf-token"]',
  'req.body',
  'req.query',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'password',
  'token',
  'jwt',
  'link',
  'to',
  'email',
  'smtpUrl',
  '_csrf',
  '*.password',
  '*.passwordHash',
  '*.token',
  '*.jwt',
  '*.link',
  '*.to',
  '*.email',
  '*.jwtSecret',
  '*.smtpUrl',
  '*.p12Password',
  '*._csrf',
];

/** A short SHA-256 of an e-mail address: lets an operator match log lines to a recipient without the log holding the address. */
export function addressHash(email: string): string {
  return createHash('sha256').update(email.trim().toLowerCase()).digest('hex').slice(0, 16);
}

/** The text with anything that looks like an e-mail address replaced (for error messages from SMTP servers). */
export function redactAddresses(text: string): string {
  return text.replace(/[^\s<>()[\]"',;:]+@[^\s<>()[\]"',;:]+/g, '<address>');
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
      paths: REDACT_PATHS,
      censor: '[redacted]',
    },
  };
  return destination ? pino(opts, destination) : pino(opts);
}

/** A logger that writes nothing, for tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
