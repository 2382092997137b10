/** The audit log: events searched by action, actor, subject and days, paged. */
import { Router } from 'express';
import { adminEmails } from '../../../src/admin/accounts';
import { searchAudit } from '../../../src/admin/audit';
import { AuditQuery } from '../../../src/admin/schemas';
import { noErrors, type FieldSpec } from '../../../src/site/forms';
import type { ConsoleContext } from './context';
import { eventRows, filterInput, formErrors, formValues, pager } from './views';

const AUDIT_FIELDS: readonly FieldSpec[] = [
  { name: 'action', path: 'action', label: 'console.audit.action' },
  { name: 'actor', path: 'actor', label: 'console.audit.actor' },
  { name: 'subject', path: 'subject', label: 'console.audit.subject' },
  { name: 'from', path: 'from', label: 'console.audit.from' },
  { name: 'to', path: 'to', label: 'console.audit.to' },
];

export function auditPages({ kit, gate, show }: ConsoleContext): Router {
  const router = Router();

  router.get('/admin/audit', async (req, res) => {
    if (!(await gate.current(req, res))) return;
    const l = kit.l(res);
    const input = filterInput(req);
    const values = formValues(input);
    const parsed = AuditQuery.safeParse(input);
    if (!parsed.success)
      return show(
        req,
        res,
        'audit',
        {
          values,
          errors: formErrors(AUDIT_FIELDS, l, parsed.error.issues, input),
          rows: [],
          pager: null,
        },
        400,
      );
    const q = parsed.data;
    const result = await searchAudit(q);
    const emails = await adminEmails(result.items.map((e) => e.actor));
    show(req, res, 'audit', {
      values,
      errors: noErrors(),
      rows: eventRows(result.items, emails, l),
      pager: pager(
        q.page,
        q.pageSize,
        result.total,
        {
          action: q.action,
          actor: q.actor,
          subject: q.subject,
          from: q.from,
          to: q.to,
          pageSize: q.pageSize === 50 ? undefined : q.pageSize,
        },
        '/admin/audit',
      ),
    });
  });

  return router;
}
