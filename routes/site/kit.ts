/** What every page router shares: config, mail, CSRF, rendering with the common page context. */
import type { Request, Response } from 'express';
import type { Config } from '../../src/config';
import { i18n, type I18n, type Locale } from '../../src/i18n';
import type { MailQueue } from '../../src/mail/outbox';
import type { PledgeDeps } from '../../src/pledges/lifecycle';
import type { Assets } from '../../src/site/assets';
import type { AnonymousCsrf } from '../../src/site/csrf';
import { sendHtml, type CachePolicy } from '../../src/site/http';
import type { VerifyLookup } from '../../src/site/verdict';
import { pageContext, type Renderer } from '../../src/site/view';

export interface SiteKit {
  config: Config;
  mail: MailQueue;
  /** What the pledge use cases need (with the same hooks the API passes: certificates follow). */
  pledge: PledgeDeps;
  csrf: AnonymousCsrf;
  assets: Assets;
  renderer: Renderer;
  verify: VerifyLookup;
  /** The request's language helpers (set by the locale middleware). */
  l(res: Response): I18n;
  /** Renders `views/pages/<name>.njk` and sends it with the cache policy (public by default). */
  page(
    req: Request,
    res: Response,
    name: string,
    context: Record<string, unknown>,
    options?: { policy?: CachePolicy; status?: number; section?: string },
  ): void;
}

export function createKit(deps: Omit<SiteKit, 'l' | 'page'>): SiteKit {
  const l = (res: Response): I18n => i18n(res.locals.locale as Locale);
  return {
    ...deps,
    l,
    page(req, res, name, context, options = {}) {
      const html = deps.renderer.render(`pages/${name}.njk`, {
        ...pageContext(req, l(res).locale, { assets: deps.assets, section: options.section }),
        ...context,
      });
      // A response that sets a cookie (CSRF id, language) is personal: never cache it publicly.
      const policy = res.getHeader('set-cookie') ? 'no-store' : (options.policy ?? 'public');
      sendHtml(req, res, html, policy, options.status ?? 200);
    },
  };
}
