/**
 * Issued certificates. `data` is exactly what the certificate certifies (the credential copies
 * it), so a PDF can be compared with the registry record. Nothing is deleted: revocation,
 * withdrawal and supersession only change `status` and append to `history`.
 */
import mongoose, { Schema, type Types } from 'mongoose';
import type { CertificateData } from '../certificates';

export const CertificateStatus = {
  Valid: 'valid',
  Revoked: 'revoked',
  Withdrawn: 'withdrawn',
  Superseded: 'superseded',
} as const;
export type CertificateStatus = (typeof CertificateStatus)[keyof typeof CertificateStatus];

export interface CertificateDoc {
  _id: Types.ObjectId;
  serial: string;
  pledge: Types.ObjectId;
  /** Set while this is the pledge's current certificate: a unique index allows one per pledge. */
  currentFor?: Types.ObjectId;
  data: CertificateData;
  /** The province and industry codes behind `data`'s display names, for pages in any language. */
  codes?: { province: string; industry: string };
  status: CertificateStatus;
  statusReason?: string;
  /** The revocation's reason code, the only reason the public log carries (never the free text). */
  revocationReason?: string;
  supersededBy?: string;
  keyId: string;
  jws: string;
  issuedAt: Date;
  history: Array<{ status: CertificateStatus; at: Date; actor: string; reason?: string }>;
  /** Set by each status change's own write until a recovery pass has seen its log intents. */
  logPending?: boolean;
  createdAt: Date;
  updatedAt: Date;
}

const certificateSchema = new Schema<CertificateDoc>(
  {
    serial: { type: String, required: true, unique: true },
    pledge: { type: Schema.Types.ObjectId, ref: 'Pledge', required: true },
    currentFor: { type: Schema.Types.ObjectId },
    data: { type: Schema.Types.Mixed, required: true },
    codes: { province: String, industry: String },
    status: { type: String, enum: Object.values(CertificateStatus), required: true },
    statusReason: { type: String },
    revocationReason: { type: String },
    supersededBy: { type: String },
    keyId: { type: String, required: true },
    jws: { type: String, required: true },
    issuedAt: { type: Date, required: true },
    history: [{ _id: false, status: String, at: Date, actor: String, reason: String }],
    logPending: { type: Boolean },
  },
  { timestamps: true },
);
certificateSchema.index({ currentFor: 1 }, { unique: true, sparse: true });
certificateSchema.index({ pledge: 1 });
certificateSchema.index({ logPending: 1 }, { sparse: true });
// Metrics count certificates by status on every scrape (src/metrics).
certificateSchema.index({ status: 1 });

export const Certificate = mongoose.model('Certificate', certificateSchema);

/** The issued PDF bytes, kept apart so certificate lookups stay small; a download is never re-rendered. */
const certificatePdfSchema = new Schema(
  { _id: { type: String, required: true }, pdf: { type: Buffer, required: true } },
  { versionKey: false, timestamps: true },
);
export const CertificatePdf = mongoose.model(
  'CertificatePdf',
  certificatePdfSchema,
  'certificate_pdfs',
);
