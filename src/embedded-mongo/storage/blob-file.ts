/**
 * Read access to the bytes of large documents where the journal or a snapshot wrote them, so the
 * engine need not keep them in RAM (engine/large-docs.ts). A `BlobFile` is a read-only descriptor
 * of one journal or snapshot file, kept open while any location refers to it: a compaction's old
 * files are unlinked with their descriptors still open, and closed once nothing points there.
 *
 * The storage tells the engine where a record's payload landed through two hooks keyed by the
 * record object (so the append/compact signatures stay as they are): `onPlaced` for a journal
 * record once it is durable or a snapshot record once encoded, `onCommitted` for a snapshot's
 * records once the snapshot is the recovery base (before the old files are deleted).
 */
import * as fs from 'node:fs';
import { crc32 } from 'node:zlib';
import { readFully } from './frames';

export class BlobFile {
  private fd: number | null;
  /** Locations that refer to this file. */
  private refs = 0;
  /** No longer read by recovery (a compaction replaced it): closed once unreferenced. */
  private retired = false;

  constructor(public name: string) {
    this.fd = fs.openSync(name, 'r');
  }

  get closed(): boolean {
    return this.fd === null;
  }

  ref(): void {
    this.refs++;
  }

  unref(): void {
    if (--this.refs === 0 && this.retired) this.close();
  }

  retire(): void {
    this.retired = true;
    if (this.refs === 0) this.close();
  }

  close(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    fs.closeSync(fd);
  }

  /**
   * The `length` bytes of the BSON document at `offset`, checked: its length prefix, terminating
   * NUL and CRC must be what was recorded, or this throws (never a different answer).
   */
  read(offset: number, length: number, crc: number): Buffer {
    if (this.fd === null) throw new Error(`${this.name} is closed (document at ${offset} moved)`);
    const buf = Buffer.allocUnsafe(length);
    try {
      readFully(this.fd, buf, length, offset);
    } catch (err) {
      throw new Error(
        `reading the document at ${this.name} byte offset ${offset} failed: ${(err as Error).message}`,
        { cause: err },
      );
    }
    if (buf.readInt32LE(0) !== length || buf[length - 1] !== 0 || crc32(buf) !== crc)
      throw new Error(
        `the document at ${this.name} byte offset ${offset} (${length} bytes) is not what was written there`,
      );
    return buf;
  }
}

/** Where a record's payload is: in `file` from byte `offset`; `payload` is those bytes (a view valid during the call). */
export interface Placement {
  file: BlobFile;
  offset: number;
  payload: Buffer;
}

const placers = new WeakMap<object, (place: Placement) => void>();
const committers = new WeakMap<object, () => void>();

export function onPlaced(record: object, placed: (place: Placement) => void): void {
  placers.set(record, placed);
}

export function notifyPlaced(record: object, place: Placement): void {
  placers.get(record)?.(place);
}

export function onCommitted(records: object, committed: () => void): void {
  committers.set(records, committed);
}

export function notifyCommitted(records: object): void {
  committers.get(records)?.();
}
