/**
 * The company area: sign in by an e-mailed link (the link's page asks for a button press, which
 * sets the session cookie), see the pledge and its history, download its certificate, withdraw
 * it, sign out. Signed-in forms carry the session-bound CSRF token that `authenticate` checks.
 */
import express, { type Request, type Response, type Router } from 'express';
import { SESSION_COOKIE } from '../../src/auth/middleware';
import { SESSION_TTL_SECONDS, type SessionClaims } from '../../src/auth/jwt';
import { redeemLoginLink, requestLoginLink, type LoginResult } from '../../src/auth/service';
import type { I18n } from '../../src/i18n';
import { withdrawPledge } from '../../src/pledges/lifecycle';
import { authorisedPledge } from '../../src/pledges/access';
import { ownPledge, type PledgeView } from '../../src/pledges/queries';
import { LoginLinkBody, ReasonBody } from '../../src/pledges/schemas';
import { rateLimit } from '../../src/rate-limit';
import {
  FormErrorBuilder,
  formText,
  noErrors,
  type FieldSpec,
  type FormErrors,
} from '../../src/site/forms';
import { cookieOptions } from '../../src/site/http';
import { firstQueryValue } from '../../src/site/view';
import { loginPage, postedToken, tokenFailurePage, tokenLandingPage, type SiteKit } from './kit';
import { sessionGate, signOutHandler } from './session';

const LOGIN_FIELDS: readonly FieldSpec[] = [
  { name: 'email', path: 'email', label: 'login.email.label' },
];
const WITHDRAW_FIELDS: readonly FieldSpec[] = [
  { name: 'reason', path: 'reason', label: 'me.withdraw.reason.label' },
];
const WITHDRAWABLE: readonly string[] = ['pending_confirmation', 'pending_review', 'active'];

/** Who changed the status, in words (ids are not shown). */
function actorKey(
  actor: string,
): 'actor.association' | 'actor.company' | 'actor.system' | 'actor.signatory' {
  if (actor.startsWith('admin:')) return 'actor.association';
  if (actor.startsWith('company:')) return 'actor.company';
  if (actor === 'public') return 'actor.signatory';
  return 'actor.system';
}

function pledgeView(p: PledgeView, l: I18n) {
  return {
    status: p.status,
    companyName: p.company.name,
    companyNameEn: p.company.nameEn,
    uscc: p.company.uscc,
    province: l.province(p.company.province),
    industry: l.industry(p.company.industry),
    signatory: p.signatory,
    initiativeVersion: p.initiative.version,
    sha256: p.initiative.sha256,
    sequence: p.sequence,
    foundingNumber: p.foundingNumber,
    activatedAt: p.activatedAt ? l.date(p.activatedAt) : null,
    signedAt: l.date(p.createdAt),
    closedReason: p.closedReason,
    history: [...p.history].reverse().map((h) => ({
      to: h.to,
      at: l.dateTime(h.at),
      isoAt: new Date(h.at).toISOString(),
      actor: l.t(actorKey(h.actor)),
      reason: h.reason ?? null,
    })),
    withdrawable: WITHDRAWABLE.includes(p.status),
  };
}

export function accountPages(kit: SiteKit): Router {
  const router = express.Router();
  const { config, mail } = kit;
  const secret = config.jwtSecret;
  const loginLimit = rateLimit({ bucket: 'login', perMinute: config.rateLimit.loginPerMin });
  // An expired session is sent to sign in again; a wrong CSRF token on a form is a 403.
  const gate = sessionGate({
    secret,
    secure: config.isProduction,
    role: 'company',
    loginPath: '/login',
  });
  const companySession = (req: Request, res: Response) => gate.current(req, res);

  const renderLogin = (
    req: Request,
    res: Response,
    email: string,
    errors: FormErrors,
    status = 200,
  ) => loginPage(kit, req, res, 'login', { email, errors, status }, { section: '/me' });

  router.get('/login', (req, res) => {
    renderLogin(req, res, '', noErrors());
  });

  router.post('/login', kit.csrf.verify, loginLimit, async (req, res) => {
    const input = { email: formText(req.body, 'email') };
    const parsed = LoginLinkBody.safeParse(input);
    if (!parsed.success) {
      const errors = new FormErrorBuilder(LOGIN_FIELDS, kit.l(res));
      errors.addZodIssues(parsed.error.issues, input);
      renderLogin(req, res, input.email, errors.build(), 400);
      return;
    }
    await requestLoginLink(parsed.data.email, { config, mail });
    res.redirect(303, '/login/sent');
  });

  router.get('/login/sent', (req, res) => {
    kit.page(req, res, 'login-sent', {}, { section: '/me' });
  });

  router.get('/login/verify', tokenLandingPage(kit, 'login-verify', '/me'));

  router.post('/login/verify', kit.csrf.verify, loginLimit, async (req, res) => {
    const token = postedToken(kit, req, res, 'login-verify', '/me');
    if (token === undefined) return;
    const company = formText(req.body, 'company') || undefined;
    let result: LoginResult;
    try {
      result = await redeemLoginLink(token, secret, company);
    } catch (e) {
      tokenFailurePage(kit, req, res, e, 'login-verify', '/me');
      return;
    }
    // A contact of several companies chooses one; the link stays valid until then.
    if ('choose' in result) {
      kit.page(
        req,
        res,
        'login-verify',
        { token, choose: result.choose, csrf: kit.csrf.token(req, res) },
        { policy: 'no-store', section: '/me' },
      );
      return;
    }
    const jwt = result.token;
    res.cookie(SESSION_COOKIE, jwt, cookieOptions(config.isProduction, SESSION_TTL_SECONDS * 1000));
    res.redirect(303, '/me');
  });

  const renderMe = async (
    req: Request,
    res: Response,
    claims: SessionClaims,
    reason: string,
    errors: FormErrors,
    status = 200,
  ) => {
    const granted = await authorisedPledge(claims);
    const [own, certificate] = await Promise.all([
      ownPledge(granted),
      kit.certificates.ofPledge(granted),
    ]);
    const pledge = own ? pledgeView(own, kit.l(res)) : null;
    kit.page(
      req,
      res,
      'me',
      {
        pledge,
        certificate,
        reason,
        errors,
        withdrawn: firstQueryValue(req, 'done') === 'withdrawn',
        csrf: gate.csrfToken(req),
      },
      { policy: 'no-store', status },
    );
  };

  router.get('/me', async (req, res) => {
    const claims = await companySession(req, res);
    if (claims) await renderMe(req, res, claims, '', noErrors());
  });

  // The certificate as a file of its own: a broken or expired session is sent to sign in again.
  router.get('/me/certificate.pdf', async (req, res) => {
    const claims = await companySession(req, res);
    if (!claims) return;
    const { serial, pdf } = await kit.certificates.pdfForPledge(await authorisedPledge(claims));
    res.set({
      'Content-Type': 'application/pdf',
      'Content-Disposition': `attachment; filename="${serial}.pdf"`,
      'Cache-Control': 'private, no-store',
    });
    res.send(pdf);
  });

  router.post('/me/withdraw', gate.csrf, async (req, res) => {
    const claims = await companySession(req, res);
    if (!claims) return;
    const granted = await authorisedPledge(claims);
    const input = { reason: formText(req.body, 'reason') };
    const parsed = ReasonBody.safeParse(input);
    if (!parsed.success) {
      const errors = new FormErrorBuilder(WITHDRAW_FIELDS, kit.l(res));
      errors.addZodIssues(parsed.error.issues, input);
      await renderMe(req, res, claims, input.reason, errors.build(), 400);
      return;
    }
    await withdrawPledge(String(granted._id), parsed.data.reason, claims.sub, kit.pledge);
    res.redirect(303, '/me?done=withdrawn');
  });

  router.post('/logout', signOutHandler({ secret, secure: config.isProduction, redirectTo: '/' }));

  return router;
}
