/**
 * Runs an export: streams rows from the database through a format writer to the client while
 * hashing the bytes, then signs and stores a manifest (SHA-256, row count, filters, time, key id)
 * so a list handed on can be proved unaltered. A client that disconnects stops the export.
 */
import { createHash } from 'node:crypto';
import { Transform, type Writable } from 'node:stream';
import { Types } from 'mongoose';
import { ExportRecord } from '../../models/export';
import { recordEvent } from '../audit/events';
import { writerFor, type ExportFormat } from './formats';
import { columnsFor, exportRows, type ExportQuery } from './rows';

export interface ManifestSigner {
  keyId: string;
  sign(payload: object): string;
}

export interface ExportManifest {
  id: string;
  kind: 'signatories';
  format: ExportFormat;
  filters: ExportQuery;
  rows: number;
  bytes: number;
  sha256: string;
  createdAt: string;
  keyId: string;
}

/** Counts and hashes what passes through. */
class Digest extends Transform {
  readonly hash = createHash('sha256');
  bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null, data?: Buffer) => void): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    cb(null, chunk);
  }
}

export async function runExport(opts: {
  format: ExportFormat;
  query: ExportQuery;
  actor: string;
  sink: Writable;
  signal: AbortSignal;
  signer: ManifestSigner;
  id?: Types.ObjectId;
}): Promise<ExportManifest | null> {
  const id = opts.id ?? new Types.ObjectId();
  if (opts.query.includeContacts === '1') {
    // Personal data leaves the registry: say who took it, before it goes.
    await recordEvent({ actor: opts.actor, action: 'export.contacts', subject: { type: 'export', id: String(id) }, after: { format: opts.format, filters: opts.query } });
  }
  const digest = new Digest();
  digest.pipe(opts.sink);
  const finished = new Promise<void>((resolve, reject) => {
    digest.once('end', resolve);
    digest.once('error', reject);
  });
  const writer = writerFor(opts.format, digest, columnsFor(opts.query));
  let rows = 0;
  try {
    for await (const row of exportRows(opts.query, opts.signal)) {
      await writer.write(row);
      rows++;
    }
    if (opts.signal.aborted) return null;
    await writer.end();
    await finished;
  } catch (e) {
    if (opts.signal.aborted) return null;
    throw e;
  }
  const manifest: ExportManifest = {
    id: String(id),
    kind: 'signatories',
    format: opts.format,
    filters: opts.query,
    rows,
    bytes: digest.bytes,
    sha256: digest.hash.digest('hex'),
    createdAt: new Date().toISOString(),
    keyId: opts.signer.keyId,
  };
  const jws = opts.signer.sign(manifest);
  await ExportRecord.create({ _id: id, format: manifest.format, filters: manifest.filters, rows, bytes: manifest.bytes, sha256: manifest.sha256, actor: opts.actor, keyId: manifest.keyId, jws });
  await recordEvent({ actor: opts.actor, action: 'export.completed', subject: { type: 'export', id: manifest.id }, after: { format: manifest.format, rows, sha256: manifest.sha256 } });
  return manifest;
}

export async function exportManifest(id: string): Promise<{ manifest: ExportManifest; jws: string } | null> {
  const rec = await ExportRecord.findById(id).lean();
  if (!rec) return null;
  const payload = JSON.parse(Buffer.from(rec.jws.split('.')[1], 'base64url').toString('utf8')) as ExportManifest;
  return { manifest: payload, jws: rec.jws };
}
