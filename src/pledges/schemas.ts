/**
 * Request schemas for pledges: they trim and normalise input (a form object apart from the
 * model), validate it, and are the single source for the OpenAPI document.
 */
import { z } from 'zod';
import { INDUSTRY_CODES } from '../domain/industries';
import { freeText, lineText, nameText, searchText } from '../domain/names';
import { validateUscc } from '../domain/uscc';
import { decimalInt } from '../http/api';

export const Uscc = z
  .string()
  .trim()
  .toUpperCase()
  .superRefine((v, ctx) => {
    const r = validateUscc(v);
    // The region check (characters 3–8, a known province) is part of the rule itself.
    if (!r.ok) ctx.addIssue({ code: 'custom', message: r.message, params: { reason: r.reason } });
  })
  .meta({
    description: '18-character Unified Social Credit Code (GB 32100-2015)',
    example: '91350100M000100Y43',
  });

export const Email = z
  .string()
  .trim()
  .toLowerCase()
  .max(254)
  .pipe(z.email({ message: 'Enter a valid e-mail address.' }));

// Lower-cased so that an id typed in capitals names the same audit subject as the stored one.
export const ObjectIdParam = z
  .string()
  .regex(/^[0-9a-fA-F]{24}$/, 'Not a valid id.')
  .toLowerCase();

export const SignPledgeBody = z.strictObject({
  company: z.strictObject({
    uscc: Uscc,
    name: nameText(2, 100).meta({ description: 'Registered Chinese name' }),
    nameEn: nameText(2, 200).optional(),
    industry: z.enum(INDUSTRY_CODES).meta({ description: 'GB/T 4754-2017 section letter' }),
    address: lineText(2, 200).optional(),
    website: z
      .url({
        protocol: /^https?$/,
        message: 'Enter a web address starting with http:// or https://.',
      })
      .max(200)
      .optional(),
  }),
  signatory: z.strictObject({
    name: nameText(1, 60),
    title: lineText(1, 60),
    email: Email,
    phone: z
      .string()
      .trim()
      .regex(/^\+?[0-9 ()-]{5,30}$/, 'Enter a phone number of digits, spaces, +, - or brackets.')
      .optional(),
  }),
  initiative: z.strictObject({
    version: z.number().int().min(1),
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'Expected the lower-case hex SHA-256 of the initiative text.'),
  }),
  agree: z.literal(true, { message: 'You must agree to the initiative to sign it.' }),
});
export type SignPledgeInput = z.output<typeof SignPledgeBody>;

/** Approving needs the reviewer's word that the evidence was checked against the pledge. */
export const ApproveBody = z.strictObject({
  evidenceChecked: z.literal(true, {
    message:
      'Confirm that the evidence (authorisation letter, business licence) was checked against the pledge: send evidenceChecked: true.',
  }),
});

export const TokenBody = z.strictObject({ token: z.string().min(20).max(200) });
/** A sign-in link's token and, for a contact of several companies, the chosen company's code. */
export const LoginVerifyBody = z.strictObject({
  token: z.string().min(20).max(200),
  company: Uscc.optional(),
});
export const ReasonBody = z.strictObject({ reason: freeText(2, 500) });
export const LoginLinkBody = z.strictObject({ email: Email });
export const AdminLoginBody = z.strictObject({
  email: Email,
  password: z.string().min(1).max(200),
});

export const SignatoryQuery = z.strictObject({
  q: searchText(100).optional(),
  province: z
    .string()
    .regex(/^\d{2}$/)
    .optional(),
  industry: z.enum(INDUSTRY_CODES).optional(),
  page: decimalInt(1, 100_000).default(1),
  pageSize: decimalInt(1, 100).default(20),
});
