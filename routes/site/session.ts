/**
 * Signed-in pages (company area and console) share one httpOnly session cookie. A gate checks
 * the cookie for its role before a page renders, and checks the session-bound CSRF token
 * (src/auth/middleware `authenticate`) before a form changes anything. An expired session is
 * not an error: the visitor is sent to sign in again.
 */
import type { Request, RequestHandler, Response } from 'express';
import { isActiveAdmin } from '../../src/admin/accounts';
import { authenticate, csrfTokenFor, SESSION_COOKIE } from '../../src/auth/middleware';
import { verifySession, type SessionClaims } from '../../src/auth/jwt';
import { isAppError } from '../../src/errors';
import { cookieOptions } from '../../src/site/http';

export function sessionCookie(req: Request): string | undefined {
  const v = (req.cookies as Record<string, unknown> | undefined)?.[SESSION_COOKIE];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export interface SessionGate {
  /** The session for this role, or undefined after redirecting to the sign-in page. */
  current(req: Request, res: Response): Promise<SessionClaims | undefined>;
  /** Middleware for unsafe requests: a missing or wrong CSRF token is a 403. */
  csrf: RequestHandler;
  /** The CSRF token the page's forms carry (only call with a current session). */
  csrfToken(req: Request): string;
  clear(res: Response): void;
}

export function sessionGate(opts: { secret: string; secure: boolean; role: SessionClaims['role']; loginPath: string }): SessionGate {
  const clear = (res: Response) => res.clearCookie(SESSION_COOKIE, cookieOptions(opts.secure));
  const toLogin = (res: Response, why?: 'expired' | 'disabled'): undefined => {
    if (why) clear(res);
    res.redirect(303, why ? `${opts.loginPath}?${why}=1` : opts.loginPath);
    return undefined;
  };
  return {
    clear,
    async current(req, res) {
      const cookie = sessionCookie(req);
      if (!cookie) return toLogin(res);
      let claims: SessionClaims;
      try {
        claims = verifySession(cookie, opts.secret);
      } catch (e) {
        if (!isAppError(e) || e.status !== 401) throw e;
        return toLogin(res, 'expired');
      }
      // Signed in with the other role (a company contact opening the console): sign in anew.
      if (claims.role !== opts.role) return toLogin(res);
      if (claims.role === 'admin' && !(await isActiveAdmin(claims.sub))) return toLogin(res, 'disabled');
      if (opts.role === 'company' && !claims.company) return toLogin(res);
      return claims;
    },
    csrf(req, res, next) {
      try {
        authenticate(opts.secret)(req, res, next);
      } catch (e) {
        if (isAppError(e) && e.status === 401) return toLogin(res, 'expired');
        throw e;
      }
    },
    csrfToken: (req) => csrfTokenFor(sessionCookie(req)!, opts.secret),
  };
}
