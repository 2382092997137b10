/**
 * The association's API (every route admin-only): the review queue and one pledge's record,
 * approve / reject / correct, initiative versions, administrator accounts, the audit log.
 * The console pages call the same use cases.
 */
import { z } from 'zod';
import { adminListPledges, adminPledgeDetail, correctPledge } from '../../src/admin/pledges';
import { createAdmin, disableAdmin, listAdmins } from '../../src/admin/accounts';
import { searchAudit } from '../../src/admin/audit';
import {
  AdminCreateBody,
  AdminPledgeQuery,
  AuditQuery,
  CorrectionBody,
  InitiativeDraftBody,
  VersionParam,
} from '../../src/admin/schemas';
import { sessionOf } from '../../src/auth/middleware';
import type { CertificateService } from '../../src/certificates/service';
import type { ApiBuilder } from '../../src/http/api';
import {
  createInitiativeDraft,
  discardInitiativeDraft,
  getInitiativeVersion,
  listInitiativeVersions,
  publishInitiativeDraft,
  updateInitiativeDraft,
} from '../../src/initiative/versions';
import {
  approvePledge,
  cancelPledge,
  rejectPledge,
  type PledgeDeps,
} from '../../src/pledges/lifecycle';
import { listEvidence, sendEvidence } from '../../src/pledges/evidence';
import { notFound } from '../../src/errors';
import { Types } from 'mongoose';
import { pledgeView } from '../../src/pledges/queries';
import { ApproveBody, ObjectIdParam, ReasonBody } from '../../src/pledges/schemas';
import {
  AdminAccount,
  AdminPledgeDetail,
  AuditEvent,
  file,
  InitiativeVersion,
  page,
  PledgeView,
} from './responses';

const IdParams = z.strictObject({ id: ObjectIdParam });
const VersionParams = z.strictObject({ version: VersionParam });
const actorOf = (res: { locals: Record<string, unknown> }): string => `admin:${sessionOf(res).sub}`;

export function adminRoutes(
  api: ApiBuilder,
  deps: { pledge: PledgeDeps; certificates: CertificateService },
): void {
  const common = { tags: ['admin'], auth: 'admin' as const };

  api.route({
    ...common,
    method: 'get',
    path: '/admin/pledges',
    summary:
      'Pledges, oldest first (the review queue): filter by status, province, industry, signing date (CST) and name or USCC',
    query: AdminPledgeQuery,
    responses: { 200: { description: 'A page of pledges', schema: page(PledgeView) } },
    handler: async ({ query }) => adminListPledges(query),
  });

  api.route({
    ...common,
    method: 'get',
    path: '/admin/pledges/:id',
    summary: 'One pledge with its certificates and every audit event about them',
    params: IdParams,
    responses: {
      200: {
        description: 'The pledge, its certificates and events (oldest first)',
        schema: AdminPledgeDetail,
      },
      404: { description: 'No such pledge' },
    },
    handler: async ({ params }) => adminPledgeDetail(params.id),
  });

  const EvidenceList = z.object({
    items: z.array(
      z.object({
        id: z.string(),
        kind: z.enum(['authorisation-letter', 'business-licence']),
        contentType: z.enum(['application/pdf', 'image/png', 'image/jpeg']),
        length: z.number().int(),
        sha256: z.string(),
        uploadedAt: z.string().meta({ format: 'date-time' }),
      }),
    ),
  });
  api.route({
    ...common,
    method: 'get',
    path: '/admin/pledges/:id/evidence',
    summary:
      'The evidence files of a pledge (authorisation letter, business licence), oldest first',
    params: IdParams,
    responses: {
      200: {
        description: 'Each file with its sniffed type, size and SHA-256',
        schema: EvidenceList,
      },
    },
    handler: async ({ params }) => ({
      items: (await listEvidence(new Types.ObjectId(params.id))).map((f) => ({
        id: String(f.id),
        kind: f.kind,
        contentType: f.contentType,
        length: f.length,
        sha256: f.sha256,
        uploadedAt: f.uploadedAt,
      })),
    }),
  });

  api.route({
    ...common,
    method: 'get',
    path: '/admin/pledges/:id/evidence/:fileId',
    summary: 'One evidence file, inline with its sniffed type (nosniff, CSP sandbox, not cached)',
    params: z.strictObject({ id: ObjectIdParam, fileId: ObjectIdParam }),
    responses: {
      200: {
        description: 'The file as uploaded',
        content: {
          'application/pdf': file('PDF'),
          'image/png': file('PNG'),
          'image/jpeg': file('JPEG'),
        },
      },
      404: { description: 'No such file for this pledge' },
    },
    handler: async ({ params }, _req, res) => {
      if (
        !(await sendEvidence(res, new Types.ObjectId(params.id), new Types.ObjectId(params.fileId)))
      )
        throw notFound('No such evidence file for this pledge.');
    },
  });

  /** An admin's change of one pledge's status, answered with the pledge as it now is. */
  const pledgeChange = <B extends z.ZodType>(change: {
    action: string;
    summary: string;
    body: B;
    done: string;
    notNow: string;
    refused?: Record<number, { description: string }>;
    run: (id: string, body: z.output<B>, adminId: string) => ReturnType<typeof approvePledge>;
  }) =>
    api.route({
      ...common,
      method: 'post',
      path: `/admin/pledges/:id/${change.action}`,
      summary: change.summary,
      params: IdParams,
      body: change.body,
      responses: {
        200: { description: change.done, schema: PledgeView },
        ...change.refused,
        404: { description: 'No such pledge' },
        409: { description: change.notNow },
      },
      handler: async ({ params, body }, _req, res) =>
        pledgeView(await change.run(params.id, body, sessionOf(res).sub)),
    });

  pledgeChange({
    action: 'approve',
    summary:
      'Approve a pledge awaiting review (it becomes active and gets its number); the reviewer confirms the evidence was checked',
    body: ApproveBody,
    done: 'The active pledge',
    notNow: 'Not awaiting review',
    refused: { 400: { description: 'evidenceChecked is not true' } },
    run: (id, _body, adminId) => approvePledge(id, adminId, deps.pledge),
  });

  pledgeChange({
    action: 'reject',
    summary: 'Reject a pledge awaiting review',
    body: ReasonBody,
    done: 'The rejected pledge',
    notNow: 'Not awaiting review',
    run: (id, body, adminId) => rejectPledge(id, body.reason, adminId, deps.pledge),
  });

  pledgeChange({
    action: 'cancel',
    summary:
      'Cancel a pledge awaiting confirmation or review, with a reason (audited; the signatory is told by e-mail)',
    body: ReasonBody,
    done: 'The cancelled pledge (it no longer holds the code)',
    notNow: 'Not awaiting confirmation or review',
    run: (id, body, adminId) => cancelPledge(id, body.reason, adminId, deps.pledge),
  });

  api.route({
    ...common,
    method: 'post',
    path: '/admin/pledges/:id/correct',
    summary: "Correct an active pledge's company data; a new certificate supersedes the old one",
    params: IdParams,
    body: CorrectionBody,
    responses: {
      200: { description: 'The pledge with its new certificate serial', schema: PledgeView },
      409: { description: 'The pledge is not active' },
    },
    handler: async ({ params, body }, _req, res) =>
      pledgeView(await correctPledge(params.id, body, sessionOf(res).sub, deps.certificates)),
  });

  api.route({
    ...common,
    method: 'get',
    path: '/admin/initiatives',
    summary: 'Every version of the initiative (newest first) with how many pledges signed each',
    responses: {
      200: { description: 'Versions', schema: z.object({ items: z.array(InitiativeVersion) }) },
    },
    handler: async () => ({ items: await listInitiativeVersions() }),
  });

  api.route({
    ...common,
    method: 'post',
    path: '/admin/initiatives',
    summary: 'Start a draft of the next version (one draft at a time)',
    body: InitiativeDraftBody,
    responses: {
      201: { description: 'The draft', schema: InitiativeVersion },
      409: { description: 'A draft already exists' },
    },
    handler: async ({ body }, _req, res) => {
      res.status(201).json(await createInitiativeDraft(body, actorOf(res)));
    },
  });

  api.route({
    ...common,
    method: 'get',
    path: '/admin/initiatives/:version',
    summary: 'One version (a draft is its preview)',
    params: VersionParams,
    responses: {
      200: { description: 'The version', schema: InitiativeVersion },
      404: { description: 'No such version' },
    },
    handler: async ({ params }) => getInitiativeVersion(params.version),
  });

  api.route({
    ...common,
    method: 'put',
    path: '/admin/initiatives/:version',
    summary: 'Edit a draft (a published text never changes)',
    params: VersionParams,
    body: InitiativeDraftBody,
    responses: {
      200: { description: 'The draft', schema: InitiativeVersion },
      409: { description: 'Already published' },
    },
    handler: async ({ params, body }, _req, res) =>
      updateInitiativeDraft(params.version, body, actorOf(res)),
  });

  api.route({
    ...common,
    method: 'delete',
    path: '/admin/initiatives/:version',
    summary: 'Discard a draft',
    params: VersionParams,
    responses: { 204: { description: 'Discarded' }, 409: { description: 'Already published' } },
    handler: async ({ params }, _req, res) => {
      await discardInitiativeDraft(params.version, actorOf(res));
      res.status(204).end();
    },
  });

  api.route({
    ...common,
    method: 'post',
    path: '/admin/initiatives/:version/publish',
    summary: 'Publish a draft: new signers bind to it, existing pledges keep their version',
    params: VersionParams,
    responses: {
      200: { description: 'The published version', schema: InitiativeVersion },
      409: { description: 'Already published' },
    },
    handler: async ({ params }, _req, res) => publishInitiativeDraft(params.version, actorOf(res)),
  });

  api.route({
    ...common,
    method: 'get',
    path: '/admin/accounts',
    summary: 'Administrator accounts',
    responses: {
      200: {
        description: 'Accounts (never a password hash)',
        schema: z.object({ items: z.array(AdminAccount) }),
      },
    },
    handler: async () => ({ items: await listAdmins() }),
  });

  api.route({
    ...common,
    method: 'post',
    path: '/admin/accounts',
    summary: 'Create an administrator',
    body: AdminCreateBody,
    responses: {
      201: { description: 'The new account', schema: AdminAccount },
      409: { description: 'The e-mail is taken' },
    },
    handler: async ({ body }, _req, res) => {
      res.status(201).json(await createAdmin(body.email, body.password, actorOf(res)));
    },
  });

  api.route({
    ...common,
    method: 'post',
    path: '/admin/accounts/:id/disable',
    summary: 'Disable an administrator (takes effect at their next request)',
    params: IdParams,
    responses: {
      204: { description: 'Disabled' },
      404: { description: 'No such administrator' },
      409: { description: 'Already disabled, or your own account' },
    },
    handler: async ({ params }, _req, res) => {
      await disableAdmin({ id: params.id }, actorOf(res));
      res.status(204).end();
    },
  });

  api.route({
    ...common,
    method: 'get',
    path: '/admin/audit',
    summary:
      'Search the audit log (newest first): action or action prefix ("pledge."), actor, subject id, dates (CST)',
    query: AuditQuery,
    responses: {
      200: {
        description: 'A page of events with their place in the hash chain',
        schema: page(AuditEvent),
      },
    },
    handler: async ({ query }) => searchAudit(query),
  });
}
