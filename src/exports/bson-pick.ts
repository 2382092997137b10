/**
 * The fields an export row reads, taken straight from a stored pledge's BSON: the driver hands
 * the documents over as bytes (`raw: true`) and nothing else in them (history, token hashes) is
 * decoded. Only the element types a pledge stores are read here; a document holding anything
 * else where a row looks, or a type this walker cannot step over, is decoded whole with bson
 * instead, so an odd document still makes the row it always made.
 */
import { deserialize, type Document } from 'bson';

/** The top-level fields a row reads, and the sub-document fields under the two it nests. */
const TOP = new Set([
  'sequence',
  'foundingNumber',
  'companyName',
  'companyNameEn',
  'uscc',
  'province',
  'industry',
  'activatedAt',
  'status',
  'certificateSerial',
]);
const NESTED: Record<string, Set<string>> = {
  initiative: new Set(['version']),
  signatory: new Set(['name', 'title', 'email', 'phone']),
};

/** Thrown inside the walker when a document needs bson's full decoder. */
const FALLBACK = Symbol('fallback');

/** The row's fields of the document in `b` (a whole BSON document), as bson would decode them. */
export function pickRowFields(b: Buffer): Document {
  try {
    return walk(b, 0, TOP, true);
  } catch (e) {
    if (e !== FALLBACK) throw e;
    return deserialize(b);
  }
}

/** Reads the document at `start`; keeps the fields in `wanted` (and, at the top, the nested ones). */
function walk(b: Buffer, start: number, wanted: Set<string>, top: boolean): Document {
  const end = start + b.readInt32LE(start) - 1; // the trailing NUL
  const out: Document = {};
  let i = start + 4;
  while (i < end) {
    const type = b[i++]!;
    const nameEnd = b.indexOf(0, i);
    if (nameEnd < 0 || nameEnd >= end) throw FALLBACK;
    const name = b.toString('latin1', i, nameEnd);
    i = nameEnd + 1;
    const nested = top ? NESTED[name] : undefined;
    const keep = wanted.has(name);
    if (nested) {
      if (type !== 0x03) throw FALLBACK; // a row reads into it: bson decides what it is
      out[name] = walk(b, i, nested, false);
      i += b.readInt32LE(i);
      continue;
    }
    switch (type) {
      case 0x01: // double
        if (keep) out[name] = b.readDoubleLE(i);
        i += 8;
        break;
      case 0x02: {
        // string: int32 length (with its NUL), bytes
        const n = b.readInt32LE(i);
        if (keep) {
          if (n < 1 || b[i + 3 + n] !== 0) throw FALLBACK;
          out[name] = b.toString('utf8', i + 4, i + 3 + n);
        }
        i += 4 + n;
        break;
      }
      case 0x03: // document
      case 0x04: // array
        if (keep) throw FALLBACK;
        i += b.readInt32LE(i);
        break;
      case 0x05: // binary: int32 length, subtype, bytes
        if (keep) throw FALLBACK;
        i += 5 + b.readInt32LE(i);
        break;
      case 0x07: // ObjectId
        if (keep) throw FALLBACK;
        i += 12;
        break;
      case 0x08: // boolean
        if (keep) out[name] = b[i] === 1;
        i += 1;
        break;
      case 0x09: // UTC datetime, int64 ms
        if (keep) out[name] = new Date(Number(b.readBigInt64LE(i)));
        i += 8;
        break;
      case 0x0a: // null
        if (keep) out[name] = null;
        break;
      case 0x10: // int32
        if (keep) out[name] = b.readInt32LE(i);
        i += 4;
        break;
      case 0x12: {
        // int64: a number when it is one exactly (the driver's promoteLongs), else bson's Long
        if (keep) {
          const v = b.readBigInt64LE(i);
          if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER))
            throw FALLBACK;
          out[name] = Number(v);
        }
        i += 8;
        break;
      }
      case 0x11: // timestamp
        if (keep) throw FALLBACK;
        i += 8;
        break;
      default:
        throw FALLBACK;
    }
  }
  if (i !== end || b[end] !== 0) throw FALLBACK;
  return out;
}
