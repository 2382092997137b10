/**
 * Per-IP fixed-window rate limits kept in the database, so every app instance counts against
 * the same budget. Answers 429 with Retry-After when a window's budget is spent. Daily budgets
 * per key (a USCC, an e-mail domain) count calendar days in China time.
 */
import type { RequestHandler } from 'express';
import { mongo } from 'mongoose';
import { RateLimit } from '../models/rate-limit';
import { isDuplicateKey } from './db/errors';
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
    // The driver's collection: the same command mongoose sends, without its casting (hot path).
    const doc = await RateLimit.collection.findOneAndUpdate(
      { _id: key as never },
      { $inc: { n: 1 }, $setOnInsert: { expiresAt: new Date(windowStart + 2 * windowMs) } },
      { upsert: true, returnDocument: 'after' },
    );
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

/** One daily budget: `perDay` attempts per `key` (normalised by the caller) in `bucket`. */
export interface DailyBudget {
  bucket: string;
  key: string;
  perDay: number;
  /** The 429's detail when this budget is spent. */
  message: string;
}

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
  await spendDailyBudgets([{ bucket, key, perDay, message }], now);
}

/**
 * Spends several daily budgets in order, as if one after the other (a spent one stops the rest,
 * which are not counted), in one round trip: one ordered update whose statements count only
 * while under the limit (`n < perDay`), so a spent budget's statement finds no document and its
 * upsert fails on the existing `_id`. That failure is also what two first attempts of a day
 * racing to create the counter look like, so a failed statement is tried once more without the
 * upsert (the counter exists by then) before it counts as spent; only refusals pay for that.
 */
export async function spendDailyBudgets(
  budgets: readonly DailyBudget[],
  now = Date.now(),
): Promise<void> {
  const dayStart = Math.floor((now + CHINA_OFFSET_MS) / DAY_MS) * DAY_MS - CHINA_OFFSET_MS;
  const idOf = (b: DailyBudget) => `${b.bucket}:${b.key}:${dayStart}`;
  const refuse = (b: DailyBudget) =>
    tooManyRequests(Math.max(1, Math.ceil((dayStart + DAY_MS - now) / 1000)), b.message);
  let rest = budgets;
  while (rest.length) {
    const failedAt = await countUnderLimits(
      rest.map((b) => ({ id: idOf(b), limit: b.perDay })),
      new Date(dayStart + 2 * DAY_MS),
    );
    if (failedAt === null) return;
    const b = rest[failedAt];
    const counted = await RateLimit.collection.findOneAndUpdate(
      { _id: idOf(b) as never, n: { $lt: b.perDay } },
      { $inc: { n: 1 } },
    );
    if (!counted) throw refuse(b);
    rest = rest.slice(failedAt + 1);
  }
}

/**
 * One ordered update counting each counter that is under its limit (created at 1 if missing);
 * returns the index of the first statement that found its counter at the limit (or lost the
 * race to create it), after which nothing was counted, or null when all were counted.
 */
async function countUnderLimits(
  counters: ReadonlyArray<{ id: string; limit: number }>,
  expiresAt: Date,
): Promise<number | null> {
  try {
    await RateLimit.collection.bulkWrite(
      counters.map((c) => ({
        updateOne: {
          filter: { _id: c.id as never, n: { $lt: c.limit } },
          update: { $inc: { n: 1 }, $setOnInsert: { expiresAt } },
          upsert: true,
        },
      })),
      { ordered: true },
    );
    return null;
  } catch (e) {
    if (!(e instanceof mongo.MongoBulkWriteError)) throw e;
    const first = ([] as mongo.WriteError[]).concat(e.writeErrors)[0];
    if (!first || !isDuplicateKey(first)) throw e;
    return first.index;
  }
}
