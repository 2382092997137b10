/** Fixed-window request counters shared by every app instance (one document per key and window). */
import mongoose, { Schema } from 'mongoose';

const rateLimitSchema = new Schema(
  {
    _id: { type: String, required: true },
    n: { type: Number, default: 0 },
    expiresAt: { type: Date, required: true },
  },
  { versionKey: false },
);
rateLimitSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });

export const RateLimit = mongoose.model('RateLimit', rateLimitSchema);
