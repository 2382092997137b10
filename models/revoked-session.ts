/**
 * Sessions ended before their token expired (signing out). A token is refused while its id is
 * here; the entry is swept once the token would have expired anyway, so the list stays small.
 */
import mongoose, { Schema } from 'mongoose';

const revokedSessionSchema = new Schema(
  {
    /** The token's `jti`. */
    _id: { type: String, required: true },
    account: { type: Schema.Types.ObjectId, ref: 'Account', required: true },
    revokedAt: { type: Date, required: true },
    /** When the token expires (plus clock skew); the TTL index removes the entry then. */
    expiresAt: { type: Date, required: true },
  },
  { versionKey: false },
);
revokedSessionSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });

export const RevokedSession = mongoose.model('RevokedSession', revokedSessionSchema);
