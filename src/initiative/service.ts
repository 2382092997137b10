/** The initiative's versions: the current published one, and publishing a new one. */
import { Initiative, initiativeHash, type InitiativeContent } from '../../models/initiative';
import { serviceUnavailable } from '../errors';
import { INITIATIVE_V1 } from './text';
import { isDuplicateKey } from '../db/errors';
import { logInitiative } from '../transparency/intents';

export interface PublishedInitiative extends InitiativeContent {
  sha256: string;
  publishedAt: Date;
}

// Signing reads the current version on every request; a short cache spares the database while
// keeping instances in step (a new version is visible everywhere within this time).
const CACHE_MS = 2000;
let cache: { value: PublishedInitiative; until: number } | null = null;

/** Bumped by every clear: a read begun before it may hold the old version and is not cached. */
let generation = 0;
// Misses while a read is in flight share it (many signings at once, one read).
let reading: Promise<PublishedInitiative> | null = null;

export function clearInitiativeCache(): void {
  cache = null;
  reading = null;
  generation++;
}

export async function currentInitiative(): Promise<PublishedInitiative> {
  if (cache && cache.until > Date.now()) return cache.value;
  if (!reading) {
    const r = readCurrentInitiative();
    reading = r;
    const done = () => {
      if (reading === r) reading = null;
    };
    r.then(done, done);
  }
  return reading;
}

async function readCurrentInitiative(): Promise<PublishedInitiative> {
  const gen = generation;
  const doc = await Initiative.findOne({ status: 'published' }).sort({ version: -1 }).lean();
  if (!doc)
    throw serviceUnavailable(
      'No initiative has been published yet, so signing is not open.',
      undefined,
      { code: 'no-initiative' },
    );
  const value: PublishedInitiative = {
    version: doc.version,
    title: { zh: doc.title!.zh, en: doc.title!.en },
    text: { zh: doc.text!.zh, en: doc.text!.en },
    sha256: doc.sha256,
    publishedAt: doc.publishedAt!,
  };
  if (gen === generation) cache = { value, until: Date.now() + CACHE_MS };
  return value;
}

/** Publishes a version (idempotent for identical content; a different text under a used version number is refused). */
export async function publishInitiative(content: InitiativeContent): Promise<PublishedInitiative> {
  const sha256 = initiativeHash(content);
  const existing = await Initiative.findOne({ version: content.version }).lean();
  if (existing && existing.sha256 !== sha256)
    throw new Error(`initiative version ${content.version} already exists with different text`);
  if (!existing) {
    try {
      await Initiative.create({ ...content, sha256, status: 'published', publishedAt: new Date() });
    } catch (e) {
      if (!isDuplicateKey(e)) throw e;
    }
  }
  await logInitiative(content.version);
  clearInitiativeCache();
  return currentInitiative();
}

/** Makes sure a first version exists (start-up and seeding). */
export async function ensureInitialInitiative(): Promise<void> {
  if (!(await Initiative.exists({ status: 'published' }))) await publishInitiative(INITIATIVE_V1);
}
