/**
 * Signed-in pages (company area and console) share one httpOnly session cookie. A gate checks
 * the cookie for its role before a page renders, and checks the session-bound CSRF token
 * (src/auth/middleware `authenticate`) before a form changes anything. An expired session is
 * not an error: the visitor is sent to sign in again. Signing out revokes the session itself,
 * not just the cookie: a copy of the token is refused from then on.
 */
import type { Request, RequestHandler, Response } from 'express';
import { isActiveAdmin } from '../../src/admin/accounts';
import { authenticate, csrfTokenFor, SESSION_COOKIE } from '../../src/auth/middleware';
import type { Session, SessionClaims } from '../../src/auth/jwt';
import { endSession, liveSession } from '../../src/auth/sessions';
import { forbidden, isAppError } from '../../src/errors';
import { sameSecret } from '../../src/auth/compare';
import { formText } from '../../src/site/forms';
import { cookieOptions } from '../../src/site/http';

export function sessionCookie(req: Request): string | undefined {
  const v = (req.cookies as Record<string, unknown> | undefined)?.[SESSION_COOKIE];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export interface SessionGate {
  /** The session for this role, or undefined after redirecting to the sign-in page. */
  current(req: Request, res: Response): Promise<Session | undefined>;
  /** Middleware for unsafe requests: a missing or wrong CSRF token is a 403. */
  csrf: RequestHandler;
  /** The CSRF token the page's forms carry (only call with a current session). */
  csrfToken(req: Request): string;
  clear(res: Response): void;
}

export function sessionGate(opts: {
  secret: string;
  secure: boolean;
  role: SessionClaims['role'];
  loginPath: string;
}): SessionGate {
  const clear = (res: Response) => res.clearCookie(SESSION_COOKIE, cookieOptions(opts.secure));
  // 'ended': signed out elsewhere (another tab, the API); the cookie goes, no notice is needed.
  const toLogin = (res: Response, why?: 'expired' | 'disabled' | 'ended'): undefined => {
    if (why) clear(res);
    res.redirect(303, why && why !== 'ended' ? `${opts.loginPath}?${why}=1` : opts.loginPath);
    return undefined;
  };
  const ended = (e: unknown) => isAppError(e) && e.code === 'session-ended';
  return {
    clear,
    async current(req, res) {
      const cookie = sessionCookie(req);
      if (!cookie) return toLogin(res);
      let claims: Session;
      try {
        claims = await liveSession(cookie, opts.secret);
      } catch (e) {
        if (!isAppError(e) || e.status !== 401) throw e;
        return toLogin(res, ended(e) ? 'ended' : 'expired');
      }
      // Signed in with the other role (a company contact opening the console): sign in anew.
      if (claims.role !== opts.role) return toLogin(res);
      if (claims.role === 'admin' && !(await isActiveAdmin(claims.sub)))
        return toLogin(res, 'disabled');
      if (opts.role === 'company' && !claims.company) return toLogin(res);
      return claims;
    },
    async csrf(req, res, next) {
      try {
        await authenticate(opts.secret)(req, res, next);
      } catch (e) {
        if (isAppError(e) && e.status === 401) return toLogin(res, ended(e) ? 'ended' : 'expired');
        throw e;
      }
    },
    csrfToken: (req) => csrfTokenFor(sessionCookie(req)!, opts.secret),
  };
}

/**
 * POST handler that signs out whoever the cookie belongs to (company or admin): a live session
 * needs its CSRF token (a forged form must not sign anyone out) and is revoked; an expired,
 * broken or already ended one is simply cleared.
 */
export function signOutHandler(opts: {
  secret: string;
  secure: boolean;
  redirectTo: string;
}): RequestHandler {
  return async (req, res) => {
    const cookie = sessionCookie(req);
    if (cookie) {
      let session: Session | undefined;
      try {
        session = await liveSession(cookie, opts.secret);
      } catch (e) {
        if (!isAppError(e) || e.status !== 401) throw e;
      }
      if (session) {
        if (!sameSecret(formText(req.body, '_csrf'), csrfTokenFor(cookie, opts.secret)))
          throw forbidden('Missing or wrong CSRF token.', { code: 'csrf' });
        await endSession(session);
      }
    }
    res.clearCookie(SESSION_COOKIE, cookieOptions(opts.secure));
    res.redirect(303, opts.redirectTo);
  };
}
