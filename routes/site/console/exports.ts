/**
 * Exports: the form (a GET that lands on the API's export URL with the same filters, which the
 * session cookie authorises) and the latest exports with their signed manifests.
 */
import { Router } from 'express';
import { INDUSTRIES } from '../../../src/domain/industries';
import { PROVINCES } from '../../../src/domain/provinces';
import { ExportQuery } from '../../../src/exports/rows';
import { exportFits, exportLimits, recentExports } from '../../../src/exports/service';
import type { I18n, MessageKey } from '../../../src/i18n';
import { FormErrorBuilder, noErrors, type FieldSpec } from '../../../src/site/forms';
import type { ConsoleContext } from './context';
import { filterInput, formValues, queryString } from './views';

const EXPORT_FIELDS: readonly FieldSpec[] = [
  { name: 'format', path: 'format', label: 'console.exports.format', kind: 'select' },
  { name: 'status', path: 'status', label: 'console.filter.status', kind: 'select' },
  { name: 'province', path: 'province', label: 'table.province', kind: 'select' },
  { name: 'industry', path: 'industry', label: 'table.industry', kind: 'select' },
  { name: 'from', path: 'from', label: 'console.exports.from' },
  { name: 'to', path: 'to', label: 'console.exports.to' },
];
const EXPORT_FORMATS = ['csv', 'xlsx', 'json', 'pdf'] as const;

const exportOptions = (l: I18n) => ({
  formats: EXPORT_FORMATS.map((f) => ({
    code: f,
    name: l.t(`console.exports.format.${f}` as MessageKey),
  })),
  statuses: (['active', 'withdrawn', 'revoked', 'all'] as const).map((s) => ({
    code: s,
    name: s === 'all' ? l.t('console.exports.allStatuses') : l.t(`status.${s}` as MessageKey),
  })),
  provinces: PROVINCES.map((p) => ({ code: p.code, name: l.province(p.code) })),
  industries: INDUSTRIES.map((i) => ({ code: i.code, name: l.industry(i.code) })),
});

// The latest exports, each with its manifest: what a handed-on file is checked against.
const recentList = async (l: I18n) =>
  (await recentExports(20)).map((e) => ({
    id: e.id,
    manifestUrl: e.manifestUrl,
    when: l.dateTime(e.createdAt),
    format: e.format.toUpperCase(),
    rows: l.number(e.rows),
    sha256: e.sha256,
  }));

export function exportPages({ kit, gate, show }: ConsoleContext): Router {
  const router = Router();

  router.get('/admin/exports', async (req, res) => {
    if (!(await gate.current(req, res))) return;
    const l = kit.l(res);
    show(req, res, 'exports', {
      values: { format: 'xlsx', status: 'active' },
      options: exportOptions(l),
      recent: await recentList(l),
      errors: noErrors(),
    });
  });

  // The form is a GET (a download changes nothing); it lands on the API's export URL with the
  // same filters, which the session cookie authorises.
  router.get('/admin/exports/download', async (req, res) => {
    if (!(await gate.current(req, res))) return;
    const l = kit.l(res);
    const { format, ...rest } = filterInput(req);
    const query: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(rest))
      if (v !== '' && !(k === 'founders' && v === '0') && !(k === 'includeContacts' && v === '0'))
        query[k] = v;
    const parsed = ExportQuery.safeParse(query);
    const formatOk =
      typeof format === 'string' && (EXPORT_FORMATS as readonly string[]).includes(format);
    // Said on the form, not by the API's 422 after the redirect.
    const tooMany = parsed.success && format === 'xlsx' && !(await exportFits('xlsx', parsed.data));
    if (!parsed.success || !formatOk || tooMany) {
      const errors = new FormErrorBuilder(EXPORT_FIELDS, l);
      if (!formatOk)
        errors.add('format', l.t('form.choose', { label: l.t('console.exports.format') }));
      if (tooMany)
        errors.add(
          'format',
          l.t('console.exports.tooManyForXlsx', {
            max: exportLimits.xlsxRows.toLocaleString('en'),
          }),
        );
      const rest2 = parsed.success ? [] : errors.addZodIssues(parsed.error.issues, query);
      for (const issue of rest2)
        errors.add('format', l.t('console.badFilter', { key: issue.path.join('.') }));
      return show(
        req,
        res,
        'exports',
        {
          values: formValues({ format, ...rest }),
          options: exportOptions(l),
          recent: await recentList(l),
          errors: errors.build(),
        },
        400,
      );
    }
    res.redirect(
      303,
      `/api/v1/admin/exports/signatories.${format as string}?${queryString(query as Record<string, string>)}`,
    );
  });

  return router;
}
