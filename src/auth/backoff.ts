/**
 * Per-account back-off for password sign-in, on top of the per-IP limit: after FREE_ATTEMPTS
 * failures for one e-mail, each further attempt must wait twice as long as the one before (up to
 * MAX_WAIT_MS), from whatever address it comes. Unknown e-mails are counted the same way, so the
 * answer never tells whether an account exists.
 *
 * An attempt is counted *before* the password is checked, with a compare-and-set on the count,
 * so parallel guesses cannot slip through between the check and the count.
 */
import { createHash } from 'node:crypto';
import { LoginBackoff } from '../../models/login-backoff';
import { tooManyRequests } from '../errors';
import { isDuplicateKey } from '../db/errors';

export const FREE_ATTEMPTS = 5;
export const FIRST_WAIT_MS = 1000;
export const MAX_WAIT_MS = 15 * 60_000;
const FORGET_AFTER_MS = 24 * 60 * 60_000;
/** Compare-and-set retries when several attempts for one e-mail race. */
const MAX_RACES = 5;

export const TOO_MANY_SIGN_INS = 'Too many failed sign-ins for this account; wait and try again.';

/** How long the attempt after `failures` failures must wait. */
export function waitAfter(failures: number): number {
  if (failures < FREE_ATTEMPTS) return 0;
  return Math.min(MAX_WAIT_MS, FIRST_WAIT_MS * 2 ** Math.min(30, failures - FREE_ATTEMPTS));
}

const keyOf = (email: string) =>
  createHash('sha256')
    .update(`admin-login:${email.normalize('NFC').toLowerCase()}`)
    .digest('hex');

const refuse = (nextAttemptAt: Date, now: number) =>
  tooManyRequests((nextAttemptAt.getTime() - now) / 1000, TOO_MANY_SIGN_INS, {
    code: 'login-backoff',
  });

/**
 * Counts an attempt for this e-mail, or throws 429 (with Retry-After) while it must wait.
 * Call `clearAttempts` after a successful sign-in.
 */
export async function countAttempt(email: string): Promise<void> {
  const _id = keyOf(email);
  for (let race = 0; race < MAX_RACES; race++) {
    const now = Date.now();
    const doc = await LoginBackoff.findById(_id).lean();
    if (doc && doc.nextAttemptAt.getTime() > now) throw refuse(doc.nextAttemptAt, now);
    const failures = (doc?.failures ?? 0) + 1;
    const set = {
      failures,
      nextAttemptAt: new Date(now + waitAfter(failures)),
      expiresAt: new Date(now + FORGET_AFTER_MS),
    };
    if (!doc) {
      try {
        await LoginBackoff.create({ _id, ...set });
        return;
      } catch (e) {
        if (!isDuplicateKey(e)) throw e;
        continue; // another attempt created it first: read again
      }
    }
    const r = await LoginBackoff.updateOne({ _id, failures: doc.failures }, { $set: set });
    if (r.modifiedCount === 1) return;
  }
  // Lost every race: many attempts for one account at once is itself a reason to wait.
  throw tooManyRequests(FIRST_WAIT_MS / 1000, TOO_MANY_SIGN_INS, { code: 'login-backoff' });
}

export async function clearAttempts(email: string): Promise<void> {
  await LoginBackoff.deleteOne({ _id: keyOf(email) });
}
