// Just enough DER to build and read a CMS SignedData. Building by hand from
// pre-encoded pieces keeps a PAdES signature at ~1 ms; reading by offsets lets
// us hash the exact signed bytes (no re-encoding, which is how node-forge
// mangles non-ASCII names).

export function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  while (n > 0) {
    bytes.unshift(n & 0xff);
    n = Math.floor(n / 256);
  }
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function tlv(tag: number, ...content: Uint8Array[]): Buffer {
  let len = 0;
  for (const c of content) len += c.length;
  return Buffer.concat([Buffer.from([tag]), derLength(len), ...content]);
}

export const seq = (...c: Uint8Array[]): Buffer => tlv(0x30, ...c);
export const set = (...c: Uint8Array[]): Buffer => tlv(0x31, ...c);
export const octets = (c: Uint8Array): Buffer => tlv(0x04, c);
export const oid = (hex: string): Buffer => tlv(0x06, Buffer.from(hex, 'hex'));
export const int = (n: number): Buffer => tlv(0x02, Buffer.from([n]));
export const NULL = Buffer.from([0x05, 0x00]);

/** DER SET OF: elements sorted by their encodings (X.690 §11.6). */
export function setOf(...elements: Buffer[]): Buffer {
  return set(...[...elements].sort(Buffer.compare));
}

export const OID = {
  data: '2a864886f70d010701',
  signedData: '2a864886f70d010702',
  contentType: '2a864886f70d010903',
  messageDigest: '2a864886f70d010904',
  signingTime: '2a864886f70d010905',
  signingCertificateV2: '2a864886f70d010910022f',
  rsaEncryption: '2a864886f70d010101',
  sha256WithRSA: '2a864886f70d01010b',
  ecdsaWithSha256: '2a8648ce3d040302',
  sha1: '2b0e03021a',
  sha256: '608648016503040201',
  sha384: '608648016503040202',
  sha512: '608648016503040203',
} as const;

export interface DerNode {
  tag: number;
  /** offset of the tag byte */
  start: number;
  /** offset of the content */
  body: number;
  /** offset after the content */
  end: number;
}

export class DerError extends Error {}

export function readNode(buf: Uint8Array, off: number, limit = buf.length): DerNode {
  if (off + 2 > limit) throw new DerError('truncated DER');
  const tag = buf[off]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte DER tags unsupported');
  let p = off + 1;
  let len = buf[p++]!;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || p + n > limit) throw new DerError('bad DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p++]!;
  }
  if (p + len > limit) throw new DerError('DER value overruns its container');
  return { tag, start: off, body: p, end: p + len };
}

export function children(buf: Uint8Array, node: DerNode): DerNode[] {
  const out: DerNode[] = [];
  let p = node.body;
  while (p < node.end) {
    const c = readNode(buf, p, node.end);
    out.push(c);
    p = c.end;
  }
  return out;
}

export function bytesOf(buf: Uint8Array, n: DerNode): Buffer {
  return Buffer.from(buf.buffer, buf.byteOffset + n.start, n.end - n.start);
}

export function bodyOf(buf: Uint8Array, n: DerNode): Buffer {
  return Buffer.from(buf.buffer, buf.byteOffset + n.body, n.end - n.body);
}

export function oidHex(buf: Uint8Array, n: DerNode): string {
  if (n.tag !== 0x06) throw new DerError('expected OID');
  return bodyOf(buf, n).toString('hex');
}
