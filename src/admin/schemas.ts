/**
 * Input of the association's console and admin API, validated at the edge. The same schemas
 * serve the JSON API (and its OpenAPI document) and the console's forms.
 */
import { z } from 'zod';
import { INDUSTRY_CODES } from '../domain/industries';
import { provinceByCode } from '../domain/provinces';
import { MIN_PASSWORD_LENGTH } from '../auth/passwords';
import { freeText, nameText, searchText } from '../domain/names';
import { decimalInt } from '../http/api';
import { Email } from '../pledges/schemas';

const page = decimalInt(1, 100_000).default(1);

export const PLEDGE_STATUSES = [
  'pending_confirmation',
  'pending_review',
  'activating',
  'active',
  'withdrawn',
  'revoked',
  'rejected',
  'expired',
  'cancelled',
] as const;

/** A calendar date (China Standard Time), as `<input type="date">` sends it. */
export const Day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'Use a date like 2009-09-01.')
  .refine(
    (d) =>
      !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) &&
      new Date(`${d}T00:00:00Z`).toISOString().startsWith(d),
    'Not a real date.',
  );

/** Empty form fields mean "no filter", so the console's GET forms can submit every field. */
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (v === '' ? undefined : v), schema.optional());

const dateRange = <T extends { from?: string; to?: string }>(v: T, ctx: z.RefinementCtx) => {
  if (v.from && v.to && v.from > v.to)
    ctx.addIssue({
      code: 'custom',
      path: ['to'],
      message: 'The end date is before the start date.',
    });
};

export const AdminPledgeQuery = z
  .strictObject({
    status: optional(z.enum(PLEDGE_STATUSES)),
    province: optional(
      z
        .string()
        .regex(/^\d{2}$/, 'A two-digit province code.')
        .refine((c) => provinceByCode(c) !== undefined, 'Not a province code.'),
    ),
    industry: optional(z.enum(INDUSTRY_CODES)),
    from: optional(Day),
    to: optional(Day),
    q: optional(searchText(100).min(1)),
    page,
    pageSize: decimalInt(1, 200).default(50),
  })
  .superRefine(dateRange);
export type AdminPledgeQuery = z.output<typeof AdminPledgeQuery>;
export type AdminPledgeFilter = Omit<AdminPledgeQuery, 'page' | 'pageSize'>;

export const CorrectionBody = z.strictObject({
  name: optional(nameText(2, 100)),
  nameEn: optional(nameText(2, 200)),
  industry: optional(z.enum(INDUSTRY_CODES)),
  reason: freeText(2, 500),
});
export type CorrectionInput = z.output<typeof CorrectionBody>;

export const InitiativeDraftBody = z.strictObject({
  titleZh: nameText(2, 200),
  titleEn: nameText(2, 300),
  textZh: freeText(20, 20_000),
  textEn: freeText(20, 40_000),
});
export type InitiativeDraftInput = z.output<typeof InitiativeDraftBody>;

export const VersionParam = decimalInt(1, 1_000_000);

export const AdminCreateBody = z.strictObject({
  email: Email,
  password: z
    .string()
    .min(MIN_PASSWORD_LENGTH, `At least ${MIN_PASSWORD_LENGTH} characters.`)
    .max(200),
});

export const AuditQuery = z
  .strictObject({
    action: optional(
      z
        .string()
        .trim()
        .regex(
          /^[a-z]+(\.[a-z_]+)*\.?$/,
          'An action such as pledge.rejected or a prefix such as pledge.',
        )
        .max(60),
    ),
    actor: optional(
      z
        .string()
        .trim()
        .regex(/^[\w:@.+-]+$/, 'An actor such as admin:<id>, system or cli.')
        .max(100),
    ),
    subject: optional(
      z
        .string()
        .trim()
        .regex(/^[\w:@.+-]+$/, 'A pledge id, certificate serial, export id or e-mail.')
        .max(254),
    ),
    from: optional(Day),
    to: optional(Day),
    page,
    pageSize: decimalInt(1, 200).default(50),
  })
  .superRefine(dateRange);
export type AuditQuery = z.output<typeof AuditQuery>;
