/** Who can sign in: company contacts (by e-mail link, no password) and association admins (password). */
import mongoose, { Schema, type InferSchemaType, type Types } from 'mongoose';

export const Role = { Company: 'company', Admin: 'admin' } as const;
export type Role = (typeof Role)[keyof typeof Role];

const accountSchema = new Schema(
  {
    email: { type: String, required: true },
    role: { type: String, enum: Object.values(Role), required: true },
    company: { type: Schema.Types.ObjectId, ref: 'Company' },
    /** scrypt hash `scrypt$N$r$p$salt$hash` (admins only). */
    passwordHash: { type: String },
    disabled: { type: Boolean, default: false },
    lastLoginAt: { type: Date },
  },
  { timestamps: true },
);

// One e-mail may act for several companies (one account each); admins have no company.
accountSchema.index({ email: 1, company: 1 }, { unique: true });

export type AccountDoc = InferSchemaType<typeof accountSchema> & { _id: Types.ObjectId };
export const Account = mongoose.model('Account', accountSchema);
