/**
 * Plain functions the console's sections share: form input and errors, paging links, and the
 * audit events as rows for people (field: before → after, in the reader's language). No express, no database: each is tested through the pages.
 */
import type { Request } from 'express';
import type { z } from 'zod';
import type { AuditEntry } from '../../../src/audit/events';
import { catalogMessage, type I18n, type MessageKey } from '../../../src/i18n';
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

export function formErrors(
  fields: readonly FieldSpec[],
  l: I18n,
  issues: readonly z.core.$ZodIssue[],
  input: unknown,
): FormErrors {
  const errors = new FormErrorBuilder(fields, l);
  for (const rest of errors.addZodIssues(issues, input)) {
    // An unknown query key or a nested value: name it in the summary (first field's slot).
    errors.add(
      fields[0].name,
      l.t('console.badFilter', {
        key:
          rest.path.map(String).join('.') ||
          String((rest as { keys?: string[] }).keys?.join(', ') ?? ''),
      }),
    );
  }
  return errors.build();
}

/** The query string of a page with the same filters (paging links, export links). */
export function queryString(values: Record<string, string | number | undefined>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) if (v !== undefined && v !== '') p.set(k, String(v));
  return p.toString();
}

export function pager(
  page: number,
  pageSize: number,
  total: number,
  values: Record<string, string | number | undefined>,
  path: string,
) {
  const pages = Math.max(1, Math.ceil(total / pageSize));
  const link = (n: number) => `${path}?${queryString({ ...values, page: n })}`;
  return {
    page,
    pages,
    total,
    prev: page > 1 ? link(page - 1) : null,
    next: page < pages ? link(page + 1) : null,
  };
}

/** Who did it, for people: admins by e-mail, the rest as the audit log names them. */
export function actorLabel(actor: string, emails: Map<string, string>, l: I18n): string {
  if (actor.startsWith('admin:')) return emails.get(actor.slice(6)) ?? actor;
  if (actor === 'system') return l.t('actor.system');
  if (actor === 'public') return l.t('actor.signatory');
  if (actor.startsWith('company:')) return l.t('actor.company');
  return actor;
}

/** Field labels of audit payloads, from the catalogs; an unknown field shows its own name. */
const FIELD_LABELS: Record<string, MessageKey> = {
  status: 'console.filter.status',
  reason: 'console.reason',
  uscc: 'table.uscc',
  province: 'table.province',
  industry: 'table.industry',
  sequence: 'table.sequence',
  foundingNumber: 'console.field.foundingNumber',
  initiativeVersion: 'verdict.version',
  name: 'console.correct.name',
  nameEn: 'console.correct.nameEn',
  format: 'console.exports.format',
  rows: 'console.field.rows',
  filters: 'console.field.filters',
  sha256: 'console.field.sha256',
  pledge: 'console.subject.pledge',
  supersededBy: 'console.field.supersededBy',
  pledgeRevoked: 'console.field.pledgeRevoked',
  evidenceChecked: 'console.field.evidenceChecked',
  checkedBy: 'console.field.checkedBy',
};

/** One changed (or recorded) field of an event, ready to read: `label: before → after`. */
export interface ChangeLine {
  label: string;
  before?: string;
  after: string;
}

const MAX_VALUE = 200;

function valueText(key: string, v: unknown, subjectType: string, l: I18n): string {
  if (v === null || v === undefined || v === '') return '—';
  if (typeof v === 'boolean') return l.t(v ? 'console.value.yes' : 'console.value.no');
  if (typeof v === 'string') {
    // A certificate's status has its own words (有效/已被替换); a pledge's the site's.
    if (key === 'status')
      return (
        catalogMessage(
          l.locale,
          subjectType === 'certificate' ? `console.cert.${v}` : `status.${v}`,
        ) ?? v
      );
    if (key === 'industry') return `${v} · ${l.industry(v)}`;
    if (key === 'province') return l.province(v);
    return v.length > MAX_VALUE ? `${v.slice(0, MAX_VALUE - 1)}…` : v;
  }
  if (typeof v === 'number') return key === 'rows' ? l.number(v) : String(v);
  if (Array.isArray(v)) return v.map((x) => valueText('', x, subjectType, l)).join(', ');
  if (typeof v === 'object') {
    const parts = Object.entries(v as Record<string, unknown>).map(
      ([k, x]) => `${k}=${valueText(k, x, subjectType, l)}`,
    );
    return parts.length ? parts.join(', ') : '—';
  }
  return String(v);
}

/**
 * An event's before/after payloads as lines for people, in the reader's language. Every field
 * of `after` is a line (with its old value when `before` had one); fields only `before` names are
 * the unchanged rest of a correction and are left out, unless there is no `after` at all.
 */
export function changeLines(
  before: unknown,
  after: unknown,
  subjectType: string,
  l: I18n,
): ChangeLine[] {
  const obj = (v: unknown): Record<string, unknown> | undefined =>
    v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  const b = obj(before);
  const a = obj(after);
  const label = (k: string) => (FIELD_LABELS[k] ? l.t(FIELD_LABELS[k]) : k);
  if (!a)
    return b
      ? Object.entries(b).map(([k, v]) => ({
          label: label(k),
          after: valueText(k, v, subjectType, l),
        }))
      : [];
  return Object.entries(a).map(([k, v]) => {
    const line: ChangeLine = { label: label(k), after: valueText(k, v, subjectType, l) };
    if (b && k in b) line.before = valueText(k, b[k], subjectType, l);
    return line;
  });
}

/** An approval's reviewer (`checkedBy: 'admin:<id>'`) reads as the admin's e-mail, like the actor. */
function withReviewerName(after: unknown, emails: Map<string, string>, l: I18n): unknown {
  if (!after || typeof after !== 'object' || !('checkedBy' in after)) return after;
  const by = (after as { checkedBy: unknown }).checkedBy;
  return typeof by === 'string' ? { ...after, checkedBy: actorLabel(by, emails, l) } : after;
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
    changes: changeLines(e.before, withReviewerName(e.after, emails, l), e.subject.type, l),
    seq: e.seq,
  }));
}
