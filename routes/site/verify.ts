/**
 * Certificate verification: a serial box, `/verify/<serial>` (the QR code's target) with a large
 * verdict, and the upload of a certificate PDF, answered with every check in words. The lookups
 * are pluggable (SiteKit.verify, SiteKit.certificates); the registry wires the certificate service.
 */
import express, { type Request, type Response, type Router } from 'express';
import { parseSerial, REASON_CODES } from '../../certificates';
import {
  REGISTRY_REASON_CODES,
  UPLOAD_CHECKS,
  type UploadVerdict,
} from '../../src/certificates/verification';
import {
  SERIAL_INPUT_MAX,
  verdictFor,
  type Verdict,
  type VerdictKind,
} from '../../src/certificates/verdict';
import type { I18n, MessageKey } from '../../src/i18n';
import type { FormErrors } from '../../src/site/forms';
import { VerificationRefused, type RefusalKind } from '../../src/certificates/verify-pool';
import { readUpload, stopReading, UPLOAD_STATUS, type UploadProblem } from '../../src/http/upload';
import { rateLimit } from '../../src/rate-limit';
import { firstQueryValue } from '../../src/site/view';
import { MAX_UPLOAD_BYTES } from '../api/certificates';
import type { SiteKit } from './kit';

/** Check names the catalogs explain; any other is shown by its name. */
const KNOWN_CHECKS = new Set<string>(UPLOAD_CHECKS);

/** A typo is bad input (400); an unknown serial has no page (404); a known one has, whatever its status. */
const VERDICT_STATUS: Record<VerdictKind, number> = {
  valid: 200,
  revoked: 200,
  withdrawn: 200,
  superseded: 200,
  not_found: 404,
  mistyped: 400,
};

/** Reason codes the catalogs translate (`upload.reason.<code>`); any other shows its English text. */
const KNOWN_REASONS = new Set<string>([...REASON_CODES, ...REGISTRY_REASON_CODES]);

/** What the form can say about a file: the upload's problems, not a PDF, or not checked (a cap, busy). */
type FileProblem = UploadProblem | 'not-pdf' | 'too-complex' | 'busy';
type FileState = { problem?: FileProblem; limit?: RefusalKind };

function verdictView(v: Verdict, l: I18n) {
  const d = v.details;
  return {
    kind: v.kind,
    serial: v.serial,
    development: v.development ?? false,
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
    development: v.development,
    filename: filename.slice(0, 200),
    serial: v.serial,
    company: v.certificate
      ? {
          name: v.certificate.company.name,
          nameEn: v.certificate.company.nameEn,
          uscc: v.certificate.company.uscc,
        }
      : null,
    checks: v.checks.map((c) => {
      const known = KNOWN_CHECKS.has(c.name);
      const translated = !c.ok && c.code !== undefined && KNOWN_REASONS.has(c.code);
      return {
        name: c.name,
        ok: c.ok,
        label: known
          ? l.t(`upload.check.${c.name}` as MessageKey)
          : l.t('upload.check.other', { name: c.name }),
        // The registry's word for a certificate that is no longer valid (revoked, withdrawn, …).
        note: !c.ok && c.name === 'status' && ended ? l.t(`verdict.${ended}.title`) : null,
        // On a failed verdict a passed line says how little it proves on its own.
        means:
          c.ok && outcome !== 'valid' && known ? l.t(`upload.means.${c.name}` as MessageKey) : null,
        reason: c.ok
          ? null
          : translated
            ? {
                text: l.t(`upload.reason.${c.code}` as MessageKey, { serial: v.serial ?? '' }),
                lang: l.locale,
              }
            : c.reason
              ? { text: c.reason, lang: 'en' }
              : null,
      };
    }),
  };
}

function fileErrors({ problem, limit }: FileState, l: I18n): FormErrors {
  if (!problem) return { fields: {}, summary: [] };
  const reason =
    problem === 'too-complex' && limit ? l.t(`upload.limit.${limit}` as MessageKey) : '';
  const text = l.t(`upload.error.${problem}`, { max: MAX_UPLOAD_BYTES / 1024 / 1024, reason });
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
    state: { empty?: boolean } & FileState,
    status = 200,
  ) => {
    kit.page(
      req,
      res,
      'verify',
      {
        empty: state.empty ?? false,
        upload: fileErrors(state, kit.l(res)),
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
      // The form is a GET so that the result has its own address (the same one the QR code uses);
      // a serial typed with spaces, in lower case or without dashes gets its canonical address.
      const parsed = parseSerial(serial);
      res.redirect(
        303,
        `/verify/${encodeURIComponent(parsed.ok ? parsed.serial : serial.trim().slice(0, SERIAL_INPUT_MAX))}`,
      );
      return;
    }
    renderForm(req, res, { empty: serial !== undefined });
  });

  // Only the form posts here; a reload or a typed address goes back to the form.
  router.get('/verify/upload', (_req, res) => res.redirect(303, '/verify'));

  const verifyLimit = rateLimit({ bucket: 'verify', perMinute: kit.config.rateLimit.verifyPerMin });

  /** A file that was not checked (over a cap: 422; no capacity: 503) is explained on the form. */
  const refused = (req: Request, res: Response, e: unknown): boolean => {
    if (!(e instanceof VerificationRefused)) return false;
    if (e.status === 422) renderForm(req, res, { problem: 'too-complex', limit: e.kind }, 422);
    else {
      res.set('Retry-After', String(e.retryAfter ?? 5));
      renderForm(req, res, { problem: 'busy' }, 503);
    }
    return true;
  };

  router.post('/verify/upload', verifyLimit, async (req, res) => {
    let release: () => void;
    try {
      release = kit.certificates.admitUpload();
    } catch (e) {
      stopReading(req);
      if (refused(req, res, e)) return;
      throw e;
    }
    let verdict: UploadVerdict;
    let filename: string;
    try {
      // CSRF: the form's `_csrf` field, read from the multipart stream before the file (a 403 otherwise).
      const upload = await readUpload(req, {
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
      filename = upload.filename;
      verdict = await kit.certificates.verifyUpload(upload.bytes);
    } catch (e) {
      if (refused(req, res, e)) return;
      throw e;
    } finally {
      release();
    }
    const result = uploadView(verdict, filename, kit.l(res));
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
    const canonical = parseSerial(raw);
    if (canonical.ok && canonical.serial !== raw) {
      const query = req.originalUrl.indexOf('?');
      res.redirect(
        301,
        `/verify/${canonical.serial}${query < 0 ? '' : req.originalUrl.slice(query)}`,
      );
      return;
    }
    const verdict = await verdictFor(raw, kit.verify);
    kit.page(
      req,
      res,
      'verdict',
      { verdict: verdictView(verdict, kit.l(res)) },
      { status: VERDICT_STATUS[verdict.kind], section: '/verify' },
    );
  });

  return router;
}
