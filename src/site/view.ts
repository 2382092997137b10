/**
 * Rendering pages: one nunjucks environment (autoescape on: every value is HTML-escaped unless a
 * helper deliberately returns markup it built safely, like the SVG charts), and the context
 * every page shares (language, navigation, asset URLs).
 */
import path from 'node:path';
import type { Request } from 'express';
import nunjucks from 'nunjucks';
import { cookieFromHeader } from '../http/cookies';
import { LANG_COOKIE, i18n, negotiateLocale, otherLocale, type I18n, type Locale } from '../i18n';
import type { Assets } from './assets';

export const VIEWS_DIR = path.resolve(__dirname, '../../views');

export interface NavItem {
  href: string;
  key:
    | 'nav.home'
    | 'nav.sign'
    | 'nav.founders'
    | 'nav.directory'
    | 'nav.stats'
    | 'nav.verify'
    | 'nav.account';
}

export const NAV: readonly NavItem[] = [
  { href: '/', key: 'nav.home' },
  { href: '/sign', key: 'nav.sign' },
  { href: '/founders', key: 'nav.founders' },
  { href: '/directory', key: 'nav.directory' },
  { href: '/stats', key: 'nav.stats' },
  { href: '/verify', key: 'nav.verify' },
  { href: '/me', key: 'nav.account' },
];

export interface Renderer {
  render(template: string, context: Record<string, unknown>): string;
}

export function createRenderer(options: { dev: boolean }): Renderer {
  const env = new nunjucks.Environment(
    new nunjucks.FileSystemLoader(VIEWS_DIR, { noCache: options.dev }),
    {
      autoescape: true,
      throwOnUndefined: false,
      trimBlocks: true,
      lstripBlocks: true,
    },
  );
  return { render: (template, context) => env.render(template, context) };
}

/** Markup built by our own code with every value escaped (e.g. SVG charts): not escaped again. */
export function trustedHtml(html: string): unknown {
  return new nunjucks.runtime.SafeString(html);
}

function readCookie(req: Request, name: string): string | undefined {
  const parsed = (req.cookies as Record<string, unknown> | undefined)?.[name];
  if (typeof parsed === 'string') return parsed;
  // Error pages can be rendered before cookie-parser ran (e.g. a body-parser error).
  return cookieFromHeader(req.headers.cookie, name);
}

export function firstQueryValue(req: Request, name: string): string | undefined {
  const v = (req.query as Record<string, unknown> | undefined)?.[name];
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && typeof v[0] === 'string') return v[0];
  return undefined;
}

/** The request's locale (see src/i18n for the order of preference). */
export function localeOf(req: Request): Locale {
  return negotiateLocale({
    query: firstQueryValue(req, 'lang'),
    cookie: readCookie(req, LANG_COOKIE),
    acceptLanguage: req.get('accept-language'),
  });
}

/**
 * A path from the request (or anything else not ours) as a link that stays on this site: one
 * leading slash. Browsers read `//host/…` and `/\host/…` as another site, and they drop tabs and
 * line breaks from URLs before reading them.
 */
export function sameSitePath(path: string): string {
  return '/' + path.replace(/^[/\\\t\n\r]+/, '');
}

/** Where the language link points: this page, its query kept, with `lang` replaced. */
function languageHref(req: Request, locale: Locale): string {
  // Made same-site first: parsed as it is, `//a//evil.example/x` has `a` as its host.
  const url = new URL(sameSitePath(req.originalUrl), 'http://x');
  url.searchParams.delete('lang');
  // Single-use tokens in links must not travel into a language link (or the Referer it makes).
  url.searchParams.delete('token');
  url.searchParams.set('lang', locale === 'zh-CN' ? 'zh-CN' : 'en');
  return `${sameSitePath(url.pathname)}?${url.searchParams.toString()}`;
}

export interface PageContextOptions {
  assets: Assets;
  /** Path of the nav item to mark as current. */
  section?: string;
}

export function pageContext(
  req: Request,
  locale: Locale,
  options: PageContextOptions,
): Record<string, unknown> & { i18n: I18n } {
  const l = i18n(locale);
  const other = i18n(otherLocale(locale));
  const section = options.section ?? req.path;
  return {
    i18n: l,
    t: l.t,
    tn: l.tn,
    asset: options.assets.url,
    nav: NAV.map((n) => ({
      ...n,
      current: n.href === '/' ? section === '/' : section.startsWith(n.href),
    })),
    other: {
      htmlLang: other.htmlLang,
      name: other.t('lang.name'),
      href: languageHref(req, other.locale),
    },
  };
}
