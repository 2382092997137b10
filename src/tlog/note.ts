/**
 * C2SP signed-note (https://c2sp.org/signed-note) with Ed25519 signatures (type 0x01), after
 * golang.org/x/mod/sumdb/note.
 *
 * - A note is text ending in "\n", a blank line, then lines "— <key name> <base64(key ID ‖ sig)>\n"
 *   (U+2014, space). Valid UTF-8, no control characters but newline ("Format").
 * - Key names are non-empty, without Unicode spaces or "+"; key ID = SHA-256(name ‖ 0x0A ‖ 0x01 ‖
 *   32-byte public key)[:4], big-endian ("Signatures", "Ed25519 signatures").
 * - Verifier key: "<name>+<8 lowercase hex key ID>+<base64(0x01 ‖ public key)>" ("Verifier keys");
 *   signer key, as Go's note package: "PRIVATE+KEY+<name>+<key ID>+<base64(0x01 ‖ 32-byte seed)>".
 * - Opening a note ignores signatures of unknown keys (name and ID must both match), fails if a
 *   known key's signature does not verify, and fails if no known key signed.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';

const ED25519 = 0x01;
const SIG_PREFIX = '\u2014 ';
/** Go's limit; the spec asks verifiers to accept at least 16. */
export const MAX_SIGNATURES = 100;
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');

export class NoteError extends Error {
  override name = 'NoteError';
  constructor(
    readonly code: 'malformed' | 'unverified' | 'invalid-signature' | 'bad-key',
    message: string,
  ) {
    super(message);
  }
}

export interface NoteSigner {
  readonly name: string;
  readonly keyId: number;
  sign(message: Buffer): Buffer;
}

export interface NoteVerifier {
  readonly name: string;
  readonly keyId: number;
  verify(message: Buffer, signature: Buffer): boolean;
}

export interface NoteSignature {
  name: string;
  keyId: number;
  /** base64(key ID ‖ signature), as on the signature line. */
  base64: string;
}

export interface OpenedNote {
  text: string;
  /** Signatures by known keys, all verified. */
  verified: NoteSignature[];
  /** Signatures by keys not given (ignored, as the spec requires). */
  unverified: NoteSignature[];
}

const hex8 = (id: number): string => id.toString(16).padStart(8, '0');

/** Strict standard base64 (RFC 4648 §4): padded, canonical trailing bits; null if not. */
export function decodeBase64Strict(s: string): Buffer | null {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s)) return null;
  const b = Buffer.from(s, 'base64');
  return b.toString('base64') === s ? b : null;
}

/** Unicode White_Space (as Go's unicode.IsSpace) or "+", and well-formed UTF-16. */
export function isValidKeyName(name: string): boolean {
  return (
    typeof name === 'string' &&
    name.length > 0 &&
    !/[\p{White_Space}+]/u.test(name) &&
    isWellFormed(name)
  );
}

function isWellFormed(s: string): boolean {
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
}

/** No control characters but newline, well-formed: the note rules, for text and whole notes. */
export function isNoteSafe(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 && c !== 0x0a) return false;
  }
  return isWellFormed(s);
}

export function ed25519KeyId(name: string, publicKey: Uint8Array): number {
  if (publicKey.length !== 32) throw new NoteError('bad-key', 'an Ed25519 public key is 32 bytes');
  const h = createHash('sha256')
    .update(name, 'utf8')
    .update(Buffer.from([0x0a, ED25519]))
    .update(publicKey)
    .digest();
  return h.readUInt32BE(0);
}

export function ed25519PublicKeyBytes(key: KeyObject): Buffer {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  if (pub.asymmetricKeyType !== 'ed25519') throw new NoteError('bad-key', 'not an Ed25519 key');
  return pub.export({ format: 'der', type: 'spki' }).subarray(SPKI_ED25519.length);
}

function publicKeyObject(raw: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_ED25519, raw]), format: 'der', type: 'spki' });
}

export function ed25519Verifier(name: string, publicKey: Uint8Array | KeyObject): NoteVerifier {
  if (!isValidKeyName(name))
    throw new NoteError('bad-key', `not a valid key name: ${JSON.stringify(name)}`);
  const raw =
    publicKey instanceof Uint8Array ? Buffer.from(publicKey) : ed25519PublicKeyBytes(publicKey);
  const key = publicKeyObject(raw);
  return {
    name,
    keyId: ed25519KeyId(name, raw),
    verify: (msg, sig) => sig.length === 64 && verify(null, msg, key, sig),
  };
}

export function ed25519Signer(name: string, privateKey: KeyObject): NoteSigner {
  if (!isValidKeyName(name))
    throw new NoteError('bad-key', `not a valid key name: ${JSON.stringify(name)}`);
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519')
    throw new NoteError('bad-key', 'not an Ed25519 private key');
  return {
    name,
    keyId: ed25519KeyId(name, ed25519PublicKeyBytes(privateKey)),
    sign: (msg) => sign(null, msg, privateKey),
  };
}

/** "<name>+<hex key ID>+<base64(0x01 ‖ public key)>" */
export function formatVerifierKey(name: string, publicKey: Uint8Array | KeyObject): string {
  const v = ed25519Verifier(name, publicKey);
  const raw =
    publicKey instanceof Uint8Array ? Buffer.from(publicKey) : ed25519PublicKeyBytes(publicKey);
  return `${name}+${hex8(v.keyId)}+${Buffer.concat([Buffer.from([ED25519]), raw]).toString('base64')}`;
}

/** Splits "<name>+<hex>+<base64>" strictly (base64 may itself hold "+"). */
function splitKey(s: string): { name: string; keyId: number; key: Buffer } | null {
  const a = s.indexOf('+');
  const b = a < 0 ? -1 : s.indexOf('+', a + 1);
  if (b < 0) return null;
  const [name, id, key64] = [s.slice(0, a), s.slice(a + 1, b), s.slice(b + 1)];
  const key = decodeBase64Strict(key64);
  if (!isValidKeyName(name) || !/^[0-9a-f]{8}$/.test(id) || !key || key.length === 0) return null;
  return { name, keyId: parseInt(id, 16), key };
}

/** Parses a verifier key; throws NoteError('bad-key') for any other algorithm, length or key ID. */
export function parseVerifierKey(vkey: string): NoteVerifier & { publicKey: Buffer } {
  const k = typeof vkey === 'string' ? splitKey(vkey) : null;
  if (!k) throw new NoteError('bad-key', 'malformed verifier key');
  if (k.key[0] !== ED25519 || k.key.length !== 33)
    throw new NoteError('bad-key', 'not an Ed25519 verifier key');
  const publicKey = k.key.subarray(1);
  if (ed25519KeyId(k.name, publicKey) !== k.keyId)
    throw new NoteError('bad-key', 'the key ID does not match the key');
  return { ...ed25519Verifier(k.name, publicKey), publicKey };
}

/** "PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 ‖ seed)>", as golang.org/x/mod/sumdb/note. */
export function formatSignerKey(name: string, privateKey: KeyObject): string {
  const s = ed25519Signer(name, privateKey);
  const seed = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_ED25519.length);
  return `PRIVATE+KEY+${name}+${hex8(s.keyId)}+${Buffer.concat([Buffer.from([ED25519]), seed]).toString('base64')}`;
}

export function parseSignerKey(skey: string): NoteSigner & { privateKey: KeyObject } {
  const k =
    typeof skey === 'string' && skey.startsWith('PRIVATE+KEY+')
      ? splitKey(skey.slice('PRIVATE+KEY+'.length))
      : null;
  if (!k) throw new NoteError('bad-key', 'malformed signer key');
  if (k.key[0] !== ED25519 || k.key.length !== 33)
    throw new NoteError('bad-key', 'not an Ed25519 signer key');
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519, k.key.subarray(1)]),
    format: 'der',
    type: 'pkcs8',
  });
  const signer = ed25519Signer(k.name, privateKey);
  if (signer.keyId !== k.keyId) throw new NoteError('bad-key', 'the key ID does not match the key');
  return { ...signer, privateKey };
}

function checkText(text: string): void {
  if (typeof text !== 'string' || !text.endsWith('\n') || !isNoteSafe(text)) {
    throw new NoteError(
      'malformed',
      'note text must be UTF-8 without control characters (but newline) and end with a newline',
    );
  }
}

function signatureLine(name: string, keyId: number, sig: Buffer): string {
  const id = Buffer.alloc(4);
  id.writeUInt32BE(keyId);
  return `${SIG_PREFIX}${name} ${Buffer.concat([id, sig]).toString('base64')}\n`;
}

/** Signs `text` with every signer: text, blank line, one signature line each. */
export function signNote(text: string, signers: readonly NoteSigner[]): string {
  checkText(text);
  if (signers.length === 0)
    throw new NoteError('malformed', 'a signed note needs at least one signature');
  const msg = Buffer.from(text, 'utf8');
  const lines = signers.map((s) => {
    if (!isValidKeyName(s.name))
      throw new NoteError('bad-key', `not a valid key name: ${JSON.stringify(s.name)}`);
    return signatureLine(s.name, s.keyId, s.sign(msg));
  });
  return `${text}\n${lines.join('')}`;
}

/** Splits a note into text and signature lines, checking the format only (no keys). */
export function parseNote(note: string | Uint8Array): {
  text: string;
  signatures: (NoteSignature & { signature: Buffer })[];
} {
  const malformed = (why: string): never => {
    throw new NoteError('malformed', `malformed note: ${why}`);
  };
  let s: string;
  if (typeof note === 'string') s = note;
  else {
    try {
      s = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(note);
    } catch {
      return malformed('not UTF-8');
    }
  }
  if (!isNoteSafe(s)) malformed('control characters or invalid UTF-8');
  const split = s.lastIndexOf('\n\n');
  if (split < 0) malformed('no blank line before the signatures');
  const text = s.slice(0, split + 1);
  const sigs = s.slice(split + 2);
  if (sigs.length === 0 || !sigs.endsWith('\n'))
    malformed('signature lines must end with a newline');
  const lines = sigs.slice(0, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) malformed(`more than ${MAX_SIGNATURES} signatures`);
  const signatures = lines.map((line) => {
    if (!line.startsWith(SIG_PREFIX)) return malformed('a signature line must start with "— "');
    const rest = line.slice(SIG_PREFIX.length);
    const sp = rest.indexOf(' ');
    const name = sp < 0 ? '' : rest.slice(0, sp);
    const b64 = sp < 0 ? '' : rest.slice(sp + 1);
    const raw = decodeBase64Strict(b64);
    if (!isValidKeyName(name) || !raw || raw.length < 5) return malformed('bad signature line');
    return { name, keyId: raw.readUInt32BE(0), base64: b64, signature: raw.subarray(4) };
  });
  return { text, signatures };
}

/**
 * Verifies a note against known keys. Unknown (name, key ID) pairs are ignored; a known key's bad
 * signature fails the note; at least one known key must have signed.
 */
export function openNote(
  note: string | Uint8Array,
  verifiers: readonly NoteVerifier[],
): OpenedNote {
  const { text, signatures } = parseNote(note);
  const msg = Buffer.from(text, 'utf8');
  const verified: NoteSignature[] = [];
  const unverified: NoteSignature[] = [];
  const seen = new Set<string>();
  for (const sig of signatures) {
    const key = `${sig.name}+${hex8(sig.keyId)}`;
    const matches = verifiers.filter((v) => v.name === sig.name && v.keyId === sig.keyId);
    const entry = { name: sig.name, keyId: sig.keyId, base64: sig.base64 };
    if (matches.length === 0) {
      if (!unverified.some((u) => u.name === entry.name && u.base64 === entry.base64))
        unverified.push(entry);
      continue;
    }
    if (matches.length > 1) throw new NoteError('bad-key', `ambiguous key ${key}`);
    if (seen.has(key)) continue;
    seen.add(key);
    if (!matches[0].verify(msg, sig.signature))
      throw new NoteError('invalid-signature', `invalid signature for key ${key}`);
    verified.push(entry);
  }
  if (verified.length === 0) throw new NoteError('unverified', 'note has no verifiable signatures');
  return { text, verified, unverified };
}
