/**
 * CSRF protection for the site's anonymous forms (sign, confirm, sign-in): a signed double-submit
 * token. A random id lives in an httpOnly cookie; forms carry HMAC(secret, id). A cross-site form
 * cannot read either, and a cookie planted by a sibling domain is useless without the secret.
 * Signed-in forms use the session-bound token of src/auth/middleware (csrfTokenFor) instead.
 * File uploads (multipart) carry the same token as a form field read from the stream (upload.ts).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { sameSecret } from '../auth/compare';
import type { CookieOptions, Request, RequestHandler, Response } from 'express';
import { forbidden } from '../errors';

export const CSRF_COOKIE = 'eqi_csrf';
export const CSRF_FIELD = '_csrf';
const ID_PATTERN = /^[A-Za-z0-9_-]{43}$/; // 32 random bytes, base64url

export interface AnonymousCsrf {
  /** The token for a form on this response; sets the cookie when the visitor has none yet. */
  token(req: Request, res: Response): string;
  /** Rejects (403) an unsafe request whose form token does not match its cookie. */
  verify: RequestHandler;
  /** Whether `sent` is this visitor's token (for forms whose body is not urlencoded: uploads). */
  matches(req: Request, sent: unknown): boolean;
}

export function anonymousCsrf(options: { secret: string; secure: boolean }): AnonymousCsrf {
  const sign = (id: string) =>
    createHmac('sha256', options.secret).update(`site-csrf:${id}`).digest('base64url');
  const cookieOptions: CookieOptions = {
    httpOnly: true,
    sameSite: 'lax',
    secure: options.secure,
    path: '/',
  };
  const cookieId = (req: Request): string | undefined => {
    const v = (req.cookies as Record<string, unknown> | undefined)?.[CSRF_COOKIE];
    return typeof v === 'string' && ID_PATTERN.test(v) ? v : undefined;
  };
  // Plain functions: `verify` is handed to express detached from this object.
  const matches = (req: Request, sent: unknown): boolean => {
    const id = cookieId(req);
    return id !== undefined && typeof sent === 'string' && sameSecret(sent, sign(id));
  };
  return {
    token(req, res) {
      let id = cookieId(req) ?? (res.locals.csrfId as string | undefined);
      if (!id) {
        id = randomBytes(32).toString('base64url');
        res.locals.csrfId = id;
        res.cookie(CSRF_COOKIE, id, cookieOptions);
      }
      return sign(id);
    },
    matches,
    verify(req, _res, next) {
      if (!matches(req, (req.body as Record<string, unknown> | undefined)?.[CSRF_FIELD])) {
        throw forbidden('Missing or wrong CSRF token.', { code: 'csrf' });
      }
      next();
    },
  };
}
