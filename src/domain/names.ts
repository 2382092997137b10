/**
 * Names and other text people type or paste: the one place that decides which characters are
 * refused and how text is normalised, for the API and the site's forms alike (their zod schemas
 * are built here). Names are printed on certificates and listed in the public directory, so
 * they must not hide characters that reorder or mask what a reader sees.
 */
import { z } from 'zod';

/** Why text is refused. */
export type TextProblem = 'control' | 'bidi' | 'malformed' | 'replacement' | 'invisible';

// C0 and C1 controls, except the whitespace ones (tab, line breaks, NEL), which count as spaces.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000e-\u001f\u007f-\u0084\u0086-\u009f]/u;
// U+061C, U+200E/F, U+202A–202E, U+2066–2069: they reorder how the text around them is shown.
const BIDI = /\p{Bidi_Control}/u;
// Zero-width space, word joiner, byte-order mark: invisible and meaningless in a name (pasted
// from web pages and spreadsheets); dropped rather than refused, since nobody can see them.
const DROPPED = /[\u200b\u2060\ufeff]/gu;
// Every run of whitespace (JS `\s` and NEL) becomes one space.
const WHITESPACE = /[\s\u0085]+/gu;
// A letter or digit that is not default-ignorable (Hangul fillers look blank but are letters).
const VISIBLE = /(?![\p{Default_Ignorable_Code_Point}])[\p{L}\p{N}]/u;
// With the u flag a surrogate pair is one code point, so this finds only unpaired halves.
const LONE_SURROGATE = /[\ud800-\udfff]/u;

const MESSAGES: Record<TextProblem, string> = {
  control: 'Contains a control character; type the text again without it.',
  bidi: 'Contains a bidirectional control character (U+202A–202E, U+2066–2069 and the like).',
  malformed: 'Contains an unpaired surrogate: the text is not valid Unicode.',
  replacement: 'Contains U+FFFD: part of the text was lost before it was sent.',
  invisible: 'Must contain at least one visible letter or digit.',
};

export function textProblemMessage(problem: TextProblem): string {
  return MESSAGES[problem];
}

/** The first reason `raw` cannot be accepted as text at all, whatever its normalisation. */
export function refusedCharacters(raw: string): Exclude<TextProblem, 'invisible'> | undefined {
  if (LONE_SURROGATE.test(raw)) return 'malformed';
  if (CONTROL.test(raw)) return 'control';
  if (BIDI.test(raw)) return 'bidi';
  if (raw.includes('\ufffd')) return 'replacement';
  return undefined;
}

/**
 * A name as stored: invisible characters dropped, NFC, inner whitespace collapsed to one space,
 * trimmed. Idempotent. (Dropping comes before NFC so that a mark after a dropped character
 * composes with its base; collapsing comes after NFC, which maps some spaces to others.)
 */
export function normalizeName(raw: string): string {
  return raw.replace(DROPPED, '').normalize('NFC').replace(WHITESPACE, ' ').trim();
}

/** Multi-line text as stored: the same, except that line breaks and indentation are kept. */
export function normalizeFreeText(raw: string): string {
  return raw.replace(DROPPED, '').normalize('NFC').trim();
}

export function hasVisibleCharacter(s: string): boolean {
  return VISIBLE.test(s);
}

/** Why a name would be refused after normalisation, or undefined when it is acceptable. */
export function nameProblem(raw: string): TextProblem | undefined {
  return (
    refusedCharacters(raw) ?? (hasVisibleCharacter(normalizeName(raw)) ? undefined : 'invisible')
  );
}

function refuse(value: string, ctx: z.core.$RefinementCtx<string>): void {
  const problem = refusedCharacters(value);
  if (problem)
    ctx.addIssue({
      code: 'custom',
      message: MESSAGES[problem],
      params: { reason: problem },
      input: value,
    });
}

function requireVisible(value: string, ctx: z.core.$RefinementCtx<string>): void {
  // Empty text is the length check's to report.
  if (value !== '' && !hasVisibleCharacter(value)) {
    ctx.addIssue({
      code: 'custom',
      message: MESSAGES.invisible,
      params: { reason: 'invisible' },
      input: value,
    });
  }
}

/** One line of text (a title, an address): refused characters checked, normalised, then measured. */
export const lineText = (min: number, max: number) =>
  z.string().superRefine(refuse).overwrite(normalizeName).min(min).max(max);

/** A company's or a person's name: one line with at least one visible letter or digit. */
export const nameText = (min: number, max: number) =>
  lineText(min, max).superRefine(requireVisible);

/** Text with line breaks (a reason, an initiative's wording). */
export const freeText = (min: number, max: number) =>
  z.string().superRefine(refuse).overwrite(normalizeFreeText).min(min).max(max);

/** A search box's term: the same characters refused; '' (after normalising) means no search. */
export const searchText = (max: number) =>
  z.string().superRefine(refuse).overwrite(normalizeName).max(max);
