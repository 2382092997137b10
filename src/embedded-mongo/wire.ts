/**
 * MongoDB wire protocol framing: the legacy OP_QUERY/OP_REPLY pair the driver still uses for
 * its first handshake, and OP_MSG for everything after it.
 * https://www.mongodb.com/docs/manual/reference/mongodb-wire-protocol/
 */
import { Double, deserialize, serialize, type Document, type DeserializeOptions } from 'bson';
import { decodeBson } from './engine/bson-store';

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

/**
 * Commands: as DECODE, but an insert's documents stay BSON (each a Buffer), so they are stored
 * byte for byte, every number with the type it came with (the engine decodes them itself); and
 * an update statement's `u` keeps its numbers' types too (see decodeUpdateStatement).
 */
const COMMAND_DECODE: DeserializeOptions = {
  ...DECODE,
  fieldsAsRaw: { documents: true, updates: true },
};

/**
 * One update statement: its options and filter as DECODE has them, its update document as
 * stored documents are decoded (an integer-valued double stays a double when $set).
 */
function decodeUpdateStatement(bytes: Uint8Array): Document {
  const spec = deserialize(bytes, DECODE);
  if (spec.u !== null && typeof spec.u === 'object' && !Array.isArray(spec.u)) {
    const u = decodeBson(bytes).u;
    spec.u = u;
  }
  return spec;
}

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
  const doc = deserialize(buf.subarray(offset, offset + size), COMMAND_DECODE);
  if (Array.isArray(doc.updates))
    doc.updates = doc.updates.map((u: unknown) =>
      u instanceof Uint8Array ? decodeUpdateStatement(u) : u,
    );
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
        if (id === 'documents') {
          // As in a body (COMMAND_DECODE): the documents stay BSON, copied out of the message.
          if (p + 5 > seqEnd) throw new ProtocolError('truncated BSON document');
          const n = buf.readInt32LE(p);
          if (n < 5 || p + n > seqEnd) throw new ProtocolError(`invalid BSON document size ${n}`);
          docs.push(Buffer.from(buf.subarray(p, p + n)) as unknown as Document);
          p += n;
          continue;
        }
        let d: Document;
        if (id === 'updates') {
          const n = p + 4 <= seqEnd ? buf.readInt32LE(p) : 0;
          if (n < 5 || p + n > seqEnd) throw new ProtocolError(`invalid BSON document size ${n}`);
          d = decodeUpdateStatement(buf.subarray(p, p + n));
          p += n;
        } else [d, p] = readDocument(buf, p, seqEnd);
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

/**
 * A reply's BSON. A cursor batch may hold stored documents as BSON (Uint8Array): the reply is
 * serialized with an empty batch and their bytes are spliced in, never decoded and re-encoded.
 */
export function encodeReply(reply: Document): Uint8Array {
  reply = withDoubleOk(reply);
  const cursor = reply.cursor as Document | undefined;
  const field = cursor && (Array.isArray(cursor.firstBatch) ? 'firstBatch' : 'nextBatch');
  const batch = field ? (cursor[field] as unknown[] | undefined) : undefined;
  if (!batch || !batch.some((d) => d instanceof Uint8Array)) return serialize(reply);
  const shell = serialize({ ...reply, cursor: { ...cursor, [field!]: [] } });
  // The empty array's element: type 4, the field name, then the 5-byte empty document.
  const marker = Buffer.concat([Buffer.from([4]), Buffer.from(field! + '\0'), EMPTY_DOC]);
  const cursorAt = indexOfElement(shell, 'cursor', 3);
  const at = Buffer.from(shell.buffer, shell.byteOffset, shell.length).indexOf(marker, cursorAt);
  if (cursorAt < 0 || at < 0) throw new Error('a cursor reply must start with its cursor');
  // One buffer, sized first and filled in place: no Buffer per element, no concat of thousands of parts.
  const elements = batch.map((d) => (d instanceof Uint8Array ? d : serialize(d as Document)));
  let arrayBytes = 5;
  for (let i = 0; i < elements.length; i++)
    arrayBytes += elementHead(i).length + elements[i]!.length;
  const head = at + marker.length - 5;
  const tail = shell.length - (at + marker.length);
  const out = Buffer.allocUnsafe(head + arrayBytes + tail);
  out.set(shell.subarray(0, head), 0);
  let p = head;
  out.writeInt32LE(arrayBytes, p);
  p += 4;
  for (let i = 0; i < elements.length; i++) {
    const h = elementHead(i);
    out.set(h, p);
    p += h.length;
    out.set(elements[i]!, p);
    p += elements[i]!.length;
  }
  out[p++] = 0;
  out.set(shell.subarray(at + marker.length), p);
  const grow = arrayBytes - 5;
  out.writeInt32LE(shell.length + grow, 0);
  // The cursor sub-document's length sits right after its element header.
  const subAt = cursorAt + 1 + 'cursor'.length + 1;
  out.writeInt32LE(out.readInt32LE(subAt) + grow, subAt);
  return out;
}

const EMPTY_DOC = Buffer.from([5, 0, 0, 0, 0]);

/** An array element's header for a document at index i: type 3, the index as a name, NUL. */
const elementHeads: Buffer[] = [];
function elementHead(i: number): Buffer {
  if (i >= 65536) return Buffer.from('\x03' + i + '\0', 'latin1');
  return (elementHeads[i] ??= Buffer.from('\x03' + i + '\0', 'latin1'));
}

/** Offset of a top-level element (its type byte) of the given name and type, or -1. */
function indexOfElement(doc: Uint8Array, name: string, type: number): number {
  let p = 4;
  const buf = Buffer.from(doc.buffer, doc.byteOffset, doc.length);
  while (p < buf.length - 1) {
    const t = buf[p]!;
    const nameEnd = buf.indexOf(0, p + 1);
    if (t === type && buf.toString('utf8', p + 1, nameEnd) === name) return p;
    if (t !== 3 && t !== 4) return -1; // the cursor comes first in every reply that has one
    p = nameEnd + 1 + buf.readInt32LE(nameEnd + 1);
  }
  return -1;
}

/**
 * A reply's standard header (length, requestID, responseTo, opCode) followed by `fields` bytes
 * of its opcode's own fields, zeroed (Buffer.alloc) for the caller to fill.
 */
function replyHeader(opCode: number, responseTo: number, fields: number, bodyLength: number) {
  const header = Buffer.alloc(16 + fields);
  header.writeInt32LE(16 + fields + bodyLength, 0);
  header.writeInt32LE(nextRequestId++ & 0x7fffffff, 4);
  header.writeInt32LE(responseTo, 8);
  header.writeInt32LE(opCode, 12);
  return header;
}

export function encodeOpMsg(responseTo: number, reply: Document): Buffer {
  const body = encodeReply(reply);
  // flagBits 0, then section kind 0 (the body document): both zero.
  return Buffer.concat([replyHeader(OP_MSG, responseTo, 5, body.length), body]);
}

/** mongod's `ok` is always a double (1.0 / 0.0); a JS number would serialize as int32. */
function withDoubleOk(reply: Document): Document {
  return typeof reply.ok === 'number' ? { ...reply, ok: new Double(reply.ok) } : reply;
}

export function encodeOpReply(responseTo: number, reply: Document): Buffer {
  const body = serialize(withDoubleOk(reply));
  // responseFlags, cursorID and startingFrom stay zero.
  const header = replyHeader(OP_REPLY, responseTo, 20, body.length);
  header.writeInt32LE(1, 32); // numberReturned
  return Buffer.concat([header, body]);
}
