/** Public pages: home, founders, directory, statistics. Read-only, cacheable, the same for everyone. */
import express, { type Request, type Router } from 'express';
import { FOUNDING_LIMIT } from '../../models/pledge';
import { INDUSTRIES } from '../../src/domain/industries';
import { PROVINCES } from '../../src/domain/provinces';
import { fromZodError } from '../../src/errors';
import type { I18n } from '../../src/i18n';
import { currentInitiative, type PublishedInitiative } from '../../src/initiative/service';
import {
  listFounders,
  registryStats,
  searchSignatories,
  type PublicSignatory,
} from '../../src/pledges/queries';
import { SignatoryQuery } from '../../src/pledges/schemas';
import {
  bucketByTime,
  columnChart,
  lineChart,
  previousKey,
  rankedBars,
} from '../../src/site/charts';
import { firstQueryValue, trustedHtml } from '../../src/site/view';
import { chinaPeriodStart } from '../../src/time/china';
import type { SiteKit } from './kit';
import { UPLOAD_CHECKS } from '../../src/certificates/verification';

export const DIRECTORY_PAGE_SIZE = 20;

export function initiativeView(initiative: PublishedInitiative, l: I18n) {
  const en = l.locale === 'en';
  const paragraphs = (text: string) =>
    text
      .split('\n')
      .map((p) => p.trim())
      .filter(Boolean);
  return {
    version: initiative.version,
    sha256: initiative.sha256,
    title: en ? initiative.title.en : initiative.title.zh,
    paragraphs: paragraphs(en ? initiative.text.en : initiative.text.zh),
    // The pledge covers both texts; the other one is offered alongside.
    otherTitle: en ? initiative.title.zh : initiative.title.en,
    otherParagraphs: paragraphs(en ? initiative.text.zh : initiative.text.en),
    otherLang: en ? 'zh-CN' : 'en',
    publishedAt: l.date(initiative.publishedAt),
  };
}

export function signatoryRow(s: PublicSignatory, l: I18n) {
  return {
    sequence: s.sequence,
    foundingNumber: s.foundingNumber,
    name: s.company.name,
    nameEn: s.company.nameEn,
    uscc: s.company.uscc,
    province: l.province(s.company.province),
    industry: l.industry(s.company.industry),
    date: l.date(s.activatedAt),
    isoDate: new Date(s.activatedAt).toISOString(),
    status: s.status,
    certificateSerial: s.certificateSerial,
  };
}

function optional(req: Request, name: string): string | undefined {
  const v = firstQueryValue(req, name);
  return v === undefined || v.trim() === '' ? undefined : v;
}

interface PageLink {
  page: number;
  href: string;
  current: boolean;
}

/** Page links around the current one (first and last always), with gaps as null. */
export function pageLinks(
  page: number,
  pages: number,
  href: (p: number) => string,
): Array<PageLink | null> {
  const wanted = new Set(
    [1, pages, page - 2, page - 1, page, page + 1, page + 2].filter((p) => p >= 1 && p <= pages),
  );
  const sorted = [...wanted].sort((a, b) => a - b);
  const out: Array<PageLink | null> = [];
  sorted.forEach((p, i) => {
    if (i > 0 && p - sorted[i - 1] > 1) out.push(null);
    out.push({ page: p, href: href(p), current: p === page });
  });
  return out;
}

export function publicPages(kit: SiteKit): Router {
  const router = express.Router();

  router.get('/', async (req, res) => {
    const l = kit.l(res);
    const [initiative, stats] = await Promise.all([currentInitiative(), registryStats()]);
    kit.page(req, res, 'home', {
      initiative: initiativeView(initiative, l),
      counts: {
        active: stats.totals.active,
        founders: stats.totals.founders,
        provinces: stats.totals.provinces,
      },
      foundingLimit: FOUNDING_LIMIT,
      foundingLeft: Math.max(0, FOUNDING_LIMIT - stats.totals.founders),
    });
  });

  router.get('/founders', async (req, res) => {
    const l = kit.l(res);
    const founders = await listFounders();
    kit.page(
      req,
      res,
      'founders',
      () => ({
        rows: founders.map((f) => signatoryRow(f, l)),
        foundingLimit: FOUNDING_LIMIT,
        foundingLeft: Math.max(0, FOUNDING_LIMIT - founders.length),
      }),
      { memo: founders },
    );
  });

  router.get('/directory', async (req, res) => {
    const l = kit.l(res);
    const raw = {
      q: optional(req, 'q'),
      province: optional(req, 'province'),
      industry: optional(req, 'industry'),
      page: optional(req, 'page') ?? '1',
      pageSize: String(DIRECTORY_PAGE_SIZE),
    };
    const parsed = SignatoryQuery.safeParse(raw);
    if (!parsed.success) throw fromZodError(parsed.error, 'Some search options are invalid.');
    const filter = parsed.data;
    const result = await searchSignatories(filter);
    const pages = Math.max(1, Math.ceil(result.total / DIRECTORY_PAGE_SIZE));
    // Stable, canonical URLs: fixed parameter order, defaults left out, no language parameter.
    const href = (page: number) => {
      const p = new URLSearchParams();
      if (filter.q) p.set('q', filter.q);
      if (filter.province) p.set('province', filter.province);
      if (filter.industry) p.set('industry', filter.industry);
      if (page > 1) p.set('page', String(page));
      const s = p.toString();
      return s ? `/directory?${s}` : '/directory';
    };
    const filtered = Boolean(filter.q || filter.province || filter.industry);
    kit.page(
      req,
      res,
      'directory',
      {
        filter,
        filtered,
        provinces: PROVINCES.map((p) => ({ code: p.code, name: l.province(p.code) })),
        industries: INDUSTRIES.map((i) => ({ code: i.code, name: l.industry(i.code) })),
        rows: result.items.map((s) => signatoryRow(s, l)),
        total: result.total,
        page: filter.page,
        pages,
        from: result.total === 0 ? 0 : (filter.page - 1) * DIRECTORY_PAGE_SIZE + 1,
        to: Math.min(result.total, filter.page * DIRECTORY_PAGE_SIZE),
        prev: filter.page > 1 ? href(Math.min(filter.page - 1, pages)) : null,
        next: filter.page < pages ? href(filter.page + 1) : null,
        links: pages > 1 ? pageLinks(Math.min(filter.page, pages), pages, href) : [],
      },
      { memo: result },
    );
  });

  // Not under /verify/: that path is a certificate serial's page.
  router.get('/about/verification', (req, res) => {
    const publicUrl = kit.config.publicUrl;
    kit.page(req, res, 'about-verification', {
      host: new URL(publicUrl).host,
      publicUrl,
      jwksUrl: `${publicUrl}/.well-known/jwks.json`,
      logVerifierKey: kit.logVerifierKey,
      checkpointUrl: `${publicUrl}/log/checkpoint`,
      checks: UPLOAD_CHECKS,
    });
  });

  router.get('/stats', async (req, res) => {
    const l = kit.l(res);
    const stats = await registryStats();
    const time = bucketByTime(stats.byDay);
    const timeLabel = (key: string) =>
      time.unit === 'month'
        ? l.t('stats.monthLabel', { year: key.slice(0, 4), month: Number(key.slice(5, 7)) })
        : l.shortDate(chinaPeriodStart(key));
    // The line starts from zero in the period before the first signature, so one day still draws a line.
    const cumulative = time.keys.length
      ? [
          { label: timeLabel(previousKey(time.unit, time.keys[0])), value: 0 },
          ...time.keys.map((k, i) => ({ label: timeLabel(k), value: time.cumulative[i] })),
        ]
      : [];
    const added = time.keys.map((k, i) => ({ label: timeLabel(k), value: time.added[i] }));
    const byProvince = stats.byProvince.map((r) => ({
      label: l.province(r.province),
      value: r.count,
      display: l.number(r.count),
    }));
    const byIndustry = stats.byIndustry.map((r) => ({
      label: `${r.industry} · ${l.industry(r.industry)}`,
      value: r.count,
      display: l.number(r.count),
    }));
    const last = cumulative[cumulative.length - 1];
    kit.page(req, res, 'stats', {
      totals: stats.totals,
      foundingLimit: FOUNDING_LIMIT,
      empty: stats.totals.active === 0,
      unitKey: time.unit === 'month' ? 'stats.added.month' : 'stats.added.day',
      cumulativeChart: trustedHtml(
        lineChart(cumulative, {
          id: 'chart-cumulative',
          title: l.t('stats.cumulative.title'),
          desc: last
            ? l.t('stats.cumulative.desc', {
                from: cumulative[1].label,
                to: last.label,
                n: l.number(last.value),
              })
            : '',
          formatValue: l.number,
        }),
      ),
      addedChart: trustedHtml(
        columnChart(added, {
          id: 'chart-added',
          title: l.t(time.unit === 'month' ? 'stats.added.month' : 'stats.added.day'),
          desc: l.t('stats.added.desc'),
          formatValue: l.number,
        }),
      ),
      timeRows: time.keys.map((k, i) => ({
        label: timeLabel(k),
        added: l.number(time.added[i]),
        cumulative: l.number(time.cumulative[i]),
      })),
      provinceBars: trustedHtml(rankedBars(byProvince, { label: l.t('stats.byProvince') })),
      industryBars: trustedHtml(rankedBars(byIndustry, { label: l.t('stats.byIndustry') })),
    });
  });

  return router;
}
