/**
 * The association's view of pledges: the review queue with filters, one pledge with everything
 * that happened to it, and corrections of company data (which reissue the certificate).
 */
import { Types, type QueryFilter } from 'mongoose';
import { Certificate, type CertificateDoc } from '../../models/certificate';
import { Company } from '../../models/company';
import { Event, type EventDoc } from '../../models/event';
import { Pledge, type PledgeDoc } from '../../models/pledge';
import { auditEntry, recordEvent, type AuditEntry } from '../audit/events';
import { eventOf } from '../audit/carried';
import type { CertificateService } from '../certificates/service';
import { badRequest, notFound } from '../errors';
import { clearPublicCaches, nameOrUscc, pledgeView, type PledgeView } from '../pledges/queries';
import { chinaDayRange } from '../time/china';
import { reviewWarnings, type ReviewWarning } from '../pledges/warnings';
import type { AdminPledgeFilter, CorrectionInput } from './schemas';

/** The filter as a query; every value was validated by the schema (strings only, no operators). */
export function pledgeFilter(q: AdminPledgeFilter): QueryFilter<PledgeDoc> {
  const filter: QueryFilter<PledgeDoc> = {};
  if (q.status) filter.status = q.status;
  if (q.province) filter.province = q.province;
  if (q.industry) filter.industry = q.industry;
  // Days are entered as calendar dates in China Standard Time, the registry's working time zone.
  const created = chinaDayRange(q.from, q.to);
  if (created) filter.createdAt = created;
  if (q.q) filter.$or = nameOrUscc(q.q);
  return filter;
}

export async function adminListPledges(
  q: AdminPledgeFilter & { page: number; pageSize: number },
): Promise<{ items: PledgeView[]; total: number; page: number; pageSize: number }> {
  const filter = pledgeFilter(q);
  const [items, total] = await Promise.all([
    // Oldest first: a review queue is worked through in the order pledges arrived.
    Pledge.find(filter)
      .sort({ createdAt: 1, _id: 1 })
      .skip((q.page - 1) * q.pageSize)
      .limit(q.pageSize)
      .lean<PledgeDoc[]>(),
    Pledge.countDocuments(filter),
  ]);
  return { items: items.map(pledgeView), total, page: q.page, pageSize: q.pageSize };
}

export interface AdminCertificateSummary {
  serial: string;
  status: string;
  statusReason: string | null;
  supersededBy: string | null;
  issuedAt: Date;
}

export interface AdminPledgeDetail {
  pledge: PledgeView & { certificatePending: boolean };
  /** What the reviewer should look at twice (src/pledges/warnings.ts). */
  warnings: ReviewWarning[];
  certificates: AdminCertificateSummary[];
  events: AuditEntry[];
}

/**
 * Revokes the pledge's current certificate. The serial comes from the record, not from a form:
 * the console's revoke button acts on this pledge, whatever certificate it holds now.
 */
export async function revokePledgeCertificate(
  id: string,
  reason: string,
  adminId: string,
  certificates: Pick<CertificateService, 'revoke'>,
): Promise<void> {
  const serial = (await Pledge.findById(id).select('certificateSerial').lean<PledgeDoc>())
    ?.certificateSerial;
  if (!serial) throw notFound('This pledge has no certificate.', { code: 'no-certificate' });
  await certificates.revoke(serial, reason, adminId);
}

/** One pledge with its certificates and every audit event about it or them, oldest first. */
export async function adminPledgeDetail(id: string): Promise<AdminPledgeDetail> {
  const pledge = await Pledge.findById(id).lean<PledgeDoc>();
  if (!pledge) throw notFound('No pledge with this id.');
  const certificates = await Certificate.find({ pledge: pledge._id })
    .sort({ issuedAt: 1 })
    .lean<CertificateDoc[]>();
  const subjects = [
    { 'subject.type': 'pledge', 'subject.id': String(pledge._id) },
    ...certificates.map((c) => ({ 'subject.type': 'certificate', 'subject.id': c.serial })),
  ];
  const stored = await Event.find({ $or: subjects }).sort({ at: 1, _id: 1 }).lean<EventDoc[]>();
  // The pledge was read first: an event the sealer moves meanwhile is in one list or the other.
  const ids = new Set(stored.map((e) => String(e._id)));
  const carried = (pledge.pendingEvents ?? [])
    .filter((e) => !ids.has(String(e._id)))
    .map((e) => eventOf(pledge._id, e) as EventDoc);
  const events = [...stored, ...carried].sort(
    (a, b) => +a.at - +b.at || String(a._id).localeCompare(String(b._id)),
  );
  return {
    pledge: { ...pledgeView(pledge), certificatePending: pledge.needsCertificate === true },
    warnings: await reviewWarnings(pledge),
    certificates: certificates.map((c) => ({
      serial: c.serial,
      status: c.status,
      statusReason: c.statusReason ?? null,
      supersededBy: c.supersededBy ?? null,
      issuedAt: c.issuedAt,
    })),
    events: events.map(auditEntry),
  };
}

/** Corrects an active pledge's company data; its certificate is superseded by a new one. */
export async function correctPledge(
  id: string,
  input: CorrectionInput,
  adminId: string,
  certs: CertificateService,
): Promise<PledgeDoc> {
  const actor = `admin:${adminId}`;
  const { reason, ...changes } = input;
  if (changes.name === undefined && changes.nameEn === undefined && changes.industry === undefined)
    throw badRequest('Nothing to correct: give name, nameEn or industry.', {
      code: 'nothing-to-correct',
    });
  const set: Record<string, unknown> = {};
  if (changes.name) set.companyName = changes.name;
  if (changes.nameEn) set.companyNameEn = changes.nameEn;
  if (changes.industry) set.industry = changes.industry;
  const before = await certs.correctAndMarkForReissue(new Types.ObjectId(id), set, actor);
  await Company.updateOne({ _id: before.company }, { $set: changes });
  clearPublicCaches();
  await recordEvent({
    actor,
    action: 'pledge.corrected',
    subject: { type: 'pledge', id: String(before._id) },
    before: {
      name: before.companyName,
      nameEn: before.companyNameEn ?? null,
      industry: before.industry,
    },
    after: { ...changes, reason },
  });
  await certs.reissue(before._id);
  return (await Pledge.findById(id).lean<PledgeDoc>())!;
}
