/**
 * Signatory list rows for exports: one shape for every format, read from a database cursor so
 * memory stays flat however many rows there are.
 */
import { z } from 'zod';
import { Pledge, PledgeStatus, type PledgeDoc } from '../../models/pledge';
import { INDUSTRY_CODES, industryByCode } from '../domain/industries';
import { provinceByCode } from '../domain/provinces';

export const ExportQuery = z.strictObject({
  status: z.enum(['active', 'withdrawn', 'revoked', 'all']).default('active'),
  province: z.string().regex(/^\d{2}$/).optional(),
  industry: z.enum(INDUSTRY_CODES).optional(),
  from: z.iso.date().optional().meta({ description: 'Activated on or after this day (China Standard Time)' }),
  to: z.iso.date().optional().meta({ description: 'Activated on or before this day (China Standard Time)' }),
  founders: z.enum(['0', '1']).optional().meta({ description: '1: only the founding signatories, in number order' }),
  includeContacts: z.enum(['0', '1']).optional().meta({ description: '1: add signatory e-mail and phone (recorded in the audit log)' }),
});
export type ExportQuery = z.output<typeof ExportQuery>;

export interface ExportColumn {
  key: keyof ExportRow;
  zh: string;
  en: string;
  width: number;
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
  activatedAt: string;
  status: string;
  certificateSerial: string;
  email?: string;
  phone?: string;
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
  { key: 'status', zh: '状态', en: 'Status', width: 12 },
  { key: 'certificateSerial', zh: '证书编号', en: 'Certificate serial', width: 22 },
];

export const CONTACT_COLUMNS: ExportColumn[] = [
  { key: 'email', zh: '电子邮箱', en: 'E-mail', width: 28 },
  { key: 'phone', zh: '电话', en: 'Phone', width: 16 },
];

export function columnsFor(q: ExportQuery): ExportColumn[] {
  return q.includeContacts === '1' ? [...COLUMNS, ...CONTACT_COLUMNS] : COLUMNS;
}

const CST_OFFSET_MS = 8 * 3600_000;

/** The database filter and order for a query (founders in number order, others by sequence). */
export function exportFilter(q: ExportQuery): { filter: Record<string, unknown>; sort: Record<string, 1> } {
  const filter: Record<string, unknown> = { sequence: { $gte: 1 } };
  if (q.status !== 'all') filter.status = q.status === 'active' ? PledgeStatus.Active : q.status;
  if (q.province) filter.province = q.province;
  if (q.industry) filter.industry = q.industry;
  if (q.from || q.to) {
    const range: Record<string, Date> = {};
    if (q.from) range.$gte = new Date(Date.parse(`${q.from}T00:00:00Z`) - CST_OFFSET_MS);
    if (q.to) range.$lt = new Date(Date.parse(`${q.to}T00:00:00Z`) - CST_OFFSET_MS + 86_400_000);
    filter.activatedAt = range;
  }
  if (q.founders === '1') {
    filter.foundingNumber = { $gte: 1 };
    return { filter, sort: { foundingNumber: 1 } };
  }
  return { filter, sort: { sequence: 1 } };
}

export function toRow(p: PledgeDoc, withContacts: boolean): ExportRow {
  const row: ExportRow = {
    sequence: p.sequence!,
    foundingNumber: p.foundingNumber ?? null,
    companyName: p.companyName,
    companyNameEn: p.companyNameEn ?? '',
    uscc: p.uscc,
    province: provinceByCode(p.province)?.zh ?? p.province,
    industry: industryByCode(p.industry) ? `${p.industry} ${industryByCode(p.industry)!.zh}` : p.industry,
    signatoryName: p.signatory.name,
    signatoryTitle: p.signatory.title,
    initiativeVersion: p.initiative.version,
    activatedAt: p.activatedAt ? new Date(p.activatedAt).toISOString() : '',
    status: p.status,
    certificateSerial: p.certificateSerial ?? '',
  };
  if (withContacts) {
    row.email = p.signatory.email;
    row.phone = p.signatory.phone ?? '';
  }
  return row;
}

/** Rows in export order, streamed from the database; stops when `signal` aborts (client gone). */
export async function* exportRows(q: ExportQuery, signal?: AbortSignal): AsyncGenerator<ExportRow> {
  const { filter, sort } = exportFilter(q);
  const cursor = Pledge.find(filter).sort(sort).lean<PledgeDoc[]>().cursor({ batchSize: 1000 });
  try {
    for await (const p of cursor) {
      if (signal?.aborted) return;
      yield toRow(p as unknown as PledgeDoc, q.includeContacts === '1');
    }
  } finally {
    await cursor.close();
  }
}
