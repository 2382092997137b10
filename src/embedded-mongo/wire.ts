/**
 * MongoDB wire protocol framing: the legacy OP_QUERY/OP_REPLY pair the driver still uses for
 * its first handshake, and OP_MSG for everything after it.
 * https://www.mongodb.com/docs/manual/reference/mongodb-wire-protocol/
 */
import { deserialize, serialize, type Document, type DeserializeOptions } from 'bson';

export const OP_REPLY = 1;
export const OP_QUERY = 2004;
export const OP_COMPRESSED = 2012;
export const OP_MSG = 2013;

export const MAX_MESSAGE_SIZE = 48_000_000;
export const MSG_CHECKSUM_PRESENT = 1;
export const MSG_MORE_TO_COME = 2;

/**
 * How documents are decoded: int32 and double as JS numbers, int64 kept as a Long so it goes back
 * as int64 (the engine compares all numbers by value).
 */
export const DECODE: DeserializeOptions = {
  promoteValues: true,
  promoteLongs: false,
  promoteBuffers: false,
  bsonRegExp: false,
  useBigInt64: false,
  validation: { utf8: true },
};

export interface Header {
  length: number;
  requestId: number;
  responseTo: number;
  opCode: number;
}

export type Request =
  | { kind: 'query'; header: Header; collection: string; numberToReturn: number; query: Document }
  | { kind: 'msg'; header: Header; flags: number; command: Document };

export class ProtocolError extends Error {}

/** Splits a TCP byte stream into whole messages, whatever the read boundaries. */
export class MessageFramer {
  private chunks: Buffer[] = [];
  private buffered = 0;

  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: Buffer[] = [];
    while (this.buffered >= 4) {
      const head = this.peek(4);
      const length = head.readInt32LE(0);
      if (length < 16 || length > MAX_MESSAGE_SIZE) {
        throw new ProtocolError(
          `invalid message length ${length} (allowed 16..${MAX_MESSAGE_SIZE})`,
        );
      }
      if (this.buffered < length) break;
      out.push(this.take(length));
    }
    return out;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0].length >= n) return this.chunks[0];
    this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0];
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    const msg = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length ? [rest] : [];
    this.buffered = rest.length;
    return msg;
  }
}

function readCString(buf: Buffer, offset: number): [string, number] {
  const end = buf.indexOf(0, offset);
  if (end < 0) throw new ProtocolError('unterminated cstring');
  return [buf.toString('utf8', offset, end), end + 1];
}

function readDocument(buf: Buffer, offset: number, limit: number): [Document, number] {
  if (offset + 5 > limit) throw new ProtocolError('truncated BSON document');
  const size = buf.readInt32LE(offset);
  if (size < 5 || offset + size > limit)
    throw new ProtocolError(`invalid BSON document size ${size}`);
  const doc = deserialize(buf.subarray(offset, offset + size), DECODE);
  return [doc, offset + size];
}

export function parseMessage(buf: Buffer): Request {
  const header: Header = {
    length: buf.readInt32LE(0),
    requestId: buf.readInt32LE(4),
    responseTo: buf.readInt32LE(8),
    opCode: buf.readInt32LE(12),
  };
  if (header.opCode === OP_MSG) return parseOpMsg(buf, header);
  if (header.opCode === OP_QUERY) {
    let offset = 20;
    const [collection, next] = readCString(buf, offset);
    offset = next + 4; // numberToSkip
    const numberToReturn = buf.readInt32LE(offset);
    offset += 4;
    const [query] = readDocument(buf, offset, buf.length);
    return { kind: 'query', header, collection, numberToReturn, query };
  }
  if (header.opCode === OP_COMPRESSED)
    throw new ProtocolError('OP_COMPRESSED is not supported (no compressor was negotiated)');
  throw new ProtocolError(`unsupported opCode ${header.opCode}`);
}

function parseOpMsg(buf: Buffer, header: Header): Request {
  const flags = buf.readUInt32LE(16);
  // Unknown required flag bits (0-15) must make the message fail, per the OP_MSG spec.
  if (flags & 0xfffc & 0xffff)
    throw new ProtocolError(`unknown required OP_MSG flag bits ${flags & 0xfffc}`);
  const end = flags & MSG_CHECKSUM_PRESENT ? buf.length - 4 : buf.length;
  let offset = 20;
  let body: Document | undefined;
  const sequences: Array<[string, Document[]]> = [];
  while (offset < end) {
    const kind = buf.readUInt8(offset++);
    if (kind === 0) {
      if (body) throw new ProtocolError('OP_MSG has more than one body section');
      [body, offset] = readDocument(buf, offset, end);
    } else if (kind === 1) {
      if (offset + 4 > end) throw new ProtocolError('truncated document sequence');
      const size = buf.readInt32LE(offset);
      const seqEnd = offset + size;
      if (size < 5 || seqEnd > end)
        throw new ProtocolError(`invalid document sequence size ${size}`);
      const [id, start] = readCString(buf, offset + 4);
      let p = start;
      const docs: Document[] = [];
      while (p < seqEnd) {
        let d: Document;
        [d, p] = readDocument(buf, p, seqEnd);
        docs.push(d);
      }
      sequences.push([id, docs]);
      offset = seqEnd;
    } else throw new ProtocolError(`unknown OP_MSG section kind ${kind}`);
  }
  if (!body) throw new ProtocolError('OP_MSG without a body section');
  // Document sequences are the same as array fields of the command body.
  for (const [id, docs] of sequences) body[id] = docs;
  return { kind: 'msg', header, flags, command: body };
}

let nextRequestId = 1;

export function encodeOpMsg(responseTo: number, reply: Document): Buffer {
  const body = serialize(reply);
  const header = Buffer.alloc(21);
  header.writeInt32LE(21 + body.length, 0);
  header.writeInt32LE(nextRequestId++ & 0x7fffffff, 4);
  header.writeInt32LE(responseTo, 8);
  header.writeInt32LE(OP_MSG, 12);
  header.writeUInt32LE(0, 16);
  header.writeUInt8(0, 20);
  return Buffer.concat([header, body]);
}

export function encodeOpReply(responseTo: number, reply: Document): Buffer {
  const body = serialize(reply);
  const header = Buffer.alloc(36);
  header.writeInt32LE(36 + body.length, 0);
  header.writeInt32LE(nextRequestId++ & 0x7fffffff, 4);
  header.writeInt32LE(responseTo, 8);
  header.writeInt32LE(OP_REPLY, 12);
  header.writeInt32LE(0, 16); // responseFlags
  header.writeBigInt64LE(0n, 20); // cursorID
  header.writeInt32LE(0, 28); // startingFrom
  header.writeInt32LE(1, 32); // numberReturned
  return Buffer.concat([header, body]);
}
