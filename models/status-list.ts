/**
 * Positions in the W3C Bitstring Status Lists (src/transparency/status.ts): one random index per
 * certificate serial, `_id` = the index, so two certificates can never share a bit.
 */
import mongoose, { Schema } from 'mongoose';

export interface StatusListEntryDoc {
  _id: number;
  serial: string;
  createdAt: Date;
}

const schema = new Schema<StatusListEntryDoc>(
  {
    _id: { type: Number, required: true },
    serial: { type: String, required: true },
    createdAt: { type: Date, required: true },
  },
  { versionKey: false },
);
schema.index({ serial: 1 }, { unique: true });

export const StatusListEntry = mongoose.model('StatusListEntry', schema, 'status_list_entries');
