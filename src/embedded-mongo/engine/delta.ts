/**
 * Delta journal records for updates (issue #14 §3): an update that changes a few top-level fields
 * of a large document journals those fields, not the whole new document.
 *
 * A delta is worked out from the stored BSON before and after the update, at the level of
 * top-level elements, and carries bytes only:
 *   - `x`: names of the top-level fields that are gone;
 *   - `s`: top-level elements (type, name, value as stored) that replace the element of the same
 *     name where it stands, or, for a field that is new, are appended in the order given;
 *   - `a`: for top-level arrays that only grew at the end ($push), an array element of that name
 *     holding just the appended items (with their real index names).
 * Kept elements are copied from the old bytes, so number types, field order and every other byte
 * come out as stored. A delta is used only when the new document's field order is the old one's
 * (less removed fields, plus new fields at the end), when it is at most half the document's size,
 * and when applying it to the old bytes gives exactly the new bytes (checked when it is made;
 * replay checks the result's size and CRC-32); otherwise the whole document is journaled.
 */
import { crc32 } from 'node:zlib';
import { Binary } from 'bson';
import { readInt32, valueSize } from './bson-bytes';

/** The change of one document, as journal fields (see the Op type in catalog.ts). */
export interface Delta {
  /** Byte size and CRC-32 (as an int32) of the resulting document: replay checks both. */
  n: number;
  c: number;
  s?: Binary;
  a?: Binary;
  x?: string[];
}

/** A delta pays off only when it is at most this share of the new document's size. */
const MAX_SHARE = 0.5;
/** Below this size a whole document is cheap: not worth working out a delta. */
const MIN_DOC_BYTES = 512;

interface Element {
  name: string;
  type: number;
  /** Offsets into the buffer: the element's type byte, its value, and just past its value. */
  start: number;
  value: number;
  end: number;
}

/**
 * The delta turning `before` into `after` (two stored documents with the same _id), or undefined
 * when the whole document should be journaled.
 */
export function makeDelta(before: Uint8Array, after: Uint8Array): Delta | undefined {
  if (after.length < MIN_DOC_BYTES) return undefined;
  const olds = docElements(before);
  const news = docElements(after);
  if (!olds || !news) return undefined;
  const oldBy = byName(olds);
  const newBy = byName(news);
  if (!oldBy || !newBy) return undefined;
  const budget = after.length * MAX_SHARE;
  const unset: string[] = [];
  let size = 0;
  for (const e of olds)
    if (!newBy.has(e.name)) {
      unset.push(e.name);
      size += Buffer.byteLength(e.name) + 8;
    }
  // The order must be the old one less removed fields, with new fields after all kept ones.
  let i = 0;
  for (const e of olds) if (newBy.has(e.name) && news[i++]!.name !== e.name) return undefined;
  for (let j = i; j < news.length; j++) if (oldBy.has(news[j]!.name)) return undefined;
  const sets: Uint8Array[] = [];
  const appends: Uint8Array[] = [];
  for (const e of news) {
    const o = oldBy.get(e.name);
    if (o && equalRange(before, o.start, o.end, after, e.start, e.end)) continue;
    const grown = o ? appended(before, o, after, e) : undefined;
    if (grown) appends.push(grown);
    else sets.push(after.subarray(e.start, e.end));
    size += (grown ?? sets[sets.length - 1]!).length;
    if (size > budget) return undefined;
  }
  const delta: Delta = { n: after.length, c: crc32(after) | 0 };
  if (sets.length) delta.s = new Binary(Buffer.concat(sets));
  if (appends.length) delta.a = new Binary(Buffer.concat(appends));
  if (unset.length) delta.x = unset;
  // The check that makes replay exact: the same function replay uses gives the same bytes.
  let replayed: Buffer;
  try {
    replayed = applyDelta(before, delta);
  } catch {
    return undefined;
  }
  return equalRange(replayed, 0, replayed.length, after, 0, after.length) ? delta : undefined;
}

/** The document `before` with a delta applied (journal replay, and makeDelta's check). */
export function applyDelta(before: Uint8Array, delta: Delta): Buffer {
  const olds = docElements(before);
  if (!olds) throw new Error('delta over a document whose elements cannot be read');
  const drop = new Set(delta.x ?? []);
  const sets = delta.s ? runElements(binaryBytes(delta.s)) : [];
  const appends = delta.a ? runElements(binaryBytes(delta.a)) : [];
  const setBy = new Map(sets.map((e) => [e.name, e]));
  const appendBy = new Map(appends.map((e) => [e.name, e]));
  const setBytes = delta.s ? binaryBytes(delta.s) : undefined;
  const appendBytes = delta.a ? binaryBytes(delta.a) : undefined;
  const parts: Uint8Array[] = [Buffer.alloc(4)];
  const used = new Set<string>();
  for (const e of olds) {
    if (drop.has(e.name)) continue;
    const s = setBy.get(e.name);
    const a = appendBy.get(e.name);
    if (s) {
      parts.push(setBytes!.subarray(s.start, s.end));
      used.add(e.name);
    } else if (a) {
      if (e.type !== 0x04) throw new Error(`delta appends to ${e.name}, which is not an array`);
      const items = appendBytes!.subarray(a.value + 4, a.end - 1);
      const head = Buffer.from(before.buffer, before.byteOffset + e.start, e.value - e.start);
      const size = Buffer.alloc(4);
      size.writeInt32LE(readInt32(before, e.value) + items.length);
      parts.push(head, size, before.subarray(e.value + 4, e.end - 1), items, ZERO);
      appendBy.delete(e.name);
    } else parts.push(before.subarray(e.start, e.end));
  }
  for (const s of sets) if (!used.has(s.name)) parts.push(setBytes!.subarray(s.start, s.end));
  if (appendBy.size) throw new Error(`delta appends to ${[...appendBy.keys()][0]}, not stored`);
  parts.push(ZERO);
  const out = Buffer.concat(parts);
  out.writeInt32LE(out.length, 0);
  if (out.length !== delta.n || (crc32(out) | 0) !== delta.c)
    throw new Error('a delta that does not give the document that was written');
  return out;
}

const ZERO = Buffer.alloc(1);

/** When array `e` of `after` is array `o` of `before` with items added at its end: those items, as an array element. */
function appended(
  before: Uint8Array,
  o: Element,
  after: Uint8Array,
  e: Element,
): Uint8Array | undefined {
  if (o.type !== 0x04 || e.type !== 0x04) return undefined;
  const oldItems = o.end - 1 - (o.value + 4);
  const newItems = e.end - 1 - (e.value + 4);
  if (newItems <= oldItems) return undefined;
  if (!equalRange(before, o.value + 4, o.end - 1, after, e.value + 4, e.value + 4 + oldItems))
    return undefined;
  const items = after.subarray(e.value + 4 + oldItems, e.end - 1);
  const head = after.subarray(e.start, e.value);
  const out = Buffer.alloc(head.length + 4 + items.length + 1);
  out.set(head, 0);
  out.writeInt32LE(4 + items.length + 1, head.length);
  out.set(items, head.length + 4);
  return out;
}

function byName(els: Element[]): Map<string, Element> | undefined {
  const m = new Map(els.map((e) => [e.name, e]));
  return m.size === els.length ? m : undefined;
}

function docElements(b: Uint8Array): Element[] | undefined {
  if (b.length < 5 || readInt32(b, 0) !== b.length || b[b.length - 1] !== 0) return undefined;
  return elementsIn(b, 4, b.length - 1);
}

/** Elements laid end to end (a delta's `s` or `a`). */
function runElements(b: Uint8Array): Element[] {
  const els = elementsIn(b, 0, b.length);
  if (!els) throw new Error('a delta whose elements cannot be read');
  return els;
}

function elementsIn(b: Uint8Array, from: number, to: number): Element[] | undefined {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  const out: Element[] = [];
  let p = from;
  while (p < to) {
    const start = p;
    const type = buf[p++]!;
    const nameStart = p;
    while (p < to && buf[p] !== 0) p++;
    if (p >= to) return undefined;
    const name = buf.toString('utf8', nameStart, p);
    const value = p + 1;
    const size = valueSize(buf, value, type);
    if (size < 0 || value + size > to) return undefined;
    p = value + size;
    out.push({ name, type, start, value, end: p });
  }
  return out;
}

function equalRange(a: Uint8Array, a0: number, a1: number, b: Uint8Array, b0: number, b1: number) {
  if (a1 - a0 !== b1 - b0) return false;
  return Buffer.compare(a.subarray(a0, a1), b.subarray(b0, b1)) === 0;
}

function binaryBytes(b: Binary): Uint8Array {
  return b.buffer.subarray(0, b.position);
}
