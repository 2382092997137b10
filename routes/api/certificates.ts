/** Certificate routes: public lookup and file verification, downloads, revocation. */
import { z } from 'zod';
import { sessionOf } from '../../src/auth/middleware';
import { pledgeCertificatePdf } from '../../src/certificates/records';
import type { CertificateService } from '../../src/certificates/service';
import { authorisedPledge } from '../../src/pledges/access';
import { badRequest } from '../../src/errors';
import type { ApiBuilder } from '../../src/http/api';
import { readUpload, stopReading, uploadError } from '../../src/http/upload';
import { rateLimit } from '../../src/rate-limit';
import { ReasonBody } from '../../src/pledges/schemas';
import { REVOCATION_REASONS } from '../../src/tlog';
import { file, Verdict } from './responses';

/** The largest certificate file accepted: exactly 5 MiB is allowed, one byte more is a 413. */
export const MAX_UPLOAD_BYTES = 5 * 1024 * 1024;
const SerialParams = z.strictObject({ serial: z.string().min(1).max(40) });
/** The free-text reason stays in the registry; only the code goes to the public transparency log. */
const RevokeBody = ReasonBody.extend({
  reasonCode: z
    .enum(REVOCATION_REASONS)
    .optional()
    .meta({ description: 'The reason code logged publicly (default other)' }),
});

const CertificateResponse = z.object({
  serial: z.string(),
  status: z.enum(['valid', 'revoked', 'withdrawn', 'superseded']),
  statusReason: z.string().nullable(),
  supersededBy: z.string().nullable(),
  company: z.object({
    name: z.string(),
    nameEn: z.string().nullable(),
    uscc: z.string(),
    province: z.string(),
    industry: z.string(),
  }),
  issuedAt: z.string(),
  activatedAt: z.string(),
  foundingNumber: z.number().int().nullable(),
  initiative: z.object({ version: z.string(), sha256: z.string() }),
  history: z.array(
    z.object({
      status: z.string(),
      at: z.string(),
      actor: z.string(),
      reason: z.string().optional(),
    }),
  ),
  development: z.boolean().meta({
    description:
      'True when the certificate was signed with the registry’s generated development keys: a sample of no validity',
  }),
});

function sendPdf(res: import('express').Response, serial: string, pdf: Buffer): void {
  res.set('Content-Type', 'application/pdf');
  res.set('Content-Disposition', `attachment; filename="${serial}.pdf"`);
  res.set('Cache-Control', 'private, no-store');
  res.send(pdf);
}

export function certificateRoutes(
  api: ApiBuilder,
  certs: CertificateService,
  opts: { verifyPerMin: number },
): void {
  const verifyLimit = rateLimit({ bucket: 'verify', perMinute: opts.verifyPerMin });
  api.route({
    method: 'get',
    path: '/certificates/:serial',
    summary: 'Look up a certificate by serial (what the QR code and the verify page show)',
    tags: ['certificates'],
    params: SerialParams,
    responses: {
      200: { description: 'The certificate and its current status', schema: CertificateResponse },
      404: { description: 'Unknown serial' },
    },
    publicRead: true,
    handler: async ({ params }, _req, res) => {
      const { json, etag } = await certs.lookupJson(params.serial);
      // The headers res.set and res.type would give, set directly; the ETag made with the bytes
      // spares res.send hashing them (it still answers 304 to a matching If-None-Match).
      res.setHeader('Cache-Control', 'public, max-age=60');
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      res.setHeader('ETag', etag);
      res.send(json);
    },
  });

  api.route({
    method: 'post',
    path: '/verify',
    summary:
      'Verify an uploaded certificate PDF (multipart field "file", at most 5 MiB): each check is listed',
    tags: ['certificates'],
    middleware: [verifyLimit],
    requestContent: {
      'multipart/form-data': z.object({ file: file('The certificate PDF, at most 5 MiB') }),
    },
    responses: {
      200: {
        description: 'Verdict with every check (valid is true only when all pass)',
        schema: Verdict,
      },
      400: { description: 'No file, an empty one, not a PDF, or a malformed or cut-off body' },
      413: { description: 'File over 5 MiB (5,242,880 bytes)' },
      415: { description: 'Not multipart/form-data' },
      422: {
        description:
          'The PDF is too costly to check (inflated size, object count, nesting, memory or time over the caps)',
      },
      429: { description: 'Too many uploads from this address' },
      503: { description: 'Every verification place is taken; retry after Retry-After seconds' },
    },
    handler: async (_i, req) => {
      let release: () => void;
      try {
        release = certs.admitUpload();
      } catch (e) {
        stopReading(req);
        throw e;
      }
      try {
        const upload = await readUpload(req, { field: 'file', maxBytes: MAX_UPLOAD_BYTES });
        if (!upload.ok)
          throw uploadError(upload.problem, { field: 'file', maxBytes: MAX_UPLOAD_BYTES });
        const bytes = upload.bytes;
        if (bytes.length < 5 || bytes.subarray(0, 5).toString('latin1') !== '%PDF-')
          throw badRequest('The file is not a PDF.', {
            code: 'not-a-pdf',
            errors: [{ path: 'file', message: 'Upload the certificate PDF.' }],
          });
        return await certs.verifyUpload(bytes);
      } finally {
        release();
      }
    },
  });

  api.route({
    method: 'get',
    path: '/me/certificate.pdf',
    summary: "Download the signed-in company's current certificate",
    tags: ['company'],
    auth: 'company',
    responses: {
      200: {
        description: 'The issued PDF',
        contentType: 'application/pdf',
        schema: file('The certificate PDF'),
      },
      403: {
        description:
          'The session was granted for a pledge that is no longer the company’s current one',
      },
      404: { description: 'No certificate yet' },
    },
    handler: async (_i, _req, res) => {
      const { serial, pdf } = await pledgeCertificatePdf(await authorisedPledge(sessionOf(res)));
      sendPdf(res, serial, pdf);
    },
  });

  api.route({
    method: 'get',
    path: '/admin/certificates/:serial.pdf',
    summary: 'Download any certificate (admin)',
    tags: ['admin'],
    auth: 'admin',
    params: SerialParams,
    responses: {
      200: {
        description: 'The issued PDF',
        contentType: 'application/pdf',
        schema: file('The certificate PDF'),
      },
      404: { description: 'Unknown serial' },
    },
    handler: async ({ params }, _req, res) => {
      const { serial, pdf } = await certs.pdf(params.serial);
      sendPdf(res, serial, pdf);
    },
  });

  api.route({
    method: 'post',
    path: '/admin/certificates/:serial/revoke',
    summary: 'Revoke a certificate (the pledge becomes revoked; nothing is deleted)',
    tags: ['admin'],
    auth: 'admin',
    params: SerialParams,
    body: RevokeBody,
    responses: {
      200: { description: 'The revoked certificate', schema: CertificateResponse },
      409: { description: 'Not a valid certificate' },
    },
    handler: async ({ params, body }, _req, res) =>
      certs.revoke(params.serial, body.reason, sessionOf(res).sub, body.reasonCode),
  });
}
