/**
 * The roster's font: Noto Sans SC (the certificates' font), measured from the full font while
 * pages are written and embedded once at the end as a subset of exactly the characters drawn.
 *
 * Pages are written before the subset exists, so their text uses the full font's glyph ids as
 * CIDs. At the end harfbuzz (the certificates' subset engine, loaded for this one subset and dropped)
 * subsets to the drawn code points, and a CIDToGIDMap stream maps each full-font glyph id to its
 * id in the subset. (The alternative, subsetting with retain-gids, keeps ~31,000 empty glyph
 * slots in the embedded font; the map is smaller.)
 */
import crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import { FONT_FILE, deflate, SubsetEngine, toUnicodeCMap } from '../../certificates/fonts';
import { parseTtf, type TtfInfo } from '../../certificates/ttf';

/** Metrics and character map of the full font (the bytes themselves are not kept). */
export interface FullFont {
  info: TtfInfo;
  /** advance per glyph id in 1/1000 em */
  widths: Float64Array;
}

let fullFont: FullFont | undefined;

/** ASCII codes of the lowercase hex digits (glyph ids are written as hex4 writes them). */
const HEX_DIGITS = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));

/** Parses the full font once per process (~120 ms, ~3 MB kept: cmap and advances). */
export function fullRosterFont(): FullFont {
  if (!fullFont) {
    const info = parseTtf(readFileSync(FONT_FILE));
    const scale = 1000 / info.unitsPerEm;
    fullFont = { info, widths: Float64Array.from(info.advances, (a) => a * scale) };
  }
  return fullFont;
}

/** How long the roster's subset engine is kept after its last use (downloads often come in runs). */
const ENGINE_IDLE_MS = 60_000;
let engine: Promise<SubsetEngine> | undefined;
let engineDrop: NodeJS.Timeout | undefined;

/**
 * A harfbuzz of the roster's own, not preprocessed (~26 MB resident instead of ~77 MB) and
 * dropped a minute after its last subset: the process-wide engine (loadSubsetEngine,
 * preprocessed for many fast subsets) would keep ~77 MB for good in a process that renders no
 * certificates itself (they are rendered in worker threads). A new one takes ~35 ms.
 */
function rosterEngine(): Promise<SubsetEngine> {
  engine ??= SubsetEngine.load({ preprocess: false }).catch((e: unknown) => {
    engine = undefined;
    throw e;
  });
  clearTimeout(engineDrop);
  engineDrop = setTimeout(() => (engine = undefined), ENGINE_IDLE_MS);
  engineDrop.unref();
  return engine;
}

/** Tracks the glyphs a document draws; at the end writes the font objects for exactly those. */
export class GlyphSet {
  readonly font = fullRosterFont();
  /** full-font glyph id → the code point drawn with it (the first one, for ToUnicode) */
  private readonly used = new Map<number, number>();
  private readonly codePoints = new Set<number>();

  /** Glyph id for a code point, recording it as drawn; 0 (.notdef) when the font lacks it. */
  glyph(cp: number): number {
    const gid = this.font.info.cmap.get(cp) ?? 0;
    if (gid !== 0 && !this.codePoints.has(cp)) {
      this.codePoints.add(cp);
      if (!this.used.has(gid)) this.used.set(gid, cp);
    }
    return gid;
  }

  /** Width in points of `text` at `size` (characters the font lacks count as .notdef). */
  measure(text: string, size: number): number {
    return (this.advance(text) * size) / 1000;
  }

  /** The advance of `text` in 1/1000 em: whole numbers for Noto Sans SC (1000 units per em). */
  advance(text: string): number {
    const { cmap } = this.font.info;
    let adv = 0;
    for (let i = 0; i < text.length; i++) {
      const cp = text.codePointAt(i)!;
      if (cp > 0xffff) i++;
      adv += this.font.widths[cmap.get(cp) ?? 0]!;
    }
    return adv;
  }

  /** Whether some character of `text` has no glyph in the font (it is drawn as .notdef). */
  lacksGlyph(text: string): boolean {
    const { cmap } = this.font.info;
    for (let i = 0; i < text.length; i++) {
      const cp = text.codePointAt(i)!;
      if (cp > 0xffff) i++;
      if ((cmap.get(cp) ?? 0) === 0) return true;
    }
    return false;
  }

  /**
   * Writes `text` as glyph ids, four lowercase hex digits per character, into `out` at `at`
   * (which must have room for 4 × text.length bytes) and returns the offset after them. Straight
   * into the page's bytes: a roster draws millions of strings, and building each as a JS string
   * first made most of the garbage that V8 promoted and collected in full GCs (RSS).
   */
  hexInto(text: string, out: Uint8Array, at: number): number {
    for (let i = 0; i < text.length; i++) {
      const cp = text.codePointAt(i)!;
      if (cp > 0xffff) i++; // the low surrogate is part of this code point
      const gid = this.glyph(cp);
      out[at++] = HEX_DIGITS[(gid >> 12) & 15]!;
      out[at++] = HEX_DIGITS[(gid >> 8) & 15]!;
      out[at++] = HEX_DIGITS[(gid >> 4) & 15]!;
      out[at++] = HEX_DIGITS[gid & 15]!;
    }
    return at;
  }

  /** The code points drawn so far (what the subset will contain). */
  drawnCodePoints(): number[] {
    return [...this.codePoints].sort((a, b) => a - b);
  }

  /**
   * The font objects, given the object numbers reserved for them: Type0 font, CIDFont,
   * descriptor, font file, ToUnicode and CIDToGIDMap. Returns them as [number, bytes] pairs.
   */
  async fontObjects(n: {
    type0: number;
    cidFont: number;
    descriptor: number;
    file: number;
    toUnicode: number;
    cidToGid: number;
  }): Promise<Array<[number, Buffer]>> {
    const cps = this.drawnCodePoints();
    const engine = await rosterEngine();
    // Always at least one character, so the subset is a valid font even for an empty list.
    const subsetBytes = engine.subset(cps.length ? cps : [0x20]);
    const subset = parseTtf(subsetBytes);
    const gids = [...this.used.keys()].sort((a, b) => a - b);
    const maxGid = gids.length ? gids[gids.length - 1]! : 0;
    const map = Buffer.alloc(2 * (maxGid + 1));
    for (const g of gids) map.writeUInt16BE(subset.cmap.get(this.used.get(g)!) ?? 0, 2 * g);
    const info = this.font.info;
    const s = 1000 / info.unitsPerEm;
    const tag = subsetTag(cps);
    const name = `/${tag}+${info.postscriptName}`;
    let w = '[';
    for (const g of gids) w += `${g} [${Math.round(this.font.widths[g]!)}] `;
    w += ']';
    const dict = (body: string) => Buffer.from(body, 'latin1');
    const stream = (num: number, extra: string, data: Buffer): [number, Buffer] => [
      num,
      Buffer.concat([
        dict(`<< /Length ${data.length} /Filter /FlateDecode${extra} >>\nstream\n`),
        data,
        dict('\nendstream'),
      ]),
    ];
    return [
      [
        n.type0,
        dict(
          `<< /Type /Font /Subtype /Type0 /BaseFont ${name} /Encoding /Identity-H /DescendantFonts [${n.cidFont} 0 R] /ToUnicode ${n.toUnicode} 0 R >>`,
        ),
      ],
      [
        n.cidFont,
        dict(
          `<< /Type /Font /Subtype /CIDFontType2 /BaseFont ${name} /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor ${n.descriptor} 0 R /DW 1000 /W ${w} /CIDToGIDMap ${n.cidToGid} 0 R >>`,
        ),
      ],
      [
        n.descriptor,
        dict(
          `<< /Type /FontDescriptor /FontName ${name} /Flags 4 /FontBBox [${info.bbox.map((v) => Math.round(v * s)).join(' ')}] /ItalicAngle ${info.italicAngle} ` +
            `/Ascent ${Math.round(info.ascent * s)} /Descent ${Math.round(info.descent * s)} /CapHeight ${Math.round(info.capHeight * s)} /StemV 80 /FontFile2 ${n.file} 0 R >>`,
        ),
      ],
      stream(n.file, ` /Length1 ${subsetBytes.length}`, deflate(subsetBytes)),
      stream(n.toUnicode, '', deflate(this.toUnicodeCMap(gids))),
      stream(n.cidToGid, '', deflate(map)),
    ];
  }

  private toUnicodeCMap(gids: number[]): string {
    return toUnicodeCMap(gids.map((g) => [g, this.used.get(g)!]));
  }
}

/** Six capital letters derived from the subset's contents (the PDF convention for a subset font). */
function subsetTag(cps: number[]): string {
  const h = crypto.createHash('sha256').update(Uint32Array.from(cps)).digest();
  let t = '';
  for (let i = 0; i < 6; i++) t += String.fromCharCode(65 + (h[i]! % 26));
  return t;
}
