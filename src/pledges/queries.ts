/** Public read models: founders, the directory of signatories, statistics, a company's own pledge. */
import { Pledge, PledgeStatus, type PledgeDoc, type Transition } from '../../models/pledge';
import { eventsFor } from '../audit/events';
import { TtlCache } from '../ttl-cache';
import { chinaDayExpression } from '../time/china';

/**
 * A company as every read model shows it (pledges, public lists, certificates). Pledge views
 * give province and industry as codes; a certificate view gives the Chinese names it certified.
 */
export interface CompanyFields {
  name: string;
  nameEn: string | null;
  uscc: string;
  province: string;
  industry: string;
}

/** The company data a pledge was signed (or corrected) with, as CompanyFields. */
export function companyFields(
  p: Pick<PledgeDoc, 'companyName' | 'companyNameEn' | 'uscc' | 'province' | 'industry'>,
): CompanyFields {
  return {
    name: p.companyName,
    nameEn: p.companyNameEn ?? null,
    uscc: p.uscc,
    province: p.province,
    industry: p.industry,
  };
}

export interface PublicSignatory {
  sequence: number;
  foundingNumber: number | null;
  company: CompanyFields;
  activatedAt: Date;
  status: string;
  initiativeVersion: number;
  /** The pledge's current certificate (its public verify page), once issued. */
  certificateSerial: string | null;
}

function toPublic(p: PledgeDoc): PublicSignatory {
  return {
    sequence: p.sequence!,
    foundingNumber: p.foundingNumber ?? null,
    company: companyFields(p),
    activatedAt: p.activatedAt!,
    status: p.status,
    initiativeVersion: p.initiative.version,
    certificateSerial: p.certificateSerial ?? null,
  };
}

const PUBLIC_FIELDS =
  'sequence foundingNumber companyName companyNameEn uscc province industry activatedAt status initiative certificateSerial';

// Public lists are read far more often than they change: each instance keeps them a second.
export const PUBLIC_CACHE_MS = 1000;
const founders = new TtlCache<PublicSignatory[]>(PUBLIC_CACHE_MS);
const searches = new TtlCache<{
  items: PublicSignatory[];
  total: number;
  page: number;
  pageSize: number;
}>(PUBLIC_CACHE_MS, 1000);
const stats = new TtlCache<Stats>(PUBLIC_CACHE_MS);

/** Drops this instance's cached public lists (after a change it made, and in tests). */
export function clearPublicCaches(): void {
  founders.clear();
  searches.clear();
  stats.clear();
}

/** Cache keys carry the database name: one process may serve several (tests do). */
const key = (k: string): string => `${Pledge.db.name}:${k}`;

/** The founding signatories in number order; withdrawn or revoked founders keep their place. */
export function listFounders(): Promise<PublicSignatory[]> {
  return founders.get(key('all'), async () => {
    const rows = await Pledge.find({ foundingNumber: { $gte: 1 } })
      .sort({ foundingNumber: 1 })
      .select(PUBLIC_FIELDS)
      .lean<PledgeDoc[]>();
    return rows.map(toPublic);
  });
}

export interface SignatoryFilter {
  q?: string;
  province?: string;
  industry?: string;
  page: number;
  pageSize: number;
}

/** A regex source matching `s` literally; controls are escaped (BSON refuses a NUL in a pattern). */
export function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(
    // eslint-disable-next-line no-control-regex
    /[\u0000-\u001f\u007f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}

/** Conditions for a search box: part of either company name (any case), or the exact USCC. */
export function nameOrUscc(term: string): Array<Record<string, unknown>> {
  const q = term.trim();
  const rx = new RegExp(escapeRegex(q), 'i');
  return [{ companyName: rx }, { companyNameEn: rx }, { uscc: q.toUpperCase() }];
}

export function searchSignatories(
  f: SignatoryFilter,
): Promise<{ items: PublicSignatory[]; total: number; page: number; pageSize: number }> {
  return searches.get(key(JSON.stringify([f.q, f.province, f.industry, f.page, f.pageSize])), () =>
    findSignatories(f),
  );
}

async function findSignatories(
  f: SignatoryFilter,
): Promise<{ items: PublicSignatory[]; total: number; page: number; pageSize: number }> {
  const filter: Record<string, unknown> = { status: PledgeStatus.Active };
  if (f.province) filter.province = f.province;
  if (f.industry) filter.industry = f.industry;
  if (f.q) filter.$or = nameOrUscc(f.q);
  const [items, total] = await Promise.all([
    Pledge.find(filter)
      .sort({ sequence: 1 })
      .skip((f.page - 1) * f.pageSize)
      .limit(f.pageSize)
      .select(PUBLIC_FIELDS)
      .lean<PledgeDoc[]>(),
    Pledge.countDocuments(filter),
  ]);
  return { items: items.map(toPublic), total, page: f.page, pageSize: f.pageSize };
}

export interface Stats {
  totals: { active: number; founders: number; provinces: number; industries: number };
  byProvince: Array<{ province: string; count: number }>;
  byIndustry: Array<{ industry: string; count: number }>;
  byDay: Array<{ day: string; count: number }>;
}

export function registryStats(): Promise<Stats> {
  return stats.get(key('all'), computeStats);
}

async function computeStats(): Promise<Stats> {
  const active = { status: PledgeStatus.Active };
  const [byProvince, byIndustry, byDay, founders] = await Promise.all([
    Pledge.aggregate<{ _id: string; count: number }>([
      { $match: active },
      { $group: { _id: '$province', count: { $sum: 1 } } },
      { $sort: { count: -1, _id: 1 } },
    ]),
    Pledge.aggregate<{ _id: string; count: number }>([
      { $match: active },
      { $group: { _id: '$industry', count: { $sum: 1 } } },
      { $sort: { count: -1, _id: 1 } },
    ]),
    // Days are counted in China Standard Time, where the registry's users are.
    Pledge.aggregate<{ _id: string; count: number }>([
      { $match: active },
      { $group: { _id: chinaDayExpression('$activatedAt'), count: { $sum: 1 } } },
      { $sort: { _id: 1 } },
    ]),
    Pledge.countDocuments({ foundingNumber: { $gte: 1 } }),
  ]);
  return {
    totals: {
      active: byProvince.reduce((n, r) => n + r.count, 0),
      founders,
      provinces: byProvince.length,
      industries: byIndustry.length,
    },
    byProvince: byProvince.map((r) => ({ province: r._id, count: r.count })),
    byIndustry: byIndustry.map((r) => ({ industry: r._id, count: r.count })),
    byDay: byDay.map((r) => ({ day: r._id, count: r.count })),
  };
}

/** The pledge a session was granted for (src/pledges/access.ts) with its history and audit events. */
export async function ownPledge(
  p: PledgeDoc,
): Promise<PledgeView & { events: Array<Record<string, unknown>> }> {
  return { ...pledgeView(p), events: await eventsFor('pledge', String(p._id)) };
}

/** What the company and admins see of a pledge: the API's PledgeView, the company area, the console. */
export interface PledgeView {
  id: string;
  status: PledgeStatus;
  company: CompanyFields & { id: string };
  signatory: PledgeDoc['signatory'];
  initiative: PledgeDoc['initiative'];
  sequence: number | null;
  foundingNumber: number | null;
  activatedAt: Date | null;
  createdAt: Date;
  history: Transition[];
  closedReason: string | null;
  certificateSerial: string | null;
}

/** What the company and admins see of a pledge (never the token hash). */
export function pledgeView(p: PledgeDoc): PledgeView {
  return {
    id: String(p._id),
    status: p.status,
    company: { id: String(p.company), ...companyFields(p) },
    signatory: p.signatory,
    initiative: p.initiative,
    sequence: p.sequence ?? null,
    foundingNumber: p.foundingNumber ?? null,
    activatedAt: p.activatedAt ?? null,
    createdAt: p.createdAt,
    history: p.history,
    closedReason: p.closedReason ?? null,
    certificateSerial: p.certificateSerial ?? null,
  };
}
