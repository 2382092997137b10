/**
 * Named counters. The pledge sequence keeps its in-flight reservations in the counter document
 * itself, so a crash between reserving a number and writing it to the pledge leaves a record
 * that recovery completes: numbers are never skipped.
 */
import mongoose, { Schema } from 'mongoose';

const counterSchema = new Schema(
  {
    _id: { type: String, required: true },
    seq: { type: Number, default: 0 },
    inflight: {
      type: [{ _id: false, seq: Number, pledge: Schema.Types.ObjectId, at: Date }],
      default: [],
    },
  },
  { versionKey: false },
);

export const Counter = mongoose.model('Counter', counterSchema);
