/**
 * Server-side errors carry MongoDB's numeric code and codeName, so drivers surface them as they
 * would from mongod. Codes that make drivers retry or reset the pool (91, 189, 10107, 11600,
 * 13435, "not master" wording) are deliberately never used for ordinary errors.
 */
export const Codes = {
  BadValue: 2,
  Unauthorized: 13,
  FailedToParse: 9,
  TypeMismatch: 14,
  IllegalOperation: 20,
  NamespaceNotFound: 26,
  PathNotViable: 28,
  CursorNotFound: 43,
  NamespaceExists: 48,
  CommandNotFound: 59,
  ImmutableField: 66,
  CannotCreateIndex: 67,
  IndexNotFound: 27,
  InvalidOptions: 72,
  InvalidNamespace: 73,
  IndexOptionsConflict: 85,
  IndexKeySpecsConflict: 86,
  CommandNotSupported: 115,
  NotImplemented: 238,
  InvalidBSON: 22,
  BSONObjectTooLarge: 10334,
  DuplicateKey: 11000,
  Location40324: 40324, // unrecognized pipeline stage
  Location40602: 40602, // a stage that must come first
  NoSuchTransaction: 251,
  QueryPlanKilled: 175,
  CursorInUse: 292,
} as const;

const NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(Codes).map(([k, v]) => [v, k]),
);

export class MongoServerError extends Error {
  readonly code: number;
  readonly extra: Record<string, unknown>;
  constructor(code: number, message: string, extra: Record<string, unknown> = {}) {
    super(message);
    this.code = code;
    this.extra = extra;
  }
  get codeName(): string {
    return NAMES[this.code] ?? 'UnknownError';
  }
  toReply(): Record<string, unknown> {
    return { ok: 0, errmsg: this.message, code: this.code, codeName: this.codeName, ...this.extra };
  }
}

/** A feature the embedded store refuses rather than answering with a silently different result. */
export function unsupported(feature: string): MongoServerError {
  return new MongoServerError(
    Codes.CommandNotSupported,
    `${feature} is not supported by the embedded store; use a real MongoDB server (MONGODB_URI) for it`,
  );
}

export function badValue(message: string): MongoServerError {
  return new MongoServerError(Codes.BadValue, message);
}

export class DuplicateKeyError extends MongoServerError {
  constructor(
    ns: string,
    indexName: string,
    keyPattern: Record<string, unknown>,
    keyValue: Record<string, unknown>,
  ) {
    super(
      Codes.DuplicateKey,
      `E11000 duplicate key error collection: ${ns} index: ${indexName} dup key: ${formatDupKey(keyValue)}`,
      { keyPattern, keyValue },
    );
  }
}

function formatDupKey(keyValue: Record<string, unknown>): string {
  const parts = Object.entries(keyValue).map(([k, v]) => `${k}: ${formatValue(v)}`);
  return `{ ${parts.join(', ')} }`;
}

function formatValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null || v === undefined) return 'null';
  if (v instanceof Date) return `new Date(${v.getTime()})`;
  const t = (v as { _bsontype?: string })._bsontype;
  if (t === 'ObjectId') return `ObjectId('${String(v)}')`;
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}
