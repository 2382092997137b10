/**
 * Failed administrator sign-ins per account e-mail (whether or not the account exists), shared
 * by every app instance. Keyed by a hash of the e-mail, so the collection lists no addresses.
 */
import mongoose, { Schema } from 'mongoose';

const loginBackoffSchema = new Schema(
  {
    /** SHA-256 of the normalised e-mail. */
    _id: { type: String, required: true },
    /** Attempts since the last success (an attempt counts when it starts; success clears it). */
    failures: { type: Number, required: true },
    /** No attempt for this e-mail is let through before this instant. */
    nextAttemptAt: { type: Date, required: true },
    /** A quiet day forgives the failures. */
    expiresAt: { type: Date, required: true },
  },
  { versionKey: false },
);
loginBackoffSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });

export const LoginBackoff = mongoose.model('LoginBackoff', loginBackoffSchema);
