/**
 * The security headers helmet sets, recorded once and set per response in one loop. helmet()
 * runs a chain of a dozen middleware functions for every request; with static options (ours)
 * each one only sets or removes a fixed header, so their outcome is the same every time and can
 * be captured at startup. Options holding a function (a CSP directive computed per request, e.g.
 * a nonce) make headers that depend on the request, and then helmet itself runs per request.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import helmet, { type HelmetOptions } from 'helmet';

function holdsFunction(value: unknown): boolean {
  if (typeof value === 'function') return true;
  if (value === null || typeof value !== 'object') return false;
  return Object.values(value).some(holdsFunction);
}

export function securityHeaders(options?: HelmetOptions): RequestHandler {
  const middleware = helmet(options);
  if (holdsFunction(options)) return middleware;
  const set: Array<[string, string]> = [];
  const removed: string[] = [];
  const recorded: { outcome: 'pending' | 'next' | 'other' } = { outcome: 'pending' };
  const recorder = {
    setHeader(name: string, value: unknown) {
      if (typeof value === 'string') set.push([name, value]);
      else recorded.outcome = 'other';
    },
    removeHeader(name: string) {
      removed.push(name);
    },
  };
  // A request with nothing on it: a middleware that reads the request throws or differs.
  try {
    middleware(
      {} as IncomingMessage,
      recorder as unknown as ServerResponse,
      (err?: unknown) =>
        void (recorded.outcome =
          err === undefined && recorded.outcome === 'pending' ? 'next' : 'other'),
    );
  } catch {
    recorded.outcome = 'other';
  }
  if (recorded.outcome !== 'next') return middleware;
  return (_req, res, next) => {
    for (const [name, value] of set) res.setHeader(name, value);
    for (const name of removed) res.removeHeader(name);
    next();
  };
}
