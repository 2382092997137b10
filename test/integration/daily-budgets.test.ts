/**
 * Daily budgets spent several at a time in one round trip (src/rate-limit.ts spendDailyBudgets)
 * answer exactly as spending them one after the other did: the first spent budget refuses (its
 * message, 429 with Retry-After until the next China day) and the budgets after it are not
 * counted. Checked against that sequential model with fast-check, through the embedded store.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { CommandStartedEvent } from 'mongodb';
import mongoose from 'mongoose';
import { isAppError } from '../../src/errors';
import { spendDailyBudgets, type DailyBudget } from '../../src/rate-limit';
import { useEmbeddedMongo } from '../helpers/db';

/** The outcome of one attempt: null when admitted, else the refusing budget's message. */
async function attempt(budgets: DailyBudget[], now: number): Promise<string | null> {
  try {
    await spendDailyBudgets(budgets, now);
    return null;
  } catch (e) {
    if (!isAppError(e) || e.status !== 429) throw e;
    return e.detail ?? '';
  }
}

const keys = ['a', 'b', 'c'];
const limits: Record<string, number> = { a: 1, b: 2, c: 3 };
const budgetOf = (bucket: string, key: string): DailyBudget => ({
  bucket,
  key,
  perDay: limits[key],
  message: `${bucket}:${key} spent`,
});

describe('daily budgets spent together (one round trip)', () => {
  useEmbeddedMongo({ monitorCommands: true });
  let run = 0;

  it('when attempts spend random lists of budgets, then each is admitted or refused by the same budget as spending them one by one would', async function () {
    this.timeout(60_000);
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc
            .uniqueArray(fc.constantFrom(...keys), { minLength: 1, maxLength: 3 })
            .chain((ks) => fc.constant(ks.map((k) => budgetOf('code', k)))),
          { minLength: 1, maxLength: 12 },
        ),
        async (attempts) => {
          // A fresh day (buckets) per run, so runs do not share counters.
          const now = Date.UTC(2030, 0, 1) + ++run * 86_400_000;
          const used = new Map<string, number>();
          for (const budgets of attempts) {
            let expected: string | null = null;
            for (const b of budgets) {
              const n = used.get(b.key) ?? 0;
              if (n >= b.perDay) {
                expected = b.message;
                break;
              }
              used.set(b.key, n + 1);
            }
            assert.equal(await attempt(budgets, now), expected);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('when budgets are admitted, then they cost one database command; a refusal says when the China day ends', async () => {
    const seen: string[] = [];
    const listener = (e: CommandStartedEvent) => seen.push(e.commandName);
    const client = mongoose.connection.getClient();
    client.on('commandStarted', listener);
    // 2030-01-01 23:00 China time (15:00 UTC): the day ends in an hour.
    const now = Date.UTC(2030, 0, 1, 15);
    try {
      const two = [budgetOf('first-of-day', 'b'), budgetOf('first-of-day', 'c')];
      assert.equal(await attempt(two, now), null);
      assert.equal(await attempt(two, now), null);
      assert.deepEqual(seen, ['update', 'update']);
    } finally {
      client.off('commandStarted', listener);
    }
    try {
      await spendDailyBudgets([budgetOf('first-of-day', 'b')], now);
      assert.fail('a third attempt on a budget of 2 was admitted');
    } catch (e) {
      assert.ok(isAppError(e) && e.status === 429, String(e));
      assert.equal(e.retryAfter, 3600);
    }
  });

  it('when many first attempts of a day arrive at once, then exactly the budget is admitted', async () => {
    const now = Date.UTC(2031, 5, 1);
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, () =>
        attempt([budgetOf('burst', 'c'), budgetOf('burst-domain', 'c')], now),
      ),
    );
    assert.equal(outcomes.filter((o) => o === null).length, 3);
    assert.ok(outcomes.every((o) => o === null || o === 'burst:c spent'));
  });
});
