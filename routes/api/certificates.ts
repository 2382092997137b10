/** Certificate routes: public lookup and file verification, downloads, revocation. */
import { z } from 'zod';
import { requireRole, sessionOf } from '../../src/auth/middleware';
import type { CertificateService } from '../../src/certificates/service';
import { badRequest } from '../../src/errors';
import type { ApiBuilder } from '../../src/http/api';
import { readUpload } from '../../src/http/upload';
import { ReasonBody } from '../../src/pledges/schemas';

export const MAX_UPLOAD_BYTES = 5 * 1024 * 1024;
const SerialParams = z.strictObject({ serial: z.string().min(1).max(40) });

const CertificateResponse = z.object({
  serial: z.string(),
  status: z.enum(['valid', 'revoked', 'withdrawn', 'superseded']),
  statusReason: z.string().nullable(),
  supersededBy: z.string().nullable(),
  company: z.object({ name: z.string(), nameEn: z.string().nullable(), uscc: z.string(), province: z.string(), industry: z.string() }),
  issuedAt: z.string(),
  activatedAt: z.string(),
  foundingNumber: z.number().int().nullable(),
  initiative: z.object({ version: z.string(), sha256: z.string() }),
  history: z.array(z.object({ status: z.string(), at: z.string(), actor: z.string(), reason: z.string().optional() })),
});

function sendPdf(res: import('express').Response, serial: string, pdf: Buffer): void {
  res.set('Content-Type', 'application/pdf');
  res.set('Content-Disposition', `attachment; filename="${serial}.pdf"`);
  res.set('Cache-Control', 'private, no-store');
  res.send(pdf);
}

export function certificateRoutes(api: ApiBuilder, certs: CertificateService): void {
  api.route({
    method: 'get',
    path: '/certificates/:serial',
    summary: 'Look up a certificate by serial (what the QR code and the verify page show)',
    tags: ['certificates'],
    params: SerialParams,
    responses: { 200: { description: 'The certificate and its current status', schema: CertificateResponse }, 404: { description: 'Unknown serial' } },
    handler: async ({ params }, _req, res) => {
      res.set('Cache-Control', 'public, max-age=60');
      return certs.lookup(params.serial);
    },
  });

  api.route({
    method: 'post',
    path: '/verify',
    summary: 'Verify an uploaded certificate PDF (multipart field "file", at most 5 MB): each check is listed',
    tags: ['certificates'],
    responses: { 200: { description: 'Verdict with every check (valid is true only when all pass)' }, 413: { description: 'File over 5 MB' }, 415: { description: 'Not multipart/form-data' } },
    handler: async (_i, req) => {
      const bytes = await readUpload(req, { field: 'file', maxBytes: MAX_UPLOAD_BYTES });
      if (bytes.length < 5 || bytes.subarray(0, 5).toString('latin1') !== '%PDF-') throw badRequest('The file is not a PDF.', { code: 'not-a-pdf', errors: [{ path: 'file', message: 'Upload the certificate PDF.' }] });
      return certs.verifyUpload(bytes);
    },
  });

  api.route({
    method: 'get',
    path: '/me/certificate.pdf',
    summary: "Download the signed-in company's current certificate",
    tags: ['company'],
    auth: 'company',
    middleware: [requireRole('company')],
    responses: { 200: { description: 'The issued PDF', contentType: 'application/pdf' }, 404: { description: 'No certificate yet' } },
    handler: async (_i, _req, res) => {
      const { serial, pdf } = await certs.pdfForCompany(sessionOf(res).company!);
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
    middleware: [requireRole('admin')],
    responses: { 200: { description: 'The issued PDF', contentType: 'application/pdf' } },
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
    body: ReasonBody,
    middleware: [requireRole('admin')],
    responses: { 200: { description: 'The revoked certificate', schema: CertificateResponse }, 409: { description: 'Not a valid certificate' } },
    handler: async ({ params, body }, _req, res) => certs.revoke(params.serial, body.reason, sessionOf(res).sub),
  });
}
