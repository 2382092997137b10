/**
 * Seals audit events into a SHA-256 hash chain. Any number of app instances write events; one
 * of them at a time (holding a lease) gives each unsealed event the next `seq` and
 * `hash = sha256(prevHash + canonical event)`. A crash mid-way is harmless: the head is
 * always re-read from the last sealed event, and an event is sealed only once.
 */
import { createHash, randomUUID } from 'node:crypto';
import { Event } from '../../models/event';
import { isDuplicateKey } from '../db/errors';
import { takeLease } from '../db/lease';
import { settleCarriedEvents } from './carried';

export const GENESIS_HASH = '0'.repeat(64);
const LEASE_ID = 'audit-chain-sealer';

export interface ChainedFields {
  seq: number;
  at: Date;
  actor: string;
  action: string;
  subject?: { type: string; id: string } | null;
  before?: unknown;
  after?: unknown;
}

export function canonicalEvent(e: ChainedFields): string {
  return JSON.stringify([
    e.seq,
    new Date(e.at).toISOString(),
    e.actor,
    e.action,
    e.subject?.type ?? null,
    e.subject?.id ?? null,
    sortKeys(e.before),
    sortKeys(e.after),
  ]);
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v instanceof Date) return v.toISOString();
  if (v && typeof v === 'object' && (v as { _bsontype?: string })._bsontype === 'ObjectId')
    return String(v);
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  return v ?? null;
}

export function chainHash(prevHash: string, canonical: string): string {
  return createHash('sha256').update(prevHash).update(canonical).digest('hex');
}

const owner = randomUUID();

/** Seals up to `limit` pending events; returns how many. Safe to call from every instance. */
export async function sealPendingEvents(limit = 5000): Promise<number> {
  // Events carried on pledges join the collection first (any instance may move them).
  await settleCarriedEvents();
  if (!(await takeLease(LEASE_ID, owner, 30_000))) return 0;
  const last = await Event.findOne({ seq: { $gte: 1 } })
    .sort({ seq: -1 })
    .lean();
  let seq = last?.seq ?? 0;
  let prev = last?.hash ?? GENESIS_HASH;
  const pending = await Event.find({ unsealed: true }).sort({ _id: 1 }).limit(limit).lean();
  if (pending.length === 0) return 0;
  // One ordered bulk write per pass (not one round trip per event). Each update still requires
  // the event to be unsealed; an ordered bulk stops at the first failure, so the chain never
  // skips: whatever was written is a consistent prefix, and the next pass re-reads the head.
  const ops = pending.map((e) => {
    seq += 1;
    const hash = chainHash(prev, canonicalEvent({ ...e, seq }));
    const op = {
      updateOne: {
        filter: { _id: e._id, seq: { $exists: false } },
        update: { $set: { seq, prevHash: prev, hash }, $unset: { unsealed: 1 } },
      },
    };
    prev = hash;
    return op;
  });
  try {
    const r = await Event.bulkWrite(ops, { ordered: true });
    return r.modifiedCount;
  } catch (e) {
    const done = (e as { result?: { modifiedCount?: number } }).result?.modifiedCount;
    if (isDuplicateKey(e)) return done ?? 0; // lost the race for a seq: re-read the head next pass
    throw e;
  }
}

/** Re-computes the chain from the start; returns the first broken seq, or null when intact. */
export async function verifyChain(): Promise<
  { ok: true; length: number } | { ok: false; brokenAt: number }
> {
  let prev = GENESIS_HASH;
  let expected = 1;
  for await (const e of Event.find({ seq: { $gte: 1 } })
    .sort({ seq: 1 })
    .lean()
    .cursor()) {
    if (
      e.seq !== expected ||
      e.prevHash !== prev ||
      e.hash !== chainHash(prev, canonicalEvent({ ...e, seq: e.seq! }))
    ) {
      return { ok: false, brokenAt: expected };
    }
    prev = e.hash!;
    expected++;
  }
  return { ok: true, length: expected - 1 };
}
