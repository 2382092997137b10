/** Single-use tokens from e-mailed links (sign-in). Only a SHA-256 of the token is stored. */
import mongoose, { Schema } from 'mongoose';

const tokenSchema = new Schema(
  {
    hash: { type: String, required: true, unique: true },
    purpose: { type: String, enum: ['login'], required: true },
    account: { type: Schema.Types.ObjectId, ref: 'Account', required: true },
    /** A link for a contact of several companies: every account it may sign in to (`account` is the first). */
    accounts: { type: [Schema.Types.ObjectId], default: undefined },
    expiresAt: { type: Date, required: true },
    usedAt: { type: Date, default: null },
  },
  { timestamps: true },
);
// Spent and expired tokens are swept a day after expiry.
tokenSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 86_400 });

export const Token = mongoose.model('Token', tokenSchema);
