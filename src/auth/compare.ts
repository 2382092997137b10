/** Constant-time comparison of secrets (CSRF tokens, bearer tokens, password hashes), in one place. */
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * Whether two secrets are equal, in time that depends on neither's content nor its length:
 * both are hashed to 32 bytes first, since timingSafeEqual itself refuses unequal lengths.
 */
export function sameSecret(given: string, expected: string): boolean {
  // The length check is only belt and braces: equal digests already imply equal text.
  return timingSafeEqual(digest(given), digest(expected)) && given.length === expected.length;
}

/** Whether two byte strings are equal, in time that depends only on their lengths (hash outputs). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
