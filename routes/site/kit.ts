/** What every page router shares: config, mail, CSRF, rendering with the common page context. */
import type { Request, RequestHandler, Response } from 'express';
import type { SiteCertificates } from '../../src/certificates/site';
import type { VerifyLookup } from '../../src/certificates/verdict';
import type { Config } from '../../src/config';
import { i18n, type I18n, type Locale } from '../../src/i18n';
import type { MailQueue } from '../../src/mail/outbox';
import type { PledgeDeps } from '../../src/pledges/lifecycle';
import type { Assets } from '../../src/site/assets';
import type { AnonymousCsrf } from '../../src/site/csrf';
import { preparePage, sendHtml, type CachePolicy, type PreparedPage } from '../../src/site/http';
import { firstQueryValue, pageContext, type Renderer } from '../../src/site/view';
import { isAppError } from '../../src/errors';
import { TokenBody } from '../../src/pledges/schemas';
import { formText, type FormErrors } from '../../src/site/forms';

export interface SiteKit {
  config: Config;
  mail: MailQueue;
  /** What the pledge use cases need (with the same hooks the API passes: certificates follow). */
  pledge: PledgeDeps;
  csrf: AnonymousCsrf;
  assets: Assets;
  renderer: Renderer;
  verify: VerifyLookup;
  certificates: SiteCertificates;
  /** The transparency log's verifier key (C2SP signed-note), when the registry runs a log. */
  logVerifierKey?: string;
  /** The request's language helpers (set by the locale middleware). */
  l(res: Response): I18n;
  /** Renders `views/pages/<name>.njk` and sends it with the cache policy (public by default). */
  page(
    req: Request,
    res: Response,
    name: string,
    /** The template's data; a function is only called when the page must actually be rendered. */
    context: Record<string, unknown> | (() => Record<string, unknown>),
    options?: { policy?: CachePolicy; status?: number; section?: string; memo?: object },
  ): void;
}

/**
 * Rendered pages remembered per data object: public read models come from a short-lived cache
 * as the same object, so while it lives the same page (per template, language and URL) is not
 * rendered again. The memo goes when the data object does.
 */
const rendered = new WeakMap<object, Map<string, PreparedPage>>();

export function createKit(deps: Omit<SiteKit, 'l' | 'page'>): SiteKit {
  const l = (res: Response): I18n => i18n(res.locals.locale as Locale);
  return {
    ...deps,
    l,
    page(req, res, name, context, options = {}) {
      // A response that sets a cookie (CSRF id, language) is personal: never cache it publicly.
      const personal = Boolean(res.getHeader('set-cookie'));
      const render = (): string =>
        deps.renderer.render(`pages/${name}.njk`, {
          ...pageContext(req, l(res).locale, { assets: deps.assets, section: options.section }),
          ...(typeof context === 'function' ? context() : context),
        });
      let page: string | PreparedPage;
      if (options.memo && !personal) {
        let byPage = rendered.get(options.memo);
        if (!byPage) rendered.set(options.memo, (byPage = new Map()));
        const key = `${name}|${l(res).locale}|${req.originalUrl}`;
        page = byPage.get(key) ?? preparePage(render());
        byPage.set(key, page);
      } else page = render();
      const policy = personal ? 'no-store' : (options.policy ?? 'public');
      sendHtml(req, res, page, policy, options.status ?? 200);
    },
  };
}

/**
 * A page an e-mailed link lands on (`?token=…`): it only shows a button whose POST does the
 * work, because a GET must never change state (mail scanners follow links).
 */
export function tokenLandingPage(kit: SiteKit, template: string, section: string): RequestHandler {
  return (req, res) => {
    const token = firstQueryValue(req, 'token') ?? '';
    const ok = TokenBody.safeParse({ token }).success;
    kit.page(
      req,
      res,
      template,
      { token, failure: ok ? null : 'incomplete', csrf: kit.csrf.token(req, res) },
      { policy: 'no-store', status: ok ? 200 : 400, section },
    );
  };
}

/**
 * A sign-in page (the company's or the console's): the e-mail typed so far and its errors,
 * whether a session ran out (`?expired=1`), a CSRF token; never cached. `context` adds what only
 * one of them shows.
 */
export function loginPage(
  kit: SiteKit,
  req: Request,
  res: Response,
  template: string,
  form: { email: string; errors: FormErrors; status: number },
  options: { section?: string; context?: Record<string, unknown> } = {},
): void {
  kit.page(
    req,
    res,
    template,
    {
      email: form.email,
      errors: form.errors,
      ...options.context,
      expired: firstQueryValue(req, 'expired') === '1',
      csrf: kit.csrf.token(req, res),
    },
    { policy: 'no-store', status: form.status, section: options.section },
  );
}

/**
 * The token a landing page's button posted, or undefined after answering 400 with the page's
 * "incomplete link" message (the form was tampered with or the link cut short).
 */
export function postedToken(
  kit: SiteKit,
  req: Request,
  res: Response,
  template: string,
  section: string,
): string | undefined {
  const parsed = TokenBody.safeParse({ token: formText(req.body, 'token') });
  if (parsed.success) return parsed.data.token;
  kit.page(
    req,
    res,
    template,
    { failure: 'incomplete' },
    { policy: 'no-store', status: 400, section },
  );
  return undefined;
}

/**
 * Answers a link that could not be used (expired, used, unknown) with the landing page's message;
 * anything else (a server fault, a rate limit) is rethrown for the error handler.
 */
export function tokenFailurePage(
  kit: SiteKit,
  req: Request,
  res: Response,
  e: unknown,
  template: string,
  section: string,
): void {
  if (!isAppError(e) || e.status >= 500 || e.status === 429) throw e;
  const failure =
    e.code === 'token-expired' ? 'expired' : e.code === 'token-used' ? 'used' : 'invalid';
  kit.page(req, res, template, { failure }, { policy: 'no-store', status: e.status, section });
}
