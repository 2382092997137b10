/**
 * Certificate verification: a serial box, `/verify/<serial>` (the QR code's target) with a large
 * verdict, and the upload of a certificate PDF, answered with every check in words. The lookups
 * are pluggable (SiteKit.verify, SiteKit.certificates); the registry wires the certificate service.
 */
import express, { type Request, type Response, type Router } from 'express';
import type { I18n, MessageKey } from '../../src/i18n';
import type { UploadVerdict } from '../../src/site/certificates';
import type { FormErrors } from '../../src/site/forms';
import { readFormUpload, UPLOAD_STATUS, type UploadProblem } from '../../src/site/upload';
import { SERIAL_INPUT_MAX, type Verdict } from '../../src/site/verdict';
import { firstQueryValue } from '../../src/site/view';
import { MAX_UPLOAD_BYTES } from '../api/certificates';
import type { SiteKit } from './kit';

/** Check names the catalogs explain; any other is shown by its name. */
const KNOWN_CHECKS = new Set([
  'credential-present',
  'credential-signature',
  'credential-matches-document',
  'pdf-signature',
  'pdf-signer-trusted',
  'serial-known',
  'registry-match',
  'status',
]);

type FileProblem = UploadProblem | 'not-pdf';

function verdictView(v: Verdict, l: I18n) {
  const d = v.details;
  return {
    kind: v.kind,
    serial: v.serial,
    details: d
      ? {
          companyName: d.companyName,
          companyNameEn: d.companyNameEn ?? null,
          uscc: d.uscc,
          province: d.province ? l.province(d.province) : null,
          industry: d.industry ? l.industry(d.industry) : null,
          issuedAt: d.issuedAt ? l.date(d.issuedAt) : null,
          foundingNumber: d.foundingNumber ?? null,
          initiativeVersion: d.initiativeVersion ?? null,
          endedAt: d.endedAt ? l.date(d.endedAt) : null,
          reason: d.reason ?? null,
          supersededBy: d.supersededBy ?? null,
        }
      : null,
  };
}

/**
 * The upload's answer: `valid` when every check passed; `unreadable` when none did (nothing in
 * the file is a certificate of this registry: damaged, or some other PDF); otherwise `invalid`.
 */
function uploadView(v: UploadVerdict, filename: string, l: I18n) {
  const outcome = v.valid ? 'valid' : v.checks.some((c) => c.ok) ? 'invalid' : 'unreadable';
  const ended = v.status && v.status !== 'valid' ? v.status : null;
  return {
    outcome,
    filename: filename.slice(0, 200),
    serial: v.serial,
    company: v.certificate
      ? {
          name: v.certificate.company.name,
          nameEn: v.certificate.company.nameEn,
          uscc: v.certificate.company.uscc,
        }
      : null,
    checks: v.checks.map((c) => ({
      name: c.name,
      ok: c.ok,
      label: KNOWN_CHECKS.has(c.name)
        ? l.t(`upload.check.${c.name}` as MessageKey)
        : l.t('upload.check.other', { name: c.name }),
      // The registry's word for a certificate that is no longer valid (revoked, withdrawn, …).
      note: !c.ok && c.name === 'status' && ended ? l.t(`verdict.${ended}.title`) : null,
      reason: c.ok ? null : (c.reason ?? null),
    })),
  };
}

function fileErrors(problem: FileProblem | undefined, l: I18n): FormErrors {
  if (!problem) return { fields: {}, summary: [] };
  const text = l.t(`upload.error.${problem}`, { max: MAX_UPLOAD_BYTES / 1024 / 1024 });
  return { fields: { file: text }, summary: [{ href: '#f-file', text }] };
}

/** What the API accepts as a PDF: the header at the very start. */
function looksLikePdf(bytes: Buffer): boolean {
  return bytes.subarray(0, 5).toString('latin1') === '%PDF-';
}

export function verifyPages(kit: SiteKit): Router {
  const router = express.Router();

  const renderForm = (
    req: Request,
    res: Response,
    state: { empty?: boolean; problem?: FileProblem },
    status = 200,
  ) => {
    kit.page(
      req,
      res,
      'verify',
      {
        empty: state.empty ?? false,
        upload: fileErrors(state.problem, kit.l(res)),
        maxMb: MAX_UPLOAD_BYTES / 1024 / 1024,
        csrf: kit.csrf.token(req, res),
      },
      // The upload form carries a CSRF token: never stored.
      { policy: 'no-store', status, section: '/verify' },
    );
  };

  router.get('/verify', (req, res) => {
    const serial = firstQueryValue(req, 'serial');
    if (serial !== undefined && serial.trim() !== '') {
      // The form is a GET so that the result has its own address (the same one the QR code uses).
      res.redirect(303, `/verify/${encodeURIComponent(serial.trim().slice(0, SERIAL_INPUT_MAX))}`);
      return;
    }
    renderForm(req, res, { empty: serial !== undefined });
  });

  // Only the form posts here; a reload or a typed address goes back to the form.
  router.get('/verify/upload', (_req, res) => res.redirect(303, '/verify'));

  router.post('/verify/upload', async (req, res) => {
    // CSRF: the form's `_csrf` field, read from the multipart stream before the file (a 403 otherwise).
    const upload = await readFormUpload(req, {
      field: 'file',
      maxBytes: MAX_UPLOAD_BYTES,
      csrfMatches: (sent) => kit.csrf.matches(req, sent),
    });
    if (!upload.ok) {
      renderForm(req, res, { problem: upload.problem }, UPLOAD_STATUS[upload.problem]);
      return;
    }
    if (!looksLikePdf(upload.bytes)) {
      renderForm(req, res, { problem: 'not-pdf' }, 400);
      return;
    }
    const result = uploadView(
      await kit.certificates.verifyUpload(upload.bytes),
      upload.filename,
      kit.l(res),
    );
    kit.page(
      req,
      res,
      'verify-upload',
      { result },
      {
        policy: 'no-store',
        status: result.outcome === 'unreadable' ? 422 : 200,
        section: '/verify',
      },
    );
  });

  router.get('/verify/:serial', async (req, res) => {
    const raw = String(req.params.serial ?? '').trim();
    // Anything that cannot be a serial is simply unknown: no lookup, same verdict page.
    const plausible =
      raw.length > 0 && raw.length <= SERIAL_INPUT_MAX && /^[\x21-\x7e]+$/.test(raw);
    const verdict: Verdict = plausible
      ? await kit.verify(raw)
      : { kind: 'not_found', serial: raw.slice(0, SERIAL_INPUT_MAX) };
    kit.page(
      req,
      res,
      'verdict',
      { verdict: verdictView(verdict, kit.l(res)) },
      { status: verdict.kind === 'not_found' ? 404 : 200, section: '/verify' },
    );
  });

  return router;
}
