/**
 * One pledge's record (company, signatory, history, certificates, audit events) and the actions
 * on it: approve, reject, revoke the current certificate, correct the company data.
 */
import { Router, type Request, type Response } from 'express';
import { adminEmails } from '../../../src/admin/accounts';
import {
  adminPledgeDetail,
  correctPledge,
  revokePledgeCertificate,
  type AdminPledgeDetail,
} from '../../../src/admin/pledges';
import { CorrectionBody } from '../../../src/admin/schemas';
import type { SessionClaims } from '../../../src/auth/jwt';
import { INDUSTRIES } from '../../../src/domain/industries';
import { isAppError, notFound, type AppError } from '../../../src/errors';
import { errorDetail, type MessageKey } from '../../../src/i18n';
import { approvePledge, cancelPledge, rejectPledge } from '../../../src/pledges/lifecycle';
import { listEvidence, sendEvidence } from '../../../src/pledges/evidence';
import { Types } from 'mongoose';
import { ObjectIdParam, ReasonBody } from '../../../src/pledges/schemas';
import { formText, noErrors, type FieldSpec, type FormErrors } from '../../../src/site/forms';
import { PDFJS_URLS } from '../../../src/site/vendor';
import { firstQueryValue } from '../../../src/site/view';
import type { ConsoleContext } from './context';
import { actorLabel, eventRows, formErrors } from './views';

const REASON_FIELDS: readonly FieldSpec[] = [
  { name: 'reason', path: 'reason', label: 'console.reason' },
];
const CORRECT_FIELDS: readonly FieldSpec[] = [
  { name: 'name', path: 'name', label: 'console.correct.name' },
  { name: 'nameEn', path: 'nameEn', label: 'console.correct.nameEn' },
  { name: 'industry', path: 'industry', label: 'table.industry', kind: 'select' },
  { name: 'reason', path: 'reason', label: 'console.reason' },
];

interface PledgeForms {
  reason?: string;
  reasonErrors?: FormErrors;
  /** Which form the reason belongs to (reject or revoke). */
  reasonFor?: 'reject' | 'cancel' | 'revoke';
  correction?: Record<string, string>;
  correctionErrors?: FormErrors;
  notice?: string;
}

export function pledgePages({ kit, deps, gate, show }: ConsoleContext): Router {
  const router = Router();

  const pledgeId = (req: Request): string => {
    const id = String(req.params.id ?? '');
    if (!ObjectIdParam.safeParse(id).success) throw notFound('No pledge with this id.');
    return id;
  };

  const renderPledge = async (
    req: Request,
    res: Response,
    id: string,
    forms: PledgeForms = {},
    status = 200,
  ) => {
    const l = kit.l(res);
    const detail: AdminPledgeDetail = await adminPledgeDetail(id);
    const p = detail.pledge;
    const emails = await adminEmails(
      detail.events.map((e) => e.actor).concat(p.history.map((h) => h.actor)),
    );
    const current = detail.certificates.find((c) => c.serial === p.certificateSerial);
    const evidence = (await listEvidence(new Types.ObjectId(id))).map((f) => ({
      kind: f.kind,
      url: `/admin/pledges/${id}/evidence/${String(f.id)}`,
      image: f.contentType !== 'application/pdf',
      size: `${(f.length / 1024).toFixed(0)} KB`,
      sha256: f.sha256,
      uploadedAt: l.dateTime(f.uploadedAt),
    }));
    show(
      req,
      res,
      'pledge',
      {
        id,
        p: {
          status: p.status,
          company: {
            ...p.company,
            provinceName: l.province(p.company.province),
            industryName: l.industry(p.company.industry),
          },
          signatory: p.signatory,
          initiative: p.initiative,
          sequence: p.sequence,
          foundingNumber: p.foundingNumber,
          createdAt: l.dateTime(p.createdAt),
          activatedAt: p.activatedAt ? l.dateTime(p.activatedAt) : null,
          closedReason: p.closedReason,
          certificatePending: p.certificatePending,
        },
        history: [...p.history].reverse().map((h) => ({
          to: h.to,
          at: l.dateTime(h.at),
          isoAt: new Date(h.at).toISOString(),
          actor: actorLabel(h.actor, emails, l),
          reason: h.reason ?? null,
        })),
        certificates: detail.certificates.map((c) => ({
          ...c,
          issuedAt: l.dateTime(c.issuedAt),
          current: c.serial === p.certificateSerial,
        })),
        events: eventRows(detail.events, emails, l),
        evidence,
        pdfjs: PDFJS_URLS,
        // Warnings in the admin's language, with the pledges they are about (src/pledges/warnings.ts).
        warnings: detail.warnings.map((w) => ({
          text: l.t(`console.warning.${w.code}` as MessageKey, {
            domain: w.params?.domain ?? '',
            code: w.params?.code ? l.province(w.params.code) : '',
            address: w.params?.address ? l.province(w.params.address) : '',
          }),
          pledges: w.pledges.map((x) => ({
            ...x,
            statusName: l.t(`status.${x.status}` as MessageKey),
          })),
        })),
        can: {
          decide: p.status === 'pending_review',
          cancel: p.status === 'pending_confirmation' || p.status === 'pending_review',
          revoke: current?.status === 'valid',
          correct: p.status === 'active',
        },
        revokeSerial: current?.status === 'valid' ? current.serial : null,
        industries: INDUSTRIES.map((i) => ({ code: i.code, name: l.industry(i.code) })),
        done: firstQueryValue(req, 'done') ?? null,
        reason: forms.reason ?? '',
        reasonFor: forms.reasonFor ?? null,
        reasonErrors: forms.reasonErrors ?? noErrors(),
        correction: forms.correction ?? {},
        correctionErrors: forms.correctionErrors ?? noErrors(),
        notice: forms.notice ?? null,
      },
      status,
    );
  };

  /** A use case refused (the record changed meanwhile, or the action no longer applies): say so on the page. */
  const refused = async (req: Request, res: Response, id: string, e: unknown) => {
    if (!isAppError(e) || (e.status !== 409 && e.status !== 400)) throw e;
    // The error's stable code picks the words in the admin's language; the API's English is the fallback.
    const l = kit.l(res);
    await renderPledge(
      req,
      res,
      id,
      { notice: l.t('console.refused', { detail: errorDetail(l.locale, e as AppError) }) },
      e.status,
    );
  };

  router.get('/admin/pledges/:id', async (req, res) => {
    if (!(await gate.current(req, res))) return;
    await renderPledge(req, res, pledgeId(req));
  });

  // The same file the API serves (same headers), with the admin's console session.
  router.get('/admin/pledges/:id/evidence/:fileId', async (req, res) => {
    if (!(await gate.current(req, res))) return;
    const id = pledgeId(req);
    const fileId = String(req.params.fileId ?? '');
    if (!ObjectIdParam.safeParse(fileId).success)
      throw notFound('No such evidence file for this pledge.');
    if (!(await sendEvidence(res, new Types.ObjectId(id), new Types.ObjectId(fileId))))
      throw notFound('No such evidence file for this pledge.');
  });

  router.post('/admin/pledges/:id/approve', gate.csrf, async (req, res) => {
    const s = await gate.current(req, res);
    if (!s) return;
    const id = pledgeId(req);
    if (formText(req.body, 'evidenceChecked') !== 'yes')
      return renderPledge(
        req,
        res,
        id,
        { notice: kit.l(res).t('console.pledge.evidenceRequired' as MessageKey) },
        400,
      );
    try {
      await approvePledge(id, s.sub, kit.pledge);
    } catch (e) {
      return refused(req, res, id, e);
    }
    res.redirect(303, `/admin/pledges/${id}?done=approved`);
  });

  /** Reject, cancel and revoke all take a reason; they differ in the use case they call. */
  const withReason =
    (
      action: 'reject' | 'cancel' | 'revoke',
      run: (id: string, reason: string, s: SessionClaims) => Promise<unknown>,
    ) =>
    async (req: Request, res: Response) => {
      const s = await gate.current(req, res);
      if (!s) return;
      const id = pledgeId(req);
      const input = { reason: formText(req.body, 'reason') };
      const parsed = ReasonBody.safeParse(input);
      if (!parsed.success)
        return renderPledge(
          req,
          res,
          id,
          {
            reason: input.reason,
            reasonFor: action,
            reasonErrors: formErrors(REASON_FIELDS, kit.l(res), parsed.error.issues, input),
          },
          400,
        );
      try {
        await run(id, parsed.data.reason, s);
      } catch (e) {
        return refused(req, res, id, e);
      }
      res.redirect(
        303,
        `/admin/pledges/${id}?done=${{ reject: 'rejected', cancel: 'cancelled', revoke: 'revoked' }[action]}`,
      );
    };

  router.post(
    '/admin/pledges/:id/reject',
    gate.csrf,
    withReason('reject', (id, reason, s) => rejectPledge(id, reason, s.sub, kit.pledge)),
  );

  router.post(
    '/admin/pledges/:id/cancel',
    gate.csrf,
    withReason('cancel', (id, reason, s) => cancelPledge(id, reason, s.sub, kit.pledge)),
  );

  router.post(
    '/admin/pledges/:id/revoke',
    gate.csrf,
    withReason('revoke', (id, reason, s) =>
      revokePledgeCertificate(id, reason, s.sub, deps.certificates),
    ),
  );

  router.post('/admin/pledges/:id/correct', gate.csrf, async (req, res) => {
    const s = await gate.current(req, res);
    if (!s) return;
    const id = pledgeId(req);
    const input = {
      name: formText(req.body, 'name'),
      nameEn: formText(req.body, 'nameEn'),
      industry: formText(req.body, 'industry'),
      reason: formText(req.body, 'reason'),
    };
    const parsed = CorrectionBody.safeParse(input);
    if (!parsed.success)
      return renderPledge(
        req,
        res,
        id,
        {
          correction: input,
          correctionErrors: formErrors(CORRECT_FIELDS, kit.l(res), parsed.error.issues, input),
        },
        400,
      );
    try {
      await correctPledge(id, parsed.data, s.sub, deps.certificates);
    } catch (e) {
      return refused(req, res, id, e);
    }
    res.redirect(303, `/admin/pledges/${id}?done=corrected`);
  });

  return router;
}
