/**
 * Reading BSON elements in place: the size of a value by its type byte, so an element can be
 * stepped over without decoding it (the stored-document readers and the delta journal use it).
 */

/** A little-endian int32 at p. */
export function readInt32(b: Uint8Array, p: number): number {
  return b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24);
}

/** Byte size of a value of a BSON type, or -1 for a type not known here. */
export function valueSize(b: Uint8Array, p: number, type: number): number {
  switch (type) {
    case 0x01: // double
    case 0x09: // date
    case 0x11: // timestamp
    case 0x12: // int64
      return 8;
    case 0x02: // string
    case 0x0d: // code
    case 0x0e: // symbol
      return 4 + readInt32(b, p);
    case 0x03: // document
    case 0x04: // array
    case 0x0f: // code with scope
      return readInt32(b, p);
    case 0x05: // binary
      return 5 + readInt32(b, p);
    case 0x06: // undefined
    case 0x0a: // null
    case 0xff: // minKey
    case 0x7f: // maxKey
      return 0;
    case 0x07: // ObjectId
      return 12;
    case 0x08: // boolean
      return 1;
    case 0x0b: {
      // regex: two C strings
      let q = p;
      for (let k = 0; k < 2; k++) {
        while (q < b.length && b[q] !== 0) q++;
        q++;
      }
      return q - p;
    }
    case 0x0c: // DBPointer
      return 4 + readInt32(b, p) + 12;
    case 0x10: // int32
      return 4;
    case 0x13: // Decimal128
      return 16;
    default:
      return -1;
  }
}
