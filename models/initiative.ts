/** A published version of the initiative text. Pledges bind to a version and its SHA-256. */
import { createHash } from 'node:crypto';
import mongoose, { Schema, type InferSchemaType } from 'mongoose';

const bilingual = { zh: { type: String, required: true }, en: { type: String, required: true } };

const initiativeSchema = new Schema(
  {
    version: { type: Number, required: true, unique: true, min: 1 },
    title: bilingual,
    text: bilingual,
    sha256: { type: String, required: true },
    status: { type: String, enum: ['draft', 'published'], default: 'draft', required: true },
    publishedAt: { type: Date, default: null },
  },
  { timestamps: true },
);
initiativeSchema.index({ status: 1, version: -1 });
// At most one draft at a time, even when two admins start one at the same moment.
initiativeSchema.index(
  { status: 1 },
  { unique: true, partialFilterExpression: { status: 'draft' }, name: 'one_draft' },
);

export type InitiativeDoc = InferSchemaType<typeof initiativeSchema>;
export const Initiative = mongoose.model('Initiative', initiativeSchema);

export interface InitiativeContent {
  version: number;
  title: { zh: string; en: string };
  text: { zh: string; en: string };
}

/** The bytes a pledge's hash covers: version, titles and texts, NFC-normalised, in a fixed order. */
export function canonicalInitiativeText(c: InitiativeContent): string {
  const n = (s: string): string => s.normalize('NFC').replace(/\r\n/g, '\n').trim();
  return JSON.stringify([c.version, n(c.title.zh), n(c.title.en), n(c.text.zh), n(c.text.en)]);
}

export function initiativeHash(c: InitiativeContent): string {
  return createHash('sha256').update(canonicalInitiativeText(c), 'utf8').digest('hex');
}
