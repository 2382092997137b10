/**
 * The transparency log's storage (issue #13; logic in src/transparency/):
 * - log_intents: one per public state change, keyed by what changed (`certificate.issued:<serial>`),
 *   so a retry or a recovery pass never records a change twice; `pending` until integrated.
 * - log_entries: the integrated entries, `_id` = leaf index; written once, never changed.
 * - log_tiles: full hash tiles (C2SP tlog-tiles), `_id` = "<level>/<index>", with the tile's own
 *   subtree hash (`root`, a hash of the level above); partial tiles are computed on request.
 * - log_checkpoints: every signed checkpoint, `_id` = tree size.
 */
import mongoose, { Schema } from 'mongoose';

export interface LogIntentDoc {
  _id: string;
  entry: Buffer;
  pending?: true;
  /** The leaf index once integrated. */
  index?: number;
  createdAt: Date;
}

const intentSchema = new Schema<LogIntentDoc>(
  {
    _id: { type: String, required: true },
    entry: { type: Buffer, required: true },
    pending: { type: Boolean },
    index: { type: Number },
    createdAt: { type: Date, required: true },
  },
  { versionKey: false },
);
intentSchema.index({ pending: 1, createdAt: 1 }, { sparse: true });
export const LogIntent = mongoose.model('LogIntent', intentSchema, 'log_intents');

export interface LogEntryDoc {
  _id: number;
  key: string;
  data: Buffer;
  /** RFC 9162 leaf hash of `data`. */
  hash: Buffer;
}

const entrySchema = new Schema<LogEntryDoc>(
  {
    _id: { type: Number, required: true },
    key: { type: String, required: true },
    data: { type: Buffer, required: true },
    hash: { type: Buffer, required: true },
  },
  { versionKey: false },
);
// An intent is integrated at most once, whichever sequencer gets there.
entrySchema.index({ key: 1 }, { unique: true });
export const LogEntryRecord = mongoose.model('LogEntryRecord', entrySchema, 'log_entries');

export interface LogTileDoc {
  _id: string;
  level: number;
  index: number;
  data: Buffer;
  root: Buffer;
}

const tileSchema = new Schema<LogTileDoc>(
  {
    _id: { type: String, required: true },
    level: { type: Number, required: true },
    index: { type: Number, required: true },
    data: { type: Buffer, required: true },
    root: { type: Buffer, required: true },
  },
  { versionKey: false },
);
tileSchema.index({ level: 1, index: 1 }, { unique: true });
export const LogTile = mongoose.model('LogTile', tileSchema, 'log_tiles');

export interface LogCheckpointDoc {
  _id: number;
  root: Buffer;
  note: string;
  at: Date;
}

const checkpointSchema = new Schema<LogCheckpointDoc>(
  {
    _id: { type: Number, required: true },
    root: { type: Buffer, required: true },
    note: { type: String, required: true },
    at: { type: Date, required: true },
  },
  { versionKey: false },
);
export const LogCheckpoint = mongoose.model('LogCheckpoint', checkpointSchema, 'log_checkpoints');
