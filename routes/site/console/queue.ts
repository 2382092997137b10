/** The review queue: pledges with filters (status, province, industry, days, name or USCC), paged. */
import { Router } from 'express';
import { adminListPledges } from '../../../src/admin/pledges';
import { AdminPledgeQuery, PLEDGE_STATUSES } from '../../../src/admin/schemas';
import { INDUSTRIES } from '../../../src/domain/industries';
import { PROVINCES } from '../../../src/domain/provinces';
import type { I18n, MessageKey } from '../../../src/i18n';
import { noErrors, type FieldSpec } from '../../../src/site/forms';
import type { ConsoleContext } from './context';
import { filterInput, formErrors, formValues, pager } from './views';

const QUEUE_FIELDS: readonly FieldSpec[] = [
  { name: 'q', path: 'q', label: 'console.filter.q' },
  { name: 'status', path: 'status', label: 'console.filter.status', kind: 'select' },
  { name: 'province', path: 'province', label: 'table.province', kind: 'select' },
  { name: 'industry', path: 'industry', label: 'table.industry', kind: 'select' },
  { name: 'from', path: 'from', label: 'console.filter.from' },
  { name: 'to', path: 'to', label: 'console.filter.to' },
];

const queueOptions = (l: I18n) => ({
  statuses: PLEDGE_STATUSES.map((s) => ({ code: s, name: l.t(`status.${s}` as MessageKey) })),
  provinces: PROVINCES.map((p) => ({ code: p.code, name: l.province(p.code) })),
  industries: INDUSTRIES.map((i) => ({ code: i.code, name: l.industry(i.code) })),
});

export function queuePages({ kit, gate, show }: ConsoleContext): Router {
  const router = Router();

  router.get('/admin/pledges', async (req, res) => {
    if (!(await gate.current(req, res))) return;
    const l = kit.l(res);
    const input = filterInput(req);
    const values = formValues(input);
    const parsed = AdminPledgeQuery.safeParse(input);
    const options = queueOptions(l);
    if (!parsed.success)
      return show(
        req,
        res,
        'queue',
        {
          values,
          options,
          errors: formErrors(QUEUE_FIELDS, l, parsed.error.issues, input),
          rows: [],
          pager: null,
        },
        400,
      );
    const q = parsed.data;
    const result = await adminListPledges(q);
    const filters = {
      status: q.status,
      province: q.province,
      industry: q.industry,
      from: q.from,
      to: q.to,
      q: q.q,
    };
    show(req, res, 'queue', {
      values,
      options,
      errors: noErrors(),
      rows: result.items.map((p) => {
        const c = p.company;
        return {
          id: p.id,
          status: p.status,
          company: c.name,
          companyEn: c.nameEn,
          uscc: c.uscc,
          province: l.province(c.province),
          industry: l.industry(c.industry),
          signedAt: l.dateTime(p.createdAt),
          foundingNumber: p.foundingNumber,
        };
      }),
      pager: pager(
        q.page,
        q.pageSize,
        result.total,
        { ...filters, pageSize: q.pageSize === 50 ? undefined : q.pageSize },
        '/admin/pledges',
      ),
    });
  });

  return router;
}
