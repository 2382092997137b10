/**
 * Evidence of authority (issue #12 item 1), the storage half: an authorisation letter (授权书)
 * or business licence (营业执照) is a PDF, JPEG or PNG of at most 10 MB, its type read from its
 * bytes (never its name), images capped in their dimensions (a small PNG can declare a huge
 * canvas that would exhaust memory when decoded), and kept in MongoDB through GridFS
 * (bucket `evidence`), never inside the pledge document and never served publicly.
 */
import { createHash } from 'node:crypto';
import mongoose, { Types } from 'mongoose';
import { Pledge, type EvidenceSummary } from '../../models/pledge';
import {
  throwFailed,
  writeTogether,
  type TogetherInsert,
  type TogetherWrite,
} from '../db/together';

export const EVIDENCE_MAX_BYTES = 10 * 1024 * 1024;
/** Largest image side and area accepted (a scanned A4 page at 600 dpi is about 5000 × 7000). */
export const EVIDENCE_MAX_SIDE = 12_000;
export const EVIDENCE_MAX_PIXELS = 60_000_000;
export const EVIDENCE_BUCKET = 'evidence';

export type EvidenceKind = 'authorisation-letter' | 'business-licence';
export type EvidenceType = 'application/pdf' | 'image/png' | 'image/jpeg';

export type EvidenceProblem =
  'empty' | 'too-large' | 'wrong-type' | 'truncated' | 'too-many-pixels';

export type SniffResult =
  | { ok: true; contentType: EvidenceType; width?: number; height?: number }
  | { ok: false; problem: EvidenceProblem };

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const PNG_IEND = Buffer.from([
  0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
]);

function dimensions(width: number, height: number, contentType: EvidenceType): SniffResult {
  if (width < 1 || height < 1) return { ok: false, problem: 'truncated' };
  if (
    width > EVIDENCE_MAX_SIDE ||
    height > EVIDENCE_MAX_SIDE ||
    width * height > EVIDENCE_MAX_PIXELS
  )
    return { ok: false, problem: 'too-many-pixels' };
  return { ok: true, contentType, width, height };
}

function sniffPng(b: Buffer): SniffResult {
  // IHDR is the first chunk: length 13, type, width, height (big-endian).
  if (b.length < 33 || b.toString('latin1', 12, 16) !== 'IHDR')
    return { ok: false, problem: 'truncated' };
  if (!b.subarray(b.length - PNG_IEND.length).equals(PNG_IEND))
    return { ok: false, problem: 'truncated' };
  return dimensions(b.readUInt32BE(16), b.readUInt32BE(20), 'image/png');
}

function sniffJpeg(b: Buffer): SniffResult {
  if (b[b.length - 2] !== 0xff || b[b.length - 1] !== 0xd9)
    return { ok: false, problem: 'truncated' };
  // Walk the marker segments up to a start-of-frame, which carries height and width.
  for (let i = 2; i + 9 < b.length;) {
    if (b[i] !== 0xff) return { ok: false, problem: 'truncated' };
    const marker = b[i + 1];
    if (marker === 0xff) {
      i += 1;
      continue;
    }
    const length = b.readUInt16BE(i + 2);
    const isFrame =
      marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) return dimensions(b.readUInt16BE(i + 7), b.readUInt16BE(i + 5), 'image/jpeg');
    if (length < 2) return { ok: false, problem: 'truncated' };
    i += 2 + length;
  }
  return { ok: false, problem: 'truncated' };
}

function sniffPdf(b: Buffer): SniffResult {
  // A complete PDF ends with %%EOF (possibly followed by a line end) near its end.
  const tail = b.toString('latin1', Math.max(0, b.length - 1024));
  return tail.includes('%%EOF')
    ? { ok: true, contentType: 'application/pdf' }
    : { ok: false, problem: 'truncated' };
}

/** The evidence file's type from its bytes, with its size, completeness and image dimensions checked. */
export function sniffEvidence(bytes: Buffer): SniffResult {
  if (bytes.length === 0) return { ok: false, problem: 'empty' };
  if (bytes.length > EVIDENCE_MAX_BYTES) return { ok: false, problem: 'too-large' };
  if (bytes.subarray(0, 5).toString('latin1') === '%PDF-') return sniffPdf(bytes);
  if (bytes.subarray(0, 8).equals(PNG_SIGNATURE)) return sniffPng(bytes);
  if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff)
    return sniffJpeg(bytes);
  return { ok: false, problem: 'wrong-type' };
}

export interface StoredEvidence {
  id: Types.ObjectId;
  pledge: Types.ObjectId;
  kind: EvidenceKind;
  contentType: EvidenceType;
  length: number;
  sha256: string;
  uploadedAt: Date;
}

/**
 * One bucket per database handle (reads and deletes go through the driver's GridFSBucket; a
 * bucket checks its indexes before its own first upload only, so a new one per call paid reads).
 */
let cached: { db: mongoose.mongo.Db; bucket: mongoose.mongo.GridFSBucket } | undefined;

function bucket(): mongoose.mongo.GridFSBucket {
  const db = mongoose.connection.db!;
  if (cached?.db !== db)
    cached = { db, bucket: new mongoose.mongo.GridFSBucket(db, { bucketName: EVIDENCE_BUCKET }) };
  return cached.bucket;
}

/** GridFS's default chunk size, as the driver's bucket writes (255 KiB). */
const CHUNK_BYTES = 255 * 1024;

/**
 * The indexes the GridFS spec asks of a bucket, made once per database handle, as the driver's
 * bucket does before its first upload: files {filename, uploadDate}, chunks {files_id, n} unique.
 */
let indexed: { db: mongoose.mongo.Db; done: Promise<void> } | undefined;

function ensureBucketIndexes(): Promise<void> {
  const db = mongoose.connection.db!;
  if (indexed?.db !== db) {
    const done = Promise.all([
      db.collection(`${EVIDENCE_BUCKET}.files`).createIndex({ filename: 1, uploadDate: 1 }),
      db
        .collection(`${EVIDENCE_BUCKET}.chunks`)
        .createIndex({ files_id: 1, n: 1 }, { unique: true }),
    ]).then(() => undefined);
    indexed = { db, done };
    done.catch(() => (indexed = undefined)); // tried again by the next upload
  }
  return indexed.done;
}

/**
 * The GridFS documents of one file, exactly as the driver's upload stream writes them (its
 * chunks, then its files document), so they can travel in one ordered bulkWrite with other
 * writes (src/db/together.ts) instead of one round trip per 255 KiB chunk and one for the file.
 */
function gridFsWrites(
  pledge: Types.ObjectId,
  kind: EvidenceKind,
  contentType: EvidenceType,
  bytes: Buffer,
): { stored: StoredEvidence; writes: TogetherInsert[] } {
  const db = mongoose.connection;
  const chunks = { collection: db.db!.collection(`${EVIDENCE_BUCKET}.chunks`), db };
  const files = { collection: db.db!.collection(`${EVIDENCE_BUCKET}.files`), db };
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const id = new Types.ObjectId();
  const uploadedAt = new Date();
  const writes: TogetherInsert[] = [];
  for (let n = 0, at = 0; at < bytes.length; n++, at += CHUNK_BYTES)
    writes.push({
      model: chunks,
      insert: {
        _id: new Types.ObjectId(),
        files_id: id,
        n,
        data: bytes.subarray(at, at + CHUNK_BYTES),
      },
    });
  writes.push({
    model: files,
    insert: {
      _id: id,
      length: bytes.length,
      chunkSize: CHUNK_BYTES,
      uploadDate: uploadedAt,
      filename: `${String(pledge)}-${kind}`,
      metadata: { pledge, kind, contentType, sha256 },
    },
  });
  return {
    stored: { id, pledge, kind, contentType, length: bytes.length, sha256, uploadedAt },
    writes,
  };
}

/** Stores a sniffed evidence file for a pledge; the caller checked it with sniffEvidence. */
export async function storeEvidence(
  pledge: Types.ObjectId,
  kind: EvidenceKind,
  contentType: EvidenceType,
  bytes: Buffer,
): Promise<StoredEvidence> {
  await ensureBucketIndexes();
  const { stored, writes } = gridFsWrites(pledge, kind, contentType, bytes);
  throwFailed(writes, await writeTogether(writes, { ordered: true }));
  return stored;
}

interface EvidenceFile {
  _id: Types.ObjectId;
  length: number;
  uploadDate: Date;
  metadata: {
    pledge: Types.ObjectId;
    kind: EvidenceKind;
    contentType: EvidenceType;
    sha256: string;
  };
}

/** A pledge's evidence files, oldest first (metadata only). */
export async function listEvidence(pledge: Types.ObjectId): Promise<StoredEvidence[]> {
  const files = (await bucket()
    .find({ 'metadata.pledge': pledge })
    .sort({ uploadDate: 1 })
    .toArray()) as unknown as EvidenceFile[];
  return files.map((f) => ({
    id: f._id,
    pledge: f.metadata.pledge,
    kind: f.metadata.kind,
    contentType: f.metadata.contentType,
    length: f.length,
    sha256: f.metadata.sha256,
    uploadedAt: f.uploadDate,
  }));
}

/** The bytes of one evidence file (for the review page only; never a public route). */
export async function readEvidence(id: Types.ObjectId): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of bucket().openDownloadStream(id)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Whether the pledge has an authorisation letter stored (confirmation waits for one). */
export async function hasLetter(pledge: Types.ObjectId): Promise<boolean> {
  const one = await bucket()
    .find({ 'metadata.pledge': pledge, 'metadata.kind': 'authorisation-letter' })
    .limit(1)
    .toArray();
  return one.length > 0;
}

/** The upload fields and the kind each holds. */
export const EVIDENCE_FIELDS = {
  letter: 'authorisation-letter',
  licence: 'business-licence',
} as const;
export type EvidenceField = keyof typeof EVIDENCE_FIELDS;

const PROBLEM_ANSWER: Record<EvidenceProblem, { status: number; message: string }> = {
  empty: { status: 400, message: 'The file is empty.' },
  'too-large': {
    status: 413,
    message: `The file is larger than 10 MiB (${EVIDENCE_MAX_BYTES} bytes).`,
  },
  'wrong-type': {
    status: 415,
    message:
      'Only PDF, JPEG or PNG files are accepted (the type is read from the file itself, not its name).',
  },
  truncated: {
    status: 400,
    message: 'The file is incomplete (cut off before its end); scan or save it again.',
  },
  'too-many-pixels': {
    status: 422,
    message: `The image is too large: at most ${EVIDENCE_MAX_SIDE} pixels a side and ${EVIDENCE_MAX_PIXELS / 1_000_000} megapixels.`,
  },
};

/** The answer for a refused evidence file: status and a message naming the field. */
export function evidenceProblemAnswer(problem: EvidenceProblem): {
  status: number;
  message: string;
} {
  return PROBLEM_ANSWER[problem];
}

export type CheckedEvidence =
  | { ok: true; files: Array<{ field: EvidenceField; contentType: EvidenceType; bytes: Buffer }> }
  | { ok: false; field: EvidenceField; problem: EvidenceProblem };

/** Sniffs every file first, so a bad one means none of them is stored. */
export function checkEvidence(files: Partial<Record<EvidenceField, Buffer>>): CheckedEvidence {
  const out: Array<{ field: EvidenceField; contentType: EvidenceType; bytes: Buffer }> = [];
  for (const field of Object.keys(EVIDENCE_FIELDS) as EvidenceField[]) {
    const bytes = files[field];
    if (!bytes) continue;
    const s = sniffEvidence(bytes);
    if (!s.ok) return { ok: false, field, problem: s.problem };
    out.push({ field, contentType: s.contentType, bytes });
  }
  return { ok: true, files: out };
}

/**
 * Stores checked files for a pledge; a new file of a kind replaces the earlier one (deleted
 * after the new one is stored and listed on the pledge, so a failure never leaves the pledge
 * with neither). `before`: the pledge's list of its files, if it has one (else GridFS is read).
 */
export async function replaceEvidence(
  pledge: Types.ObjectId,
  files: Array<{ field: EvidenceField; contentType: EvidenceType; bytes: Buffer }>,
  before?: readonly EvidenceSummary[],
): Promise<StoredEvidence[]> {
  const earlier: EvidenceSummary[] = [...(before ?? (await listEvidence(pledge)))];
  await ensureBucketIndexes();
  const made = files.map((f) =>
    gridFsWrites(pledge, EVIDENCE_FIELDS[f.field], f.contentType, f.bytes),
  );
  const stored = made.map((m) => m.stored);
  const kinds = new Set(stored.map((f) => f.kind));
  const replaced = earlier.filter((e) => kinds.has(e.kind));
  const kept = earlier.filter((e) => !kinds.has(e.kind));
  // Each file's chunks, then its files document, then the list confirming reads instead of
  // GridFS (the files' own metadata stays the record): ordered, so the pledge never lists a file
  // that is not whole, in one round trip on MongoDB 8.0.
  const writes: TogetherWrite[] = [
    ...made.flatMap((m) => m.writes),
    {
      model: Pledge,
      filter: { _id: pledge },
      update: { $set: { evidence: [...kept, ...stored].map(summaryOf) } },
    },
  ];
  throwFailed(writes, await writeTogether(writes, { ordered: true }));
  for (const old of replaced) await bucket().delete(old.id);
  return stored;
}

const summaryOf = (f: EvidenceSummary): EvidenceSummary => ({
  id: f.id,
  kind: f.kind,
  contentType: f.contentType,
  length: f.length,
  sha256: f.sha256,
  uploadedAt: f.uploadedAt,
});

/**
 * The evidence a pledge was given, oldest first: the list kept on the pledge when it names a
 * letter, else GridFS (pledges from before the list was kept, or one whose list write was lost).
 */
export async function evidenceOf(pledge: {
  _id: Types.ObjectId;
  evidence?: readonly EvidenceSummary[];
}): Promise<readonly EvidenceSummary[]> {
  if (pledge.evidence?.some((f) => f.kind === 'authorisation-letter')) return pledge.evidence;
  return listEvidence(pledge._id);
}

/** Deletes every evidence file of these pledges (the retention rule); returns how many. */
export async function deleteEvidenceOf(pledges: Types.ObjectId[]): Promise<number> {
  if (pledges.length === 0) return 0;
  const files = await bucket()
    .find({ 'metadata.pledge': { $in: pledges } })
    .project({ _id: 1 })
    .toArray();
  for (const f of files) await bucket().delete(f._id as Types.ObjectId);
  return files.length;
}

/**
 * Opens one of a pledge's evidence files for a reviewer (a file of another pledge is "none"),
 * with its type as sniffed when it was stored.
 */
export async function openEvidence(
  pledge: Types.ObjectId,
  id: Types.ObjectId,
): Promise<{ file: StoredEvidence; stream: NodeJS.ReadableStream } | null> {
  const file = (await listEvidence(pledge)).find((f) => f.id.equals(id));
  if (!file) return null;
  return { file, stream: bucket().openDownloadStream(id) };
}

/**
 * Headers for showing an evidence file to a reviewer: the sniffed type only, never sniffed again
 * by the browser, inline, and sandboxed (a hostile PDF or image runs no script with the
 * console's origin), never cached.
 */
export function evidenceHeaders(file: StoredEvidence): Record<string, string> {
  const ext =
    file.contentType === 'application/pdf'
      ? 'pdf'
      : file.contentType === 'image/png'
        ? 'png'
        : 'jpg';
  return {
    'Content-Type': file.contentType,
    'Content-Length': String(file.length),
    'Content-Disposition': `inline; filename="${file.kind}.${ext}"`,
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy':
      "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'",
    'Cache-Control': 'private, no-store',
    'Cross-Origin-Resource-Policy': 'same-origin',
  };
}

/** Sends the file as evidenceHeaders describes; a read failure mid-way ends the connection. */
export async function sendEvidence(
  res: import('express').Response,
  pledge: Types.ObjectId,
  id: Types.ObjectId,
): Promise<boolean> {
  const opened = await openEvidence(pledge, id);
  if (!opened) return false;
  res.set(evidenceHeaders(opened.file));
  await new Promise<void>((resolve) => {
    opened.stream.once('error', () => {
      res.destroy();
      resolve();
    });
    res.once('close', () => resolve());
    opened.stream.pipe(res);
  });
  return true;
}
