/**
 * Audit events carried on the pledge document: a transition pushes its event into
 * `pendingEvents` in the same conditional write that changes the pledge (one round trip, and no
 * crash can keep the change without its event), and this pass moves them into the events
 * collection, where the sealer chains them. Every event's id is fixed when it is carried, so a
 * pass that dies half-way, or two passes at once, insert each event once (a repeat is a duplicate
 * `_id`, ignored) and remove from the pledge only what is stored.
 */
import { Types, mongo } from 'mongoose';
import { Event } from '../../models/event';
import { Pledge, type CarriedEvent } from '../../models/pledge';
import type { EventInput } from './events';
import { rawCollection } from '../db/raw';

/** The event to carry on the pledge for this transition (its subject is that pledge). */
export function carriedEvent(e: Omit<EventInput, 'subject'>): CarriedEvent {
  return {
    _id: new Types.ObjectId(),
    at: e.at ?? new Date(),
    actor: e.actor,
    action: e.action,
    before: e.before ?? null,
    after: e.after ?? null,
  };
}

/** A carried event as the events collection holds it. */
export function eventOf(pledgeId: Types.ObjectId, e: CarriedEvent) {
  return {
    _id: e._id,
    at: e.at,
    actor: e.actor,
    action: e.action,
    subject: { type: 'pledge', id: String(pledgeId) },
    before: e.before ?? null,
    after: e.after ?? null,
  };
}

interface Carrier {
  _id: Types.ObjectId;
  pendingEvents?: CarriedEvent[];
}

const pledges = () => rawCollection<Carrier>(Pledge);

/**
 * Moves the events carried on pledges (those of `pledgeId` only, if given) into the events
 * collection; returns how many were moved. Safe to run anywhere and at any time.
 */
export async function settleCarriedEvents(pledgeId?: Types.ObjectId, limit = 500): Promise<number> {
  const carriers = await pledges()
    .find(
      { ...(pledgeId ? { _id: pledgeId } : {}), 'pendingEvents._id': { $exists: true } },
      { projection: { pendingEvents: 1 } },
    )
    .limit(limit)
    .toArray();
  const events = carriers.flatMap((p) => (p.pendingEvents ?? []).map((e) => eventOf(p._id, e)));
  if (events.length === 0) return 0;
  // In id order (the order they happened per instance), as the sealer chains them.
  events.sort((a, b) => String(a._id).localeCompare(String(b._id)));
  try {
    await Event.collection.insertMany(
      events.map((e) => ({ ...e, unsealed: true })),
      { ordered: false },
    );
  } catch (e) {
    // Stored already (an earlier pass died before removing them, or another pass is here too).
    const errors = e instanceof mongo.MongoBulkWriteError ? [e.writeErrors].flat() : null;
    if (!errors || errors.length === 0 || errors.some((w) => w.code !== 11000)) throw e;
  }
  // Only what was read is removed (a transition may have carried another event since), and the
  // field itself once empty, so the sparse index holds just the pledges with events waiting.
  await pledges().bulkWrite(
    carriers.flatMap((p) => [
      {
        updateOne: {
          filter: { _id: p._id },
          update: {
            $pull: { pendingEvents: { _id: { $in: (p.pendingEvents ?? []).map((e) => e._id) } } },
          },
        },
      },
      {
        updateOne: {
          filter: { _id: p._id, pendingEvents: { $size: 0 } },
          update: { $unset: { pendingEvents: 1 } },
        },
      },
    ]),
    { ordered: true },
  );
  return events.length;
}
