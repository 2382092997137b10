/**
 * The public web site (server-rendered pages). Mounted at '/' after the API; it leaves /api
 * alone, sets the site's CSP, negotiates the language, and brings its own error pages.
 */
import path from 'node:path';
import cookieParser from 'cookie-parser';
import express, { type RequestHandler, type Router } from 'express';
import type { Mount } from '../../src/app';
import type { Config } from '../../src/config';
import { LANG_COOKIE, parseLocale } from '../../src/i18n';
import type { MailQueue } from '../../src/mail/outbox';
import type { PledgeDeps } from '../../src/pledges/lifecycle';
import { noCertificates, type SiteCertificates } from '../../src/certificates/site';
import { unknownSerials, type VerifyLookup } from '../../src/certificates/verdict';
import { loadAssets } from '../../src/site/assets';
import { anonymousCsrf } from '../../src/site/csrf';
import { createErrorPageRenderer } from '../../src/site/error-page';
import { cookieOptions, siteCsp } from '../../src/site/http';
import { vendorHandler } from '../../src/site/vendor';
import { createRenderer, firstQueryValue, localeOf } from '../../src/site/view';
import { accountPages } from './account';
import { consolePages, type ConsoleDeps } from './console';
import { createKit } from './kit';
import { publicPages } from './public';
import { signPages } from './sign';
import { verifyPages } from './verify';

export const PUBLIC_DIR = path.resolve(__dirname, '../../public');
const YEAR_MS = 365 * 24 * 3600 * 1000;

export interface SiteDeps {
  config: Config;
  mail: MailQueue;
  /** What the pledge use cases need, with the hooks the registry wires (the API gets the same). */
  pledge?: PledgeDeps;
  /** Certificate lookup for /verify/<serial>; every serial is unknown until certificates plug in. */
  verify?: VerifyLookup;
  /** A company's certificate on /me (and its PDF), and checks of uploaded PDFs on /verify. */
  certificates?: SiteCertificates;
  /** The association's console at /admin (left out, the site has none). */
  console?: ConsoleDeps;
  /** The transparency log's verifier key, shown on /about/verification (left out: no log). */
  logVerifierKey?: string;
}

/** Sets `res.locals.locale`; an explicit `?lang=` is remembered in the `lang` cookie. */
function negotiateLanguage(secure: boolean): RequestHandler {
  return (req, res, next) => {
    res.locals.locale = localeOf(req);
    const asked = parseLocale(firstQueryValue(req, 'lang'));
    if (
      asked &&
      asked !== parseLocale((req.cookies as Record<string, string | undefined>)[LANG_COOKIE])
    ) {
      res.cookie(LANG_COOKIE, asked, cookieOptions(secure, YEAR_MS));
    }
    next();
  };
}

export function siteRouter(deps: SiteDeps): {
  router: Router;
  renderErrorPage: NonNullable<Mount['renderErrorPage']>;
} {
  const { config } = deps;
  const secure = config.isProduction;
  const assets = loadAssets(PUBLIC_DIR);
  const renderer = createRenderer({ dev: config.env === 'development' });
  const kit = createKit({
    config,
    mail: deps.mail,
    pledge: deps.pledge ?? { config, mail: deps.mail },
    csrf: anonymousCsrf({ secret: config.jwtSecret, secure }),
    assets,
    renderer,
    verify: deps.verify ?? unknownSerials,
    certificates: deps.certificates ?? noCertificates,
    logVerifierKey: deps.logVerifierKey,
  });

  const router = express.Router();
  router.use(assets.handler);
  router.use(vendorHandler);
  router.use((req, _res, next) =>
    next(req.path === '/api' || req.path.startsWith('/api/') ? 'router' : undefined),
  );
  router.use(siteCsp({ production: config.isProduction }));
  router.use(cookieParser());
  router.use(negotiateLanguage(secure));
  router.use(publicPages(kit));
  router.use(signPages(kit));
  router.use(accountPages(kit));
  router.use(verifyPages(kit));
  if (deps.console) router.use(consolePages(kit, deps.console));

  return { router, renderErrorPage: createErrorPageRenderer({ renderer, assets }) };
}

/** The site as one mount for the registry (router and error pages together). */
export function siteMount(deps: SiteDeps): Mount {
  const site = siteRouter(deps);
  return { path: '/', router: site.router, renderErrorPage: site.renderErrorPage };
}
