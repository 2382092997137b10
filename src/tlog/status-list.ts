/**
 * W3C Bitstring Status List v1.0 (https://www.w3.org/TR/vc-bitstring-status-list/), the list
 * itself (status size 1), not the credential around it.
 *
 * - A bitstring of at least 131,072 entries (16 KB), "BitstringStatusListCredential" encodedList.
 * - Index 0 is the left-most bit of the first byte: bit i is (byte[i >> 3] >> (7 − i mod 8)) & 1
 *   ("Bitstring Encoding").
 * - encodedList = Multibase base64url without padding (prefix "u") of the GZIP of the bitstring
 *   ("Bitstring Generation Algorithm"); decoding reverses it ("Bitstring Expansion Algorithm") and
 *   refuses lists below the minimum length, and caps the decompressed size (a zip bomb guard).
 * - statusListIndex is a base-10 string; indexes are handed out at random (crypto.randomInt), so a
 *   list's bits tell nothing about issue order.
 */
import { randomInt } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';

export const MIN_STATUS_LIST_LENGTH = 131_072;
/** Largest list we decode: 16 Mbit (2 MiB) — 128× the minimum. */
export const MAX_STATUS_LIST_LENGTH = 16 * 1024 * 1024;

export class StatusListError extends Error {
  override name = 'StatusListError';
}

export class StatusList {
  readonly bytes: Buffer;

  constructor(length: number = MIN_STATUS_LIST_LENGTH, bytes?: Uint8Array) {
    if (
      !Number.isInteger(length) ||
      length < MIN_STATUS_LIST_LENGTH ||
      length > MAX_STATUS_LIST_LENGTH ||
      length % 8 !== 0
    ) {
      throw new StatusListError(
        `a status list has a multiple of 8 entries, ${MIN_STATUS_LIST_LENGTH}–${MAX_STATUS_LIST_LENGTH}, got ${length}`,
      );
    }
    if (bytes && bytes.length !== length / 8)
      throw new StatusListError('bitstring length does not match');
    this.bytes = bytes ? Buffer.from(bytes) : Buffer.alloc(length / 8);
  }

  get length(): number {
    return this.bytes.length * 8;
  }

  private check(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.length)
      throw new StatusListError(`status list index ${index} is outside 0–${this.length - 1}`);
  }

  get(index: number): boolean {
    this.check(index);
    return ((this.bytes[index >> 3] >> (7 - (index & 7))) & 1) === 1;
  }

  set(index: number, value: boolean): void {
    this.check(index);
    const mask = 1 << (7 - (index & 7));
    if (value) this.bytes[index >> 3] |= mask;
    else this.bytes[index >> 3] &= ~mask;
  }

  /** encodedList: "u" + base64url(gzip(bitstring)), no padding. */
  encode(): string {
    return `u${gzipSync(this.bytes).toString('base64url')}`;
  }

  static decode(encodedList: string, minLength = MIN_STATUS_LIST_LENGTH): StatusList {
    if (typeof encodedList !== 'string' || !/^u[A-Za-z0-9_-]+$/.test(encodedList))
      throw new StatusListError('encodedList must be multibase base64url (prefix "u", no padding)');
    const gz = Buffer.from(encodedList.slice(1), 'base64url');
    if (gz.toString('base64url') !== encodedList.slice(1))
      throw new StatusListError('encodedList is not canonical base64url');
    let bytes: Buffer;
    try {
      bytes = gunzipSync(gz, { maxOutputLength: MAX_STATUS_LIST_LENGTH / 8 });
    } catch {
      throw new StatusListError('encodedList is not GZIP data of at most 2 MiB');
    }
    if (bytes.length * 8 < Math.max(minLength, MIN_STATUS_LIST_LENGTH))
      throw new StatusListError(
        `the status list has ${bytes.length * 8} entries, fewer than ${minLength}`,
      );
    return new StatusList(bytes.length * 8, bytes);
  }
}

/** statusListIndex as the spec writes it: base-10, no sign, no leading zeros. */
export function parseStatusListIndex(s: string): number {
  if (
    typeof s !== 'string' ||
    !/^(?:0|[1-9][0-9]{0,15})$/.test(s) ||
    !Number.isSafeInteger(Number(s))
  )
    throw new StatusListError(`not a status list index: ${JSON.stringify(s)}`);
  return Number(s);
}

/**
 * A random index below `length` for which `taken` is false: random draws first, then (if the list
 * is nearly full) a scan from a random start. Throws when no index is free. Uniqueness is the
 * caller's `taken` (e.g. a unique database index, re-tried on conflict).
 */
export function randomStatusIndex(
  length: number,
  taken: (index: number) => boolean,
  tries = 64,
): number {
  if (!Number.isSafeInteger(length) || length < 1)
    throw new StatusListError('list length must be positive');
  for (let i = 0; i < tries; i++) {
    const n = randomInt(0, length);
    if (!taken(n)) return n;
  }
  const start = randomInt(0, length);
  for (let k = 0; k < length; k++) {
    const n = (start + k) % length;
    if (!taken(n)) return n;
  }
  throw new StatusListError('the status list is full');
}
