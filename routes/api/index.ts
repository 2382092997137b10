/**
 * The JSON API under /api/v1. Routes are thin: validate (schemas), call a use case, shape the
 * answer. The OpenAPI document is generated from these same declarations.
 */
import express, { type Router } from 'express';
import { z } from 'zod';
import { EQI_CONTEXT_MEDIA_TYPE, EQI_CONTEXT_PATH } from '../../certificates';
import { adminLogin, redeemLoginLink, requestLoginLink } from '../../src/auth/service';
import { authenticate, sessionOf } from '../../src/auth/middleware';
import { endSession } from '../../src/auth/sessions';
import type { Config } from '../../src/config';
import { currentInitiative } from '../../src/initiative/service';
import { ApiBuilder } from '../../src/http/api';
import type { MailQueue } from '../../src/mail/outbox';
import {
  confirmPledge,
  resendConfirmation,
  signPledge,
  submitEvidence,
  withdrawPledge,
  type PledgeDeps,
} from '../../src/pledges/lifecycle';
import { EVIDENCE_MAX_BYTES } from '../../src/pledges/evidence';
import { readUploads, uploadError } from '../../src/http/upload';
import { ObjectIdParam } from '../../src/pledges/schemas';
import { authorisedPledge } from '../../src/pledges/access';
import {
  listFounders,
  ownPledge,
  pledgeView,
  registryStats,
  searchSignatories,
} from '../../src/pledges/queries';
import {
  AdminLoginBody,
  LoginLinkBody,
  LoginVerifyBody,
  ReasonBody,
  SignatoryQuery,
  SignPledgeBody,
  TokenBody,
} from '../../src/pledges/schemas';
import { rateLimit } from '../../src/rate-limit';
import type { CertificateService } from '../../src/certificates/service';
import type { ManifestSigner } from '../../src/exports/service';
import { adminRoutes } from './admin';
import { certificateRoutes } from './certificates';
import { exportRoutes } from './exports';
import { logRoutes } from './log';
import { statusRoutes } from './status';
import type { TransparencyLog } from '../../src/transparency/log';
import { Accepted, file, OpenApiDocument, OwnPledge, PledgeView, Stats } from './responses';

export interface ApiDeps {
  config: Config;
  mail: MailQueue;
  certificates: CertificateService;
  signer: ManifestSigner;
  /** What the pledge use cases need, with the hooks the registry wires (the site gets the same). */
  pledge: PledgeDeps;
  /** The transparency log whose proofs /log/* serves. */
  log: TransparencyLog;
}

const PledgeSummary = z.object({ id: z.string(), status: z.string() });
const LoginVerifyResponse = z.union([
  z.object({
    token: z
      .string()
      .meta({ description: 'Session JWT (HS256, 1 hour; ends early at POST /auth/logout)' }),
  }),
  z.object({
    choose: z
      .array(z.object({ uscc: z.string(), companyName: z.string() }))
      .meta({ description: 'Send the token again with `company` set to one of these codes' }),
  }),
]);
const TokenResponse = z.object({
  token: z
    .string()
    .meta({ description: 'Session JWT (HS256, 1 hour; ends early at POST /auth/logout)' }),
});
const Signatory = z.object({
  sequence: z.number().int(),
  foundingNumber: z.number().int().nullable(),
  company: z.object({
    name: z.string(),
    nameEn: z.string().nullable(),
    uscc: z.string(),
    province: z.string(),
    industry: z.string(),
  }),
  activatedAt: z.string().meta({ format: 'date-time' }),
  status: z.string(),
  initiativeVersion: z.number().int(),
  certificateSerial: z.string().nullable().meta({
    description: 'The current certificate, checked at /verify/{serial} (null until issued)',
  }),
});
const InitiativeResponse = z.object({
  version: z.number().int(),
  title: z.object({ zh: z.string(), en: z.string() }),
  text: z.object({ zh: z.string(), en: z.string() }),
  sha256: z.string(),
  publishedAt: z.string(),
});

export function apiRouter(deps: ApiDeps): {
  router: Router;
  /** Public reads by full path, to mount before the body parsers (ApiBuilder.publicReads). */
  publicReads: Router;
  openApi: () => Record<string, unknown>;
} {
  const { config, mail, certificates, pledge: pledgeDeps } = deps;
  const api = new ApiBuilder();
  const signingLimit = rateLimit({ bucket: 'sign', perMinute: config.rateLimit.signingPerMin });
  const loginLimit = rateLimit({ bucket: 'login', perMinute: config.rateLimit.loginPerMin });
  const secret = config.jwtSecret;

  api.route({
    method: 'get',
    path: '/initiative',
    summary: 'The current version of the initiative',
    tags: ['initiative'],
    responses: {
      200: { description: 'Current version with its SHA-256', schema: InitiativeResponse },
    },
    handler: async () => currentInitiative(),
  });

  api.route({
    method: 'post',
    path: '/pledges',
    summary: 'Sign the initiative for a company (a confirmation e-mail follows)',
    tags: ['pledges'],
    body: SignPledgeBody,
    middleware: [signingLimit],
    responses: {
      201: { description: 'Pledge created, awaiting e-mail confirmation', schema: PledgeSummary },
      409: { description: 'This USCC already has a pending or active pledge' },
      429: { description: 'Too many signing requests from this address' },
    },
    handler: async ({ body }, _req, res) => {
      res.status(201).json(await signPledge(body, pledgeDeps));
    },
  });

  const EvidenceStored = z.object({
    id: z.string(),
    files: z.array(
      z.object({
        id: z.string(),
        kind: z.enum(['authorisation-letter', 'business-licence']),
        contentType: z.string(),
        length: z.number().int(),
        sha256: z.string(),
      }),
    ),
  });
  api.route({
    method: 'post',
    path: '/pledges/:id/evidence',
    summary:
      'Give the evidence of authority for a pledge awaiting confirmation: the authorisation letter (required before confirming) and optionally the business licence',
    tags: ['pledges'],
    params: z.strictObject({ id: ObjectIdParam }),
    middleware: [signingLimit],
    requestContent: {
      'multipart/form-data': z.object({
        token: z.string().meta({ description: 'The token from the confirmation e-mail' }),
        letter: file(
          'Authorisation letter (授权书) on letterhead with the company seal: PDF, JPEG or PNG, at most 10 MiB',
        ),
        licence: file('Business licence (营业执照), same rules').optional(),
      }),
    },
    responses: {
      201: {
        description: 'Stored (a file replaces an earlier one of its kind)',
        schema: EvidenceStored,
      },
      400: {
        description:
          'No letter, an empty, cut-off or malformed file or body, or a token not for this pledge',
      },
      409: { description: 'The pledge no longer awaits confirmation' },
      413: { description: 'A file over 10 MiB' },
      415: {
        description:
          'Not multipart/form-data, or a file that is not PDF, JPEG or PNG (read from its bytes)',
      },
      422: { description: 'An image over 12,000 px a side or 60 megapixels' },
    },
    handler: async ({ params }, req, res) => {
      const up = await readUploads(req, {
        files: [{ field: 'letter', required: true }, { field: 'licence' }],
        textFields: ['token'],
        maxBytes: EVIDENCE_MAX_BYTES,
      });
      if (!up.ok)
        throw uploadError(up.problem, {
          field: up.field ?? 'letter',
          maxBytes: EVIDENCE_MAX_BYTES,
        });
      const token = up.fields.token ?? '';
      const stored = await submitEvidence(params.id, token, {
        letter: up.files.letter?.bytes,
        licence: up.files.licence?.bytes,
      });
      res.status(201).json(stored);
    },
  });

  api.route({
    method: 'post',
    path: '/pledges/confirm',
    summary: 'Confirm a pledge with the token from the e-mailed link',
    tags: ['pledges'],
    body: TokenBody,
    responses: {
      200: {
        description: 'Confirmed: awaiting review (or active when review is automatic)',
        schema: PledgeSummary,
      },
      410: { description: 'The link has expired' },
    },
    handler: async ({ body }) => confirmPledge(body.token, pledgeDeps),
  });

  api.route({
    method: 'post',
    path: '/pledges/resend-confirmation',
    summary:
      'Mail a fresh confirmation link for the pledges of this address still awaiting confirmation',
    tags: ['pledges'],
    body: LoginLinkBody,
    middleware: [loginLimit],
    responses: {
      202: {
        description:
          'Accepted (always, so it does not reveal who has signed; at most 3 links per address a day are mailed)',
        schema: Accepted,
      },
      429: { description: 'Too many requests from this address' },
    },
    handler: async ({ body }, _req, res) => {
      await resendConfirmation(body.email, pledgeDeps);
      res.status(202).json({ status: 'accepted' });
    },
  });

  api.route({
    method: 'post',
    path: '/auth/login-link',
    summary: 'E-mail a single-use sign-in link to a company contact',
    tags: ['auth'],
    body: LoginLinkBody,
    middleware: [loginLimit],
    responses: {
      202: {
        description: 'Accepted (always, so it does not reveal who has signed)',
        schema: Accepted,
      },
      429: { description: 'Too many sign-in requests from this address' },
    },
    handler: async ({ body }, _req, res) => {
      await requestLoginLink(body.email, { config, mail });
      res.status(202).json({ status: 'accepted' });
    },
  });

  api.route({
    method: 'post',
    path: '/auth/login-link/verify',
    summary:
      'Exchange a sign-in link token for a session token (a contact of several companies names the chosen one in `company`)',
    tags: ['auth'],
    body: LoginVerifyBody,
    middleware: [loginLimit],
    responses: {
      200: {
        description:
          'Session token, or the companies to choose from (the link stays valid until one is chosen)',
        schema: LoginVerifyResponse,
      },
      403: { description: 'The e-mail no longer signs the company’s current pledge' },
      410: { description: 'The link has expired' },
      429: { description: 'Too many sign-in requests from this address' },
    },
    handler: async ({ body }) => redeemLoginLink(body.token, secret, body.company),
  });

  api.route({
    method: 'post',
    path: '/auth/login',
    summary: 'Administrator sign-in with e-mail and password',
    tags: ['auth'],
    body: AdminLoginBody,
    middleware: [loginLimit],
    responses: {
      200: { description: 'Session token', schema: TokenResponse },
      401: { description: 'Wrong e-mail or password (one answer for both)' },
      429: {
        description:
          'Too many attempts from this address, or too many failures for this account (see Retry-After)',
      },
    },
    handler: async ({ body }) => ({ token: await adminLogin(body.email, body.password, secret) }),
  });

  api.route({
    method: 'post',
    path: '/auth/logout',
    summary: 'Sign out: the session token (company or admin) is refused from now on',
    tags: ['auth'],
    auth: 'session',
    responses: {
      204: { description: 'Signed out' },
      401: { description: 'No session, or it is invalid, expired or already signed out' },
    },
    handler: async (_i, _req, res) => {
      await endSession(sessionOf(res));
      res.status(204).end();
    },
  });

  api.route({
    method: 'get',
    path: '/me/pledge',
    summary: "The signed-in company's pledge with its history",
    tags: ['company'],
    auth: 'company',
    responses: {
      200: { description: 'The pledge with its audit events', schema: OwnPledge },
      403: {
        description:
          'The session was granted for a pledge that is no longer the company’s current one',
      },
    },
    handler: async (_i, _req, res) => ownPledge(await authorisedPledge(sessionOf(res))),
  });

  api.route({
    method: 'post',
    path: '/me/pledge/withdraw',
    summary: "Withdraw the signed-in company's pledge",
    tags: ['company'],
    auth: 'company',
    body: ReasonBody,
    responses: {
      200: { description: 'Withdrawn pledge', schema: PledgeView },
      403: {
        description:
          'The session was granted for a pledge that is no longer the company’s current one',
      },
      409: { description: 'The pledge cannot be withdrawn in its status' },
    },
    handler: async ({ body }, _req, res) => {
      const s = sessionOf(res);
      const granted = await authorisedPledge(s);
      return pledgeView(await withdrawPledge(String(granted._id), body.reason, s.sub, pledgeDeps));
    },
  });

  api.route({
    method: 'get',
    path: '/founders',
    summary: 'The founding signatories (first 100 activated) in number order',
    tags: ['public'],
    responses: {
      200: {
        description: 'Founders; withdrawn or revoked ones keep their number',
        schema: z.object({ items: z.array(Signatory) }),
      },
    },
    handler: async () => ({ items: await listFounders() }),
  });

  api.route({
    method: 'get',
    path: '/signatories',
    summary: 'Active signatories, searchable and filterable',
    tags: ['public'],
    query: SignatoryQuery,
    responses: {
      200: {
        description: 'A page of signatories',
        schema: z.object({
          items: z.array(Signatory),
          total: z.number().int(),
          page: z.number().int(),
          pageSize: z.number().int(),
        }),
      },
    },
    handler: async ({ query }) => searchSignatories(query),
  });

  api.route({
    method: 'get',
    path: '/stats',
    summary: 'Totals, and signatories by province, industry and day',
    tags: ['public'],
    responses: { 200: { description: 'Statistics', schema: Stats } },
    handler: async () => registryStats(),
  });

  certificateRoutes(api, certificates, { verifyPerMin: config.rateLimit.verifyPerMin });
  adminRoutes(api, { pledge: pledgeDeps, certificates });
  exportRoutes(api, deps.signer);
  logRoutes(api, deps.log);
  statusRoutes(api, { publicUrl: config.publicUrl, sign: (payload) => deps.signer.sign(payload) });

  describeOtherRoutes(api);

  const openApi = () =>
    api.openApi(
      {
        title:
          '企业质量诚信倡议 登记平台 API / Enterprise Quality Integrity Initiative Registry API',
        version: '1.0.0',
        description:
          'Errors are RFC 9457 problem details (application/problem+json) with field-level `errors`; the `type` `/problems/<code>` names the problem for programs.',
        license: { name: 'MIT', identifier: 'MIT' },
      },
      { servers: [{ url: '/', description: 'This registry (paths start at the site root)' }] },
    );
  api.route({
    method: 'get',
    path: '/openapi.json',
    summary: 'This document',
    tags: ['meta'],
    responses: { 200: { description: 'OpenAPI 3.1', schema: OpenApiDocument } },
    handler: async () => openApi(),
  });

  const router = express.Router();
  router.use(authenticate(secret));
  router.use(api.router);
  return { router, publicReads: api.publicReads, openApi };
}

const Jwk = z
  .object({ kty: z.literal('OKP'), crv: z.literal('Ed25519'), x: z.string(), kid: z.string() })
  .loose();
const Status = (value: string) => z.object({ status: z.literal(value) });

/** The routes outside /api/v1 (src/app.ts, routes/health.ts, routes/ns.ts, src/metrics/http.ts, src/registry.ts). */
function describeOtherRoutes(api: ApiBuilder): void {
  api.external({
    method: 'get',
    path: '/.well-known/jwks.json',
    summary:
      'Public Ed25519 keys that sign certificates and export manifests (current key first, earlier keys kept)',
    tags: ['keys'],
    responses: {
      200: { description: 'JSON Web Key Set', schema: z.object({ keys: z.array(Jwk) }) },
    },
  });
  api.external({
    method: 'get',
    path: EQI_CONTEXT_PATH,
    summary:
      "The registry's JSON-LD context: every term a certificate credential adds to the VC 2.0 context (CORS open, cached a day)",
    tags: ['keys'],
    responses: {
      200: {
        description: 'JSON-LD context document',
        contentType: EQI_CONTEXT_MEDIA_TYPE,
        schema: z.object({ '@context': z.record(z.string(), z.unknown()) }).meta({
          description: 'A JSON-LD 1.1 context (protected terms under <PUBLIC_URL>/ns/eqi/v1#)',
        }),
      },
    },
  });
  api.external({
    method: 'get',
    path: '/healthz',
    summary: 'Liveness: the process serves HTTP (never touches the database)',
    tags: ['operations'],
    responses: { 200: { description: 'Alive', schema: Status('ok') } },
  });
  api.external({
    method: 'get',
    path: '/readyz',
    summary: 'Readiness: the database answers a ping',
    tags: ['operations'],
    responses: {
      200: { description: 'Ready', schema: Status('ready') },
      503: { description: 'Not ready (see Retry-After)' },
    },
  });
  api.external({
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics (text exposition format)',
    tags: ['operations'],
    security: {
      scheme: 'metricsToken',
      description:
        'METRICS_TOKEN as a bearer token; without it, open in development and refused (403) in production',
    },
    responses: {
      200: {
        description: 'Metrics',
        contentType: 'text/plain',
        schema: z.string().meta({ description: 'Prometheus text format 0.0.4' }),
      },
      403: { description: 'Production without METRICS_TOKEN' },
    },
  });
}
