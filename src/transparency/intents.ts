/**
 * What goes into the log, and the promise that each public state change gets there once:
 * - the use case writes its state change, then (same request, before answering) the intent,
 *   keyed by the change itself (`pledge.activated:<sequence>`, `certificate.revoked:<serial>`),
 *   so repeating it is a no-op;
 * - the state change's own write sets `logPending` on the pledge or certificate, and
 *   `recoverIntents` (at start and periodically) reads just those flagged documents, adds the
 *   intents a crash between the two writes lost, and clears the flags. Intents are built from
 *   the stored state alone, so an entry is the same one the request would have written and never
 *   one for a change that did not happen. A pass costs the changes since the last one, not the
 *   registry's size; state from before the flag existed is swept once, in full.
 * Entries carry no personal data: the schema (src/tlog/entry.ts) admits only the listed fields.
 */
import { createHash } from 'node:crypto';
import type { Types } from 'mongoose';
import { Certificate, CertificateStatus, type CertificateDoc } from '../../models/certificate';
import { Counter } from '../../models/counter';
import { Initiative } from '../../models/initiative';
import { Pledge, type PledgeDoc } from '../../models/pledge';
import { LogIntent } from '../../models/transparency-log';
import { isDuplicateKey } from '../db/errors';
import { GroupCommit } from '../db/group-commit';
import { encodeEntry, REVOCATION_REASONS, type LogEntry } from '../tlog';
import { rawCollection } from '../db/raw';

export type RevocationReason = (typeof REVOCATION_REASONS)[number];
export { REVOCATION_REASONS };

type CertificateEntryType =
  'certificate.issued' | 'certificate.revoked' | 'certificate.withdrawn' | 'certificate.superseded';

const listeners = new Set<() => void>();

/** A sequencer asks to be woken when an intent is appended in this process. */
export function onIntent(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export interface Intent {
  key: string;
  entry: LogEntry;
}

/**
 * Appends intents (idempotent per key); resolves once they are stored. Group-committed: the
 * intents of concurrent calls (activations, issued certificates) share one write.
 */
export function appendIntents(intents: readonly Intent[]): Promise<void> {
  if (intents.length === 0) return Promise.resolve();
  return intentWrites.add(intents);
}

const intentWrites = new GroupCommit<readonly Intent[]>((batches) => writeIntents(batches.flat()));

async function writeIntents(intents: readonly Intent[]): Promise<void> {
  const now = new Date();
  try {
    await LogIntent.bulkWrite(
      intents.map((i) => ({
        updateOne: {
          filter: { _id: i.key },
          update: { $setOnInsert: { entry: encodeEntry(i.entry), pending: true, createdAt: now } },
          upsert: true,
        },
      })),
      { ordered: false },
    );
  } catch (e) {
    if (!isDuplicateKey(e)) throw e; // two upserts of one key raced: the other one wrote it
  }
  for (const l of listeners) l();
}

// ---- Entries built from stored state (requests and recovery build the same ones).

const iso = (d: Date | string) => new Date(d).toISOString();
const sha256Hex = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

export function activationIntent(
  p: Pick<PledgeDoc, 'uscc' | 'sequence' | 'foundingNumber' | 'initiative' | 'activatedAt'>,
): Intent {
  return {
    key: `pledge.activated:${p.sequence}`,
    entry: {
      v: 1,
      type: 'pledge.activated',
      at: iso(p.activatedAt!),
      uscc: p.uscc,
      sequence: p.sequence!,
      foundingNumber: p.foundingNumber ?? null,
      initiative: { version: p.initiative.version, sha256: p.initiative.sha256 },
    },
  };
}

/** The time a certificate entered `status` (the last such history entry), or its issue time. */
function statusTime(c: CertificateDoc, status: string): Date {
  if (status === CertificateStatus.Valid) return c.issuedAt;
  const h = [...(c.history ?? [])].reverse().find((e) => e.status === status);
  return h?.at ?? c.updatedAt;
}

const TYPE_OF: Record<string, CertificateEntryType> = {
  [CertificateStatus.Valid]: 'certificate.issued',
  [CertificateStatus.Revoked]: 'certificate.revoked',
  [CertificateStatus.Withdrawn]: 'certificate.withdrawn',
  [CertificateStatus.Superseded]: 'certificate.superseded',
};

export function certificateIntent(c: CertificateDoc, status: CertificateDoc['status']): Intent {
  const type = TYPE_OF[status];
  const base = {
    v: 1 as const,
    at: iso(statusTime(c, status)),
    uscc: c.data.company.uscc,
    serial: c.serial,
    credentialSha256: sha256Hex(c.jws),
  };
  const entry: LogEntry =
    type === 'certificate.revoked'
      ? { ...base, type, reason: revocationReasonOf(c) }
      : { ...base, type };
  return { key: `${type}:${c.serial}`, entry };
}

function revocationReasonOf(c: CertificateDoc): RevocationReason {
  const code = (c as { revocationReason?: string }).revocationReason;
  return (REVOCATION_REASONS as readonly string[]).includes(code ?? '')
    ? (code as RevocationReason)
    : 'other';
}

export function initiativeIntent(i: {
  version: number;
  sha256: string;
  publishedAt?: Date | null;
  createdAt?: Date;
}): Intent {
  return {
    key: `initiative.published:${i.version}`,
    entry: {
      v: 1,
      type: 'initiative.published',
      at: iso(i.publishedAt ?? i.createdAt!),
      initiative: { version: i.version, sha256: i.sha256 },
    },
  };
}

// ---- Hooks, one line each in the use cases.

export async function logActivation(p: PledgeDoc): Promise<void> {
  await appendIntents([activationIntent(p)]);
}

/** Logs the certificate's current status (issued, or how it ended); reads the stored record. */
export async function logCertificateStatus(id: Types.ObjectId | string): Promise<void> {
  const c = await Certificate.findById(id).lean<CertificateDoc>();
  if (c) await appendIntents(certificateIntents(c));
}

export async function logInitiative(version: number): Promise<void> {
  const i = await Initiative.findOne({ version, status: 'published' }).lean();
  if (i) await appendIntents([initiativeIntent(i as never)]);
}

/** Issued, then the status it ended in (if any): a certificate's changes in order. */
function certificateIntents(c: CertificateDoc): Intent[] {
  const out = [certificateIntent(c, CertificateStatus.Valid)];
  if (c.status !== CertificateStatus.Valid) out.push(certificateIntent(c, c.status));
  return out;
}

// ---- Recovery.

async function missing(intents: Intent[]): Promise<Intent[]> {
  if (intents.length === 0) return [];
  const have = new Set(
    (await LogIntent.find({ _id: { $in: intents.map((i) => i.key) } }, { _id: 1 }).lean()).map(
      (d) => d._id,
    ),
  );
  return intents.filter((i) => !have.has(i.key));
}

/**
 * Appends intents for stored state changes that have none; returns how many were missing.
 * Reads the documents flagged `logPending`, and everything once a day (see SWEPT).
 */
export async function recoverIntents(batch = 500): Promise<number> {
  let added = 0;
  const flush = async (list: Intent[]) => {
    const m = await missing(list);
    await appendIntents(m);
    added += m.length;
  };
  const initiatives = await Initiative.find({ status: 'published' }).sort({ version: 1 }).lean();
  await flush(initiatives.map((i) => initiativeIntent(i as never)));
  const now = new Date();
  if (!(await sweeps().findOne({ _id: SWEPT }))) {
    await sweepEverything(flush, batch);
    await sweeps().updateOne({ _id: SWEPT }, { $setOnInsert: { at: now } }, { upsert: true });
  } else if (
    // One instance claims the day's sweep; the others go on with the flagged documents.
    await sweeps().findOneAndUpdate(
      { _id: SWEPT, at: { $lt: new Date(now.getTime() - FULL_SWEEP_EVERY_MS) } },
      { $set: { at: now } },
    )
  ) {
    await sweepEverything(flush, batch);
  }
  await recoverFlagged(flush, batch);
  return added;
}

/**
 * When every pledge and certificate was last checked in full. The first sweep covers state from
 * before `logPending` existed; the daily ones cover a change written without the flag (by an
 * instance of an earlier version during a rolling deploy) whose intent a crash lost. Kept
 * beside the sequence counter.
 */
const SWEPT = 'log-recovery-swept';
const FULL_SWEEP_EVERY_MS = 24 * 3600_000;
const sweeps = () => rawCollection<{ _id: string; at: Date }>(Counter);

type Flush = (list: Intent[]) => Promise<void>;

async function recoverFlagged(flush: Flush, batch: number): Promise<void> {
  // The flags are cleared with the raw driver so that `updatedAt` keeps meaning a change of state.
  const pledges = rawCollection<PledgeDoc>(Pledge);
  for (let more = true; more;) {
    const flagged = await pledges.find({ logPending: true }).limit(batch).toArray();
    await flush(flagged.map(activationIntent));
    if (flagged.length)
      await pledges.updateMany(
        { _id: { $in: flagged.map((p) => p._id) } },
        { $unset: { logPending: 1 } },
      );
    more = flagged.length === batch;
  }
  const certificates = rawCollection<CertificateDoc>(Certificate);
  for (let more = true; more;) {
    const flagged = await certificates.find({ logPending: true }).limit(batch).toArray();
    await flush(flagged.flatMap(certificateIntents));
    // A certificate whose status changed since it was read keeps its flag for the next round.
    if (flagged.length)
      await certificates.bulkWrite(
        flagged.map((c) => ({
          updateOne: {
            filter: { _id: c._id, status: c.status },
            update: { $unset: { logPending: 1 } },
          },
        })),
        { ordered: false },
      );
    more = flagged.length === batch;
  }
}

async function sweepEverything(flush: Flush, batch: number): Promise<void> {
  let list: Intent[] = [];
  for await (const p of Pledge.find({ sequence: { $exists: true } })
    .sort({ sequence: 1 })
    .lean<PledgeDoc[]>()
    .cursor()) {
    list.push(activationIntent(p as PledgeDoc));
    if (list.length >= batch) [list] = [[], await flush(list)];
  }
  await flush(list);
  list = [];
  for await (const c of Certificate.find({})
    .sort({ issuedAt: 1, _id: 1 })
    .lean<CertificateDoc[]>()
    .cursor()) {
    list.push(...certificateIntents(c as CertificateDoc));
    if (list.length >= batch) [list] = [[], await flush(list)];
  }
  await flush(list);
}
