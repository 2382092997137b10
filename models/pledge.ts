/**
 * One company's signature of one initiative version, and its life:
 * pending_confirmation → pending_review → activating → active → withdrawn | revoked,
 * or rejected / expired. `activating` is the short, crash-recoverable step in which the
 * pledge receives its gapless sequence number (and founding number 1–100).
 */
import mongoose, { Schema, type Types } from 'mongoose';

export const PledgeStatus = {
  PendingConfirmation: 'pending_confirmation',
  PendingReview: 'pending_review',
  Activating: 'activating',
  Active: 'active',
  Withdrawn: 'withdrawn',
  Revoked: 'revoked',
  Rejected: 'rejected',
  Expired: 'expired',
  /** Ended by the association before a decision (a pledge awaiting confirmation or review), with a reason. */
  Cancelled: 'cancelled',
} as const;
export type PledgeStatus = (typeof PledgeStatus)[keyof typeof PledgeStatus];

/** Statuses of a pledge still in progress or in force. */
export const OPEN_STATUSES: readonly PledgeStatus[] = [
  PledgeStatus.PendingConfirmation,
  PledgeStatus.PendingReview,
  PledgeStatus.Activating,
  PledgeStatus.Active,
];

/**
 * Statuses that hold the company's USCC (`openUscc`): at most one such pledge per USCC. An
 * unconfirmed pledge holds nothing — anyone can type a code — so it never blocks the company.
 */
export const HOLDING_STATUSES: readonly PledgeStatus[] = [
  PledgeStatus.PendingReview,
  PledgeStatus.Activating,
  PledgeStatus.Active,
];

export const FOUNDING_LIMIT = 100;

const transitionSchema = new Schema(
  {
    from: { type: String, default: null },
    to: { type: String, required: true },
    at: { type: Date, required: true },
    actor: { type: String, required: true }, // 'company:<id>', 'admin:<id>', 'system'
    reason: { type: String },
  },
  { _id: false },
);

export interface Transition {
  from: PledgeStatus | null;
  to: PledgeStatus;
  at: Date;
  actor: string;
  reason?: string;
}

export interface EvidenceSummary {
  id: Types.ObjectId;
  kind: 'authorisation-letter' | 'business-licence';
  contentType: 'application/pdf' | 'image/png' | 'image/jpeg';
  length: number;
  sha256: string;
  uploadedAt: Date;
}

/**
 * An audit event as the events collection will hold it (its id fixed when it was written); its
 * subject is the pledge carrying it, added when it is moved.
 */
export interface CarriedEvent {
  _id: Types.ObjectId;
  at: Date;
  actor: string;
  action: string;
  before: unknown;
  after: unknown;
}

/** A queued mail (src/mail/outbox.ts) with its outbox id fixed when it was written. */
export interface CarriedMail {
  _id: Types.ObjectId;
  to: string;
  subject: string;
  text: string;
  html?: string;
  link?: string;
}

export interface PledgeDoc {
  _id: Types.ObjectId;
  company: Types.ObjectId;
  uscc: string;
  openUscc?: string;
  companyName: string;
  companyNameEn?: string;
  /** The address and website as signed (the company record takes them once the pledge is confirmed). */
  companyAddress?: string;
  companyWebsite?: string;
  /** Normalised name, phone and e-mail domain that review warnings match duplicates by (src/pledges/warnings.ts). */
  reviewKeys?: { name: string; phone?: string; domain?: string };
  province: string;
  industry: string;
  initiative: { version: number; sha256: string };
  signatory: { name: string; title: string; email: string; phone?: string };
  status: PledgeStatus;
  history: Transition[];
  confirmTokenHash?: string;
  confirmExpiresAt?: Date;
  confirmedAt?: Date;
  activatedAt?: Date;
  sequence?: number;
  foundingNumber?: number;
  closedReason?: string;
  /** Serial of the pledge's current certificate (denormalised for lists and exports). */
  certificateSerial?: string;
  /** Set when the pledge becomes active (or is corrected) until its certificate is issued. */
  needsCertificate?: boolean;
  /** The serial the next certificate will get, fixed before rendering so a retry reuses it. */
  pendingSerial?: string;
  /** The issue time reserved with `pendingSerial`, so every attempt renders the same credential. */
  pendingIssuedAt?: Date;
  certificateClaimUntil?: Date;
  /** Set by a correction until the new certificate is out: the current one is to be superseded (by this actor). */
  reissueBy?: string;
  /**
   * The evidence files as stored in GridFS (kept by replaceEvidence), oldest first, so confirming
   * reads no file list. Absent on pledges from before it was kept: read from GridFS then.
   */
  evidence?: EvidenceSummary[];
  /**
   * Audit events of this pledge's transitions, written in the transition's own write (so a crash
   * can never keep one without the other) until the sealer moves them into the events collection
   * (src/audit/carried.ts). Absent when none wait.
   */
  pendingEvents?: CarriedEvent[];
  /** Mail written with the state change it belongs to, until the mail sender moves it into the outbox. */
  mail?: CarriedMail[];
  /**
   * Set in the activation's own write until a recovery pass has seen its log intent (src/transparency/intents.ts),
   * so a crash between the write and the intent is found without reading every pledge.
   */
  logPending?: boolean;
  createdAt: Date;
  updatedAt: Date;
}

const pledgeSchema = new Schema<PledgeDoc>(
  {
    company: { type: Schema.Types.ObjectId, ref: 'Company', required: true },
    uscc: { type: String, required: true },
    /** Equals `uscc` from confirmation until the pledge closes: a unique sparse index makes "the first confirmed pledge holds the code" race-free. */
    openUscc: { type: String },
    companyName: { type: String, required: true },
    companyNameEn: { type: String },
    companyAddress: { type: String },
    companyWebsite: { type: String },
    reviewKeys: {
      type: new Schema(
        {
          name: { type: String, required: true },
          phone: { type: String },
          domain: { type: String },
        },
        { _id: false },
      ),
      default: undefined,
    },
    province: { type: String, required: true },
    industry: { type: String, required: true },
    initiative: {
      version: { type: Number, required: true },
      sha256: { type: String, required: true },
    },
    signatory: {
      name: { type: String, required: true },
      title: { type: String, required: true },
      email: { type: String, required: true },
      phone: { type: String },
    },
    status: { type: String, enum: Object.values(PledgeStatus), required: true },
    history: { type: [transitionSchema], default: [] },
    confirmTokenHash: { type: String },
    confirmExpiresAt: { type: Date },
    confirmedAt: { type: Date },
    activatedAt: { type: Date },
    sequence: { type: Number },
    foundingNumber: { type: Number, min: 1, max: FOUNDING_LIMIT },
    closedReason: { type: String },
    certificateSerial: { type: String },
    needsCertificate: { type: Boolean },
    pendingSerial: { type: String },
    pendingIssuedAt: { type: Date },
    certificateClaimUntil: { type: Date },
    reissueBy: { type: String },
    evidence: { type: [Schema.Types.Mixed], default: undefined },
    pendingEvents: { type: [Schema.Types.Mixed], default: undefined },
    mail: { type: [Schema.Types.Mixed], default: undefined },
    logPending: { type: Boolean },
  },
  { timestamps: true },
);
pledgeSchema.index({ openUscc: 1 }, { unique: true, sparse: true });
pledgeSchema.index({ sequence: 1 }, { unique: true, sparse: true });
pledgeSchema.index({ foundingNumber: 1 }, { unique: true, sparse: true });
pledgeSchema.index({ confirmTokenHash: 1 }, { sparse: true });
pledgeSchema.index({ status: 1, createdAt: 1 });
pledgeSchema.index({ 'signatory.email': 1 });
pledgeSchema.index({ 'reviewKeys.name': 1 }, { sparse: true });
pledgeSchema.index({ 'reviewKeys.phone': 1 }, { sparse: true });
pledgeSchema.index({ 'reviewKeys.domain': 1 }, { sparse: true });
pledgeSchema.index({ uscc: 1 });
pledgeSchema.index({ company: 1 });
pledgeSchema.index({ needsCertificate: 1 }, { sparse: true });
// The few pledges carrying events or mail for the background passes to move.
pledgeSchema.index({ 'pendingEvents._id': 1 }, { sparse: true });
pledgeSchema.index({ 'mail._id': 1 }, { sparse: true });
pledgeSchema.index({ logPending: 1 }, { sparse: true });

export const Pledge = mongoose.model('Pledge', pledgeSchema);
