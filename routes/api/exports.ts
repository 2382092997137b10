/** Signatory list exports (admin) and public open data. All formats stream from a cursor. */
import { Types } from 'mongoose';
import { z } from 'zod';
import { requireRole, sessionOf } from '../../src/auth/middleware';
import { notFound } from '../../src/errors';
import { CONTENT_TYPES, type ExportFormat } from '../../src/exports/formats';
import { ExportQuery } from '../../src/exports/rows';
import { exportManifest, runExport, type ManifestSigner } from '../../src/exports/service';
import type { ApiBuilder } from '../../src/http/api';
import { ObjectIdParam } from '../../src/pledges/schemas';

const FormatParams = z.strictObject({ format: z.enum(['csv', 'xlsx', 'json']) });

function stream(format: ExportFormat, query: ExportQuery, actor: string, signer: ManifestSigner, req: import('express').Request, res: import('express').Response) {
  const id = new Types.ObjectId();
  const stamp = new Date().toISOString().slice(0, 10);
  res.status(200);
  res.set('Content-Type', CONTENT_TYPES[format]);
  res.set('Content-Disposition', `attachment; filename="signatories-${stamp}.${format === 'ndjson' ? 'ndjson' : format}"`);
  res.set('Cache-Control', 'private, no-store');
  res.set('X-Export-Id', String(id));
  res.set('Link', `</api/v1/admin/exports/${String(id)}/manifest>; rel="describedby"`);
  // A client that goes away stops the database cursor.
  const abort = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  void req;
  return runExport({ format, query, actor, sink: res, signal: abort.signal, signer, id });
}

export function exportRoutes(api: ApiBuilder, signer: ManifestSigner): void {
  api.route({
    method: 'get',
    path: '/admin/exports/signatories.:format',
    summary: 'Export signatories as CSV (UTF-8 with BOM, formula-safe), XLSX or JSON (array, or NDJSON with Accept: application/x-ndjson)',
    tags: ['admin', 'exports'],
    auth: 'admin',
    params: FormatParams,
    query: ExportQuery,
    middleware: [requireRole('admin')],
    responses: { 200: { description: 'The file; X-Export-Id names its signed manifest' } },
    handler: async ({ params, query }, req, res) => {
      const format: ExportFormat = params.format === 'json' && req.accepts(['application/json', 'application/x-ndjson']) === 'application/x-ndjson' ? 'ndjson' : params.format;
      await stream(format, query, `admin:${sessionOf(res).sub}`, signer, req, res);
    },
  });

  api.route({
    method: 'get',
    path: '/admin/exports/:id/manifest',
    summary: "An export's manifest (SHA-256, rows, filters, time, key id) and its Ed25519 JWS",
    tags: ['admin', 'exports'],
    auth: 'admin',
    params: z.strictObject({ id: ObjectIdParam }),
    middleware: [requireRole('admin')],
    responses: { 200: { description: 'Manifest and compact JWS (verify with /.well-known/jwks.json)' }, 404: { description: 'Unknown export (or it did not finish)' } },
    handler: async ({ params }) => {
      const m = await exportManifest(params.id);
      if (!m) throw notFound('No finished export with this id.');
      return m;
    },
  });

  api.route({
    method: 'get',
    path: '/open-data/signatories.csv',
    summary: 'Open data: active signatories without personal data (CSV, UTF-8 with BOM)',
    tags: ['public', 'exports'],
    responses: { 200: { description: 'CSV', contentType: 'text/csv' } },
    handler: async (_i, req, res) => {
      res.set('Cache-Control', 'public, max-age=300');
      await stream('csv', { status: 'active' }, 'public', signer, req, res);
    },
  });
}
