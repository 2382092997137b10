/** A completed export's manifest: what was exported, its SHA-256, and the registry's signature. */
import mongoose, { Schema } from 'mongoose';

const exportSchema = new Schema(
  {
    format: { type: String, required: true },
    filters: { type: Schema.Types.Mixed, required: true },
    rows: { type: Number, required: true },
    bytes: { type: Number, required: true },
    sha256: { type: String, required: true },
    actor: { type: String, required: true },
    keyId: { type: String, required: true },
    /** Compact JWS (EdDSA) over the manifest. */
    jws: { type: String, required: true },
  },
  { timestamps: true },
);

export const ExportRecord = mongoose.model('Export', exportSchema);
