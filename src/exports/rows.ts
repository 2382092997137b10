/**
 * Signatory list rows for exports: one shape for every format, read from a database cursor so
 * memory stays flat however many rows there are.
 */
import type { Collection, Document, FindCursor, FindOptions } from 'mongodb';
import { z } from 'zod';
import { Pledge, PledgeStatus } from '../../models/pledge';
import { INDUSTRY_CODES, industryByCode } from '../domain/industries';
import { PROVINCE_CODES, provinceByCode } from '../domain/provinces';
import { chinaDayRange, toChinaIso } from '../time/china';
import { pickRowFields } from './bson-pick';
import { catalogMessage } from '../i18n';

export const ExportQuery = z
  .strictObject({
    status: z
      .enum(['active', 'withdrawn', 'revoked', 'all'])
      .default('active')
      .meta({ description: 'Pledge status (default active; all = active, withdrawn and revoked)' }),
    province: z
      .enum(PROVINCE_CODES)
      .optional()
      .meta({ description: 'GB/T 2260 two-digit province code' }),
    industry: z
      .enum(INDUSTRY_CODES)
      .optional()
      .meta({ description: 'GB/T 4754-2017 section letter' }),
    from: z.iso
      .date()
      .optional()
      .meta({ description: 'Activated on or after this day (China Standard Time)' }),
    to: z.iso
      .date()
      .optional()
      .meta({ description: 'Activated on or before this day (China Standard Time)' }),
    founders: z
      .enum(['0', '1'])
      .optional()
      .meta({ description: '1: only the founding signatories, in number order' }),
    includeContacts: z
      .enum(['0', '1'])
      .optional()
      .meta({ description: '1: add signatory e-mail and phone (recorded in the audit log)' }),
  })
  .refine((q) => !q.from || !q.to || q.from <= q.to, {
    path: ['to'],
    message: '`to` must not be before `from`.',
  });
export type ExportQuery = z.output<typeof ExportQuery>;

export interface ExportColumn {
  /** The cell a spreadsheet (CSV, XLSX) shows. */
  key: keyof ExportRow;
  zh: string;
  en: string;
  width: number;
  /** The fields JSON carries for the column, when not just `key` (the status code beside its label). */
  json?: Array<keyof ExportRow>;
}

export interface ExportRow {
  sequence: number;
  foundingNumber: number | null;
  companyName: string;
  companyNameEn: string;
  uscc: string;
  province: string;
  industry: string;
  signatoryName: string;
  signatoryTitle: string;
  initiativeVersion: number;
  /** Beijing time with its offset (`2026-12-02T04:08:26+08:00`): readable, and still one instant. */
  activatedAt: string;
  /** The machine code (`active`), for JSON and the PDF's own labels. */
  status: string;
  /** The status in Chinese (`有效`), what spreadsheet readers see. */
  statusLabel: string;
  certificateSerial: string;
  email?: string;
  phone?: string;
  /** Not columns: the codes and the date as stored, for formats that label them their own way (PDF). */
  provinceCode: string;
  industryCode: string;
  activated: Date | null;
}

export const COLUMNS: ExportColumn[] = [
  { key: 'sequence', zh: '序号', en: 'Sequence', width: 8 },
  { key: 'foundingNumber', zh: '发起企业编号', en: 'Founding No.', width: 10 },
  { key: 'companyName', zh: '企业名称', en: 'Company', width: 36 },
  { key: 'companyNameEn', zh: '英文名称', en: 'Company (English)', width: 36 },
  { key: 'uscc', zh: '统一社会信用代码', en: 'USCC', width: 22 },
  { key: 'province', zh: '省份', en: 'Province', width: 10 },
  { key: 'industry', zh: '行业', en: 'Industry', width: 24 },
  { key: 'signatoryName', zh: '签署人', en: 'Signatory', width: 12 },
  { key: 'signatoryTitle', zh: '职务', en: 'Title', width: 14 },
  { key: 'initiativeVersion', zh: '倡议书版本', en: 'Initiative version', width: 10 },
  { key: 'activatedAt', zh: '生效时间', en: 'Activated at', width: 22 },
  { key: 'statusLabel', zh: '状态', en: 'Status', width: 12, json: ['status', 'statusLabel'] },
  { key: 'certificateSerial', zh: '证书编号', en: 'Certificate serial', width: 22 },
];

export const CONTACT_COLUMNS: ExportColumn[] = [
  { key: 'email', zh: '电子邮箱', en: 'E-mail', width: 28 },
  { key: 'phone', zh: '电话', en: 'Phone', width: 16 },
];

/** Open data: the public directory's facts only; no signatory (a natural person) and no contacts. */
export const OPEN_DATA_COLUMNS: ExportColumn[] = COLUMNS.filter(
  (c) => c.key !== 'signatoryName' && c.key !== 'signatoryTitle',
);

export function columnsFor(q: ExportQuery): ExportColumn[] {
  return q.includeContacts === '1' ? [...COLUMNS, ...CONTACT_COLUMNS] : COLUMNS;
}

/**
 * A pledge status in the site's own words (`status.*` in the i18n catalogs), so an export never
 * names a status differently from the pages the association and the public read.
 */
export function statusLabel(status: string): { zh: string; en: string } {
  const key = `status.${status}`;
  return {
    zh: catalogMessage('zh-CN', key) ?? status,
    en: catalogMessage('en', key) ?? status,
  };
}

export interface ExportPlan {
  filter: Record<string, unknown>;
  sort: Record<string, 1>;
  /** The index that yields `sort` order (MongoDB honours it; the embedded store plans by shape). */
  hint: Record<string, 1>;
}

/**
 * The database filter and order for a query (founders in number order, others by sequence).
 *
 * The ordering key's index is walked in order so the first rows leave at once and nothing is
 * sorted in memory. The other conditions go inside a one-branch `$or`: the same documents on any
 * server, but the embedded store's planner (which prefers an equality on `status` and would then
 * sort every match before returning the first row) only plans on the ordering key; MongoDB
 * follows `hint`.
 */
export function exportFilter(q: ExportQuery): ExportPlan {
  const rest: Record<string, unknown> = {};
  if (q.status !== 'all') rest.status = q.status === 'active' ? PledgeStatus.Active : q.status;
  else rest.status = { $in: [PledgeStatus.Active, PledgeStatus.Withdrawn, PledgeStatus.Revoked] };
  if (q.province) rest.province = q.province;
  if (q.industry) rest.industry = q.industry;
  const activated = chinaDayRange(q.from, q.to);
  if (activated) rest.activatedAt = activated;
  const key = q.founders === '1' ? 'foundingNumber' : 'sequence';
  return { filter: { [key]: { $gte: 1 }, $or: [rest] }, sort: { [key]: 1 }, hint: { [key]: 1 } };
}

/** The pledges collection through the driver itself (no mongoose document layer per row). */
function pledges(): Collection {
  const db = Pledge.db.db;
  if (!db) throw new Error('the database is not connected');
  return db.collection(Pledge.collection.collectionName);
}

/**
 * The driver's find options of an export: the plan's order and hint, whole documents as their
 * BSON bytes (`raw`), which pickRowFields reads the row's fields from.
 *
 * No projection, on purpose: the embedded store sends a whole stored document as the bytes it
 * keeps (a splice), while a projection makes it decode every document, project it and encode
 * the result again, which was most of a large export's time (the store's CPU at 1,000,000 rows).
 * The cost is the fields no row needs (history, token hashes) on the wire, a few hundred bytes a
 * pledge, skipped unread here; MongoDB itself would project cheaply, but sends them just as fast.
 */
export function exportFindOptions(q: ExportQuery): FindOptions {
  const { sort, hint } = exportFilter(q);
  return { sort, hint, batchSize: BATCH_SIZE, raw: true };
}

/** How many rows the export would have, counted up to `limit` (the counting stops there). */
export async function countExportRows(q: ExportQuery, limit: number): Promise<number> {
  const { filter, hint } = exportFilter(q);
  return pledges().countDocuments(filter, { hint, limit });
}

const industryLabels = new Map(
  INDUSTRY_CODES.map((c) => [c as string, `${c} ${industryByCode(c)!.zh}`]),
);

/** An industry code as a row labels it (`C 制造业`); undefined for an unknown code. */
export function industryLabel(code: string): string | undefined {
  return industryLabels.get(code);
}

/** A row from the stored (projected) pledge document. */
export function toRow(p: Document, withContacts: boolean): ExportRow {
  const activated =
    p.activatedAt instanceof Date
      ? p.activatedAt
      : p.activatedAt
        ? new Date(p.activatedAt as string)
        : null;
  const signatory = (p.signatory ?? {}) as {
    name?: string;
    title?: string;
    email?: string;
    phone?: string;
  };
  const row: ExportRow = {
    sequence: p.sequence as number,
    foundingNumber: (p.foundingNumber as number | undefined) ?? null,
    companyName: p.companyName as string,
    companyNameEn: (p.companyNameEn as string | undefined) ?? '',
    uscc: p.uscc as string,
    province: provinceByCode(p.province as string)?.zh ?? (p.province as string),
    industry: industryLabels.get(p.industry as string) ?? (p.industry as string),
    signatoryName: signatory.name ?? '',
    signatoryTitle: signatory.title ?? '',
    initiativeVersion: (p.initiative as { version: number } | undefined)?.version ?? 0,
    activatedAt: activated ? toChinaIso(activated) : '',
    status: p.status as string,
    statusLabel: statusLabel(p.status as string).zh,
    certificateSerial: (p.certificateSerial as string | undefined) ?? '',
    provinceCode: p.province as string,
    industryCode: p.industry as string,
    activated,
  };
  if (withContacts) {
    row.email = signatory.email ?? '';
    row.phone = signatory.phone ?? '';
  }
  return row;
}

/** A raw document as a Buffer over the same bytes (the driver's are Buffers already). */
function asBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

/**
 * Documents per database round trip. Small enough that a batch (and the rows and bytes made from
 * it) dies young, in V8's new space: with 2,000 the batches outlived scavenges, were promoted and
 * piled up as old-space garbage (+130 MB RSS over a 100,000-row CSV); with 500, +5 MB, same speed.
 */
export const BATCH_SIZE = 500;

/**
 * Stored pledges in export order as their BSON bytes, a batch at a time, streamed from the
 * database. The next batch is requested before the current one is handed out, so the database
 * works while the caller formats and writes (the driver alone would only ask once its buffer is
 * empty). At most two batches are in memory. Stops, closing the cursor, when `signal` aborts
 * (client gone).
 */
export async function* exportDocBatches(
  q: ExportQuery,
  signal?: AbortSignal,
): AsyncGenerator<Buffer[]> {
  const cursor: FindCursor = pledges().find(exportFilter(q).filter, exportFindOptions(q));
  let more: Promise<boolean> | undefined;
  try {
    more = cursor.hasNext();
    while (await more) {
      more = undefined;
      if (signal?.aborted) return;
      const docs = cursor.readBufferedDocuments().map((d) => asBuffer(d as unknown as Uint8Array));
      // Ask for the next batch now (an empty buffer makes hasNext fetch), then hand this one out.
      // A failure of that fetch surfaces at the next `await more`; until then it is not "unhandled".
      more = cursor.hasNext();
      more.catch(() => undefined);
      yield docs;
    }
  } finally {
    // A prefetch may still be in flight: let it settle before closing the cursor. The close is not
    // awaited: with the database gone it would wait out server selection before the caller could
    // cut the response off.
    if (more) await more.catch(() => false);
    cursor.close().catch(() => undefined);
  }
}

/** Rows in export order, a batch at a time (exportDocBatches, each document read as a row). */
export async function* exportBatches(
  q: ExportQuery,
  signal?: AbortSignal,
): AsyncGenerator<ExportRow[]> {
  const withContacts = q.includeContacts === '1';
  for await (const docs of exportDocBatches(q, signal))
    // The documents are dropped as soon as they are rows (nothing here keeps them while the batch is written).
    yield docs.map((d) => toRow(pickRowFields(d), withContacts));
}
