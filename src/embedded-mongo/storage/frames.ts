/**
 * Frame format shared by journals and snapshots:
 *   [u32 LE payload length][u32 LE crc32(payload)][payload = BSON document]
 * plus the file helpers that read frames back without loading a whole file.
 */
import * as fs from 'node:fs';
import { crc32 } from 'node:zlib';
import {
  calculateObjectSize,
  deserialize,
  serialize,
  serializeWithBufferAndIndex,
  setInternalBufferSize,
  type DeserializeOptions,
  type Document,
} from 'bson';

export const HEADER_BYTES = 8;
/** The smallest BSON document: int32 size + terminating NUL. */
const MIN_PAYLOAD = 5;

export const DEFAULT_DESERIALIZE: DeserializeOptions = {
  promoteValues: true,
  promoteLongs: true,
  promoteBuffers: false,
  bsonRegExp: false,
};

export function encodeFrame(record: Document): Buffer {
  let payload: Uint8Array;
  try {
    payload = serialize(record);
  } catch (err) {
    // bson serializes through a shared 17 MB scratch buffer; a bigger record (e.g. one insert
    // command of a 48 MB message) needs it grown first (it stays grown).
    if (!(err instanceof RangeError)) throw err;
    setInternalBufferSize(calculateObjectSize(record) + 1024);
    payload = serialize(record);
  }
  const frame = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  frame.writeUInt32LE(payload.length, 0);
  frame.writeUInt32LE(crc32(payload), 4);
  frame.set(payload, HEADER_BYTES);
  return frame;
}

/**
 * Encodes a record as a frame straight into `buf` at `offset` (no allocation per record: long
 * snapshot writes otherwise churn hundreds of MB of short-lived buffers). Returns the frame's
 * length, or 0 when it does not fit in the room left.
 */
export function encodeFrameInto(record: Document, buf: Buffer, offset: number): number {
  let end: number;
  try {
    end = serializeWithBufferAndIndex(record, buf, { index: offset + HEADER_BYTES });
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    // Either `buf` has no room left, or bson's 17 MB scratch buffer is too small for the record.
    const size = calculateObjectSize(record);
    if (HEADER_BYTES + size > buf.length - offset) return 0;
    setInternalBufferSize(size + 1024);
    end = serializeWithBufferAndIndex(record, buf, { index: offset + HEADER_BYTES });
  }
  const length = end + 1 - offset - HEADER_BYTES;
  buf.writeUInt32LE(length, offset);
  buf.writeUInt32LE(
    crc32(buf.subarray(offset + HEADER_BYTES, offset + HEADER_BYTES + length)),
    offset + 4,
  );
  return HEADER_BYTES + length;
}

/** Copies the payload first: bson's Binary keeps a view of its input, which must not pin (or alias) a read chunk. */
export function decodePayload(payload: Buffer, options: DeserializeOptions): Document {
  return deserialize(Buffer.from(payload), options);
}

/** Random access to a file through one cached chunk, so a multi-GB journal is never read whole. */
export class ChunkedReader {
  private buf: Buffer;
  private start = 0;
  private end = 0;

  constructor(
    private readonly fd: number,
    readonly size: number,
    private readonly chunkBytes: number,
  ) {
    this.buf = Buffer.allocUnsafe(Math.min(chunkBytes, size));
  }

  /** `len` bytes at `pos` (the caller ensures pos + len <= size). Valid only until the next call. */
  bytes(pos: number, len: number): Buffer {
    if (pos < this.start || pos + len > this.end) {
      const want = Math.min(Math.max(len, this.chunkBytes), this.size - pos);
      if (this.buf.length < want) this.buf = Buffer.allocUnsafe(want);
      readFully(this.fd, this.buf, want, pos);
      this.start = pos;
      this.end = pos + want;
    }
    return this.buf.subarray(pos - this.start, pos - this.start + len);
  }
}

export type FrameCheck = { ok: true; payloadLength: number } | { ok: false; problem: string };

/** Validates the frame at `pos`: sane length inside the file, payload shaped like BSON of that length, CRC. */
export function checkFrame(r: ChunkedReader, pos: number): FrameCheck {
  if (pos + HEADER_BYTES > r.size)
    return { ok: false, problem: 'frame header runs past end of file' };
  const header = r.bytes(pos, HEADER_BYTES);
  const len = header.readUInt32LE(0);
  const crc = header.readUInt32LE(4);
  if (len < MIN_PAYLOAD) return { ok: false, problem: `frame length ${len} is too small` };
  if (pos + HEADER_BYTES + len > r.size)
    return { ok: false, problem: `frame length ${len} runs past end of file` };
  const payload = r.bytes(pos + HEADER_BYTES, len);
  if (payload.readInt32LE(0) !== len || payload[len - 1] !== 0) {
    return { ok: false, problem: 'payload is not a BSON document of the framed length' };
  }
  if (crc32(payload) !== crc) return { ok: false, problem: 'CRC mismatch' };
  return { ok: true, payloadLength: len };
}

/**
 * First offset >= `from` where a complete valid frame starts, or -1. Used to tell a torn tail
 * (nothing valid after the bad frame) from corruption in the middle (valid frames follow).
 * The cheap pre-check (header length == BSON length) keeps this linear.
 */
export function findValidFrame(r: ChunkedReader, from: number): number {
  for (let p = from; p + HEADER_BYTES + MIN_PAYLOAD <= r.size; p++) {
    const head = r.bytes(p, HEADER_BYTES + 4);
    const len = head.readUInt32LE(0);
    if (len >= MIN_PAYLOAD && head.readUInt32LE(HEADER_BYTES) === len && checkFrame(r, p).ok)
      return p;
  }
  return -1;
}

export function readFully(fd: number, buf: Buffer, len: number, pos: number): void {
  for (let done = 0; done < len;) {
    const n = fs.readSync(fd, buf, done, len - done, pos + done);
    if (n === 0) throw new Error(`unexpected end of file at byte ${pos + done}`);
    done += n;
  }
}

export function writeFullySync(fd: number, buf: Buffer, pos: number): void {
  for (let done = 0; done < buf.length;) {
    const n = fs.writeSync(fd, buf, done, buf.length - done, pos + done);
    if (n === 0) throw new Error(`write made no progress at byte ${pos + done}`);
    done += n;
  }
}

export function writeFully(fd: number, buf: Buffer, pos: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const step = (done: number): void => {
      fs.write(fd, buf, done, buf.length - done, pos + done, (err, n) => {
        if (err) return reject(err);
        if (n === 0) return reject(new Error(`write made no progress at byte ${pos + done}`));
        if (done + n < buf.length) step(done + n);
        else resolve();
      });
    };
    step(0);
  });
}

export function fdatasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) =>
    fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())),
  );
}

/** Makes creations, renames and deletions in `dir` durable (a file's own fsync does not). */
export function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export function fsyncDirAsync(dir: string): Promise<void> {
  return new Promise((resolve, reject) =>
    fs.open(dir, 'r', (err, fd) => {
      if (err) return reject(err);
      fs.fsync(fd, (syncErr) => fs.close(fd, () => (syncErr ? reject(syncErr) : resolve())));
    }),
  );
}

/** Gives timers, sockets and I/O callbacks their turn between slices of long work. */
export function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
