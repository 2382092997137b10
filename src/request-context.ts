/**
 * Which request the running code serves, for log lines written far from the request (an
 * exception that escaped to the process). Kept by AsyncLocalStorage, so it follows callbacks,
 * timers and promises started while handling the request.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { RequestHandler } from 'express';

const storage = new AsyncLocalStorage<{ requestId: string }>();

/** Runs the rest of the request's handling inside its context (after the body parsers, whose
 * stream callbacks would otherwise run in the socket's context instead). */
export const withRequestContext: RequestHandler = (_req, res, next) => {
  const requestId = res.locals.requestId;
  if (typeof requestId !== 'string') return next();
  storage.run({ requestId }, next);
};

/** The id of the request the caller is working for, if any. */
export function currentRequestId(): string | undefined {
  return storage.getStore()?.requestId;
}

/** Runs `fn` outside any request's context: background work a request wakes is not its work. */
export function outsideRequest<T>(fn: () => T): T {
  return storage.exit(fn);
}
