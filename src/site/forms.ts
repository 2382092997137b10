/**
 * Form helpers: turn the use cases' zod issues and field errors (English, keyed by input path)
 * into messages in the visitor's language, attached to the form's fields and listed in an error
 * summary whose links move focus to each field.
 */
import type { z } from 'zod';
import { USCC_ALPHABET, USCC_LENGTH, normalizeUscc, validateUscc } from '../domain/uscc';
import type { I18n, MessageKey } from '../i18n';

export interface FieldSpec {
  /** Form control name; the control's id is `f-<name>`. */
  name: string;
  /** Path of the value in the use case's input (`company.uscc`). */
  path: string;
  label: MessageKey;
  kind?: 'text' | 'select' | 'checkbox';
  /** Message for a malformed value (zod `invalid_format`), e.g. a phone number. */
  formatMessage?: MessageKey;
}

export interface FormErrors {
  /** Message per control name. */
  fields: Record<string, string>;
  /** For the error summary, in form order: link target and the field's message (which names the field). */
  summary: Array<{ href: string; text: string }>;
}

export const noErrors = (): FormErrors => ({ fields: {}, summary: [] });

/** The localized problem with a USCC, or undefined when it is valid (checksum and province). */
export function usccMessage(raw: string, l: I18n): string | undefined {
  const v = normalizeUscc(raw);
  if (v === '') return l.t('form.required', { label: l.t('sign.uscc.label') });
  const r = validateUscc(v);
  if (!r.ok) {
    if (r.reason === 'length') return l.t('uscc.length', { n: v.length, expected: USCC_LENGTH });
    if (r.reason === 'charset') {
      const pos = [...v].findIndex((c) => !USCC_ALPHABET.includes(c));
      return l.t('uscc.charset', { pos: pos + 1, ch: v[pos] ?? '' });
    }
    if (r.reason === 'authority') return l.t('uscc.authority', { ch: v[0] });
    if (r.reason === 'type') return l.t('uscc.type', { ch: v[1], authority: v[0] });
    if (r.reason === 'region') return l.t('uscc.region', { code: v.slice(2, 8) });
    if (r.reason === 'org-check') return l.t('uscc.orgCheck');
    return l.t('uscc.checksum');
  }
  return undefined;
}

function valueAt(input: unknown, path: string): unknown {
  let cur = input;
  for (const key of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/** A select asks to choose and a checkbox to agree; other fields get `otherwise`. */
function choiceKey(field: FieldSpec, otherwise: MessageKey): MessageKey {
  return field.kind === 'select'
    ? 'form.choose'
    : field.kind === 'checkbox'
      ? 'form.mustAgree'
      : otherwise;
}

function messageFor(issue: z.core.$ZodIssue, field: FieldSpec, input: unknown, l: I18n): string {
  const label = l.t(field.label);
  const value = valueAt(input, field.path);
  if (field.path === 'company.uscc' && typeof value === 'string')
    return usccMessage(value, l) ?? l.t('form.invalid', { label });
  if (value === undefined || value === '') {
    return l.t(choiceKey(field, 'form.required'), { label });
  }
  switch (issue.code) {
    case 'custom': {
      // Refused characters (src/domain/names.ts): say what is wrong, since nobody can see it.
      const reason = (issue.params as { reason?: unknown } | undefined)?.reason;
      if (reason === 'invisible') return l.t('form.noLetters', { label });
      if (
        reason === 'control' ||
        reason === 'bidi' ||
        reason === 'malformed' ||
        reason === 'replacement'
      )
        return l.t('form.hiddenChars', { label });
      return l.t('form.invalid', { label });
    }
    case 'too_small':
      return l.t('form.tooShort', { label, min: Number(issue.minimum) });
    case 'too_big':
      return l.t('form.tooLong', { label, max: Number(issue.maximum) });
    case 'invalid_format':
      if (field.formatMessage) return l.t(field.formatMessage);
      if (issue.format === 'email') return l.t('form.email');
      if (issue.format === 'url') return l.t('form.url');
      return l.t('form.invalid', { label });
    case 'invalid_value':
      return l.t(choiceKey(field, 'form.invalid'), { label });
    default:
      return l.t('form.invalid', { label });
  }
}

export class FormErrorBuilder {
  private readonly fields: Record<string, string> = {};

  constructor(
    private readonly specs: readonly FieldSpec[],
    private readonly l: I18n,
  ) {}

  /** Adds a message for a control (the first message per control wins). */
  add(name: string, message: string): this {
    this.fields[name] ??= message;
    return this;
  }

  /** Adds the zod issues of parsing `input`; issues on unknown paths are returned for the caller. */
  addZodIssues(issues: readonly z.core.$ZodIssue[], input: unknown): z.core.$ZodIssue[] {
    const rest: z.core.$ZodIssue[] = [];
    for (const issue of issues) {
      const path = issue.path.map(String).join('.');
      const field = this.specs.find((s) => s.path === path);
      if (field) this.add(field.name, messageFor(issue, field, input, this.l));
      else rest.push(issue);
    }
    return rest;
  }

  build(): FormErrors {
    const summary = this.specs
      .filter((s) => this.fields[s.name] !== undefined)
      .map((s) => ({ href: `#f-${s.name}`, text: this.fields[s.name] }));
    return { fields: { ...this.fields }, summary };
  }
}

/** Form text as submitted: a string, trimmed of nothing (the schemas normalise), or ''. */
export function formText(body: unknown, name: string): string {
  const v = (body as Record<string, unknown> | undefined)?.[name];
  return typeof v === 'string' ? v : '';
}

/** A whole number from a form field in decimal digits; NaN (which the schemas refuse) otherwise. */
export function formInt(body: unknown, name: string): number {
  const v = formText(body, name);
  return /^[0-9]{1,15}$/.test(v) ? Number(v) : Number.NaN;
}

/** Optional text: '' (or only spaces) means "not given". */
export function optionalText(body: unknown, name: string): string | undefined {
  const v = formText(body, name);
  return v.trim() === '' ? undefined : v;
}
