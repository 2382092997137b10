/** Certificate routes: public lookup and file verification, downloads, revocation, correction. */
import { z } from 'zod';
import { Types } from 'mongoose';
import { Company } from '../../models/company';
import { Pledge, PledgeStatus, type PledgeDoc } from '../../models/pledge';
import { recordEvent } from '../../src/audit/events';
import { requireRole, sessionOf } from '../../src/auth/middleware';
import type { CertificateService } from '../../src/certificates/service';
import { badRequest, conflict, notFound } from '../../src/errors';
import type { ApiBuilder } from '../../src/http/api';
import { readUpload } from '../../src/http/upload';
import { INDUSTRY_CODES } from '../../src/domain/industries';
import { ObjectIdParam, ReasonBody } from '../../src/pledges/schemas';
import { pledgeView } from '../../src/pledges/queries';

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

const CorrectionBody = z.strictObject({
  name: z.string().normalize('NFC').trim().min(2).max(100).optional(),
  nameEn: z.string().normalize('NFC').trim().min(2).max(200).optional(),
  industry: z.enum(INDUSTRY_CODES).optional(),
  reason: z.string().trim().min(2).max(500),
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

  api.route({
    method: 'post',
    path: '/admin/pledges/:id/correct',
    summary: "Correct an active pledge's company data; a new certificate supersedes the old one",
    tags: ['admin'],
    auth: 'admin',
    params: z.strictObject({ id: ObjectIdParam }),
    body: CorrectionBody,
    middleware: [requireRole('admin')],
    responses: { 200: { description: 'The pledge with its new certificate serial' }, 409: { description: 'The pledge is not active' } },
    handler: async ({ params, body }, _req, res) => {
      const actor = `admin:${sessionOf(res).sub}`;
      const { reason, ...changes } = body;
      if (Object.keys(changes).length === 0) throw badRequest('Nothing to correct: give name, nameEn or industry.');
      const before = await Pledge.findById(params.id).lean<PledgeDoc>();
      if (!before) throw notFound('No pledge with this id.');
      if (before.status !== PledgeStatus.Active) throw conflict('Only an active pledge can be corrected.', { code: 'pledge-not-active' });
      const set: Record<string, unknown> = {};
      if (changes.name) set.companyName = changes.name;
      if (changes.nameEn) set.companyNameEn = changes.nameEn;
      if (changes.industry) set.industry = changes.industry;
      await Pledge.updateOne({ _id: before._id }, { $set: set });
      await Company.updateOne({ _id: before.company }, { $set: changes });
      await recordEvent({ actor, action: 'pledge.corrected', subject: { type: 'pledge', id: params.id }, before: { name: before.companyName, nameEn: before.companyNameEn ?? null, industry: before.industry }, after: { ...changes, reason } });
      await certs.supersede(new Types.ObjectId(params.id), actor);
      return pledgeView((await Pledge.findById(params.id).lean<PledgeDoc>())!);
    },
  });
}
