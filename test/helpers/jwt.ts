/**
 * Session tokens for auth tests: valid ones, and every kind of bad one an attacker might send
 * (expired, tampered, `alg: none`, another key, wrong issuer/audience, another HMAC algorithm).
 */
import jwt from 'jsonwebtoken';
import { JWT_AUDIENCE, JWT_ISSUER, signSession, type SessionClaims } from '../../src/auth/jwt';

/** A secret the server does not know (long enough to be a plausible key). */
export const FOREIGN_SECRET = 'this-is-not-the-registry-secret-0123456789abcdef';

const b64url = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

interface MintOptions {
  secret: string;
  ttlSeconds?: number;
  issuer?: string;
  audience?: string;
  algorithm?: jwt.Algorithm;
  /** Seconds since the epoch; defaults to now. */
  issuedAt?: number;
}

/** Signs claims the way the server does, with every knob open so a test can get one wrong. */
export function mintToken(claims: SessionClaims, opts: MintOptions): string {
  const { sub, ...rest } = claims;
  const iat = opts.issuedAt ?? Math.floor(Date.now() / 1000);
  return jwt.sign({ ...rest, iat, exp: iat + (opts.ttlSeconds ?? 3600) }, opts.secret, {
    algorithm: opts.algorithm ?? 'HS256',
    subject: sub,
    issuer: opts.issuer ?? JWT_ISSUER,
    audience: opts.audience ?? JWT_AUDIENCE,
  });
}

/** What the server itself would issue. */
export function validToken(claims: SessionClaims, secret: string): string {
  return signSession(claims, secret);
}

/** Correctly signed, but it expired an hour ago. */
export function expiredToken(claims: SessionClaims, secret: string): string {
  return mintToken(claims, {
    secret,
    issuedAt: Math.floor(Date.now() / 1000) - 7200,
    ttlSeconds: 3600,
  });
}

/** A valid token whose payload was edited (e.g. role raised to admin); the signature is the original. */
export function tamperedToken(token: string, patch: Record<string, unknown>): string {
  const [header, payload, signature] = token.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
  return [header, b64url({ ...claims, ...patch }), signature].join('.');
}

/** An unsigned token (`alg: none`) with otherwise perfect claims. */
export function algNoneToken(claims: SessionClaims): string {
  const now = Math.floor(Date.now() / 1000);
  const { sub, ...rest } = claims;
  return [
    b64url({ alg: 'none', typ: 'JWT' }),
    b64url({ ...rest, sub, iss: JWT_ISSUER, aud: JWT_AUDIENCE, iat: now, exp: now + 3600 }),
    '',
  ].join('.');
}

/** Signed with a key the server does not hold. */
export function foreignKeyToken(claims: SessionClaims): string {
  return mintToken(claims, { secret: FOREIGN_SECRET });
}

/** Every bad token for these claims, named for test titles. All must be answered 401. */
export function badTokens(
  claims: SessionClaims,
  secret: string,
): Array<{ name: string; token: string }> {
  const good = validToken(claims, secret);
  return [
    { name: 'an expired token', token: expiredToken(claims, secret) },
    {
      name: 'a tampered token (payload edited, old signature)',
      token: tamperedToken(
        good,
        claims.role === 'company' ? { role: 'admin' } : { sub: '0'.repeat(24) },
      ),
    },
    { name: 'a token with a truncated signature', token: good.slice(0, -4) },
    { name: 'an alg:none token', token: algNoneToken(claims) },
    { name: 'a token signed with another key', token: foreignKeyToken(claims) },
    {
      name: 'a token with the wrong issuer',
      token: mintToken(claims, { secret, issuer: 'someone-else' }),
    },
    {
      name: 'a token with the wrong audience',
      token: mintToken(claims, { secret, audience: 'another-app' }),
    },
    {
      name: 'a token signed with HS512 (algorithm not pinned)',
      token: mintToken(claims, { secret, algorithm: 'HS512' }),
    },
    {
      name: 'a token whose subject is not an id',
      token: jwt.sign({ role: claims.role, company: claims.company }, secret, {
        algorithm: 'HS256',
        subject: 'admin',
        issuer: JWT_ISSUER,
        audience: JWT_AUDIENCE,
        expiresIn: 3600,
      }),
    },
    {
      name: 'a token with an unknown role',
      token: mintToken({ ...claims, role: 'superuser' as SessionClaims['role'] }, { secret }),
    },
    { name: 'garbage', token: 'not.a.jwt' },
  ];
}
