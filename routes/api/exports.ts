/** Signatory list exports (admin) and public open data. All formats stream from a cursor. */
import type { Request, Response } from 'express';
import { Types } from 'mongoose';
import { z } from 'zod';
import { sessionOf } from '../../src/auth/middleware';
import { AppError, notFound, validationFailed } from '../../src/errors';
import { CONTENT_TYPES, FILE_EXTENSIONS, type ExportFormat } from '../../src/exports/formats';
import { ExportQuery, OPEN_DATA_COLUMNS, type ExportColumn } from '../../src/exports/rows';
import {
  assertExportFits,
  dailyCountsCsv,
  exportManifest,
  runExport,
  type ManifestSigner,
} from '../../src/exports/service';
import type { ApiBuilder, ResponseSpec } from '../../src/http/api';
import { ObjectIdParam } from '../../src/pledges/schemas';
import { ExportManifest, file } from './responses';

/** The bare media type of a format (the document keys content by type, without charset). */
const media = (f: ExportFormat): string => CONTENT_TYPES[f].split(';')[0];

const FormatParams = z.strictObject({ format: z.enum(['csv', 'xlsx', 'json', 'pdf']) });

/** Open-data downloads running at once in this process; more wait for a cached copy upstream (503). */
const OPEN_DATA_CONCURRENCY = 2;
let openDataRunning = 0;

async function stream(opts: {
  format: ExportFormat;
  query: ExportQuery;
  actor: string;
  signer?: ManifestSigner;
  columns?: ExportColumn[];
  audience?: 'admin' | 'public';
  filename: string;
  req: Request;
  res: Response;
}) {
  const { res } = opts;
  await assertExportFits(opts.format, opts.query);
  const id = new Types.ObjectId();
  const stamp = new Date().toISOString().slice(0, 10);
  res.status(200);
  res.set('Content-Type', CONTENT_TYPES[opts.format]);
  res.set(
    'Content-Disposition',
    `attachment; filename="${opts.filename}-${stamp}.${FILE_EXTENSIONS[opts.format]}"`,
  );
  if (opts.signer) {
    res.set('Cache-Control', 'private, no-store');
    res.set('X-Export-Id', String(id));
    res.set('Link', `</api/v1/admin/exports/${String(id)}/manifest>; rel="describedby"`);
  }
  // A client that goes away stops the database cursor.
  const abort = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  return runExport({
    format: opts.format,
    query: opts.query,
    actor: opts.actor,
    sink: res,
    signal: abort.signal,
    signer: opts.signer,
    columns: opts.columns,
    audience: opts.audience,
    id,
  });
}

/**
 * Anonymous downloads of the whole registry: bounded here (cacheable upstream), and they write
 * nothing (no manifest or audit event per anonymous download).
 */
async function openData(res: Response, run: () => Promise<unknown>): Promise<void> {
  if (openDataRunning >= OPEN_DATA_CONCURRENCY)
    throw new AppError({
      status: 503,
      detail: 'Too many open-data downloads at once; please retry shortly.',
      retryAfter: 30,
    });
  openDataRunning++;
  try {
    res.set('Cache-Control', 'public, max-age=300');
    await run();
  } finally {
    openDataRunning--;
  }
}

export function exportRoutes(api: ApiBuilder, signer: ManifestSigner): void {
  api.route({
    method: 'get',
    path: '/admin/exports/signatories.:format',
    summary:
      'Export signatories as CSV (UTF-8 with BOM, formula-safe), XLSX, JSON (array, or NDJSON with Accept: application/x-ndjson) or a bilingual PDF roster (founders=1: the founding signatories)',
    tags: ['admin', 'exports'],
    auth: 'admin',
    params: FormatParams,
    query: ExportQuery,
    responses: {
      200: {
        description:
          'The file, streamed; X-Export-Id names its signed manifest (stored before the last byte is sent)',
        content: {
          [media('csv')]: file('signatories.csv'),
          [media('xlsx')]: file('signatories.xlsx'),
          [media('json')]: z
            .array(z.object({}).loose())
            .meta({ description: 'signatories.json: one object per row' }),
          [media('ndjson')]: file(
            'One JSON object per line (Accept: application/x-ndjson on signatories.json)',
          ),
          [media('pdf')]: file('signatories.pdf: the bilingual roster'),
        },
      },
      422: {
        description:
          'XLSX asked for more rows than one sheet holds (1,048,575): use CSV or JSON, or narrower filters',
      },
    },
    handler: async ({ params, query }, req, res) => {
      if (params.format === 'pdf' && query.includeContacts === '1') {
        // A printed roster is handed around: contacts never go on it.
        throw validationFailed(
          [
            {
              path: 'includeContacts',
              message: 'The PDF roster never includes contacts; use CSV, XLSX or JSON.',
            },
          ],
          'Some query parameters are invalid.',
        );
      }
      const format: ExportFormat =
        params.format === 'json' &&
        req.accepts(['application/json', 'application/x-ndjson']) === 'application/x-ndjson'
          ? 'ndjson'
          : params.format;
      await stream({
        format,
        query,
        actor: `admin:${sessionOf(res).sub}`,
        signer,
        filename: query.founders === '1' ? 'founding-signatories' : 'signatories',
        req,
        res,
      });
    },
  });

  api.route({
    method: 'get',
    path: '/admin/exports/:id/manifest',
    summary: "An export's manifest (SHA-256, rows, filters, time, key id) and its Ed25519 JWS",
    tags: ['admin', 'exports'],
    auth: 'admin',
    params: z.strictObject({ id: ObjectIdParam }),
    responses: {
      200: {
        description: 'Manifest and compact JWS (verify with /.well-known/jwks.json)',
        schema: ExportManifest,
      },
      404: { description: 'Unknown export (or it did not finish)' },
    },
    handler: async ({ params }) => {
      const m = await exportManifest(params.id);
      if (!m) throw notFound('No finished export with this id.');
      return m;
    },
  });

  /** A whole-registry open-data file, streamed like an export but anonymous and bounded. */
  const openDataFile = (
    path: string,
    summary: string,
    ok: ResponseSpec,
    download: Omit<Parameters<typeof stream>[0], 'actor' | 'req' | 'res'>,
  ) =>
    api.route({
      method: 'get',
      path,
      summary,
      tags: ['public', 'exports'],
      responses: {
        200: ok,
        503: { description: 'Too many downloads at once; retry shortly' },
      },
      handler: async (_i, req, res) => {
        await openData(res, () => stream({ ...download, actor: 'public', req, res }));
      },
    });

  openDataFile(
    '/open-data/signatories.csv',
    'Open data: active signatories without personal data (no signatory name, title or contacts); CSV, UTF-8 with BOM',
    { description: 'CSV', contentType: media('csv'), schema: file('The open-data CSV') },
    {
      format: 'csv',
      query: { status: 'active' },
      columns: OPEN_DATA_COLUMNS,
      filename: 'eqi-signatories-open-data',
    },
  );

  openDataFile(
    '/open-data/founders.pdf',
    'Open data: the founding signatories as a bilingual PDF roster in number order (a withdrawn or revoked founder keeps its place, with its status), without personal data (no signatory name, title or contacts)',
    {
      description:
        'PDF: founding number, company (Chinese and English), USCC, province, industry, activation date, status',
      contentType: media('pdf'),
      schema: file('The founders roster'),
    },
    {
      format: 'pdf',
      query: { status: 'all', founders: '1' },
      audience: 'public',
      filename: 'eqi-founders',
    },
  );

  api.route({
    method: 'get',
    path: '/open-data/daily-counts.csv',
    summary:
      'Open data: active signatories per day (China time), province and industry; CSV, UTF-8 with BOM',
    tags: ['public', 'exports'],
    responses: {
      200: { description: 'CSV', contentType: media('csv'), schema: file('Daily counts CSV') },
    },
    handler: async (_i, _req, res) => {
      const csv = await dailyCountsCsv();
      res.set('Content-Type', CONTENT_TYPES.csv);
      res.set(
        'Content-Disposition',
        `attachment; filename="eqi-daily-counts-${new Date().toISOString().slice(0, 10)}.csv"`,
      );
      res.set('Cache-Control', 'public, max-age=300');
      res.send(csv);
    },
  });
}
