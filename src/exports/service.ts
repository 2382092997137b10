/**
 * Runs an export: streams rows from the database through a format writer to the client while
 * hashing the bytes, then signs and stores a manifest (SHA-256, row count, filters, time, key id)
 * so a list handed on can be proved unaltered. A client that disconnects stops the export.
 *
 * The manifest is stored before the last bytes are released to the client: whoever has the
 * whole file can fetch its manifest at once (X-Export-Id). An export that does not finish stores
 * no manifest.
 */
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Types } from 'mongoose';
import { ExportRecord } from '../../models/export';
import { Pledge, PledgeStatus } from '../../models/pledge';
import { recordEvent } from '../audit/events';
import { AppError } from '../errors';
import { INDUSTRIES } from '../domain/industries';
import { PROVINCES } from '../domain/provinces';
import { csvCell, writerFor, type ExportFormat } from './formats';
import {
  columnsFor,
  countExportRows,
  exportBatches,
  exportDocBatches,
  type ExportColumn,
  type ExportQuery,
} from './rows';
import { chinaDayExpression } from '../time/china';
import { XLSX_MAX_ROWS } from './xlsx';

export interface ManifestSigner {
  keyId: string;
  sign(payload: object): string;
}

export interface ExportManifest {
  id: string;
  kind: 'signatories';
  format: ExportFormat;
  filters: ExportQuery;
  rows: number;
  bytes: number;
  sha256: string;
  createdAt: string;
  keyId: string;
}

/** Counts and hashes what passes through; runs `onEnd` (with the digest) before the end is passed on. */
class Digest extends Transform {
  private readonly hash = createHash('sha256');
  bytes = 0;
  constructor(private readonly onEnd: (sha256: string, bytes: number) => Promise<void>) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    cb(null, chunk);
  }
  override _flush(cb: TransformCallback): void {
    this.onEnd(this.hash.digest('hex'), this.bytes).then(() => cb(), cb);
  }
}

/** Rows one XLSX sheet holds below its header (Excel's limit). */
export const XLSX_MAX_SHEET_ROWS = XLSX_MAX_ROWS - 1;

/** The limits exports are refused by (an object, so that tests can lower them). */
export const exportLimits = { xlsxRows: XLSX_MAX_SHEET_ROWS };

/** Whether the format can hold every row the query matches (only XLSX has a limit). */
export async function exportFits(
  format: ExportFormat,
  query: ExportQuery,
  maxXlsxRows = exportLimits.xlsxRows,
): Promise<boolean> {
  return format !== 'xlsx' || (await countExportRows(query, maxXlsxRows + 1)) <= maxXlsxRows;
}

/**
 * Refuses, before any byte is sent, an export its format cannot hold: a list over one XLSX
 * sheet's rows is a 422 that points to CSV or JSON (or a narrower filter) instead of a file cut
 * off half-way.
 */
export async function assertExportFits(
  format: ExportFormat,
  query: ExportQuery,
  maxXlsxRows = exportLimits.xlsxRows,
): Promise<void> {
  if (!(await exportFits(format, query, maxXlsxRows)))
    throw new AppError({
      status: 422,
      code: 'export-too-large',
      detail: `More than ${maxXlsxRows.toLocaleString('en')} rows match: an XLSX sheet holds at most that many. Download CSV or JSON, or narrow the filters (status, province, industry, dates).`,
    });
}

export interface RunExportOptions {
  format: ExportFormat;
  query: ExportQuery;
  actor: string;
  sink: Writable;
  signal: AbortSignal;
  /** Signs the manifest; without one (open data) nothing is stored and null is returned. */
  signer?: ManifestSigner;
  id?: Types.ObjectId;
  /** Defaults to the query's columns (with contacts when asked for). */
  columns?: ExportColumn[];
  /** `public` for open data (the PDF roster then has the public columns only). */
  audience?: 'admin' | 'public';
}

/**
 * Streams the export to `sink`. Resolves with the stored manifest, or null when the export was
 * stopped (`signal` aborted or the sink closed early) or no signer was given. Other failures
 * reject (the sink is destroyed, so a client never mistakes a cut file for a whole one).
 */
export async function runExport(opts: RunExportOptions): Promise<ExportManifest | null> {
  const id = opts.id ?? new Types.ObjectId();
  const generatedAt = new Date();
  if (opts.query.includeContacts === '1') {
    // Personal data leaves the registry: say who took it, before it goes.
    await recordEvent({
      actor: opts.actor,
      action: 'export.contacts',
      subject: { type: 'export', id: String(id) },
      after: { format: opts.format, filters: opts.query },
    });
  }
  let rows = 0;
  let manifest: ExportManifest | null = null;
  const signer = opts.signer;
  const digest = new Digest(async (sha256, bytes) => {
    if (!signer) return;
    const m: ExportManifest = {
      id: String(id),
      kind: 'signatories',
      format: opts.format,
      filters: opts.query,
      rows,
      bytes,
      sha256,
      createdAt: new Date().toISOString(),
      keyId: signer.keyId,
    };
    const jws = signer.sign(m);
    await ExportRecord.create({
      _id: id,
      format: m.format,
      filters: m.filters,
      rows,
      bytes,
      sha256,
      actor: opts.actor,
      keyId: m.keyId,
      jws,
    });
    await recordEvent({
      actor: opts.actor,
      action: 'export.completed',
      subject: { type: 'export', id: m.id },
      after: { format: m.format, rows, sha256 },
    });
    manifest = m;
  });
  // pipeline: if the client goes away the digest is destroyed too, which stops any writer waiting on it.
  const delivered = pipeline(digest, opts.sink);
  delivered.catch(() => undefined);
  const stop = () => digest.destroy();
  opts.signal.addEventListener('abort', stop, { once: true });
  try {
    const writer = writerFor(opts.format, digest, {
      columns: opts.columns ?? columnsFor(opts.query),
      query: opts.query,
      exportId: String(id),
      generatedAt,
      audience: opts.audience,
    });
    if (writer.writeDocs) {
      for await (const docs of exportDocBatches(opts.query, opts.signal)) {
        await writer.writeDocs(docs);
        rows += docs.length;
      }
    } else {
      for await (const batch of exportBatches(opts.query, opts.signal)) {
        await writer.writeRows(batch);
        rows += batch.length;
      }
    }
    if (opts.signal.aborted) return null;
    await writer.end();
    await delivered;
  } catch (e) {
    // Cut the file off (the client sees an incomplete response, never a short "complete" one).
    digest.destroy();
    if (opts.signal.aborted || isClientGone(e)) return null;
    throw e;
  } finally {
    opts.signal.removeEventListener('abort', stop);
  }
  return manifest;
}

function isClientGone(e: unknown): boolean {
  const code = (e as { code?: string; name?: string } | null)?.code;
  const name = (e as { name?: string } | null)?.name;
  return (
    name === 'SinkClosedError' ||
    name === 'AbortError' ||
    code === 'ERR_STREAM_PREMATURE_CLOSE' ||
    code === 'ERR_STREAM_DESTROYED' ||
    code === 'ECONNRESET' ||
    code === 'EPIPE'
  );
}

export async function exportManifest(
  id: string,
): Promise<{ manifest: ExportManifest; jws: string } | null> {
  const rec = await ExportRecord.findById(id).lean();
  if (!rec) return null;
  const payload = JSON.parse(
    Buffer.from(rec.jws.split('.')[1], 'base64url').toString('utf8'),
  ) as ExportManifest;
  return { manifest: payload, jws: rec.jws };
}

export interface ExportSummary {
  id: string;
  format: string;
  rows: number;
  bytes: number;
  sha256: string;
  actor: string;
  createdAt: Date;
  manifestUrl: string;
}

/** The latest finished exports, newest first (for the console's exports page). */
export async function recentExports(limit = 20): Promise<ExportSummary[]> {
  const recs = await ExportRecord.find(
    {},
    { format: 1, rows: 1, bytes: 1, sha256: 1, actor: 1, createdAt: 1 },
  )
    .sort({ createdAt: -1, _id: -1 })
    .limit(limit)
    .lean<Array<Omit<ExportSummary, 'id' | 'manifestUrl'> & { _id: Types.ObjectId }>>();
  return recs.map((r) => ({
    id: String(r._id),
    format: r.format,
    rows: r.rows,
    bytes: r.bytes,
    sha256: r.sha256,
    actor: r.actor,
    createdAt: r.createdAt,
    manifestUrl: `/api/v1/admin/exports/${String(r._id)}/manifest`,
  }));
}

/**
 * Open data: active signatories per day (China time), province and industry, as CSV. Aggregated
 * in the database; the answer has at most one line per day × province × industry with signings.
 */
export async function dailyCountsCsv(): Promise<string> {
  const groups = await Pledge.aggregate<{
    _id: { day: string; province: string; industry: string };
    count: number;
  }>([
    { $match: { status: PledgeStatus.Active } },
    {
      $group: {
        _id: {
          day: chinaDayExpression('$activatedAt'),
          province: '$province',
          industry: '$industry',
        },
        count: { $sum: 1 },
      },
    },
    { $sort: { '_id.day': 1, '_id.province': 1, '_id.industry': 1 } },
  ]);
  const provinces = new Map(PROVINCES.map((p) => [p.code as string, p]));
  const industries = new Map(INDUSTRIES.map((i) => [i.code as string, i]));
  const header = [
    '日期 Date (China time)',
    '省份代码 Province code',
    '省份 Province',
    'Province (English)',
    '行业代码 Industry code',
    '行业 Industry',
    'Industry (English)',
    '新增签署企业 Signatories',
  ];
  let out = '\uFEFF' + header.map(csvCell).join(',') + '\r\n';
  for (const g of groups) {
    const p = provinces.get(g._id.province);
    const i = industries.get(g._id.industry);
    out +=
      [
        g._id.day,
        g._id.province,
        p?.zh ?? '',
        p?.en ?? '',
        g._id.industry,
        i?.zh ?? '',
        i?.en ?? '',
        g.count,
      ]
        .map(csvCell)
        .join(',') + '\r\n';
  }
  return out;
}
