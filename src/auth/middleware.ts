/**
 * Who is calling: a Bearer token (API clients) or the site's httpOnly session cookie. Cookie
 * sessions must also send a CSRF token on unsafe methods; bearer tokens cannot be sent by a
 * forged cross-site form, so they need none.
 */
import { createHmac } from 'node:crypto';
import { sameSecret } from './compare';
import type { RequestHandler } from 'express';
import { forbidden, unauthorized } from '../errors';
import { isActiveAdmin } from '../admin/accounts';
import { cookieFromHeader } from '../http/cookies';
import type { Session, SessionClaims } from './jwt';
import { liveSession } from './sessions';

export const SESSION_COOKIE = 'eqi_session';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function csrfTokenFor(sessionToken: string, secret: string): string {
  return createHmac('sha256', secret).update(`csrf:${sessionToken}`).digest('base64url');
}

/**
 * Sets `res.locals.session` when the request carries a live session; rejects a present but bad,
 * expired or signed-out one.
 */
export function authenticate(secret: string): RequestHandler {
  return async (req, res, next) => {
    const auth = req.headers.authorization;
    if (auth !== undefined) {
      const m = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(auth);
      if (!m) throw unauthorized('Use "Authorization: Bearer <token>".', { code: 'invalid-token' });
      res.locals.session = await liveSession(m[1], secret);
      return next();
    }
    const cookie = cookieFromHeader(req.headers.cookie, SESSION_COOKIE);
    if (cookie) {
      const session = await liveSession(cookie, secret);
      if (!SAFE_METHODS.has(req.method)) {
        const sent = (req.get('x-csrf-token') ??
          (req.body as Record<string, unknown> | undefined)?._csrf) as unknown;
        if (typeof sent !== 'string' || !sameSecret(sent, csrfTokenFor(cookie, secret)))
          throw forbidden('Missing or wrong CSRF token.', { code: 'csrf' });
      }
      res.locals.session = session;
    }
    next();
  };
}

/**
 * Lets the request through only for this role. Admin sessions are also checked against the
 * account on every request, so disabling an admin takes effect at once, not when the token expires.
 */
export function requireRole(role: SessionClaims['role']): RequestHandler {
  return async (_req, res, next) => {
    const s = res.locals.session as SessionClaims | undefined;
    if (!s) throw unauthorized();
    if (s.role !== role)
      throw forbidden(
        role === 'admin'
          ? 'Only the association’s administrators may do this.'
          : 'Only a signed-in company may do this.',
      );
    if (role === 'admin' && !(await isActiveAdmin(s.sub)))
      throw unauthorized('This administrator account is disabled or no longer exists.', {
        code: 'account-disabled',
      });
    next();
  };
}

export function sessionOf(res: { locals: Record<string, unknown> }): Session {
  const s = res.locals.session as Session | undefined;
  if (!s) throw unauthorized();
  return s;
}
