// Ed25519 keys, JWK/JWKS export and compact JWS (RFC 7515) with alg EdDSA,
// using node:crypto only.
import crypto, { type KeyObject } from 'node:crypto';

export interface Ed25519Jwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  kid: string;
  alg: 'EdDSA';
  use: 'sig';
}

/** A JWKS as published at /.well-known/jwks.json. Entries are untrusted input. */
export interface Jwks {
  keys: unknown[];
}

export interface SigningKey {
  /** RFC 7638 JWK thumbprint (SHA-256, base64url) of the public key */
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicJwk: Ed25519Jwk;
  /** the same thumbprint as upper-case hex in groups of 4, for printing */
  fingerprint: string;
}

export type CredentialFailure =
  'malformed' | 'unsupported-alg' | 'unknown-key' | 'bad-signature' | 'bad-payload';

export class CredentialError extends Error {
  constructor(
    readonly reason: CredentialFailure,
    message: string,
  ) {
    super(message);
    this.name = 'CredentialError';
  }
}

const B64URL = /^[A-Za-z0-9_-]*$/;

function b64url(buf: Uint8Array | string): string {
  return Buffer.from(buf).toString('base64url');
}

/** RFC 7638: SHA-256 over the required members in lexicographic order. */
export function jwkThumbprint(jwk: { crv: string; kty: string; x: string }): string {
  const canonical = `{"crv":${JSON.stringify(jwk.crv)},"kty":${JSON.stringify(jwk.kty)},"x":${JSON.stringify(jwk.x)}}`;
  return crypto.createHash('sha256').update(canonical).digest('base64url');
}

/** Printable fingerprint: the JWK thumbprint (i.e. the kid) as hex, grouped by 4. */
export function keyFingerprint(key: { kid: string } | string): string {
  const kid = typeof key === 'string' ? key : key.kid;
  const hex = Buffer.from(kid, 'base64url').toString('hex').toUpperCase();
  return hex.replace(/(.{4})(?=.)/g, '$1 ');
}

export function publicJwkOf(publicKey: KeyObject): Ed25519Jwk {
  if (publicKey.asymmetricKeyType !== 'ed25519') throw new TypeError('signing key must be Ed25519');
  const j = publicKey.export({ format: 'jwk' }) as { x?: string };
  if (!j.x) throw new TypeError('cannot export Ed25519 public key');
  const kid = jwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x: j.x });
  return { kty: 'OKP', crv: 'Ed25519', x: j.x, kid, alg: 'EdDSA', use: 'sig' };
}

/** From a PKCS#8 PEM (as in SIGNING_KEY) or a private KeyObject. */
export function loadSigningKey(key: string | Buffer | KeyObject): SigningKey {
  const privateKey =
    typeof key === 'string' || Buffer.isBuffer(key) ? crypto.createPrivateKey(key) : key;
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') {
    throw new TypeError('SIGNING_KEY must be an Ed25519 private key (PKCS#8 PEM)');
  }
  const publicKey = crypto.createPublicKey(privateKey);
  const publicJwk = publicJwkOf(publicKey);
  return {
    kid: publicJwk.kid,
    privateKey,
    publicKey,
    publicJwk,
    fingerprint: keyFingerprint(publicJwk.kid),
  };
}

export function generateSigningKey(): SigningKey {
  return loadSigningKey(crypto.generateKeyPairSync('ed25519').privateKey);
}

export function exportSigningKeyPem(key: SigningKey): string {
  return key.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

/** JWKS for /.well-known/jwks.json; list retired keys too so old credentials verify. */
export function toJwks(keys: Array<SigningKey | Ed25519Jwk>): { keys: Ed25519Jwk[] } {
  return { keys: keys.map((k) => ('publicJwk' in k ? k.publicJwk : k)) };
}

export const JWS_TYP = 'vc+jwt';
export const JWKS_PATH = '/.well-known/jwks.json';
const THUMBPRINT = /^[A-Za-z0-9_-]{43}$/;

/** The resolvable kid of a registry key: `<PUBLIC_URL>/.well-known/jwks.json#<RFC 7638 thumbprint>`. */
export function keyUrl(publicUrl: string, thumbprint: string): string {
  let base = publicUrl;
  try {
    base = new URL(publicUrl).href; // the form iss has (credential.ts normalisePublicUrl)
  } catch {
    // not a URL: kept as given, and no kid will match it
  }
  return `${base.replace(/\/+$/, '')}${JWKS_PATH}#${thumbprint}`;
}

/**
 * The thumbprint a kid names: a bare thumbprint (credentials signed before kids were URLs) or
 * an http(s) URL of a JWKS (path ending /.well-known/jwks.json, no query) whose fragment is the
 * thumbprint; when the payload carries `iss`, the JWKS must be the issuer's. Undefined if neither.
 */
function thumbprintOfKid(kid: string, iss: unknown): string | undefined {
  if (THUMBPRINT.test(kid)) return kid;
  let url: URL;
  try {
    url = new URL(kid);
  } catch {
    return undefined;
  }
  const thumbprint = url.hash.slice(1);
  if (
    (url.protocol !== 'https:' && url.protocol !== 'http:') ||
    url.search ||
    url.username ||
    url.password
  )
    return undefined;
  if (!url.pathname.endsWith(JWKS_PATH) || !THUMBPRINT.test(thumbprint)) return undefined;
  if (typeof iss === 'string' && kid !== keyUrl(iss, thumbprint)) return undefined;
  return thumbprint;
}

/**
 * Compact JWS over the JSON payload, header {alg: EdDSA, typ: vc+jwt, cty: vc, kid}. With
 * `publicUrl` the kid is the key's URL (keyUrl), else the bare thumbprint.
 */
export function signCredential(
  payload: object,
  key: SigningKey,
  o: { publicUrl?: string } = {},
): string {
  const header = {
    alg: 'EdDSA',
    typ: JWS_TYP,
    cty: 'vc',
    kid: o.publicUrl ? keyUrl(o.publicUrl, key.kid) : key.kid,
  };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  const sig = crypto.sign(null, Buffer.from(input), key.privateKey);
  return `${input}.${b64url(sig)}`;
}

export interface DecodedJws {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  signingInput: string;
  signature: Buffer;
}

function parseJsonPart(part: string, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new CredentialError('malformed', `JWS ${what} is not valid base64url JSON`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v))
    throw new CredentialError('malformed', `JWS ${what} is not a JSON object`);
  return v as Record<string, unknown>;
}

/** Splits and decodes without verifying. */
export function decodeJws(jws: string): DecodedJws {
  if (typeof jws !== 'string' || jws.length > 64 * 1024)
    throw new CredentialError('malformed', 'JWS missing or too large');
  const parts = jws.trim().split('.');
  if (parts.length !== 3 || !parts.every((p) => B64URL.test(p))) {
    throw new CredentialError('malformed', 'not a compact JWS (three base64url parts)');
  }
  const [h, p, s] = parts as [string, string, string];
  return {
    header: parseJsonPart(h, 'header'),
    payload: parseJsonPart(p, 'payload'),
    signingInput: `${h}.${p}`,
    signature: Buffer.from(s, 'base64url'),
  };
}

const keyCache = new Map<string, KeyObject>();

function keyFromJwk(jwk: Record<string, unknown>): KeyObject {
  const x = jwk.x as string;
  let k = keyCache.get(x);
  if (!k) {
    k = crypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
    if (keyCache.size > 256) keyCache.clear();
    keyCache.set(x, k);
  }
  return k;
}

/**
 * Verifies a compact JWS against a JWKS and returns the payload. The kid is a key URL or a bare
 * thumbprint (see thumbprintOfKid); the JWKS entry is the one whose kid is that thumbprint.
 * Only alg EdDSA with an Ed25519 key whose thumbprint equals the kid is
 * accepted: 'none', HMAC and RSA algs are refused before any key lookup.
 * Throws CredentialError with a reason.
 */
export function verifyCredential(jws: string, jwks: Jwks): Record<string, unknown> {
  const d = decodeJws(jws);
  const { alg, kid, crit, b64 } = d.header;
  if (alg !== 'EdDSA')
    throw new CredentialError(
      'unsupported-alg',
      `JWS alg ${JSON.stringify(alg)} is not accepted (EdDSA only)`,
    );
  if (crit !== undefined || b64 !== undefined)
    throw new CredentialError('unsupported-alg', 'JWS critical/b64 headers are not supported');
  if (typeof kid !== 'string' || !kid)
    throw new CredentialError('unknown-key', 'JWS header has no kid');
  const thumbprint = thumbprintOfKid(kid, d.payload.iss);
  if (!thumbprint)
    throw new CredentialError(
      'unknown-key',
      `kid ${JSON.stringify(kid.slice(0, 200))} is neither a key thumbprint nor the issuer's key URL (<issuer>${JWKS_PATH}#<thumbprint>)`,
    );
  const keys = jwks && Array.isArray(jwks.keys) ? jwks.keys : [];
  const jwk = keys.find(
    (k): k is Record<string, unknown> =>
      !!k && typeof k === 'object' && (k as Record<string, unknown>).kid === thumbprint,
  );
  if (!jwk) throw new CredentialError('unknown-key', `no published key with kid ${thumbprint}`);
  if (
    jwk.kty !== 'OKP' ||
    jwk.crv !== 'Ed25519' ||
    typeof jwk.x !== 'string' ||
    !B64URL.test(jwk.x)
  ) {
    throw new CredentialError('unknown-key', `published key ${kid} is not an Ed25519 key`);
  }
  // A JWKS entry whose kid is not its own thumbprint is mislabelled: do not trust it.
  if (jwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x: jwk.x }) !== thumbprint) {
    throw new CredentialError(
      'unknown-key',
      `published key ${thumbprint} does not match its thumbprint`,
    );
  }
  let ok: boolean;
  try {
    ok =
      d.signature.length === 64 &&
      crypto.verify(null, Buffer.from(d.signingInput), keyFromJwk(jwk), d.signature);
  } catch {
    ok = false;
  }
  if (!ok)
    throw new CredentialError(
      'bad-signature',
      'JWS signature does not verify with the published key',
    );
  return d.payload;
}
