/**
 * How a certificate stops being valid, each one conditional update on the certificate (so two
 * concurrent changes cannot both win) followed by an audit event:
 * - revoked by the association (the pledge becomes revoked too; a founder keeps its number);
 * - withdrawn, when the company withdraws its pledge (the pledge use case calls the hook);
 * - superseded, when a correction of company data reissues it: `markForReissue` applies the
 *   correction and marks the pledge, then the issuer (issuing.ts) supersedes and issues anew.
 * Nothing is deleted: the status changes and the history grows.
 */
import { Types } from 'mongoose';
import { Certificate, CertificateStatus, type CertificateDoc } from '../../models/certificate';
import { Pledge, PledgeStatus, type PledgeDoc } from '../../models/pledge';
import { recordEvent } from '../audit/events';
import { conflict, notFound } from '../errors';
import { clearPublicCaches } from '../pledges/queries';
import type { LookupCache } from './cache';
import { CLAIM_MS } from './claims';
import { findCertificate } from './records';
import { certificateView, type CertificateView } from './views';
import { logCertificateStatus, type RevocationReason } from '../transparency/intents';

/** The association revokes a certificate; the pledge becomes revoked (a founder keeps its number). */
export async function revokeCertificate(
  cache: LookupCache,
  serial: string,
  reason: string,
  adminId: string,
  reasonCode: RevocationReason = 'other',
): Promise<CertificateView> {
  const cert = await findCertificate(serial);
  const actor = `admin:${adminId}`;
  const now = new Date();
  const updated = await Certificate.findOneAndUpdate(
    { _id: cert._id, status: CertificateStatus.Valid },
    {
      $set: {
        status: CertificateStatus.Revoked,
        statusReason: reason,
        revocationReason: reasonCode,
        logPending: true,
      },
      $unset: { currentFor: 1 },
      $push: { history: { status: CertificateStatus.Revoked, at: now, actor, reason } },
    },
    { returnDocument: 'after' },
  ).lean<CertificateDoc>();
  if (!updated) {
    // A revocation cut short by a crash is finished by asking again (the answer stays a 409).
    if (cert.status === CertificateStatus.Revoked)
      await revokePledgeOf(cert, cert.statusReason ?? reason, actor, now);
    throw conflict(
      `This certificate is ${cert.status}, not valid; only a valid certificate can be revoked.`,
      { code: 'certificate-not-valid' },
    );
  }
  await logCertificateStatus(cert._id);
  cache.delete(cert.serial);
  clearPublicCaches();
  const pledgeRevoked = await revokePledgeOf(cert, reason, actor, now);
  await recordEvent({
    actor,
    action: 'certificate.revoked',
    subject: { type: 'certificate', id: cert.serial },
    before: { status: cert.status },
    after: { status: CertificateStatus.Revoked, reason, pledgeRevoked },
  });
  return certificateView(updated);
}

/** The second write of a revocation: the certificate's pledge, if still active, becomes revoked. */
async function revokePledgeOf(
  cert: Pick<CertificateDoc, 'pledge'>,
  reason: string,
  actor: string,
  at: Date,
): Promise<boolean> {
  const pledge = await Pledge.findOneAndUpdate(
    { _id: cert.pledge, status: PledgeStatus.Active },
    {
      $set: { status: PledgeStatus.Revoked, closedReason: reason },
      $unset: { openUscc: 1 },
      $push: {
        history: { from: PledgeStatus.Active, to: PledgeStatus.Revoked, at, actor, reason },
      },
    },
  );
  if (pledge) clearPublicCaches();
  return pledge !== null;
}

/**
 * Revoking is two writes, the certificate and then its pledge: a crash between them would leave
 * an active pledge whose certificate is revoked. This finishes such revocations (at start and
 * with the other recovery work); a revoked certificate's pledge is never active otherwise.
 */
export async function completeInterruptedRevocations(): Promise<number> {
  const revoked = await Certificate.find({ status: CertificateStatus.Revoked })
    .select({ pledge: 1, statusReason: 1 })
    .lean<CertificateDoc[]>();
  if (revoked.length === 0) return 0;
  const active = await Pledge.find({
    _id: { $in: revoked.map((c) => c.pledge) },
    status: PledgeStatus.Active,
  })
    .select({ _id: 1 })
    .lean<PledgeDoc[]>();
  const stuck = new Set(active.map((p) => String(p._id)));
  let finished = 0;
  for (const cert of revoked) {
    if (
      stuck.has(String(cert.pledge)) &&
      (await revokePledgeOf(cert, cert.statusReason ?? 'revoked', 'system', new Date()))
    )
      finished++;
  }
  return finished;
}

/** The company withdrew its pledge: its current certificate shows as withdrawn. */
export async function withdrawCertificate(
  cache: LookupCache,
  pledgeId: Types.ObjectId,
  reason: string,
  actor: string,
): Promise<void> {
  const now = new Date();
  const cert = await Certificate.findOneAndUpdate(
    { currentFor: pledgeId, status: CertificateStatus.Valid },
    {
      $set: { status: CertificateStatus.Withdrawn, statusReason: reason, logPending: true },
      $unset: { currentFor: 1 },
      $push: { history: { status: CertificateStatus.Withdrawn, at: now, actor, reason } },
    },
  ).lean<CertificateDoc>();
  if (!cert) return;
  await logCertificateStatus(cert._id);
  cache.delete(cert.serial);
  await recordEvent({
    actor,
    action: 'certificate.withdrawn',
    subject: { type: 'certificate', id: cert.serial },
    before: { status: CertificateStatus.Valid },
    after: { status: CertificateStatus.Withdrawn },
  });
}

/** The pledge's current certificate gives way to `newSerial` (called by the issuer on reissue). */
export async function supersedeCertificate(
  cache: LookupCache,
  old: CertificateDoc,
  newSerial: string,
  actor: string,
): Promise<void> {
  const now = new Date();
  const updated = await Certificate.findOneAndUpdate(
    { _id: old._id, currentFor: old.pledge, status: CertificateStatus.Valid },
    {
      $set: {
        status: CertificateStatus.Superseded,
        supersededBy: newSerial,
        statusReason: 'company data corrected',
        logPending: true,
      },
      $unset: { currentFor: 1 },
      $push: {
        history: {
          status: CertificateStatus.Superseded,
          at: now,
          actor,
          reason: `superseded by ${newSerial}`,
        },
      },
    },
  ).lean<CertificateDoc>();
  if (updated) await logCertificateStatus(updated._id);
  cache.delete(old.serial);
  clearPublicCaches();
  if (updated)
    await recordEvent({
      actor,
      action: 'certificate.superseded',
      subject: { type: 'certificate', id: old.serial },
      after: { status: CertificateStatus.Superseded, supersededBy: newSerial },
    });
}

/**
 * Applies a correction of company data to an active pledge and marks its certificate for
 * reissue, in one guarded update (returns the pledge as it was). From then on the correction
 * cannot end half-done: the reissue supersedes and reissues at once, and should it not get to
 * (a crash), the background issuer finds the mark and finishes the job. Refused while a
 * certificate is being issued, whose data is being read at that moment.
 */
export async function markForReissue(
  pledgeId: Types.ObjectId,
  set: Record<string, unknown>,
  actor: string,
): Promise<PledgeDoc> {
  const now = new Date();
  const before = await Pledge.findOneAndUpdate(
    {
      _id: pledgeId,
      status: PledgeStatus.Active,
      needsCertificate: { $ne: true },
      $or: [{ certificateClaimUntil: { $exists: false } }, { certificateClaimUntil: { $lt: now } }],
    },
    {
      $set: {
        ...set,
        needsCertificate: true,
        reissueBy: actor,
        certificateClaimUntil: new Date(now.getTime() + CLAIM_MS),
      },
    },
    { returnDocument: 'before' },
  ).lean<PledgeDoc>();
  if (before) return before;
  const current = await Pledge.findById(pledgeId).select('status').lean<PledgeDoc>();
  if (!current) throw notFound('No pledge with this id.');
  if (current.status !== PledgeStatus.Active)
    throw conflict('Only an active pledge can be corrected.', { code: 'pledge-not-active' });
  throw conflict('The certificate is still being issued; try again in a moment.', {
    code: 'certificate-pending',
  });
}
