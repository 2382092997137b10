/**
 * Per-IP fixed-window rate limits kept in the database, so every app instance counts against
 * the same budget. Answers 429 with Retry-After when a window's budget is spent. Daily budgets
 * per key (a USCC, an e-mail domain) count calendar days in China time.
 */
import type { RequestHandler } from 'express';
import { RateLimit } from '../models/rate-limit';
import { tooManyRequests } from './errors';

export interface RateLimitOptions {
  bucket: string;
  perMinute: number;
}

export function rateLimit({ bucket, perMinute }: RateLimitOptions): RequestHandler {
  const windowMs = 60_000;
  return async (req, res, next) => {
    const now = Date.now();
    const windowStart = now - (now % windowMs);
    const key = `${bucket}:${req.ip ?? 'unknown'}:${windowStart}`;
    const doc = await RateLimit.findOneAndUpdate(
      { _id: key },
      { $inc: { n: 1 }, $setOnInsert: { expiresAt: new Date(windowStart + 2 * windowMs) } },
      { upsert: true, returnDocument: 'after' },
    ).lean();
    const used = doc?.n ?? 1;
    res.set('RateLimit-Limit', String(perMinute));
    res.set('RateLimit-Remaining', String(Math.max(0, perMinute - used)));
    if (used > perMinute) {
      const retryAfter = Math.max(1, Math.ceil((windowStart + windowMs - now) / 1000));
      throw tooManyRequests(
        retryAfter,
        'Too many requests from this address; please wait a moment and try again.',
      );
    }
    next();
  };
}

const DAY_MS = 86_400_000;
const CHINA_OFFSET_MS = 8 * 3_600_000;

/**
 * Counts one attempt against `key`'s budget for the current China calendar day; when the budget
 * is spent, throws 429 with Retry-After until the next day. Callers pass normalised keys
 * (upper-case USCC, lower-case domain) so one company or domain has one budget.
 */
export async function spendDaily(
  bucket: string,
  key: string,
  perDay: number,
  message: string,
  now = Date.now(),
): Promise<void> {
  const dayStart = Math.floor((now + CHINA_OFFSET_MS) / DAY_MS) * DAY_MS - CHINA_OFFSET_MS;
  const doc = await RateLimit.findOneAndUpdate(
    { _id: `${bucket}:${key}:${dayStart}` },
    { $inc: { n: 1 }, $setOnInsert: { expiresAt: new Date(dayStart + 2 * DAY_MS) } },
    { upsert: true, returnDocument: 'after' },
  ).lean();
  if ((doc?.n ?? 1) > perDay)
    throw tooManyRequests(Math.max(1, Math.ceil((dayStart + DAY_MS - now) / 1000)), message);
}
