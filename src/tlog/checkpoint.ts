/**
 * C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint): the note text
 * "<origin>\n<tree size>\n<base64 root hash>\n" plus optional non-empty extension lines, signed as a
 * signed note (note.ts) whose key name is the origin.
 *
 * Parsing is strict ("Note text"): the origin is non-empty; the size is ASCII decimal without
 * leading zeros (0 only for the empty tree) and at most 2^53 − 1 here; the root is canonical
 * standard base64 of exactly 32 bytes; extension lines are non-empty. Our own origin follows the
 * SHOULD too (a scheme-less URL without spaces or "+"), since it is also the key name.
 */
import { HASH_SIZE } from './merkle';
import {
  decodeBase64Strict,
  isNoteSafe,
  isValidKeyName,
  openNote,
  signNote,
  type NoteSigner,
  type NoteVerifier,
} from './note';

export interface Checkpoint {
  origin: string;
  size: number;
  rootHash: Buffer;
  extensions?: string[];
}

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

/** The log's origin (and key name): PUBLIC_URL without scheme or trailing slashes, plus "/log". */
export function originFromPublicUrl(publicUrl: string): string {
  let url: URL;
  try {
    url = new URL(publicUrl);
  } catch {
    throw new CheckpointError(`not a URL: ${JSON.stringify(publicUrl)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new CheckpointError('PUBLIC_URL must be http(s)');
  if (url.search || url.hash || url.username || url.password)
    throw new CheckpointError('PUBLIC_URL must have no query, fragment or credentials');
  const origin = `${url.host}${url.pathname.replace(/\/+$/, '')}/log`;
  if (!isValidKeyName(origin))
    throw new CheckpointError(`origin ${JSON.stringify(origin)} is not a valid key name`);
  return origin;
}

/** The checkpoint's note text. */
export function formatCheckpoint(c: Checkpoint): string {
  if (typeof c.origin !== 'string' || c.origin.length === 0 || c.origin.includes('\n'))
    throw new CheckpointError('the origin must be one non-empty line');
  if (!Number.isSafeInteger(c.size) || c.size < 0)
    throw new CheckpointError(`tree size must be a non-negative safe integer, got ${c.size}`);
  if (!(c.rootHash instanceof Uint8Array) || c.rootHash.length !== HASH_SIZE)
    throw new CheckpointError('the root hash must be 32 bytes');
  for (const e of c.extensions ?? [])
    if (e.length === 0 || e.includes('\n'))
      throw new CheckpointError('extension lines must be non-empty single lines');
  const text =
    [
      c.origin,
      String(c.size),
      Buffer.from(c.rootHash).toString('base64'),
      ...(c.extensions ?? []),
    ].join('\n') + '\n';
  if (!isNoteSafe(text)) throw new CheckpointError('a checkpoint holds no control characters');
  return text;
}

/** Parses a checkpoint's note text (not the signatures: use openCheckpoint for a signed one). */
export function parseCheckpoint(text: string): Checkpoint {
  const bad = (why: string): never => {
    throw new CheckpointError(`malformed checkpoint: ${why}`);
  };
  if (typeof text !== 'string' || !text.endsWith('\n')) bad('the text must end with a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) bad('fewer than three lines');
  const [origin, sizeLine, rootLine, ...extensions] = lines;
  if (origin.length === 0) bad('empty origin');
  if (!/^(?:0|[1-9][0-9]*)$/.test(sizeLine))
    bad('the tree size must be decimal without leading zeros');
  const size = Number(sizeLine);
  if (!Number.isSafeInteger(size)) bad('tree size out of range');
  const rootHash = decodeBase64Strict(rootLine);
  if (!rootHash || rootHash.length !== HASH_SIZE) bad('the root hash must be base64 of 32 bytes');
  if (extensions.some((e) => e.length === 0)) bad('empty extension line');
  return extensions.length
    ? { origin, size, rootHash: rootHash!, extensions }
    : { origin, size, rootHash: rootHash! };
}

/** A signed checkpoint: the note, signed by the log key (whose name should be the origin). */
export function signCheckpoint(c: Checkpoint, signers: readonly NoteSigner[]): string {
  if (signers.length && signers[0].name !== c.origin)
    throw new CheckpointError("the log's key name must equal the origin");
  return signNote(formatCheckpoint(c), signers);
}

/**
 * Verifies a signed checkpoint with the log's verifier key and parses it; the origin must be the
 * expected one (defaults to the key name). Throws NoteError or CheckpointError.
 */
export function openCheckpoint(
  note: string | Uint8Array,
  verifier: NoteVerifier,
  expectedOrigin: string = verifier.name,
): Checkpoint & { note: string } {
  const opened = openNote(note, [verifier]);
  const c = parseCheckpoint(opened.text);
  if (c.origin !== expectedOrigin)
    throw new CheckpointError(
      `checkpoint origin ${JSON.stringify(c.origin)} is not ${JSON.stringify(expectedOrigin)}`,
    );
  return { ...c, note: typeof note === 'string' ? note : Buffer.from(note).toString('utf8') };
}
