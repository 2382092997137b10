/**
 * New versions of the initiative: the association drafts one (at most one draft at a time, with
 * the next version number), previews and edits it, then publishes it. From then on new signers
 * bind to it; existing pledges keep the version and hash they signed.
 */
import { Initiative, initiativeHash, type InitiativeContent } from '../../models/initiative';
import { Pledge } from '../../models/pledge';
import { recordEvent } from '../audit/events';
import { conflict, notFound } from '../errors';
import type { InitiativeDraftInput } from '../admin/schemas';
import { clearInitiativeCache } from './service';
import { isDuplicateKey } from '../db/errors';

export interface InitiativeVersionView {
  version: number;
  status: 'draft' | 'published';
  title: { zh: string; en: string };
  text: { zh: string; en: string };
  sha256: string;
  publishedAt: Date | null;
  updatedAt: Date;
  /** Pledges that signed this version (published versions only). */
  pledges: number;
}

interface InitiativeRow {
  version: number;
  status: 'draft' | 'published';
  title: { zh: string; en: string };
  text: { zh: string; en: string };
  sha256: string;
  publishedAt?: Date | null;
  updatedAt: Date;
}

function toView(d: InitiativeRow, pledges: number): InitiativeVersionView {
  return {
    version: d.version,
    status: d.status,
    title: { zh: d.title.zh, en: d.title.en },
    text: { zh: d.text.zh, en: d.text.en },
    sha256: d.sha256,
    publishedAt: d.publishedAt ?? null,
    updatedAt: d.updatedAt,
    pledges,
  };
}

function content(version: number, input: InitiativeDraftInput): InitiativeContent {
  return {
    version,
    title: { zh: input.titleZh, en: input.titleEn },
    text: { zh: input.textZh, en: input.textEn },
  };
}

export async function listInitiativeVersions(): Promise<InitiativeVersionView[]> {
  const [rows, counts] = await Promise.all([
    Initiative.find().sort({ version: -1 }).lean<InitiativeRow[]>(),
    Pledge.aggregate<{ _id: number; n: number }>([
      { $group: { _id: '$initiative.version', n: { $sum: 1 } } },
    ]),
  ]);
  const byVersion = new Map(counts.map((c) => [c._id, c.n]));
  return rows.map((r) => toView(r, byVersion.get(r.version) ?? 0));
}

export async function getInitiativeVersion(version: number): Promise<InitiativeVersionView> {
  const row = await Initiative.findOne({ version }).lean<InitiativeRow>();
  if (!row) throw notFound(`There is no version ${version} of the initiative.`);
  return toView(
    row,
    row.status === 'published' ? await Pledge.countDocuments({ 'initiative.version': version }) : 0,
  );
}

/** Starts the next version as a draft. A second draft is refused: finish or edit the first. */
export async function createInitiativeDraft(
  input: InitiativeDraftInput,
  actor: string,
): Promise<InitiativeVersionView> {
  if (await Initiative.exists({ status: 'draft' }))
    throw conflict('A draft already exists; edit or publish it first.', { code: 'draft-exists' });
  const latest = await Initiative.findOne().sort({ version: -1 }).select('version').lean();
  const c = content((latest?.version ?? 0) + 1, input);
  try {
    await Initiative.create({ ...c, sha256: initiativeHash(c), status: 'draft' });
  } catch (e) {
    // Two admins drafting at once: the unique version number lets only one through.
    if (isDuplicateKey(e))
      throw conflict('Someone else has just started a draft; reload to see it.', {
        code: 'draft-exists',
      });
    throw e;
  }
  await recordEvent({
    actor,
    action: 'initiative.drafted',
    subject: { type: 'initiative', id: String(c.version) },
    after: { sha256: initiativeHash(c) },
  });
  return getInitiativeVersion(c.version);
}

export async function updateInitiativeDraft(
  version: number,
  input: InitiativeDraftInput,
  actor: string,
): Promise<InitiativeVersionView> {
  const c = content(version, input);
  const r = await Initiative.updateOne(
    { version, status: 'draft' },
    { $set: { title: c.title, text: c.text, sha256: initiativeHash(c) } },
  );
  if (!r.matchedCount) {
    await getInitiativeVersion(version); // 404 when it does not exist
    throw conflict(
      `Version ${version} is published; a published text never changes. Start a new draft instead.`,
      { code: 'initiative-published' },
    );
  }
  await recordEvent({
    actor,
    action: 'initiative.draft_updated',
    subject: { type: 'initiative', id: String(version) },
    after: { sha256: initiativeHash(c) },
  });
  return getInitiativeVersion(version);
}

export async function publishInitiativeDraft(
  version: number,
  actor: string,
): Promise<InitiativeVersionView> {
  const doc = await Initiative.findOneAndUpdate(
    { version, status: 'draft' },
    { $set: { status: 'published', publishedAt: new Date() } },
    { returnDocument: 'after' },
  ).lean<InitiativeRow>();
  if (!doc) {
    await getInitiativeVersion(version);
    throw conflict(`Version ${version} is already published.`, { code: 'initiative-published' });
  }
  clearInitiativeCache();
  await recordEvent({
    actor,
    action: 'initiative.published',
    subject: { type: 'initiative', id: String(version) },
    after: { sha256: doc.sha256 },
  });
  return toView(doc, 0);
}

export async function discardInitiativeDraft(version: number, actor: string): Promise<void> {
  const r = await Initiative.deleteOne({ version, status: 'draft' });
  if (!r.deletedCount) {
    await getInitiativeVersion(version);
    throw conflict(`Version ${version} is published and cannot be discarded.`, {
      code: 'initiative-published',
    });
  }
  await recordEvent({
    actor,
    action: 'initiative.draft_discarded',
    subject: { type: 'initiative', id: String(version) },
  });
}
