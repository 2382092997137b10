/** Records audit events. Writing never waits for the hash chain; the sealer links events shortly after. */
import { Types } from 'mongoose';
import { Event, type EventDoc } from '../../models/event';
import { settleCarriedEvents } from './carried';

export interface EventInput {
  actor: string;
  action: string;
  subject: { type: string; id: string };
  before?: unknown;
  after?: unknown;
  at?: Date;
}

const eventDoc = (e: EventInput) => ({
  at: e.at ?? new Date(),
  actor: e.actor,
  action: e.action,
  subject: { type: e.subject.type, id: e.subject.id },
  before: e.before ?? null,
  after: e.after ?? null,
  unsealed: true,
});

export async function recordEvent(e: EventInput): Promise<void> {
  await recordEvents([e]);
}

/**
 * Records a request's events in one write, in order (their ids ascend, so the sealer chains them
 * in this order). The driver's collection: the documents are built here, nothing to cast.
 */
export async function recordEvents(events: readonly EventInput[]): Promise<void> {
  if (events.length === 0) return;
  await Event.collection.insertMany(events.map(eventDoc), { ordered: true });
}

export async function eventsFor(
  subjectType: string,
  id: string,
): Promise<Array<Record<string, unknown>>> {
  // A pledge's events may still be carried on it (the sealer moves them within a second).
  if (subjectType === 'pledge' && Types.ObjectId.isValid(id))
    await settleCarriedEvents(new Types.ObjectId(id));
  return Event.find({ 'subject.type': subjectType, 'subject.id': id })
    .sort({ at: 1, _id: 1 })
    .lean();
}

export interface AuditEntry {
  id: string;
  seq: number | null;
  hash: string | null;
  at: Date;
  actor: string;
  action: string;
  subject: { type: string; id: string };
  before: unknown;
  after: unknown;
}

/** An event as admins see it (chain position included once sealed). */
export function auditEntry(e: EventDoc): AuditEntry {
  return {
    id: String(e._id),
    seq: e.seq ?? null,
    hash: e.hash ?? null,
    at: e.at,
    actor: e.actor,
    action: e.action,
    subject: { type: e.subject?.type ?? '', id: e.subject?.id ?? '' },
    before: e.before ?? null,
    after: e.after ?? null,
  };
}
