/** Signing in to the console and out of it. */
import { Router, type Request, type Response } from 'express';
import { SESSION_TTL_SECONDS } from '../../../src/auth/jwt';
import { SESSION_COOKIE } from '../../../src/auth/middleware';
import { adminLogin } from '../../../src/auth/service';
import { isAppError } from '../../../src/errors';
import { AdminLoginBody } from '../../../src/pledges/schemas';
import { rateLimit } from '../../../src/rate-limit';
import { formText, noErrors, type FieldSpec, type FormErrors } from '../../../src/site/forms';
import { cookieOptions } from '../../../src/site/http';
import { firstQueryValue } from '../../../src/site/view';
import { loginPage } from '../kit';
import { signOutHandler } from '../session';
import type { ConsoleContext } from './context';
import { formErrors } from './views';

const LOGIN_FIELDS: readonly FieldSpec[] = [
  { name: 'email', path: 'email', label: 'console.login.email' },
  { name: 'password', path: 'password', label: 'console.login.password' },
];

export function signInPages({ kit }: ConsoleContext): Router {
  const router = Router();
  const { config } = kit;
  const secret = config.jwtSecret;
  const loginLimit = rateLimit({ bucket: 'login', perMinute: config.rateLimit.loginPerMin });

  /** The console's sign-in page; `failed` and `waitSeconds` say why the last try was refused. */
  const renderLogin = (
    req: Request,
    res: Response,
    form: { email: string; errors: FormErrors; status: number },
    refused: { failed?: boolean; waitSeconds?: number } = {},
  ) =>
    loginPage(kit, req, res, 'console/login', form, {
      context: {
        failed: refused.failed ?? false,
        waitSeconds: refused.waitSeconds,
        disabled: firstQueryValue(req, 'disabled') === '1',
        signedOut: firstQueryValue(req, 'signedOut') === '1',
      },
    });

  router.get('/admin/login', (req, res) =>
    renderLogin(req, res, { email: '', errors: noErrors(), status: 200 }),
  );

  router.post('/admin/login', kit.csrf.verify, loginLimit, async (req, res) => {
    const input = { email: formText(req.body, 'email'), password: formText(req.body, 'password') };
    const parsed = AdminLoginBody.safeParse(input);
    if (!parsed.success)
      return renderLogin(req, res, {
        email: input.email,
        errors: formErrors(LOGIN_FIELDS, kit.l(res), parsed.error.issues, input),
        status: 400,
      });
    let jwt: string;
    try {
      jwt = await adminLogin(parsed.data.email, parsed.data.password, secret);
    } catch (e) {
      // Too many failures for this e-mail: the same page, with how long to wait.
      if (isAppError(e) && e.status === 429 && e.retryAfter !== undefined) {
        res.set('Retry-After', String(e.retryAfter));
        return renderLogin(
          req,
          res,
          { email: input.email, errors: noErrors(), status: 429 },
          { waitSeconds: e.retryAfter },
        );
      }
      if (!isAppError(e) || e.status !== 401) throw e;
      // One message for a wrong e-mail and a wrong password: it must not tell which.
      return renderLogin(
        req,
        res,
        { email: input.email, errors: noErrors(), status: 401 },
        { failed: true },
      );
    }
    res.cookie(SESSION_COOKIE, jwt, cookieOptions(config.isProduction, SESSION_TTL_SECONDS * 1000));
    res.redirect(303, '/admin/pledges?status=pending_review');
  });

  router.post(
    '/admin/logout',
    signOutHandler({ secret, secure: config.isProduction, redirectTo: '/admin/login?signedOut=1' }),
  );

  router.get('/admin', (_req, res) => res.redirect(303, '/admin/pledges?status=pending_review'));
  return router;
}
