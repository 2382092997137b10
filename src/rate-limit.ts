/**
 * Per-IP fixed-window rate limits kept in the database, so every app instance counts against
 * the same budget. Answers 429 with Retry-After when a window's budget is spent.
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
      throw tooManyRequests(retryAfter, 'Too many requests from this address; please wait a moment and try again.');
    }
    next();
  };
}
