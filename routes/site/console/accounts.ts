/** Administrator accounts: the list, adding one, disabling one (never oneself). */
import { Router, type Request, type Response } from 'express';
import { createAdmin, disableAdmin, listAdmins } from '../../../src/admin/accounts';
import { AdminCreateBody } from '../../../src/admin/schemas';
import type { SessionClaims } from '../../../src/auth/jwt';
import { isAppError, notFound } from '../../../src/errors';
import { ObjectIdParam } from '../../../src/pledges/schemas';
import { FormErrorBuilder, formText, noErrors, type FieldSpec } from '../../../src/site/forms';
import { firstQueryValue } from '../../../src/site/view';
import type { ConsoleContext } from './context';
import { formErrors } from './views';

const ACCOUNT_FIELDS: readonly FieldSpec[] = [
  { name: 'email', path: 'email', label: 'console.login.email' },
  { name: 'password', path: 'password', label: 'console.login.password' },
];

export function accountPages({ kit, gate, show }: ConsoleContext): Router {
  const router = Router();

  const renderAccounts = async (
    req: Request,
    res: Response,
    s: SessionClaims,
    values: Record<string, string> = {},
    errors = noErrors(),
    status = 200,
    notice?: string,
  ) => {
    const l = kit.l(res);
    const accounts = await listAdmins();
    show(
      req,
      res,
      'accounts',
      {
        accounts: accounts.map((a) => ({
          ...a,
          self: a.id === s.sub,
          lastLoginAt: a.lastLoginAt ? l.dateTime(a.lastLoginAt) : null,
          createdAt: l.dateTime(a.createdAt),
        })),
        values,
        errors,
        done: firstQueryValue(req, 'done') ?? null,
        notice: notice ?? null,
      },
      status,
    );
  };

  router.get('/admin/accounts', async (req, res) => {
    const s = await gate.current(req, res);
    if (s) await renderAccounts(req, res, s);
  });

  router.post('/admin/accounts', gate.csrf, async (req, res) => {
    const s = await gate.current(req, res);
    if (!s) return;
    const l = kit.l(res);
    const input = { email: formText(req.body, 'email'), password: formText(req.body, 'password') };
    const parsed = AdminCreateBody.safeParse(input);
    // The password is never shown back.
    if (!parsed.success)
      return renderAccounts(
        req,
        res,
        s,
        { email: input.email },
        formErrors(ACCOUNT_FIELDS, l, parsed.error.issues, input),
        400,
      );
    try {
      await createAdmin(parsed.data.email, parsed.data.password, `admin:${s.sub}`);
    } catch (e) {
      if (!isAppError(e) || e.status !== 409) throw e;
      return renderAccounts(
        req,
        res,
        s,
        { email: input.email },
        new FormErrorBuilder(ACCOUNT_FIELDS, l)
          .add('email', l.t('console.accounts.exists'))
          .build(),
        409,
      );
    }
    res.redirect(303, '/admin/accounts?done=created');
  });

  router.post('/admin/accounts/:id/disable', gate.csrf, async (req, res) => {
    const s = await gate.current(req, res);
    if (!s) return;
    const id = String(req.params.id ?? '');
    if (!ObjectIdParam.safeParse(id).success) throw notFound('No administrator with this id.');
    try {
      await disableAdmin({ id }, `admin:${s.sub}`);
    } catch (e) {
      if (!isAppError(e) || e.status !== 409) throw e;
      return renderAccounts(
        req,
        res,
        s,
        {},
        noErrors(),
        409,
        kit
          .l(res)
          .t(
            e.code === 'cannot-disable-self' ? 'console.accounts.self' : 'console.accounts.already',
          ),
      );
    }
    res.redirect(303, '/admin/accounts?done=disabled');
  });

  return router;
}
