/**
 * Use cases of a pledge's life: sign, confirm by e-mail, review (approve/reject), withdraw.
 * Every transition is one conditional update on the pledge (so concurrent requests cannot
 * both win) followed by an audit event.
 */
import { Types } from 'mongoose';
import { Account, Role } from '../../models/account';
import { Company } from '../../models/company';
import { Pledge, PledgeStatus, OPEN_STATUSES, type PledgeDoc } from '../../models/pledge';
import { recordEvent } from '../audit/events';
import { newToken, hashToken } from '../auth/tokens';
import type { Config } from '../config';
import { provinceFromUscc } from '../domain/provinces';
import { badRequest, conflict, gone, notFound, validationFailed } from '../errors';
import type { MailQueue } from '../mail/outbox';
import { confirmPledgeMail, pledgeDecisionMail } from '../mail/templates';
import { currentInitiative } from '../initiative/service';
import { activatePledge } from './activation';
import { clearPublicCaches } from './queries';
import type { SignPledgeInput } from './schemas';
import { isDuplicateKey } from '../db/errors';

export const CONFIRM_TTL_HOURS = 48;

export interface PledgeDeps {
  config: Pick<Config, 'publicUrl' | 'reviewMode'>;
  mail: MailQueue;
  /** Told when a pledge became active (its certificate is issued in the background). */
  onActivated?: () => void;
  /** Told when a pledge was withdrawn (its certificate then shows as withdrawn). */
  onWithdrawn?: (pledgeId: Types.ObjectId, reason: string, actor: string) => Promise<void>;
}

export interface PledgeSummary {
  id: string;
  status: PledgeStatus;
}

export async function signPledge(input: SignPledgeInput, deps: PledgeDeps): Promise<PledgeSummary> {
  const initiative = await currentInitiative();
  if (input.initiative.version !== initiative.version || input.initiative.sha256 !== initiative.sha256) {
    const field = input.initiative.version !== initiative.version ? 'initiative.version' : 'initiative.sha256';
    throw validationFailed([{ path: field, message: `The initiative has changed: the current version is ${initiative.version} (sha256 ${initiative.sha256}). Read it again and sign that version.` }], 'You signed an outdated version of the initiative.');
  }
  const { company, signatory } = input;
  const province = provinceFromUscc(company.uscc)!;
  const companyDoc = await Company.findOneAndUpdate(
    { uscc: company.uscc },
    { $setOnInsert: { uscc: company.uscc, name: company.name, nameEn: company.nameEn, province: province.code, industry: company.industry, address: company.address, website: company.website } },
    { upsert: true, returnDocument: 'after' },
  ).lean();

  const pledgeId = new Types.ObjectId();
  const { token, hash } = newToken();
  const link = `${deps.config.publicUrl}/confirm?token=${encodeURIComponent(token)}`;
  const mailId = await deps.mail.enqueue(
    confirmPledgeMail({ to: signatory.email, companyName: company.name, signatoryName: signatory.name, link, expiresHours: CONFIRM_TTL_HOURS }),
    { collection: 'pledges', id: pledgeId },
  );
  const now = new Date();
  const doc = {
    _id: pledgeId,
    company: companyDoc!._id,
    uscc: company.uscc,
    openUscc: company.uscc,
    companyName: company.name,
    companyNameEn: company.nameEn,
    province: province.code,
    industry: company.industry,
    initiative: { version: initiative.version, sha256: initiative.sha256 },
    signatory,
    status: PledgeStatus.PendingConfirmation,
    history: [{ from: null, to: PledgeStatus.PendingConfirmation, at: now, actor: 'public' }],
    confirmTokenHash: hash,
    confirmExpiresAt: new Date(now.getTime() + CONFIRM_TTL_HOURS * 3600_000),
  };
  try {
    await insertOpenPledge(doc);
  } catch (e) {
    await deps.mail.cancel(mailId);
    throw e;
  }
  await deps.mail.release(mailId);
  // The company's details follow its latest signature (the unique open pledge makes this safe).
  await Company.updateOne({ _id: companyDoc!._id }, { $set: { name: company.name, nameEn: company.nameEn, industry: company.industry, address: company.address, website: company.website } });
  await recordEvent({ actor: 'public', action: 'pledge.signed', subject: { type: 'pledge', id: String(pledgeId) }, after: { status: doc.status, uscc: doc.uscc, initiativeVersion: initiative.version } });
  return { id: String(pledgeId), status: PledgeStatus.PendingConfirmation };
}

/** Inserts a pledge holding its USCC; an unconfirmed pledge whose link expired gives way. */
async function insertOpenPledge(doc: Record<string, unknown>): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await Pledge.create(doc);
      return;
    } catch (e) {
      if (!isDuplicateKey(e, { openUscc: 1 })) throw e; // another unique index: not "already signed"
      if (attempt > 0 || !(await expireStaleConfirmation(String(doc.uscc)))) {
        throw conflict('This company (USCC) already has a pledge that is pending or active.', { code: 'pledge-exists', errors: [{ path: 'company.uscc', message: 'Already signed: a pledge for this code is pending or active.' }] });
      }
    }
  }
}

async function expireStaleConfirmation(uscc: string): Promise<boolean> {
  const now = new Date();
  const r = await Pledge.findOneAndUpdate(
    { openUscc: uscc, status: PledgeStatus.PendingConfirmation, confirmExpiresAt: { $lt: now } },
    { $set: { status: PledgeStatus.Expired, closedReason: 'confirmation link expired' }, $unset: { openUscc: 1, confirmTokenHash: 1 }, $push: { history: { from: PledgeStatus.PendingConfirmation, to: PledgeStatus.Expired, at: now, actor: 'system' } } },
  );
  return r !== null;
}

export async function confirmPledge(token: string, deps: PledgeDeps): Promise<PledgeSummary> {
  const hash = hashToken(token);
  const now = new Date();
  const pledge = await Pledge.findOneAndUpdate(
    { confirmTokenHash: hash, status: PledgeStatus.PendingConfirmation, confirmExpiresAt: { $gt: now } },
    { $set: { status: PledgeStatus.PendingReview, confirmedAt: now }, $push: { history: { from: PledgeStatus.PendingConfirmation, to: PledgeStatus.PendingReview, at: now, actor: 'company:email' } } },
    { returnDocument: 'after' },
  ).lean<PledgeDoc>();
  if (!pledge) {
    const seen = await Pledge.findOne({ confirmTokenHash: hash }).lean<PledgeDoc>();
    if (!seen) throw badRequest('This confirmation link is not valid.', { code: 'invalid-token' });
    if (seen.status === PledgeStatus.PendingConfirmation) {
      await expireStaleConfirmation(seen.uscc);
      throw gone('This confirmation link has expired. Please sign again.', { code: 'token-expired' });
    }
    throw badRequest('This confirmation link has already been used.', { code: 'token-used' });
  }
  await ensureCompanyAccount(pledge.signatory.email, pledge.company);
  await recordEvent({ actor: 'company:email', action: 'pledge.confirmed', subject: { type: 'pledge', id: String(pledge._id) }, before: { status: PledgeStatus.PendingConfirmation }, after: { status: PledgeStatus.PendingReview } });
  if (deps.config.reviewMode === 'auto') {
    const active = await activatePledge(pledge._id, 'system:auto-review');
    deps.onActivated?.();
    return { id: String(active._id), status: active.status as PledgeStatus };
  }
  return { id: String(pledge._id), status: PledgeStatus.PendingReview };
}

async function ensureCompanyAccount(email: string, company: Types.ObjectId): Promise<void> {
  try {
    await Account.updateOne({ email, company }, { $setOnInsert: { email, company, role: Role.Company } }, { upsert: true });
  } catch (e) {
    if (!isDuplicateKey(e, { email: 1, company: 1 })) throw e; // created concurrently
  }
}

export async function approvePledge(id: string, adminId: string, deps: PledgeDeps): Promise<PledgeDoc> {
  const pledge = await activatePledge(new Types.ObjectId(id), `admin:${adminId}`);
  deps.onActivated?.();
  await deps.mail.enqueue(pledgeDecisionMail({ to: pledge.signatory.email, companyName: pledge.companyName, approved: true, link: `${deps.config.publicUrl}/me` }));
  return pledge;
}

export async function rejectPledge(id: string, reason: string, adminId: string, deps: PledgeDeps): Promise<PledgeDoc> {
  const now = new Date();
  const actor = `admin:${adminId}`;
  const pledge = await Pledge.findOneAndUpdate(
    { _id: new Types.ObjectId(id), status: PledgeStatus.PendingReview },
    { $set: { status: PledgeStatus.Rejected, closedReason: reason }, $unset: { openUscc: 1 }, $push: { history: { from: PledgeStatus.PendingReview, to: PledgeStatus.Rejected, at: now, actor, reason } } },
    { returnDocument: 'after' },
  ).lean<PledgeDoc>();
  if (!pledge) {
    if (!(await Pledge.exists({ _id: id }))) throw notFound('No pledge with this id.');
    throw conflict('This pledge is not awaiting review (it may have been decided already).', { code: 'pledge-not-pending-review' });
  }
  await recordEvent({ actor, action: 'pledge.rejected', subject: { type: 'pledge', id: String(pledge._id) }, before: { status: PledgeStatus.PendingReview }, after: { status: PledgeStatus.Rejected, reason } });
  await deps.mail.enqueue(pledgeDecisionMail({ to: pledge.signatory.email, companyName: pledge.companyName, approved: false, reason, link: `${deps.config.publicUrl}/sign` }));
  return pledge;
}

/**
 * The signatory withdraws the pledge its session was granted for (pending: cancels it; active:
 * ends it); a founder keeps its number and shows as withdrawn.
 */
export async function withdrawPledge(pledgeId: string, reason: string, accountId: string, deps: Pick<PledgeDeps, 'onWithdrawn'> = {}): Promise<PledgeDoc> {
  const now = new Date();
  const actor = `company:${accountId}`;
  const current = await Pledge.findOne({ _id: new Types.ObjectId(pledgeId), status: { $in: OPEN_STATUSES.filter((s) => s !== PledgeStatus.Activating) } }).lean<PledgeDoc>();
  if (!current) throw notFound('Your company has no pending or active pledge to withdraw.');
  const pledge = await Pledge.findOneAndUpdate(
    { _id: current._id, status: current.status },
    { $set: { status: PledgeStatus.Withdrawn, closedReason: reason }, $unset: { openUscc: 1, confirmTokenHash: 1 }, $push: { history: { from: current.status, to: PledgeStatus.Withdrawn, at: now, actor, reason } } },
    { returnDocument: 'after' },
  ).lean<PledgeDoc>();
  if (!pledge) throw conflict('The pledge changed while you were withdrawing it; please reload.', { code: 'pledge-changed' });
  clearPublicCaches();
  await recordEvent({ actor, action: 'pledge.withdrawn', subject: { type: 'pledge', id: String(pledge._id) }, before: { status: current.status }, after: { status: PledgeStatus.Withdrawn, reason } });
  await deps.onWithdrawn?.(pledge._id, reason, actor);
  return pledge;
}
