// Minimal TrueType reader for the small subset fonts harfbuzz produces.
// We only need the cmap, advance widths and a few metrics to lay out text and
// write the PDF font dictionaries; a full parser (fontkit) costs ~0.5 ms per
// subset and pulls in shaping we deliberately do not use.

export interface TtfInfo {
  unitsPerEm: number;
  ascent: number;
  descent: number;
  capHeight: number;
  italicAngle: number;
  bbox: [number, number, number, number];
  postscriptName: string;
  /** code point → glyph id (only mapped code points) */
  cmap: Map<number, number>;
  /** advance width per glyph id, font units */
  advances: Uint16Array;
}

interface TableRec {
  offset: number;
  length: number;
}

function tables(buf: Uint8Array, dv: DataView): Map<string, TableRec> {
  const n = dv.getUint16(4);
  const out = new Map<string, TableRec>();
  for (let i = 0; i < n; i++) {
    const p = 12 + i * 16;
    const tag = String.fromCharCode(buf[p]!, buf[p + 1]!, buf[p + 2]!, buf[p + 3]!);
    out.set(tag, { offset: dv.getUint32(p + 8), length: dv.getUint32(p + 12) });
  }
  return out;
}

function need(t: Map<string, TableRec>, tag: string): TableRec {
  const r = t.get(tag);
  if (!r) throw new Error(`font has no ${tag} table`);
  return r;
}

function readCmap(dv: DataView, base: number, numGlyphs: number): Map<number, number> {
  const n = dv.getUint16(base + 2);
  let f4 = -1;
  let f12 = -1;
  for (let i = 0; i < n; i++) {
    const p = base + 4 + i * 8;
    const pid = dv.getUint16(p);
    const eid = dv.getUint16(p + 2);
    const off = base + dv.getUint32(p + 4);
    const fmt = dv.getUint16(off);
    if (fmt === 12 && (pid === 3 || pid === 0)) f12 = off;
    else if (fmt === 4 && ((pid === 3 && eid === 1) || pid === 0)) f4 = off;
  }
  const map = new Map<number, number>();
  if (f12 >= 0) {
    const groups = dv.getUint32(f12 + 12);
    for (let g = 0; g < groups; g++) {
      const p = f12 + 16 + g * 12;
      const start = dv.getUint32(p);
      const end = dv.getUint32(p + 4);
      const gid = dv.getUint32(p + 8);
      // Guard against absurd ranges in a hostile or broken font.
      if (end - start > 0x10ffff) continue;
      for (let c = start; c <= end; c++) map.set(c, gid + (c - start));
    }
    return map;
  }
  // A subset of only unsupported characters has no subtable at all: nothing is mapped.
  if (f4 < 0) return map;
  const segX2 = dv.getUint16(f4 + 6);
  const seg = segX2 / 2;
  const endP = f4 + 14;
  const startP = endP + segX2 + 2;
  const deltaP = startP + segX2;
  const rangeP = deltaP + segX2;
  for (let s = 0; s < seg; s++) {
    const end = dv.getUint16(endP + s * 2);
    const start = dv.getUint16(startP + s * 2);
    const delta = dv.getInt16(deltaP + s * 2);
    const ro = dv.getUint16(rangeP + s * 2);
    for (let c = start; c <= end && c !== 0xffff; c++) {
      let gid: number;
      if (ro === 0) gid = (c + delta) & 0xffff;
      else {
        const gp = rangeP + s * 2 + ro + (c - start) * 2;
        gid = dv.getUint16(gp);
        if (gid !== 0) gid = (gid + delta) & 0xffff;
      }
      if (gid !== 0 && gid < numGlyphs) map.set(c, gid);
    }
  }
  return map;
}

function readPsName(buf: Uint8Array, dv: DataView, t: Map<string, TableRec>): string {
  const name = t.get('name');
  if (!name) return 'Font';
  const base = name.offset;
  const count = dv.getUint16(base + 2);
  const strBase = base + dv.getUint16(base + 4);
  for (let i = 0; i < count; i++) {
    const p = base + 6 + i * 12;
    const pid = dv.getUint16(p);
    const nameId = dv.getUint16(p + 6);
    if (nameId !== 6) continue;
    const len = dv.getUint16(p + 8);
    const off = strBase + dv.getUint16(p + 10);
    let s = '';
    if (pid === 3 || pid === 0) {
      for (let k = 0; k + 1 < len; k += 2) s += String.fromCharCode(dv.getUint16(off + k));
    } else {
      for (let k = 0; k < len; k++) s += String.fromCharCode(buf[off + k]!);
    }
    // A PDF name must stay plain ASCII without delimiters.
    s = s.replace(/[^A-Za-z0-9-]/g, '');
    if (s) return s;
  }
  return 'Font';
}

export function parseTtf(buf: Uint8Array): TtfInfo {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const t = tables(buf, dv);
  const head = need(t, 'head').offset;
  const hhea = need(t, 'hhea').offset;
  const maxp = need(t, 'maxp').offset;
  const hmtx = need(t, 'hmtx').offset;
  const numGlyphs = dv.getUint16(maxp + 4);
  const numH = dv.getUint16(hhea + 34);
  const advances = new Uint16Array(numGlyphs);
  let last = 0;
  for (let g = 0; g < numGlyphs; g++) {
    if (g < numH) last = dv.getUint16(hmtx + g * 4);
    advances[g] = last;
  }
  const os2 = t.get('OS/2');
  let capHeight = 0;
  if (os2 && dv.getUint16(os2.offset) >= 2 && os2.length >= 90)
    capHeight = dv.getInt16(os2.offset + 88);
  const post = t.get('post');
  const italicAngle = post ? dv.getInt32(post.offset + 4) / 65536 : 0;
  const ascent = dv.getInt16(hhea + 4);
  return {
    unitsPerEm: dv.getUint16(head + 18),
    ascent,
    descent: dv.getInt16(hhea + 6),
    capHeight: capHeight || ascent,
    italicAngle,
    bbox: [
      dv.getInt16(head + 36),
      dv.getInt16(head + 38),
      dv.getInt16(head + 40),
      dv.getInt16(head + 42),
    ],
    postscriptName: readPsName(buf, dv, t),
    cmap: readCmap(dv, need(t, 'cmap').offset, numGlyphs),
    advances,
  };
}
