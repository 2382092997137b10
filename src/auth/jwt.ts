/**
 * Session tokens: HS256 JWTs with the algorithm pinned, issuer and audience checked and a short
 * lifetime. Verification never trusts the token's own header to choose the algorithm. Each token
 * carries an id (`jti`) so that signing out can revoke it (src/auth/sessions.ts).
 */
import { randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { z } from 'zod';
import { unauthorized } from '../errors';

export const JWT_ALGORITHM = 'HS256' as const;
export const JWT_ISSUER = 'eqi-registry';
export const JWT_AUDIENCE = 'eqi-registry';
export const SESSION_TTL_SECONDS = 60 * 60;
/** Clock difference between instances tolerated when checking a token's lifetime. */
const MAX_CLOCK_SKEW_SECONDS = 60;

/** Who a session is for: what signing in decides. */
export const SessionClaims = z.object({
  sub: z.string().regex(/^[0-9a-f]{24}$/),
  role: z.enum(['company', 'admin']),
  company: z
    .string()
    .regex(/^[0-9a-f]{24}$/)
    .optional(),
  /** Company sessions: the pledge the session was granted for (src/pledges/access.ts). */
  pledge: z
    .string()
    .regex(/^[0-9a-f]{24}$/)
    .optional(),
});
export type SessionClaims = z.infer<typeof SessionClaims>;

/** A verified token: the claims plus its id and lifetime, which every token must carry. */
export const Session = SessionClaims.extend({
  jti: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/),
  iat: z.number().int(),
  exp: z.number().int(),
});
export type Session = z.infer<typeof Session>;

export function signSession(
  claims: SessionClaims,
  secret: string,
  ttlSeconds = SESSION_TTL_SECONDS,
): string {
  const { sub, ...rest } = claims;
  return jwt.sign(rest, secret, {
    algorithm: JWT_ALGORITHM,
    subject: sub,
    issuer: JWT_ISSUER,
    audience: JWT_AUDIENCE,
    expiresIn: ttlSeconds,
    jwtid: randomBytes(16).toString('base64url'),
  });
}

const invalid = () => unauthorized('The session token is invalid.', { code: 'invalid-token' });

/**
 * Returns the session or throws a 401 AppError (expired, tampered, wrong key, `alg: none`, no
 * `exp` or `jti`, a lifetime longer than we ever issue, …). Does not look at revocations.
 */
export function verifySession(token: string, secret: string): Session {
  let payload: unknown;
  try {
    payload = jwt.verify(token, secret, {
      algorithms: [JWT_ALGORITHM],
      issuer: JWT_ISSUER,
      audience: JWT_AUDIENCE,
    });
  } catch (e) {
    const expired = e instanceof jwt.TokenExpiredError;
    throw expired
      ? unauthorized('Your session has expired; sign in again.', { code: 'token-expired' })
      : invalid();
  }
  // jsonwebtoken accepts a token without `exp` as valid forever: we never issue one, so refuse it.
  const parsed = Session.safeParse(payload);
  if (!parsed.success) throw invalid();
  const { iat, exp } = parsed.data;
  const now = Math.floor(Date.now() / 1000);
  if (
    iat > now + MAX_CLOCK_SKEW_SECONDS ||
    exp - iat > SESSION_TTL_SECONDS + MAX_CLOCK_SKEW_SECONDS
  )
    throw invalid();
  return parsed.data;
}
