/**
 * The association's console under /admin: the review queue, one pledge's record and the actions
 * on it (approve, reject, revoke, correct), initiative versions, administrator accounts, the audit
 * log and exports. Pages call the same use cases as the admin API; every form carries the
 * session-bound CSRF token, and every page checks that the admin account is still enabled.
 */
import express, { type Request, type Response, type Router } from 'express';
import type { z } from 'zod';
import { adminEmails, createAdmin, disableAdmin, listAdmins } from '../../src/admin/accounts';
import { searchAudit } from '../../src/admin/audit';
import { adminListPledges, adminPledgeDetail, correctPledge, type AdminPledgeDetail } from '../../src/admin/pledges';
import { AdminCreateBody, AdminPledgeQuery, AuditQuery, CorrectionBody, InitiativeDraftBody, PLEDGE_STATUSES, VersionParam } from '../../src/admin/schemas';
import { Pledge, type PledgeDoc } from '../../models/pledge';
import type { AuditEntry } from '../../src/audit/events';
import { SESSION_TTL_SECONDS, type SessionClaims } from '../../src/auth/jwt';
import { SESSION_COOKIE } from '../../src/auth/middleware';
import { adminLogin } from '../../src/auth/service';
import type { CertificateService } from '../../src/certificates/service';
import { INDUSTRIES } from '../../src/domain/industries';
import { PROVINCES } from '../../src/domain/provinces';
import { isAppError, notFound, type AppError } from '../../src/errors';
import { ExportQuery } from '../../src/exports/rows';
import { recentExports } from '../../src/exports/service';
import type { I18n, MessageKey } from '../../src/i18n';
import { currentInitiative } from '../../src/initiative/service';
import { createInitiativeDraft, discardInitiativeDraft, getInitiativeVersion, listInitiativeVersions, publishInitiativeDraft, updateInitiativeDraft, type InitiativeVersionView } from '../../src/initiative/versions';
import { approvePledge, rejectPledge } from '../../src/pledges/lifecycle';
import { AdminLoginBody, ObjectIdParam, ReasonBody } from '../../src/pledges/schemas';
import { rateLimit } from '../../src/rate-limit';
import { FormErrorBuilder, formText, noErrors, type FieldSpec, type FormErrors } from '../../src/site/forms';
import { cookieOptions } from '../../src/site/http';
import { firstQueryValue } from '../../src/site/view';
import type { SiteKit } from './kit';
import { initiativeView } from './public';
import { sessionGate, signOutHandler } from './session';

export interface ConsoleDeps {
  certificates: CertificateService;
}

const CONSOLE_NAV: ReadonlyArray<{ href: string; key: MessageKey }> = [
  { href: '/admin/pledges', key: 'console.nav.queue' },
  { href: '/admin/initiatives', key: 'console.nav.initiatives' },
  { href: '/admin/exports', key: 'console.nav.exports' },
  { href: '/admin/accounts', key: 'console.nav.accounts' },
  { href: '/admin/audit', key: 'console.nav.audit' },
];

const LOGIN_FIELDS: readonly FieldSpec[] = [
  { name: 'email', path: 'email', label: 'console.login.email' },
  { name: 'password', path: 'password', label: 'console.login.password' },
];
const QUEUE_FIELDS: readonly FieldSpec[] = [
  { name: 'q', path: 'q', label: 'console.filter.q' },
  { name: 'status', path: 'status', label: 'console.filter.status', kind: 'select' },
  { name: 'province', path: 'province', label: 'table.province', kind: 'select' },
  { name: 'industry', path: 'industry', label: 'table.industry', kind: 'select' },
  { name: 'from', path: 'from', label: 'console.filter.from' },
  { name: 'to', path: 'to', label: 'console.filter.to' },
];
const REASON_FIELDS: readonly FieldSpec[] = [{ name: 'reason', path: 'reason', label: 'console.reason' }];
const CORRECT_FIELDS: readonly FieldSpec[] = [
  { name: 'name', path: 'name', label: 'console.correct.name' },
  { name: 'nameEn', path: 'nameEn', label: 'console.correct.nameEn' },
  { name: 'industry', path: 'industry', label: 'table.industry', kind: 'select' },
  { name: 'reason', path: 'reason', label: 'console.reason' },
];
const DRAFT_FIELDS: readonly FieldSpec[] = [
  { name: 'titleZh', path: 'titleZh', label: 'console.initiative.titleZh' },
  { name: 'titleEn', path: 'titleEn', label: 'console.initiative.titleEn' },
  { name: 'textZh', path: 'textZh', label: 'console.initiative.textZh' },
  { name: 'textEn', path: 'textEn', label: 'console.initiative.textEn' },
];
const ACCOUNT_FIELDS: readonly FieldSpec[] = [
  { name: 'email', path: 'email', label: 'console.login.email' },
  { name: 'password', path: 'password', label: 'console.login.password' },
];
const AUDIT_FIELDS: readonly FieldSpec[] = [
  { name: 'action', path: 'action', label: 'console.audit.action' },
  { name: 'actor', path: 'actor', label: 'console.audit.actor' },
  { name: 'subject', path: 'subject', label: 'console.audit.subject' },
  { name: 'from', path: 'from', label: 'console.audit.from' },
  { name: 'to', path: 'to', label: 'console.audit.to' },
];
const EXPORT_FIELDS: readonly FieldSpec[] = [
  { name: 'format', path: 'format', label: 'console.exports.format', kind: 'select' },
  { name: 'status', path: 'status', label: 'console.filter.status', kind: 'select' },
  { name: 'province', path: 'province', label: 'table.province', kind: 'select' },
  { name: 'industry', path: 'industry', label: 'table.industry', kind: 'select' },
  { name: 'from', path: 'from', label: 'console.exports.from' },
  { name: 'to', path: 'to', label: 'console.exports.to' },
];
const EXPORT_FORMATS = ['csv', 'xlsx', 'json', 'pdf'] as const;

/** The query string as submitted, without the site-wide `lang` switch (the schemas are strict). */
function filterInput(req: Request): Record<string, unknown> {
  const { lang: _lang, ...rest } = req.query as Record<string, unknown>;
  return rest;
}

/** Form values to show back: only strings (an array or object in the query shows as empty). */
function formValues(input: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(input)) if (typeof v === 'string') out[k] = v;
  return out;
}

function formErrors(fields: readonly FieldSpec[], l: I18n, issues: readonly z.core.$ZodIssue[], input: unknown): FormErrors {
  const errors = new FormErrorBuilder(fields, l);
  for (const rest of errors.addZodIssues(issues, input)) {
    // An unknown query key or a nested value: name it in the summary (first field's slot).
    errors.add(fields[0].name, l.t('console.badFilter', { key: rest.path.map(String).join('.') || String((rest as { keys?: string[] }).keys?.join(', ') ?? '') }));
  }
  return errors.build();
}

/** The query string of a page with the same filters (paging links, export links). */
function queryString(values: Record<string, string | number | undefined>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) if (v !== undefined && v !== '') p.set(k, String(v));
  return p.toString();
}

function pager(page: number, pageSize: number, total: number, values: Record<string, string | number | undefined>, path: string) {
  const pages = Math.max(1, Math.ceil(total / pageSize));
  const link = (n: number) => `${path}?${queryString({ ...values, page: n })}`;
  return { page, pages, total, prev: page > 1 ? link(page - 1) : null, next: page < pages ? link(page + 1) : null };
}

/** Who did it, for people: admins by e-mail, the rest as the audit log names them. */
function actorLabel(actor: string, emails: Map<string, string>, l: I18n): string {
  if (actor.startsWith('admin:')) return emails.get(actor.slice(6)) ?? actor;
  if (actor === 'system') return l.t('actor.system');
  if (actor === 'public') return l.t('actor.signatory');
  if (actor.startsWith('company:')) return l.t('actor.company');
  return actor;
}

function compactJson(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = JSON.stringify(v);
  return s.length > 300 ? `${s.slice(0, 297)}…` : s;
}

function eventRows(events: AuditEntry[], emails: Map<string, string>, l: I18n) {
  return events.map((e) => ({
    at: l.dateTime(e.at),
    isoAt: new Date(e.at).toISOString(),
    actor: actorLabel(e.actor, emails, l),
    actorId: e.actor,
    action: e.action,
    subjectType: e.subject.type,
    subjectId: e.subject.id,
    before: compactJson(e.before),
    after: compactJson(e.after),
    seq: e.seq,
  }));
}

export function consolePages(kit: SiteKit, deps: ConsoleDeps): Router {
  const router = express.Router();
  const { config } = kit;
  const secret = config.jwtSecret;
  const gate = sessionGate({ secret, secure: config.isProduction, role: 'admin', loginPath: '/admin/login' });
  const loginLimit = rateLimit({ bucket: 'login', perMinute: config.rateLimit.loginPerMin });

  /** Renders a console page (never cached: it shows personal data and carries CSRF tokens). */
  const show = (req: Request, res: Response, name: string, context: Record<string, unknown>, status = 200) => {
    const l = kit.l(res);
    const section = CONSOLE_NAV.find((n) => req.path.startsWith(n.href))?.href ?? '';
    kit.page(
      req,
      res,
      `console/${name}`,
      {
        ...context,
        console: true,
        nav: CONSOLE_NAV.map((n) => ({ ...n, current: n.href === section })),
        navLabel: l.t('console.nav.label'),
        csrf: gate.csrfToken(req),
      },
      { policy: 'no-store', status },
    );
  };

  // ---- Signing in -------------------------------------------------------------------------

  const renderLogin = (req: Request, res: Response, email: string, errors: FormErrors, status = 200, failed = false, waitSeconds?: number) => {
    kit.page(
      req,
      res,
      'console/login',
      {
        email,
        errors,
        failed,
        waitSeconds,
        expired: firstQueryValue(req, 'expired') === '1',
        disabled: firstQueryValue(req, 'disabled') === '1',
        signedOut: firstQueryValue(req, 'signedOut') === '1',
        csrf: kit.csrf.token(req, res),
      },
      { policy: 'no-store', status },
    );
  };

  router.get('/admin/login', (req, res) => renderLogin(req, res, '', noErrors()));

  router.post('/admin/login', kit.csrf.verify, loginLimit, async (req, res) => {
    const input = { email: formText(req.body, 'email'), password: formText(req.body, 'password') };
    const parsed = AdminLoginBody.safeParse(input);
    if (!parsed.success) return renderLogin(req, res, input.email, formErrors(LOGIN_FIELDS, kit.l(res), parsed.error.issues, input), 400);
    let jwt: string;
    try {
      jwt = await adminLogin(parsed.data.email, parsed.data.password, secret);
    } catch (e) {
      // Too many failures for this e-mail: the same page, with how long to wait.
      if (isAppError(e) && e.status === 429 && e.retryAfter !== undefined) {
        res.set('Retry-After', String(e.retryAfter));
        return renderLogin(req, res, input.email, noErrors(), 429, false, e.retryAfter);
      }
      if (!isAppError(e) || e.status !== 401) throw e;
      // One message for a wrong e-mail and a wrong password: it must not tell which.
      return renderLogin(req, res, input.email, noErrors(), 401, true);
    }
    res.cookie(SESSION_COOKIE, jwt, cookieOptions(config.isProduction, SESSION_TTL_SECONDS * 1000));
    res.redirect(303, '/admin/pledges?status=pending_review');
  });

  router.post('/admin/logout', signOutHandler({ secret, secure: config.isProduction, redirectTo: '/admin/login?signedOut=1' }));

  router.get('/admin', (_req, res) => res.redirect(303, '/admin/pledges?status=pending_review'));

  // ---- Review queue -----------------------------------------------------------------------

  router.get('/admin/pledges', async (req, res) => {
    if (!(await gate.current(req, res))) return;
    const l = kit.l(res);
    const input = filterInput(req);
    const values = formValues(input);
    const parsed = AdminPledgeQuery.safeParse(input);
    const options = {
      statuses: PLEDGE_STATUSES.map((s) => ({ code: s, name: l.t(`status.${s}` as MessageKey) })),
      provinces: PROVINCES.map((p) => ({ code: p.code, name: l.province(p.code) })),
      industries: INDUSTRIES.map((i) => ({ code: i.code, name: l.industry(i.code) })),
    };
    if (!parsed.success) return show(req, res, 'queue', { values, options, errors: formErrors(QUEUE_FIELDS, l, parsed.error.issues, input), rows: [], pager: null }, 400);
    const q = parsed.data;
    const result = await adminListPledges(q);
    const filters = { status: q.status, province: q.province, industry: q.industry, from: q.from, to: q.to, q: q.q };
    show(req, res, 'queue', {
      values,
      options,
      errors: noErrors(),
      rows: result.items.map((p) => {
        const c = p.company as { name: string; nameEn: string | null; uscc: string; province: string; industry: string };
        return { id: p.id, status: p.status, company: c.name, companyEn: c.nameEn, uscc: c.uscc, province: l.province(c.province), industry: l.industry(c.industry), signedAt: l.dateTime(p.createdAt as Date), foundingNumber: p.foundingNumber };
      }),
      pager: pager(q.page, q.pageSize, result.total, { ...filters, pageSize: q.pageSize === 50 ? undefined : q.pageSize }, '/admin/pledges'),
    });
  });

  // ---- One pledge -------------------------------------------------------------------------

  const pledgeId = (req: Request): string => {
    const id = String(req.params.id ?? '');
    if (!ObjectIdParam.safeParse(id).success) throw notFound('No pledge with this id.');
    return id;
  };

  interface PledgeForms {
    reason?: string;
    reasonErrors?: FormErrors;
    /** Which form the reason belongs to (reject or revoke). */
    reasonFor?: 'reject' | 'revoke';
    correction?: Record<string, string>;
    correctionErrors?: FormErrors;
    notice?: string;
  }

  const renderPledge = async (req: Request, res: Response, id: string, forms: PledgeForms = {}, status = 200) => {
    const l = kit.l(res);
    const detail: AdminPledgeDetail = await adminPledgeDetail(id);
    const p = detail.pledge as Record<string, unknown> & {
      company: { name: string; nameEn: string | null; uscc: string; province: string; industry: string };
      signatory: { name: string; title: string; email: string; phone?: string };
      initiative: { version: number; sha256: string };
      history: Array<{ to: string; at: Date; actor: string; reason?: string }>;
    };
    const emails = await adminEmails(detail.events.map((e) => e.actor).concat(p.history.map((h) => h.actor)));
    const current = detail.certificates.find((c) => c.serial === p.certificateSerial);
    show(
      req,
      res,
      'pledge',
      {
        id,
        p: {
          status: p.status,
          company: { ...p.company, provinceName: l.province(p.company.province), industryName: l.industry(p.company.industry) },
          signatory: p.signatory,
          initiative: p.initiative,
          sequence: p.sequence,
          foundingNumber: p.foundingNumber,
          createdAt: l.dateTime(p.createdAt as Date),
          activatedAt: p.activatedAt ? l.dateTime(p.activatedAt as Date) : null,
          closedReason: p.closedReason,
          certificatePending: p.certificatePending,
        },
        history: [...p.history].reverse().map((h) => ({ to: h.to, at: l.dateTime(h.at), isoAt: new Date(h.at).toISOString(), actor: actorLabel(h.actor, emails, l), reason: h.reason ?? null })),
        certificates: detail.certificates.map((c) => ({ ...c, issuedAt: l.dateTime(c.issuedAt), current: c.serial === p.certificateSerial })),
        events: eventRows(detail.events, emails, l),
        can: {
          decide: p.status === 'pending_review',
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
    await renderPledge(req, res, id, { notice: kit.l(res).t('console.refused', { detail: (e as AppError).detail ?? (e as AppError).title }) }, e.status);
  };

  router.get('/admin/pledges/:id', async (req, res) => {
    if (!(await gate.current(req, res))) return;
    await renderPledge(req, res, pledgeId(req));
  });

  router.post('/admin/pledges/:id/approve', gate.csrf, async (req, res) => {
    const s = await gate.current(req, res);
    if (!s) return;
    const id = pledgeId(req);
    try {
      await approvePledge(id, s.sub, kit.pledge);
    } catch (e) {
      return refused(req, res, id, e);
    }
    res.redirect(303, `/admin/pledges/${id}?done=approved`);
  });

  /** Reject and revoke both take a reason; they differ in the use case they call. */
  const withReason = (action: 'reject' | 'revoke', run: (id: string, reason: string, s: SessionClaims) => Promise<unknown>) =>
    async (req: Request, res: Response) => {
      const s = await gate.current(req, res);
      if (!s) return;
      const id = pledgeId(req);
      const input = { reason: formText(req.body, 'reason') };
      const parsed = ReasonBody.safeParse(input);
      if (!parsed.success) return renderPledge(req, res, id, { reason: input.reason, reasonFor: action, reasonErrors: formErrors(REASON_FIELDS, kit.l(res), parsed.error.issues, input) }, 400);
      try {
        await run(id, parsed.data.reason, s);
      } catch (e) {
        return refused(req, res, id, e);
      }
      res.redirect(303, `/admin/pledges/${id}?done=${action === 'reject' ? 'rejected' : 'revoked'}`);
    };

  router.post('/admin/pledges/:id/reject', gate.csrf, withReason('reject', (id, reason, s) => rejectPledge(id, reason, s.sub, kit.pledge)));

  router.post(
    '/admin/pledges/:id/revoke',
    gate.csrf,
    withReason('revoke', async (id, reason, s) => {
      // The serial comes from the record, not the form: the page revokes this pledge's current certificate.
      const serial = (await Pledge.findById(id).select('certificateSerial').lean<PledgeDoc>())?.certificateSerial;
      if (!serial) throw notFound('This pledge has no certificate.');
      await deps.certificates.revoke(serial, reason, s.sub);
    }),
  );

  router.post('/admin/pledges/:id/correct', gate.csrf, async (req, res) => {
    const s = await gate.current(req, res);
    if (!s) return;
    const id = pledgeId(req);
    const input = { name: formText(req.body, 'name'), nameEn: formText(req.body, 'nameEn'), industry: formText(req.body, 'industry'), reason: formText(req.body, 'reason') };
    const parsed = CorrectionBody.safeParse(input);
    if (!parsed.success) return renderPledge(req, res, id, { correction: input, correctionErrors: formErrors(CORRECT_FIELDS, kit.l(res), parsed.error.issues, input) }, 400);
    try {
      await correctPledge(id, parsed.data, s.sub, deps.certificates);
    } catch (e) {
      return refused(req, res, id, e);
    }
    res.redirect(303, `/admin/pledges/${id}?done=corrected`);
  });

  // ---- Initiative versions ----------------------------------------------------------------

  const versionOf = (req: Request): number => {
    const v = VersionParam.safeParse(req.params.version);
    if (!v.success) throw notFound('There is no such version of the initiative.');
    return v.data;
  };

  const versionRow = (v: InitiativeVersionView, l: I18n) => ({
    version: v.version,
    status: v.status,
    title: l.locale === 'en' ? v.title.en : v.title.zh,
    sha256: v.sha256,
    publishedAt: v.publishedAt ? l.dateTime(v.publishedAt) : null,
    updatedAt: l.dateTime(v.updatedAt),
    pledges: v.pledges,
  });

  const draftValues = (v: { title: { zh: string; en: string }; text: { zh: string; en: string } }) => ({ titleZh: v.title.zh, titleEn: v.title.en, textZh: v.text.zh, textEn: v.text.en });

  const renderVersions = async (req: Request, res: Response, values?: Record<string, string>, errors = noErrors(), status = 200, notice?: string) => {
    const l = kit.l(res);
    const versions = await listInitiativeVersions();
    const draft = versions.find((v) => v.status === 'draft');
    // A new draft starts from the current text: most new versions change a few sentences.
    const start = values ?? (draft ? undefined : draftValues(await currentInitiative()));
    show(req, res, 'initiatives', { versions: versions.map((v) => versionRow(v, l)), draft: draft ? draft.version : null, values: start ?? {}, errors, notice: notice ?? null, done: firstQueryValue(req, 'done') ?? null }, status);
  };

  const renderVersion = async (req: Request, res: Response, version: number, values?: Record<string, string>, errors = noErrors(), status = 200, notice?: string) => {
    const l = kit.l(res);
    const v = await getInitiativeVersion(version);
    show(
      req,
      res,
      'initiative',
      {
        v: versionRow(v, l),
        preview: initiativeView({ ...v, publishedAt: v.publishedAt ?? v.updatedAt }, l),
        values: values ?? draftValues(v),
        errors,
        done: firstQueryValue(req, 'done') ?? null,
        notice: notice ?? null,
      },
      status,
    );
  };

  const draftInput = (req: Request) => ({ titleZh: formText(req.body, 'titleZh'), titleEn: formText(req.body, 'titleEn'), textZh: formText(req.body, 'textZh'), textEn: formText(req.body, 'textEn') });

  router.get('/admin/initiatives', async (req, res) => {
    if (!(await gate.current(req, res))) return;
    await renderVersions(req, res);
  });

  router.post('/admin/initiatives', gate.csrf, async (req, res) => {
    const s = await gate.current(req, res);
    if (!s) return;
    const input = draftInput(req);
    const parsed = InitiativeDraftBody.safeParse(input);
    if (!parsed.success) return renderVersions(req, res, input, formErrors(DRAFT_FIELDS, kit.l(res), parsed.error.issues, input), 400);
    let version: number;
    try {
      version = (await createInitiativeDraft(parsed.data, `admin:${s.sub}`)).version;
    } catch (e) {
      if (!isAppError(e) || e.status !== 409) throw e;
      return renderVersions(req, res, input, noErrors(), 409, kit.l(res).t('console.initiative.draftExists'));
    }
    res.redirect(303, `/admin/initiatives/${version}?done=drafted`);
  });

  router.get('/admin/initiatives/:version', async (req, res) => {
    if (!(await gate.current(req, res))) return;
    await renderVersion(req, res, versionOf(req));
  });

  /** Edit, publish and discard apply to drafts only; on a published version they explain why not. */
  const onDraft = (run: (version: number, req: Request, res: Response, s: SessionClaims) => Promise<string | undefined>) => async (req: Request, res: Response) => {
    const s = await gate.current(req, res);
    if (!s) return;
    const version = versionOf(req);
    let location: string | undefined;
    try {
      location = await run(version, req, res, s);
    } catch (e) {
      if (!isAppError(e) || e.status !== 409) throw e;
      return renderVersion(req, res, version, undefined, noErrors(), 409, kit.l(res).t('console.initiative.notDraft'));
    }
    if (location) res.redirect(303, location);
  };

  router.post(
    '/admin/initiatives/:version',
    gate.csrf,
    onDraft(async (version, req, res, s) => {
      const input = draftInput(req);
      const parsed = InitiativeDraftBody.safeParse(input);
      if (!parsed.success) {
        await renderVersion(req, res, version, input, formErrors(DRAFT_FIELDS, kit.l(res), parsed.error.issues, input), 400);
        return undefined;
      }
      await updateInitiativeDraft(version, parsed.data, `admin:${s.sub}`);
      return `/admin/initiatives/${version}?done=saved`;
    }),
  );

  router.post(
    '/admin/initiatives/:version/publish',
    gate.csrf,
    onDraft(async (version, _req, _res, s) => {
      await publishInitiativeDraft(version, `admin:${s.sub}`);
      return `/admin/initiatives/${version}?done=published`;
    }),
  );

  router.post(
    '/admin/initiatives/:version/discard',
    gate.csrf,
    onDraft(async (version, _req, _res, s) => {
      await discardInitiativeDraft(version, `admin:${s.sub}`);
      return '/admin/initiatives?done=discarded';
    }),
  );

  // ---- Exports ----------------------------------------------------------------------------

  const exportOptions = (l: I18n) => ({
    formats: EXPORT_FORMATS.map((f) => ({ code: f, name: l.t(`console.exports.format.${f}` as MessageKey) })),
    statuses: (['active', 'withdrawn', 'revoked', 'all'] as const).map((s) => ({ code: s, name: s === 'all' ? l.t('console.exports.allStatuses') : l.t(`status.${s}` as MessageKey) })),
    provinces: PROVINCES.map((p) => ({ code: p.code, name: l.province(p.code) })),
    industries: INDUSTRIES.map((i) => ({ code: i.code, name: l.industry(i.code) })),
  });

  // The latest exports, each with its manifest: what a handed-on file is checked against.
  const recentList = async (l: I18n) =>
    (await recentExports(20)).map((e) => ({ id: e.id, manifestUrl: e.manifestUrl, when: l.dateTime(e.createdAt), format: e.format.toUpperCase(), rows: l.number(e.rows), sha256: e.sha256 }));

  router.get('/admin/exports', async (req, res) => {
    if (!(await gate.current(req, res))) return;
    const l = kit.l(res);
    show(req, res, 'exports', { values: { format: 'xlsx', status: 'active' }, options: exportOptions(l), recent: await recentList(l), errors: noErrors() });
  });

  // The form is a GET (a download changes nothing); it lands on the API's export URL with the
  // same filters, which the session cookie authorises.
  router.get('/admin/exports/download', async (req, res) => {
    if (!(await gate.current(req, res))) return;
    const l = kit.l(res);
    const { format, ...rest } = filterInput(req);
    const query: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(rest)) if (v !== '' && !(k === 'founders' && v === '0') && !(k === 'includeContacts' && v === '0')) query[k] = v;
    const parsed = ExportQuery.safeParse(query);
    const formatOk = typeof format === 'string' && (EXPORT_FORMATS as readonly string[]).includes(format);
    if (!parsed.success || !formatOk) {
      const errors = new FormErrorBuilder(EXPORT_FIELDS, l);
      if (!formatOk) errors.add('format', l.t('form.choose', { label: l.t('console.exports.format') }));
      const rest2 = parsed.success ? [] : errors.addZodIssues(parsed.error.issues, query);
      for (const issue of rest2) errors.add('format', l.t('console.badFilter', { key: issue.path.join('.') }));
      return show(req, res, 'exports', { values: formValues({ format, ...rest }), options: exportOptions(l), recent: await recentList(l), errors: errors.build() }, 400);
    }
    res.redirect(303, `/api/v1/admin/exports/signatories.${format as string}?${queryString(query as Record<string, string>)}`);
  });

  // ---- Administrator accounts -------------------------------------------------------------

  const renderAccounts = async (req: Request, res: Response, s: SessionClaims, values: Record<string, string> = {}, errors = noErrors(), status = 200, notice?: string) => {
    const l = kit.l(res);
    const accounts = await listAdmins();
    show(
      req,
      res,
      'accounts',
      {
        accounts: accounts.map((a) => ({ ...a, self: a.id === s.sub, lastLoginAt: a.lastLoginAt ? l.dateTime(a.lastLoginAt) : null, createdAt: l.dateTime(a.createdAt) })),
        values,
        errors,
        done: firstQueryValue(req, 'done') ?? null,
        notice: notice ?? null,
      },
      status,
    );
  };

  router.get('/admin/accounts', async (req, res) => {
    const s = await gate.current(req, res);
    if (s) await renderAccounts(req, res, s);
  });

  router.post('/admin/accounts', gate.csrf, async (req, res) => {
    const s = await gate.current(req, res);
    if (!s) return;
    const l = kit.l(res);
    const input = { email: formText(req.body, 'email'), password: formText(req.body, 'password') };
    const parsed = AdminCreateBody.safeParse(input);
    // The password is never shown back.
    if (!parsed.success) return renderAccounts(req, res, s, { email: input.email }, formErrors(ACCOUNT_FIELDS, l, parsed.error.issues, input), 400);
    try {
      await createAdmin(parsed.data.email, parsed.data.password, `admin:${s.sub}`);
    } catch (e) {
      if (!isAppError(e) || e.status !== 409) throw e;
      return renderAccounts(req, res, s, { email: input.email }, new FormErrorBuilder(ACCOUNT_FIELDS, l).add('email', l.t('console.accounts.exists')).build(), 409);
    }
    res.redirect(303, '/admin/accounts?done=created');
  });

  router.post('/admin/accounts/:id/disable', gate.csrf, async (req, res) => {
    const s = await gate.current(req, res);
    if (!s) return;
    const id = String(req.params.id ?? '');
    if (!ObjectIdParam.safeParse(id).success) throw notFound('No administrator with this id.');
    try {
      await disableAdmin({ id }, `admin:${s.sub}`);
    } catch (e) {
      if (!isAppError(e) || e.status !== 409) throw e;
      return renderAccounts(req, res, s, {}, noErrors(), 409, kit.l(res).t(e.code === 'cannot-disable-self' ? 'console.accounts.self' : 'console.accounts.already'));
    }
    res.redirect(303, '/admin/accounts?done=disabled');
  });

  // ---- Audit log --------------------------------------------------------------------------

  router.get('/admin/audit', async (req, res) => {
    if (!(await gate.current(req, res))) return;
    const l = kit.l(res);
    const input = filterInput(req);
    const values = formValues(input);
    const parsed = AuditQuery.safeParse(input);
    if (!parsed.success) return show(req, res, 'audit', { values, errors: formErrors(AUDIT_FIELDS, l, parsed.error.issues, input), rows: [], pager: null }, 400);
    const q = parsed.data;
    const result = await searchAudit(q);
    const emails = await adminEmails(result.items.map((e) => e.actor));
    show(req, res, 'audit', {
      values,
      errors: noErrors(),
      rows: eventRows(result.items, emails, l),
      pager: pager(q.page, q.pageSize, result.total, { action: q.action, actor: q.actor, subject: q.subject, from: q.from, to: q.to, pageSize: q.pageSize === 50 ? undefined : q.pageSize }, '/admin/audit'),
    });
  });

  return router;
}
