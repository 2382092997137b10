/**
 * Response schemas for the OpenAPI document. They describe what the use cases return; the
 * server does not validate its own answers against them. Nested records the API passes through
 * unchanged (history entries, audit subjects) stay open objects.
 */
import { z } from 'zod';
import { PledgeStatus } from '../../models/pledge';

const DateTime = z.string().meta({ format: 'date-time' });
const Open = (description: string) => z.object({}).loose().meta({ description });

const Company = z.object({
  id: z.string(),
  name: z.string(),
  nameEn: z.string().nullable(),
  uscc: z.string(),
  province: z.string(),
  industry: z.string(),
});

/** A pledge as the company and administrators see it (never the token hash). */
export const PledgeView = z
  .object({
    id: z.string(),
    status: z.enum(Object.values(PledgeStatus)),
    company: Company,
    signatory: Open('Name, title, e-mail and phone of the person who signed'),
    initiative: Open('The initiative version signed and its SHA-256'),
    sequence: z.number().int().nullable(),
    foundingNumber: z.number().int().nullable(),
    activatedAt: DateTime.nullable(),
    createdAt: DateTime,
    history: z.array(Open('A status change: status, time, actor, reason')),
    closedReason: z.string().nullable(),
  })
  .loose();

export const AuditEvent = Open(
  'An audit event: action, actor, subject, time, details, and its place in the hash chain',
);

export const OwnPledge = PledgeView.extend({ events: z.array(AuditEvent) });

export const page = <T extends z.ZodType>(item: T) =>
  z.object({
    items: z.array(item),
    total: z.number().int(),
    page: z.number().int(),
    pageSize: z.number().int(),
  });

export const AdminPledgeDetail = z
  .object({
    pledge: PledgeView,
    warnings: z
      .array(
        z.object({
          code: z.enum([
            'same-name',
            'same-email',
            'same-phone',
            'same-email-domain',
            'competing-pledges',
            'region-mismatch',
            'free-mail',
            'revoked-before',
          ]),
          message: z.string(),
          pledges: z.array(
            z.object({
              id: z.string(),
              uscc: z.string(),
              companyName: z.string(),
              status: z.string(),
            }),
          ),
          params: z.record(z.string(), z.string()).optional(),
        }),
      )
      .meta({
        description: 'What the reviewer should look at twice; warnings never block a decision',
      }),
    certificates: z.array(Open('A certificate of this pledge: serial, status, dates')),
    events: z.array(AuditEvent),
  })
  .loose();

export const InitiativeVersion = Open(
  'An initiative version: number, titles and texts (zh, en), SHA-256, draft or published, publication time',
);

export const AdminAccount = z.object({
  id: z.string(),
  email: z.string(),
  disabled: z.boolean(),
  lastLoginAt: DateTime.nullable(),
  createdAt: DateTime,
});

export const Stats = z.object({
  totals: z.object({
    active: z.number().int(),
    founders: z.number().int(),
    provinces: z.number().int(),
    industries: z.number().int(),
  }),
  byProvince: z.array(z.object({ province: z.string(), count: z.number().int() })),
  byIndustry: z.array(z.object({ industry: z.string(), count: z.number().int() })),
  byDay: z.array(
    z.object({
      day: z.string().meta({ description: 'YYYY-MM-DD, China time' }),
      count: z.number().int(),
    }),
  ),
});

export const Verdict = z.object({
  valid: z.boolean().meta({ description: 'True only when every check passes' }),
  status: z.string().nullable(),
  serial: z.string().nullable(),
  checks: z.array(
    z.object({
      name: z.string(),
      ok: z.boolean(),
      reason: z.string().optional().meta({ description: 'Why it failed, in English' }),
      code: z.string().optional().meta({
        description:
          'Why it failed, as a stable code (e.g. digest-mismatch, page-mismatch, serial-unknown, certificate-revoked)',
      }),
    }),
  ),
  certificate: Open('The registry record of the certificate, when known').nullable(),
  development: z.boolean().meta({
    description:
      'True when the file’s verified credential says it was signed with development keys (developmentKey): a sample of no validity, whatever the checks say',
  }),
});

export const ExportManifest = z.object({
  manifest: Open('SHA-256, rows, filters, time and key id of the export'),
  jws: z.string().meta({ description: 'Compact Ed25519 JWS over the manifest' }),
});

export const Accepted = z.object({ status: z.literal('accepted') });

/** A file in the response body. */
export const file = (description: string) => z.string().meta({ format: 'binary', description });

export const OpenApiDocument = Open('An OpenAPI 3.1 document');
