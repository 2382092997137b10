/**
 * Plain functions the console's sections share: form input and errors, paging links, and the
 * audit events as rows for people. No express, no database: each is tested through the pages.
 */
import type { Request } from 'express';
import type { z } from 'zod';
import type { AuditEntry } from '../../../src/audit/events';
import type { I18n } from '../../../src/i18n';
import { FormErrorBuilder, type FieldSpec, type FormErrors } from '../../../src/site/forms';

/** The query string as submitted, without the site-wide `lang` switch (the schemas are strict). */
export function filterInput(req: Request): Record<string, unknown> {
  const { lang: _lang, ...rest } = req.query as Record<string, unknown>;
  return rest;
}

/** Form values to show back: only strings (an array or object in the query shows as empty). */
export function formValues(input: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(input)) if (typeof v === 'string') out[k] = v;
  return out;
}

export function formErrors(fields: readonly FieldSpec[], l: I18n, issues: readonly z.core.$ZodIssue[], input: unknown): FormErrors {
  const errors = new FormErrorBuilder(fields, l);
  for (const rest of errors.addZodIssues(issues, input)) {
    // An unknown query key or a nested value: name it in the summary (first field's slot).
    errors.add(fields[0].name, l.t('console.badFilter', { key: rest.path.map(String).join('.') || String((rest as { keys?: string[] }).keys?.join(', ') ?? '') }));
  }
  return errors.build();
}

/** The query string of a page with the same filters (paging links, export links). */
export function queryString(values: Record<string, string | number | undefined>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) if (v !== undefined && v !== '') p.set(k, String(v));
  return p.toString();
}

export function pager(page: number, pageSize: number, total: number, values: Record<string, string | number | undefined>, path: string) {
  const pages = Math.max(1, Math.ceil(total / pageSize));
  const link = (n: number) => `${path}?${queryString({ ...values, page: n })}`;
  return { page, pages, total, prev: page > 1 ? link(page - 1) : null, next: page < pages ? link(page + 1) : null };
}

/** Who did it, for people: admins by e-mail, the rest as the audit log names them. */
export function actorLabel(actor: string, emails: Map<string, string>, l: I18n): string {
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

export function eventRows(events: AuditEntry[], emails: Map<string, string>, l: I18n) {
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
