/**
 * The site's languages: zh-CN (default) and en. Every visible string comes from the message
 * catalogs; dates and numbers are formatted with Intl for the chosen locale.
 *
 * Negotiation order: an explicit `?lang=` (the language links), the `lang` cookie (remembered
 * choice), then Accept-Language, then zh-CN.
 */
import { industryByCode } from '../domain/industries';
import { provinceByCode } from '../domain/provinces';
import { en } from './messages/en';
import { zhCN, type MessageKey } from './messages/zh-CN';
import { CHINA_TIME_ZONE } from '../time/china';

export type { MessageKey } from './messages/zh-CN';

export const LOCALES = ['zh-CN', 'en'] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = 'zh-CN';
export const LANG_COOKIE = 'lang';

const CATALOGS: Record<Locale, Record<MessageKey, string>> = { 'zh-CN': zhCN, en };

/** Maps a language tag ("zh", "zh-Hans-CN", "EN-us") to a supported locale. */
export function parseLocale(tag: string | undefined | null): Locale | undefined {
  if (typeof tag !== 'string') return undefined;
  const primary = tag.trim().toLowerCase().split(/[-_]/)[0];
  if (primary === 'zh') return 'zh-CN';
  if (primary === 'en') return 'en';
  return undefined;
}

/** The best supported locale of an Accept-Language header (q-values respected, order breaks ties). */
export function localeFromAcceptLanguage(header: string | undefined): Locale | undefined {
  if (!header) return undefined;
  const ranked = header
    .split(',')
    .slice(0, 20) // a header is short; ignore absurd ones
    .map((part, index) => {
      const [tag, ...params] = part.trim().split(';');
      const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)).find(Boolean);
      return { tag, q: q ? Number(q[1]) : 1, index };
    })
    .filter((r) => r.q > 0 && Number.isFinite(r.q))
    .sort((a, b) => b.q - a.q || a.index - b.index);
  for (const r of ranked) {
    const locale = parseLocale(r.tag);
    if (locale) return locale;
  }
  return undefined;
}

export interface LocaleSources {
  query?: string;
  cookie?: string;
  acceptLanguage?: string;
}

export function negotiateLocale(src: LocaleSources): Locale {
  return (
    parseLocale(src.query) ??
    parseLocale(src.cookie) ??
    localeFromAcceptLanguage(src.acceptLanguage) ??
    DEFAULT_LOCALE
  );
}

export type Params = Record<string, string | number>;

export interface I18n {
  locale: Locale;
  /** For the `lang` attribute. */
  htmlLang: string;
  t(key: MessageKey, params?: Params): string;
  /** Picks `<key>.one` or `<key>.other` by the count (English plural rules; Chinese has one form). */
  tn(key: string, count: number, params?: Params): string;
  number(n: number): string;
  /** A calendar date in China Standard Time, e.g. 2025年11月25日 / 25 Nov 2025. */
  date(d: Date | string | number): string;
  dateTime(d: Date | string | number): string;
  /** A short date for chart axes, e.g. 11月25日 / 25 Nov. */
  shortDate(d: Date | string | number): string;
  province(code: string): string;
  industry(code: string): string;
}

// Registry dates are Chinese business dates: always shown in China Standard Time.
const TIME_ZONE = CHINA_TIME_ZONE;
// English uses day-month-year, which reads unambiguously to most readers outside the US.
const INTL_LOCALE: Record<Locale, string> = { 'zh-CN': 'zh-CN', en: 'en-GB' };

function interpolate(template: string, params?: Params): string {
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (m, name: string) =>
    name in params ? String(params[name]) : m,
  );
}

function build(locale: Locale): I18n {
  const catalog = CATALOGS[locale];
  const intl = INTL_LOCALE[locale];
  const numberFmt = new Intl.NumberFormat(intl);
  const dateFmt = new Intl.DateTimeFormat(intl, { dateStyle: 'medium', timeZone: TIME_ZONE });
  const dateTimeFmt = new Intl.DateTimeFormat(intl, {
    dateStyle: 'medium',
    timeStyle: 'short',
    timeZone: TIME_ZONE,
  });
  const shortFmt = new Intl.DateTimeFormat(intl, {
    month: 'short',
    day: 'numeric',
    timeZone: TIME_ZONE,
  });
  const plural = new Intl.PluralRules(intl);
  const toDate = (d: Date | string | number): Date => (d instanceof Date ? d : new Date(d));
  const t = (key: MessageKey, params?: Params): string => interpolate(catalog[key] ?? key, params);
  return {
    locale,
    htmlLang: locale,
    t,
    tn(key, count, params) {
      const form = `${key}.${plural.select(count)}` as MessageKey;
      const chosen = form in catalog ? form : (`${key}.other` as MessageKey);
      return t(chosen, { n: numberFmt.format(count), ...params });
    },
    number: (n) => numberFmt.format(n),
    date: (d) => dateFmt.format(toDate(d)),
    dateTime: (d) => dateTimeFmt.format(toDate(d)),
    shortDate: (d) => shortFmt.format(toDate(d)),
    province(code) {
      const p = provinceByCode(code);
      return p ? (locale === 'en' ? p.en : p.zh) : code;
    },
    industry(code) {
      const i = industryByCode(code);
      return i ? (locale === 'en' ? i.en : i.zh) : code;
    },
  };
}

const INSTANCES: Record<Locale, I18n> = { 'zh-CN': build('zh-CN'), en: build('en') };

export function i18n(locale: Locale): I18n {
  return INSTANCES[locale];
}

export function otherLocale(locale: Locale): Locale {
  return locale === 'en' ? 'zh-CN' : 'en';
}

/** Every key of a catalog, for consistency tests. */
export function catalogKeys(locale: Locale): string[] {
  return Object.keys(CATALOGS[locale]);
}

export function catalogMessage(locale: Locale, key: string): string | undefined {
  return (CATALOGS[locale] as Record<string, string>)[key];
}

/**
 * What an error says to a reader: the catalog's `error.<code>` for its stable code, else the
 * English detail the API gives (a code without wording yet still says something true).
 */
export function errorDetail(
  locale: Locale,
  error: { code: string; detail?: string; title?: string },
): string {
  return catalogMessage(locale, `error.${error.code}`) ?? error.detail ?? error.title ?? error.code;
}
