// CJK font handling: harfbuzz subsetting (wasm) of Noto Sans SC with the face
// kept loaded, and PDF Type0/CIDFontType2 embedding written by hand.
//
// Why not pdf-lib's embedFont: its default subsetter (@pdf-lib/fontkit)
// silently breaks most CJK fonts (see ../shared/docs/PDF-NOTES.md). We subset
// with harfbuzz and embed the result as-is (the equivalent of
// `embedFont(bytes, { subset: false, customName: 'ABCDEF+…' })`).
//
// Why not `subset-font` per call: it copies the 10.5 MB font into wasm memory
// and rebuilds the face on every call (~30–45 ms here). We use the very same
// harfbuzz wasm build it wraps (harfbuzzjs) but load the font once; a subset
// then takes ~0.3 ms.
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import crypto from 'node:crypto';
import { PDFInvalidObject, PDFName, PDFString, type PDFContext, type PDFRef } from 'pdf-lib';
import { parseTtf, type TtfInfo } from './ttf';

/**
 * Noto Sans SC Regular 2.004, the one weight drawn, shipped in the repository (see fonts/README.md)
 * rather than as a 92 MB npm package of nine weights. The build copies fonts/ beside the compiled
 * code, so this path resolves from sources and from dist/ alike.
 */
export const FONT_FILE = path.join(__dirname, 'fonts', 'NotoSansSC-Regular.ttf');

interface HbExports {
  memory: { buffer: ArrayBuffer };
  _initialize(): void;
  malloc(n: number): number;
  free(p: number): void;
  hb_blob_create(data: number, len: number, mode: number, user: number, destroy: number): number;
  hb_blob_destroy(b: number): void;
  hb_blob_get_data(b: number, lenOut: number): number;
  hb_blob_get_length(b: number): number;
  hb_face_create(blob: number, index: number): number;
  hb_face_destroy(f: number): void;
  hb_face_reference_blob(f: number): number;
  hb_set_add(s: number, v: number): void;
  hb_subset_input_create_or_fail(): number;
  hb_subset_input_destroy(i: number): void;
  hb_subset_input_unicode_set(i: number): number;
  hb_subset_input_set(i: number, which: number): number;
  hb_subset_input_get_flags(i: number): number;
  hb_subset_input_set_flags(i: number, f: number): void;
  hb_subset_or_fail(face: number, input: number): number;
  hb_subset_preprocess(face: number): number;
}

// lib "ES2022" has no WebAssembly typings; these are the calls we need.
type WasmModule = object;
const Wasm = (
  globalThis as unknown as {
    WebAssembly: {
      compile(b: Uint8Array): Promise<WasmModule>;
      instantiate(m: WasmModule): Promise<{ exports: unknown }>;
    };
  }
).WebAssembly;

let compiled: Promise<WasmModule> | undefined;

/** harfbuzz's wasm compiled once per process (~50 ms); each engine is an instance of it. */
function harfbuzzModule(): Promise<WasmModule> {
  compiled ??= Wasm.compile(
    readFileSync(require.resolve('harfbuzzjs/dist/harfbuzz-subset.wasm')),
  ).catch((e: unknown) => {
    compiled = undefined;
    throw e;
  });
  return compiled;
}

const HB_MEMORY_MODE_READONLY = 1;
const HB_SUBSET_SETS_DROP_TABLE_TAG = 3;
const HB_SUBSET_FLAGS_NO_HINTING = 0x1;
const HB_SUBSET_FLAGS_NOTDEF_OUTLINE = 0x40; // missing characters show a visible box
const HB_SUBSET_FLAGS_NO_LAYOUT_CLOSURE = 0x200;
// Tables a PDF renderer never reads for a CIDFontType2 with Identity mapping;
// dropping them halves the subset and skips layout closure.
const DROP_TABLES = [
  'GSUB',
  'GPOS',
  'GDEF',
  'BASE',
  'JSTF',
  'MATH',
  'vhea',
  'vmtx',
  'VORG',
  'DSIG',
  'meta',
  'STAT',
];

function tag(s: string): number {
  return (
    ((s.charCodeAt(0) << 24) |
      (s.charCodeAt(1) << 16) |
      (s.charCodeAt(2) << 8) |
      s.charCodeAt(3)) >>>
    0
  );
}

/** Reads FONT_FILE into memory malloc'd in the wasm heap; returns where and how long. */
function readFontInto(hb: HbExports): { ptr: number; length: number } {
  const fd = openSync(FONT_FILE, 'r');
  try {
    const length = fstatSync(fd).size;
    const ptr = hb.malloc(length);
    if (!ptr) throw new Error('harfbuzz: cannot allocate memory for the font');
    let done = 0;
    while (done < length) {
      // A view made after malloc: the wasm memory may have grown (and moved) for it.
      const n = readSync(fd, new Uint8Array(hb.memory.buffer, ptr + done, length - done));
      if (n === 0) throw new Error(`${FONT_FILE}: shorter than its size`);
      done += n;
    }
    return { ptr, length };
  } finally {
    closeSync(fd);
  }
}

export class SubsetEngine {
  private constructor(
    private readonly hb: HbExports,
    private readonly face: number,
    /** byte length of the source font, reported by fontInfo() */
    readonly sourceBytes: number,
  ) {}

  /**
   * `preprocess: false` for a one-off subset (the export roster's): without the subsetter's
   * lookup tables harfbuzz touches ~26 MB of its memory instead of ~77 MB, at ~0.75 ms per
   * subset instead of 0.14 ms.
   */
  static async load(opts: { preprocess?: boolean } = {}): Promise<SubsetEngine> {
    const instance = await Wasm.instantiate(await harfbuzzModule());
    const hb = instance.exports as unknown as HbExports;
    hb._initialize();
    // The font bytes live in wasm memory for the life of the engine, read straight into it (a
    // JS copy first would be 10.5 MB more at once, until a GC).
    const { ptr, length } = readFontInto(hb);
    const blob = hb.hb_blob_create(ptr, length, HB_MEMORY_MODE_READONLY, 0, 0);
    const raw = hb.hb_face_create(blob, 0);
    hb.hb_blob_destroy(blob);
    // Preprocessing builds the subsetter's lookup tables once: 0.14 ms per subset instead of 0.75 ms.
    const face = opts.preprocess === false ? raw : hb.hb_subset_preprocess(raw) || raw;
    if (face !== raw) hb.hb_face_destroy(raw);
    const engine = new SubsetEngine(hb, face, length);
    engine.subset([0x4e00]); // warm up lazily loaded tables
    return engine;
  }

  /** TrueType subset containing exactly these code points (plus .notdef). */
  subset(codePoints: Iterable<number>): Uint8Array {
    const hb = this.hb;
    const input = hb.hb_subset_input_create_or_fail();
    if (!input) throw new Error('harfbuzz: cannot create subset input');
    let result: number;
    try {
      const unicodes = hb.hb_subset_input_unicode_set(input);
      for (const cp of codePoints) hb.hb_set_add(unicodes, cp);
      const drop = hb.hb_subset_input_set(input, HB_SUBSET_SETS_DROP_TABLE_TAG);
      for (const t of DROP_TABLES) hb.hb_set_add(drop, tag(t));
      hb.hb_subset_input_set_flags(
        input,
        hb.hb_subset_input_get_flags(input) |
          HB_SUBSET_FLAGS_NO_HINTING |
          HB_SUBSET_FLAGS_NOTDEF_OUTLINE |
          HB_SUBSET_FLAGS_NO_LAYOUT_CLOSURE,
      );
      result = hb.hb_subset_or_fail(this.face, input);
    } finally {
      hb.hb_subset_input_destroy(input);
    }
    if (!result) throw new Error('harfbuzz: subsetting failed');
    const blob = hb.hb_face_reference_blob(result);
    try {
      const off = hb.hb_blob_get_data(blob, 0);
      const len = hb.hb_blob_get_length(blob);
      if (!len) throw new Error('harfbuzz: empty subset');
      // Copy out: the wasm heap may move on the next call.
      return new Uint8Array(hb.memory.buffer, off, len).slice();
    } finally {
      hb.hb_blob_destroy(blob);
      hb.hb_face_destroy(result);
    }
  }
}

let enginePromise: Promise<SubsetEngine> | undefined;

/** Loads harfbuzz and the font once per process. */
export function loadSubsetEngine(): Promise<SubsetEngine> {
  enginePromise ??= SubsetEngine.load().catch((e: unknown) => {
    enginePromise = undefined;
    throw e;
  });
  return enginePromise;
}

// Native zlib at level 6. Per-document streams are small (≤ ~16 KB), so an
// 8 KB window with memLevel 7 compresses them the same while allocating ~100 KB
// instead of ~270 KB of native memory per call, which measurably cut GC work.
const SMALL = { level: 6, windowBits: 13, memLevel: 7 } as const;
const LARGE = { level: 6 } as const;

export function deflate(data: Uint8Array | string): Buffer {
  const b = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
  return zlib.deflateSync(b, b.length <= 16384 ? SMALL : LARGE);
}

function hex4(n: number): string {
  return (0x10000 + n).toString(16).slice(1);
}

function utf16Hex(cp: number): string {
  if (cp < 0x10000) return hex4(cp);
  const v = cp - 0x10000;
  return hex4(0xd800 + (v >> 10)) + hex4(0xdc00 + (v & 0x3ff));
}

/** A ToUnicode CMap (so text can be copied and searched) from [glyph id, code point] pairs. */
export function toUnicodeCMap(entries: Array<[number, number]>): string {
  let body = '';
  for (let i = 0; i < entries.length; i += 100) {
    const chunk = entries.slice(i, i + 100);
    body += `${chunk.length} beginbfchar\n`;
    for (const [gid, cp] of chunk) body += `<${hex4(gid)}> <${utf16Hex(cp)}>\n`;
    body += 'endbfchar\n';
  }
  return (
    '/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n' +
    '/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n' +
    '/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n' +
    '1 begincodespacerange\n<0000> <ffff>\nendcodespacerange\n' +
    body +
    'endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n'
  );
}

/** A subset font ready to draw with and to embed; immutable, so it can be shared across documents. */
export class PdfFont {
  readonly info: TtfInfo;
  /** ABCDEF+PostScriptName, the subset tag derived from the subset bytes */
  readonly baseName: string;
  readonly fontFileZ: Buffer;
  readonly toUnicodeZ: Buffer;
  private readonly widthsBytes: Uint8Array;
  /** 1000-unit advance per glyph id */
  readonly widths: Float64Array;

  constructor(
    readonly bytes: Uint8Array,
    avoidTag?: string,
  ) {
    this.info = parseTtf(bytes);
    const scale = 1000 / this.info.unitsPerEm;
    this.widths = Float64Array.from(this.info.advances, (a) => a * scale);
    const h = crypto.createHash('sha256').update(bytes).digest();
    // Deterministic six-letter subset tag; two subsets in one document must differ.
    let t = '';
    for (let off = 0; off + 6 <= h.length && (!t || t === avoidTag); off += 6) {
      t = '';
      for (let i = 0; i < 6; i++) t += String.fromCharCode(65 + (h[off + i]! % 26));
    }
    this.baseName = `${t}+${this.info.postscriptName}`;
    this.fontFileZ = deflate(bytes);
    this.toUnicodeZ = deflate(this.toUnicodeCMap());
    // Glyph ids of a harfbuzz subset are contiguous: one W run.
    let w = '[0 [';
    for (let g = 0; g < this.widths.length; g++) w += (g ? ' ' : '') + Math.round(this.widths[g]!);
    this.widthsBytes = Buffer.from(w + ']]', 'latin1');
  }

  get tag(): string {
    return this.baseName.slice(0, 6);
  }

  /** glyph id, 0 when the font lacks the character */
  gid(cp: number): number {
    return this.info.cmap.get(cp) ?? 0;
  }

  has(cp: number): boolean {
    return this.info.cmap.has(cp);
  }

  private toUnicodeCMap(): string {
    const byGid = new Map<number, number>();
    for (const [cp, gid] of this.info.cmap) {
      const prev = byGid.get(gid);
      if (prev === undefined || cp < prev) byGid.set(gid, cp);
    }
    return toUnicodeCMap([...byGid].sort((a, b) => a[0] - b[0]));
  }

  /** Registers the font objects in a document; returns the Type0 font ref. */
  embed(ctx: PDFContext): PDFRef {
    const i = this.info;
    const s = 1000 / i.unitsPerEm;
    const name = PDFName.of(this.baseName);
    const fontFile = ctx.register(
      ctx.stream(this.fontFileZ, { Filter: 'FlateDecode', Length1: this.bytes.length }),
    );
    const toUnicode = ctx.register(ctx.stream(this.toUnicodeZ, { Filter: 'FlateDecode' }));
    // Pre-serialised array (no references inside), so it is shared bytes, not rebuilt per document.
    const widths = ctx.register(PDFInvalidObject.of(this.widthsBytes));
    const descriptor = ctx.register(
      ctx.obj({
        Type: 'FontDescriptor',
        FontName: name,
        Flags: 4,
        FontBBox: i.bbox.map((v) => Math.round(v * s)),
        ItalicAngle: i.italicAngle,
        Ascent: Math.round(i.ascent * s),
        Descent: Math.round(i.descent * s),
        CapHeight: Math.round(i.capHeight * s),
        StemV: 80,
        FontFile2: fontFile,
      }),
    );
    const cid = ctx.register(
      ctx.obj({
        Type: 'Font',
        Subtype: 'CIDFontType2',
        BaseFont: name,
        CIDSystemInfo: {
          Registry: PDFString.of('Adobe'),
          Ordering: PDFString.of('Identity'),
          Supplement: 0,
        },
        FontDescriptor: descriptor,
        DW: 1000,
        W: widths,
        CIDToGIDMap: 'Identity',
      }),
    );
    return ctx.register(
      ctx.obj({
        Type: 'Font',
        Subtype: 'Type0',
        BaseFont: name,
        Encoding: 'Identity-H',
        DescendantFonts: [cid],
        ToUnicode: toUnicode,
      }),
    );
  }
}

export { hex4, utf16Hex };
