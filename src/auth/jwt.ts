/**
 * Session tokens: HS256 JWTs with the algorithm pinned, issuer and audience checked and a short
 * lifetime. Verification never trusts the token's own header to choose the algorithm.
 */
import jwt from 'jsonwebtoken';
import { z } from 'zod';
import { unauthorized } from '../errors';

export const JWT_ALGORITHM = 'HS256' as const;
export const JWT_ISSUER = 'eqi-registry';
export const JWT_AUDIENCE = 'eqi-registry';
export const SESSION_TTL_SECONDS = 60 * 60;

export const SessionClaims = z.object({
  sub: z.string().regex(/^[0-9a-f]{24}$/),
  role: z.enum(['company', 'admin']),
  company: z.string().regex(/^[0-9a-f]{24}$/).optional(),
});
export type SessionClaims = z.infer<typeof SessionClaims>;

export function signSession(claims: SessionClaims, secret: string, ttlSeconds = SESSION_TTL_SECONDS): string {
  const { sub, ...rest } = claims;
  return jwt.sign(rest, secret, {
    algorithm: JWT_ALGORITHM,
    subject: sub,
    issuer: JWT_ISSUER,
    audience: JWT_AUDIENCE,
    expiresIn: ttlSeconds,
  });
}

/** Returns the claims or throws a 401 AppError (expired, tampered, wrong key, `alg: none`, …). */
export function verifySession(token: string, secret: string): SessionClaims {
  let payload: unknown;
  try {
    payload = jwt.verify(token, secret, { algorithms: [JWT_ALGORITHM], issuer: JWT_ISSUER, audience: JWT_AUDIENCE });
  } catch (e) {
    const expired = e instanceof jwt.TokenExpiredError;
    throw unauthorized(expired ? 'Your session has expired; sign in again.' : 'The session token is invalid.', { code: expired ? 'token-expired' : 'invalid-token' });
  }
  const parsed = SessionClaims.safeParse(payload);
  if (!parsed.success) throw unauthorized('The session token is invalid.', { code: 'invalid-token' });
  return parsed.data;
}
