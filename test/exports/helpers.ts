/**
 * Reading exports back the way their users would: an RFC 4180 CSV parser written here (so the
 * test does not trust the writer's own quoting), poppler's pdftotext for the roster, and the
 * expected rows computed straight from the database, independently of the export code.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Express } from 'express';
import request from 'supertest';
import { Pledge, type PledgeDoc } from '../../models/pledge';
import { industryByCode } from '../../src/domain/industries';
import { provinceByCode } from '../../src/domain/provinces';
import { intlBeijingIso } from '../helpers/china-time';

/** supertest parser that keeps the body as bytes. */
export function binary(
  res: NodeJS.ReadableStream,
  cb: (err: Error | null, body: Buffer) => void,
): void {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => cb(null, Buffer.concat(chunks)));
}

/** GET with a bearer token, body as bytes. */
export type Download = Omit<request.Response, 'body'> & { body: Buffer };

export async function download(
  app: Express,
  url: string,
  token: string | undefined,
  accept?: string,
): Promise<Download> {
  let req = request(app).get(url);
  if (token) req = req.set('Authorization', `Bearer ${token}`);
  if (accept) req = req.set('Accept', accept);
  return (await req.buffer(true).parse(binary as never)) as Download;
}

/**
 * RFC 4180: fields separated by commas, records by CRLF; a quoted field may hold commas, CR, LF
 * and doubled quotes. Returns the records (the BOM must be removed first).
 */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  let atFieldStart = true;
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        if (i < text.length && text[i] !== ',' && text[i] !== '\r')
          throw new Error(`CSV: text after a closing quote at ${i}`);
        continue;
      }
      field += c;
      i++;
      continue;
    }
    if (c === '"' && atFieldStart) {
      quoted = true;
      atFieldStart = false;
      i++;
      continue;
    }
    if (c === '"') throw new Error(`CSV: a quote inside an unquoted field at ${i}`);
    if (c === ',') {
      record.push(field);
      field = '';
      atFieldStart = true;
      i++;
      continue;
    }
    if (c === '\r') {
      if (text[i + 1] !== '\n') throw new Error(`CSV: bare CR outside quotes at ${i}`);
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      atFieldStart = true;
      i += 2;
      continue;
    }
    if (c === '\n') throw new Error(`CSV: bare LF outside quotes at ${i}`);
    field += c;
    atFieldStart = false;
    i++;
  }
  if (quoted) throw new Error('CSV: unterminated quoted field');
  if (field !== '' || record.length) {
    record.push(field);
    records.push(record);
  }
  return records;
}

/** A CSV export as header + records, checking and removing the UTF-8 BOM. */
export function readCsv(body: Buffer): { header: string[]; rows: string[][] } {
  if (body[0] !== 0xef || body[1] !== 0xbb || body[2] !== 0xbf)
    throw new Error('CSV does not start with a UTF-8 BOM');
  const [header, ...rows] = parseCsv(body.subarray(3).toString('utf8'));
  return { header: header!, rows };
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'eqi-export-test-'));
process.once('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
let tmpN = 0;

/** Runs a PDF tool (poppler's, or qpdf) on the PDF bytes; a failing tool throws. */
export function poppler(
  tool: 'pdftotext' | 'pdffonts' | 'pdfinfo' | 'pdftoppm' | 'qpdf',
  pdf: Buffer,
  args: string[] = [],
): string {
  const file = path.join(tmp, `export-${tmpN++}.pdf`);
  fs.writeFileSync(file, pdf);
  try {
    const files = tool === 'pdftotext' ? [file, '-'] : [file];
    return execFileSync(tool, [...args, ...files], {
      encoding: tool === 'pdftoppm' ? 'latin1' : 'utf8',
      timeout: 60_000,
      maxBuffer: 256 * 1024 * 1024,
    });
  } finally {
    fs.rmSync(file, { force: true });
  }
}

/** What a row must say, computed from the stored pledge (not by the export code). */
export interface Expected {
  sequence: string;
  foundingNumber: string;
  companyName: string;
  companyNameEn: string;
  uscc: string;
  province: string;
  provinceEn: string;
  industry: string;
  industryEn: string;
  signatoryName: string;
  signatoryTitle: string;
  initiativeVersion: string;
  /** Beijing time with its offset, to the second: 2026-12-02T04:08:26+08:00 */
  activatedAt: string;
  /** activation day in China time, as the roster prints it */
  activatedDay: string;
  status: string;
  /** The status in Chinese, as CSV and XLSX show it (JSON has it beside the code). */
  statusLabel: string;
  certificateSerial: string;
  email: string;
  phone: string;
}

/** The Chinese the association's users read for each exported status: the site's own words. */
export const STATUS_ZH: Record<string, string> = {
  active: '有效',
  withdrawn: '已撤回',
  revoked: '已撤销',
};

export function expectedOf(p: PledgeDoc): Expected {
  const activated = p.activatedAt ? new Date(p.activatedAt) : undefined;
  const industry = industryByCode(p.industry);
  return {
    sequence: String(p.sequence),
    foundingNumber: p.foundingNumber ? String(p.foundingNumber) : '',
    companyName: p.companyName,
    companyNameEn: p.companyNameEn ?? '',
    uscc: p.uscc,
    province: provinceByCode(p.province)!.zh,
    provinceEn: provinceByCode(p.province)!.en,
    industry: `${p.industry} ${industry!.zh}`,
    industryEn: industry!.en,
    signatoryName: p.signatory.name,
    signatoryTitle: p.signatory.title,
    initiativeVersion: String(p.initiative.version),
    activatedAt: activated ? intlBeijingIso(activated) : '',
    activatedDay: activated
      ? new Date(activated.getTime() + 8 * 3600_000).toISOString().slice(0, 10)
      : '',
    status: p.status,
    statusLabel: STATUS_ZH[p.status] ?? `(no label for ${p.status})`,
    certificateSerial: p.certificateSerial ?? '',
    email: p.signatory.email,
    phone: p.signatory.phone ?? '',
  };
}

/** The rows an export of `filter` must contain, in order. */
export async function expectedRows(
  filter: Record<string, unknown>,
  sort: Record<string, 1> = { sequence: 1 },
): Promise<Expected[]> {
  const docs = await Pledge.find({ sequence: { $gte: 1 }, ...filter })
    .sort(sort)
    .lean<PledgeDoc[]>();
  return docs.map(expectedOf);
}

/** Export column order (without contacts). */
export const CSV_KEYS: Array<keyof Expected> = [
  'sequence',
  'foundingNumber',
  'companyName',
  'companyNameEn',
  'uscc',
  'province',
  'industry',
  'signatoryName',
  'signatoryTitle',
  'initiativeVersion',
  'activatedAt',
  'statusLabel',
  'certificateSerial',
];

/** What a spreadsheet would run as a formula gets an apostrophe in front. */
export function neutralised(v: string): string {
  return /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
}
