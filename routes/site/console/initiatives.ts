/** Initiative versions: the list, a new draft, editing, preview, publishing and discarding drafts. */
import { Router, type Request, type Response } from 'express';
import { InitiativeDraftBody, VersionParam } from '../../../src/admin/schemas';
import type { SessionClaims } from '../../../src/auth/jwt';
import { isAppError, notFound } from '../../../src/errors';
import type { I18n } from '../../../src/i18n';
import { currentInitiative } from '../../../src/initiative/service';
import {
  createInitiativeDraft,
  discardInitiativeDraft,
  getInitiativeVersion,
  listInitiativeVersions,
  publishInitiativeDraft,
  updateInitiativeDraft,
  type InitiativeVersionView,
} from '../../../src/initiative/versions';
import { formText, noErrors, type FieldSpec, type FormErrors } from '../../../src/site/forms';
import { firstQueryValue } from '../../../src/site/view';
import { initiativeView } from '../public';
import type { ConsoleContext } from './context';
import { formErrors } from './views';

const DRAFT_FIELDS: readonly FieldSpec[] = [
  { name: 'titleZh', path: 'titleZh', label: 'console.initiative.titleZh' },
  { name: 'titleEn', path: 'titleEn', label: 'console.initiative.titleEn' },
  { name: 'textZh', path: 'textZh', label: 'console.initiative.textZh' },
  { name: 'textEn', path: 'textEn', label: 'console.initiative.textEn' },
];

const versionRow = (v: InitiativeVersionView, l: I18n) => ({
  version: v.version,
  status: v.status,
  title: l.locale === 'en' ? v.title.en : v.title.zh,
  sha256: v.sha256,
  publishedAt: v.publishedAt ? l.dateTime(v.publishedAt) : null,
  updatedAt: l.dateTime(v.updatedAt),
  pledges: v.pledges,
});

const draftValues = (v: {
  title: { zh: string; en: string };
  text: { zh: string; en: string };
}) => ({ titleZh: v.title.zh, titleEn: v.title.en, textZh: v.text.zh, textEn: v.text.en });

/** A page shown again after a post: what was typed, what is wrong with it, a notice above it. */
interface Shown {
  values?: Record<string, string>;
  errors?: FormErrors;
  status?: number;
  notice?: string;
}

export function initiativePages({ kit, gate, show }: ConsoleContext): Router {
  const router = Router();

  const versionOf = (req: Request): number => {
    const v = VersionParam.safeParse(req.params.version);
    if (!v.success) throw notFound('There is no such version of the initiative.');
    return v.data;
  };

  const renderVersions = async (req: Request, res: Response, shown: Shown = {}) => {
    const { values, errors = noErrors(), status = 200, notice } = shown;
    const l = kit.l(res);
    const versions = await listInitiativeVersions();
    const draft = versions.find((v) => v.status === 'draft');
    // A new draft starts from the current text: most new versions change a few sentences.
    const start = values ?? (draft ? undefined : draftValues(await currentInitiative()));
    show(
      req,
      res,
      'initiatives',
      {
        versions: versions.map((v) => versionRow(v, l)),
        draft: draft ? draft.version : null,
        values: start ?? {},
        errors,
        notice: notice ?? null,
        done: firstQueryValue(req, 'done') ?? null,
      },
      status,
    );
  };

  const renderVersion = async (req: Request, res: Response, version: number, shown: Shown = {}) => {
    const { values, errors = noErrors(), status = 200, notice } = shown;
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

  const draftInput = (req: Request) => ({
    titleZh: formText(req.body, 'titleZh'),
    titleEn: formText(req.body, 'titleEn'),
    textZh: formText(req.body, 'textZh'),
    textEn: formText(req.body, 'textEn'),
  });

  /** The draft form again, with what is wrong with it (400). */
  const invalid = (
    res: Response,
    input: Record<string, string>,
    issues: Parameters<typeof formErrors>[2],
  ): Shown => ({
    values: input,
    errors: formErrors(DRAFT_FIELDS, kit.l(res), issues, input),
    status: 400,
  });

  router.get('/admin/initiatives', async (req, res) => {
    if (!(await gate.current(req, res))) return;
    await renderVersions(req, res);
  });

  router.post('/admin/initiatives', gate.csrf, async (req, res) => {
    const s = await gate.current(req, res);
    if (!s) return;
    const input = draftInput(req);
    const parsed = InitiativeDraftBody.safeParse(input);
    if (!parsed.success) return renderVersions(req, res, invalid(res, input, parsed.error.issues));
    let version: number;
    try {
      version = (await createInitiativeDraft(parsed.data, `admin:${s.sub}`)).version;
    } catch (e) {
      if (!isAppError(e) || e.status !== 409) throw e;
      return renderVersions(req, res, {
        values: input,
        status: 409,
        notice: kit.l(res).t('console.initiative.draftExists'),
      });
    }
    res.redirect(303, `/admin/initiatives/${version}?done=drafted`);
  });

  router.get('/admin/initiatives/:version', async (req, res) => {
    if (!(await gate.current(req, res))) return;
    await renderVersion(req, res, versionOf(req));
  });

  /** Edit, publish and discard apply to drafts only; on a published version they explain why not. */
  const onDraft =
    (
      run: (
        version: number,
        req: Request,
        res: Response,
        s: SessionClaims,
      ) => Promise<string | undefined>,
    ) =>
    async (req: Request, res: Response) => {
      const s = await gate.current(req, res);
      if (!s) return;
      const version = versionOf(req);
      let location: string | undefined;
      try {
        location = await run(version, req, res, s);
      } catch (e) {
        if (!isAppError(e) || e.status !== 409) throw e;
        return renderVersion(req, res, version, {
          status: 409,
          notice: kit.l(res).t('console.initiative.notDraft'),
        });
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
        await renderVersion(req, res, version, invalid(res, input, parsed.error.issues));
        return undefined;
      }
      await updateInitiativeDraft(version, parsed.data, `admin:${s.sub}`);
      return `/admin/initiatives/${version}?done=saved`;
    }),
  );

  // Publishing and discarding take no form: the button is the whole request.
  const draftActions = [
    ['publish', publishInitiativeDraft, (v: number) => `/admin/initiatives/${v}?done=published`],
    ['discard', discardInitiativeDraft, () => '/admin/initiatives?done=discarded'],
  ] as const;
  for (const [action, run, next] of draftActions)
    router.post(
      `/admin/initiatives/:version/${action}`,
      gate.csrf,
      onDraft(async (version, _req, _res, s) => {
        await run(version, `admin:${s.sub}`);
        return next(version);
      }),
    );

  return router;
}
