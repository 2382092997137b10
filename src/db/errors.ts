/**
 * Duplicate-key detection, in one place. MongoDB (and the embedded store) report a unique index
 * refusing a write as code 11000 (11001 from old servers) with the index's `keyPattern`; the
 * message text is for people and differs between servers and versions, so it is never parsed.
 */

const DUPLICATE_KEY_CODES: ReadonlySet<unknown> = new Set([11000, 11001]);

interface DuplicateKeyLike {
  code?: unknown;
  keyPattern?: unknown;
  /** Some servers and tests give only the refused values; their keys are the index's. */
  keyValue?: unknown;
  /** A bulk write (insertMany, bulkWrite) reports its failed statements here. */
  writeErrors?: { code?: unknown }[];
}

/** The index keys a duplicate-key error names ([] when unknown), or undefined when `e` is not one. */
export function duplicateKeyFields(e: unknown): string[] | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const err = e as DuplicateKeyLike;
  const first = Array.isArray(err.writeErrors) ? err.writeErrors[0] : undefined;
  if (!DUPLICATE_KEY_CODES.has(err.code) && !DUPLICATE_KEY_CODES.has(first?.code)) return undefined;
  // The driver keeps no key pattern for a bulk write's statements: the index is then unknown.
  const pattern = err.keyPattern ?? err.keyValue;
  return typeof pattern === 'object' && pattern !== null ? Object.keys(pattern) : [];
}

/**
 * True when `e` is a duplicate-key error; with `keyPattern`, only when the refusing index has
 * exactly those keys (in any order), so a clash on another unique index is not mistaken for it;
 * an error that names no index (a bulk write's) is then not taken for it either.
 */
export function isDuplicateKey(e: unknown, keyPattern?: Record<string, unknown>): boolean {
  const fields = duplicateKeyFields(e);
  if (fields === undefined) return false;
  if (keyPattern === undefined) return true;
  const wanted = Object.keys(keyPattern);
  return fields.length === wanted.length && wanted.every((k) => fields.includes(k));
}
