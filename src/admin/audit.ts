/** Searching the audit log (newest first). Values come validated from AuditQuery: no operators. */
import { Event, type EventDoc } from '../../models/event';
import { auditEntry, type AuditEntry } from '../audit/events';
import { settleCarriedEvents } from '../audit/carried';
import { chinaDayRange } from '../time/china';
import type { AuditQuery } from './schemas';

export async function searchAudit(
  q: AuditQuery,
): Promise<{ items: AuditEntry[]; total: number; page: number; pageSize: number }> {
  const filter: Record<string, unknown> = {};
  // "pledge." finds every pledge action; "pledge.rejected" exactly that one.
  if (q.action)
    filter.action = q.action.endsWith('.')
      ? { $regex: `^${q.action.replace(/\./g, '\\.')}` }
      : q.action;
  if (q.actor) filter.actor = q.actor;
  if (q.subject) filter['subject.id'] = q.subject;
  const at = chinaDayRange(q.from, q.to);
  if (at) filter.at = at;
  // Events still carried on pledges (the sealer moves them within a second) are listed too.
  await settleCarriedEvents();
  const [rows, total] = await Promise.all([
    Event.find(filter)
      .sort({ at: -1, _id: -1 })
      .skip((q.page - 1) * q.pageSize)
      .limit(q.pageSize)
      .lean<EventDoc[]>(),
    Event.countDocuments(filter),
  ]);
  return { items: rows.map(auditEntry), total, page: q.page, pageSize: q.pageSize };
}
