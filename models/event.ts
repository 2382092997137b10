/**
 * The audit log: an append-only record of every state change. Events are written without
 * coordination and sealed into a SHA-256 hash chain by one sequencer (src/audit/chain.ts),
 * like a transparency log's merge step: `seq`, `prevHash` and `hash` are set once, never changed.
 */
import mongoose, { Schema, type InferSchemaType, type Types } from 'mongoose';

const eventSchema = new Schema(
  {
    at: { type: Date, required: true },
    actor: { type: String, required: true },
    action: { type: String, required: true },
    subject: {
      type: { type: String, required: true },
      id: { type: String, required: true },
    },
    before: { type: Schema.Types.Mixed, default: null },
    after: { type: Schema.Types.Mixed, default: null },
    /** True until the sealer links the event into the chain (a sparse index finds the unsealed few). */
    unsealed: { type: Boolean, default: true },
    seq: { type: Number },
    prevHash: { type: String },
    hash: { type: String },
  },
  { versionKey: false },
);
eventSchema.index({ seq: 1 }, { unique: true, sparse: true });
eventSchema.index({ unsealed: 1 }, { sparse: true });
eventSchema.index({ 'subject.type': 1, 'subject.id': 1, at: 1 });
// The console's audit search lists newest first.
eventSchema.index({ at: -1 });

export type EventDoc = InferSchemaType<typeof eventSchema> & { _id: Types.ObjectId };
export const Event = mongoose.model('Event', eventSchema);
