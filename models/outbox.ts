/** Mail waiting to be delivered. Requests only write here; the mail sender delivers with retries. */
import mongoose, { Schema, type InferSchemaType, type Types } from 'mongoose';

const outboxSchema = new Schema(
  {
    to: { type: String, required: true },
    subject: { type: String, required: true },
    text: { type: String, required: true },
    html: { type: String },
    /** The single-use link in text/html; cut out of them and removed once sent or dropped. */
    link: { type: String },
    /** Deliver only once this document exists (the state change the mail belongs to). */
    requires: {
      collection: { type: String },
      id: { type: Schema.Types.ObjectId },
    },
    status: {
      type: String,
      enum: ['pending', 'sending', 'sent', 'dropped'],
      default: 'pending',
      required: true,
    },
    attempts: { type: Number, default: 0 },
    nextAttemptAt: { type: Date, required: true },
    lockedUntil: { type: Date },
    lastError: { type: String },
    sentAt: { type: Date },
    messageId: { type: String },
  },
  { timestamps: true },
);
outboxSchema.index({ status: 1, nextAttemptAt: 1 });
outboxSchema.index({ status: 1, lockedUntil: 1 });

export type OutboxDoc = InferSchemaType<typeof outboxSchema> & {
  _id: Types.ObjectId;
  createdAt: Date;
};
export const Outbox = mongoose.model('Outbox', outboxSchema);
