/**
 * Log entries: one per public state change, encoded as RFC 8785 (JCS) canonical JSON in UTF-8.
 *
 * - canonicalize(): RFC 8785 §3.2 — no whitespace; strings as ECMAScript JSON.stringify (§3.2.2.2);
 *   numbers as ECMAScript Number::toString (§3.2.2.3, so -0 → "0", NaN/Infinity refused); object
 *   members sorted by the UTF-16 code units of their names (§3.2.3). Input must be I-JSON (RFC
 *   7493): lone surrogates are refused.
 * - The entry types and their fields are those of issue #13; strict objects, so no field beyond
 *   them — in particular no personal data (names, e-mail addresses, phone numbers) — can enter the
 *   log, which is public and permanent. `initiative.published` is about the association's text,
 *   not a company, so it carries no `uscc`.
 * - An encoded entry must fit an entry bundle (tiles.ts MAX_ENTRY_SIZE, 65,535 bytes).
 */
import { z } from 'zod';
import { parseSerial } from '../../certificates/serial';
import { validateUscc } from '../domain/uscc';
import { MAX_ENTRY_SIZE } from './tiles';

export class EntryError extends Error {
  override name = 'EntryError';
}

const MAX_DEPTH = 64;

function isWellFormed(s: string): boolean {
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
}

function jcsString(s: string): string {
  if (!isWellFormed(s)) throw new EntryError('JCS: a string holds a lone surrogate (not I-JSON)');
  return JSON.stringify(s);
}

/** RFC 8785 canonical JSON of a JSON value (plain objects, arrays, strings, finite numbers, booleans, null). */
export function canonicalize(value: unknown, depth = 0): string {
  if (depth > MAX_DEPTH) throw new EntryError('JCS: nested too deeply');
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new EntryError(`JCS: ${value} is not a JSON number`);
      return String(value);
    case 'string':
      return jcsString(value);
    case 'object': {
      if (Array.isArray(value)) {
        const items: string[] = [];
        for (let i = 0; i < value.length; i++) {
          if (!(i in value) || value[i] === undefined)
            throw new EntryError('JCS: arrays hold no holes or undefined');
          items.push(canonicalize(value[i], depth + 1));
        }
        return `[${items.join(',')}]`;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null)
        throw new EntryError('JCS: only plain objects');
      const obj = value as Record<string, unknown>;
      // Array.prototype.sort compares UTF-16 code units, which is what §3.2.3 asks for.
      const keys = Object.keys(obj).sort();
      return `{${keys
        .map((k) => {
          if (obj[k] === undefined)
            throw new EntryError(`JCS: member ${JSON.stringify(k)} is undefined`);
          return `${jcsString(k)}:${canonicalize(obj[k], depth + 1)}`;
        })
        .join(',')}}`;
    }
    default:
      throw new EntryError(`JCS: a ${typeof value} is not a JSON value`);
  }
}

// ---- Entry schema.

/** Exactly the form Date.prototype.toISOString gives (UTC, milliseconds), and a real instant. */
const isoTime = z
  .string()
  .refine(
    (s) =>
      /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(s) &&
      !Number.isNaN(Date.parse(s)) &&
      new Date(s).toISOString() === s,
    {
      message: 'Expected a UTC time as toISOString writes it, e.g. 2026-03-01T08:00:00.000Z.',
    },
  );
const uscc = z.string().refine((s) => {
  const r = validateUscc(s);
  return r.ok && r.uscc === s;
}, 'Expected a valid USCC in canonical form (18 characters, upper case).');
const serial = z.string().refine((s) => {
  const r = parseSerial(s);
  return r.ok && r.serial === s;
}, 'Expected a certificate serial in canonical form, e.g. EQI-2026-000123-F.');
const sha256Hex = z
  .string()
  .regex(/^[0-9a-f]{64}$/, 'Expected a SHA-256 as 64 lower-case hex digits.');
const initiative = z.strictObject({ version: z.number().int().min(1), sha256: sha256Hex });

/** Reason codes for a revocation: codes only, so no free text (and no personal data) is logged. */
export const REVOCATION_REASONS = [
  'breach-of-pledge',
  'false-information',
  'company-request',
  'issued-in-error',
  'other',
] as const;

const base = { v: z.literal(1), at: isoTime };
const certificate = { ...base, uscc, serial, credentialSha256: sha256Hex };

export const entrySchema = z.discriminatedUnion('type', [
  z.strictObject({
    ...base,
    type: z.literal('pledge.activated'),
    uscc,
    sequence: z.number().int().min(1),
    foundingNumber: z.number().int().min(1).max(100).nullable(),
    initiative,
  }),
  z.strictObject({ ...certificate, type: z.literal('certificate.issued') }),
  z.strictObject({
    ...certificate,
    type: z.literal('certificate.revoked'),
    reason: z.enum(REVOCATION_REASONS),
  }),
  z.strictObject({ ...certificate, type: z.literal('certificate.withdrawn') }),
  z.strictObject({ ...certificate, type: z.literal('certificate.superseded') }),
  z.strictObject({ ...base, type: z.literal('initiative.published'), initiative }),
]);

export type LogEntry = z.infer<typeof entrySchema>;
export type LogEntryType = LogEntry['type'];
export const ENTRY_TYPES = entrySchema.options.map(
  (o) => o.shape.type.value,
) as readonly LogEntryType[];

/** Validates an entry and returns its canonical bytes; throws EntryError. */
export function encodeEntry(entry: LogEntry): Buffer {
  const r = entrySchema.safeParse(entry);
  if (!r.success)
    throw new EntryError(
      `not a log entry: ${r.error.issues.map((i) => `${i.path.join('.') || '(entry)'}: ${i.message}`).join('; ')}`,
    );
  const bytes = Buffer.from(canonicalize(r.data), 'utf8');
  if (bytes.length > MAX_ENTRY_SIZE)
    throw new EntryError(
      `an entry is at most ${MAX_ENTRY_SIZE} bytes, this one is ${bytes.length}`,
    );
  return bytes;
}

/** Reads entry bytes back: UTF-8, JSON, the schema, and canonical form (anything else is refused). */
export function decodeEntry(bytes: Uint8Array): LogEntry {
  if (bytes.length > MAX_ENTRY_SIZE) throw new EntryError('entry too large');
  let text: string;
  let json: unknown;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
    json = JSON.parse(text);
  } catch {
    throw new EntryError('an entry is UTF-8 JSON');
  }
  const r = entrySchema.safeParse(json);
  if (!r.success)
    throw new EntryError(
      `not a log entry: ${r.error.issues.map((i) => `${i.path.join('.') || '(entry)'}: ${i.message}`).join('; ')}`,
    );
  if (canonicalize(json) !== text)
    throw new EntryError('the entry is not in RFC 8785 canonical form');
  return r.data;
}
