// Content-stream writing and text layout (measure, wrap, shrink-to-fit) for
// the certificate. Text is encoded as glyph ids in hex strings, so user text
// can never be interpreted as PDF syntax.
import { hex4, utf16Hex, type PdfFont } from './fonts';

/** F1 = the static (cached) subset, F2 = the per-document subset for user text. */
export interface FontPair {
  f1: PdfFont;
  f2?: PdfFont;
}

export interface Shaped {
  text: string;
  /** "/F1 s Tf <..> Tj" fragments with the size left as `\u0000` */
  runs: Array<{ font: 1 | 2; hex: string }>;
  /** sum of advances, 1000 units per em */
  adv: number;
  glyphs: number;
  /** some character has no glyph in either font (drawn as .notdef) */
  missing: boolean;
}

export function shape(text: string, fonts: FontPair): Shaped {
  const runs: Shaped['runs'] = [];
  let adv = 0;
  let glyphs = 0;
  let missing = false;
  let cur: 1 | 2 = 1;
  let hex = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    let font: 1 | 2 = 1;
    let f = fonts.f1;
    let gid = f.gid(cp);
    if (gid === 0 && fonts.f2) {
      font = 2;
      f = fonts.f2;
      gid = f.gid(cp);
    }
    if (gid === 0) missing = true;
    if (font !== cur && hex) {
      runs.push({ font: cur, hex });
      hex = '';
    }
    cur = font;
    hex += hex4(gid);
    adv += f.widths[gid]!;
    glyphs++;
  }
  if (hex) runs.push({ font: cur, hex });
  return { text, runs, adv, glyphs, missing };
}

/** Fast, compact number formatting for content streams (2 decimals). */
export function num(x: number): string {
  const r = Math.round(x * 100) / 100;
  return r === 0 ? '0' : String(r);
}

export type Rgb = readonly [number, number, number];

export interface TextStyle {
  size: number;
  color?: Rgb;
  /** extra space after each glyph, points (Tc) */
  tracking?: number;
  /** fake bold by stroking the outline */
  bold?: number;
  align?: 'left' | 'center' | 'right';
}

export function widthOf(s: Shaped, size: number, tracking = 0): number {
  return (s.adv * size) / 1000 + tracking * Math.max(0, s.glyphs - 1);
}

export class Content {
  s = '';

  op(line: string): this {
    this.s += line + '\n';
    return this;
  }

  fillColor(c: Rgb): this {
    return this.op(`${num(c[0])} ${num(c[1])} ${num(c[2])} rg`);
  }

  strokeColor(c: Rgb): this {
    return this.op(`${num(c[0])} ${num(c[1])} ${num(c[2])} RG`);
  }

  rect(x: number, y: number, w: number, h: number, paint: 'f' | 'S' | 'B'): this {
    return this.op(`${num(x)} ${num(y)} ${num(w)} ${num(h)} re ${paint}`);
  }

  line(x1: number, y1: number, x2: number, y2: number): this {
    return this.op(`${num(x1)} ${num(y1)} m ${num(x2)} ${num(y2)} l S`);
  }

  circle(cx: number, cy: number, r: number, paint: 'f' | 'S' | 'B'): this {
    const k = 0.5523 * r; // Bézier quarter-circle constant
    const p = (x: number, y: number) => `${num(cx + x)} ${num(cy + y)}`;
    return this.op(
      `${p(r, 0)} m ${p(r, k)} ${p(k, r)} ${p(0, r)} c ${p(-k, r)} ${p(-r, k)} ${p(-r, 0)} c ` +
        `${p(-r, -k)} ${p(-k, -r)} ${p(0, -r)} c ${p(k, -r)} ${p(r, -k)} ${p(r, 0)} c h ${paint}`,
    );
  }

  /** Draws shaped text with its left/centre/right at x, baseline y. Returns the drawn width. */
  text(s: Shaped, x: number, y: number, st: TextStyle): number {
    const w = widthOf(s, st.size, st.tracking);
    if (!s.glyphs) return 0;
    const x0 = st.align === 'center' ? x - w / 2 : st.align === 'right' ? x - w : x;
    this.textAt(s, st, `1 0 0 1 ${num(x0)} ${num(y)} Tm`);
    return w;
  }

  /** Text with an explicit text matrix (rotation for the emblem). */
  textAt(s: Shaped, st: TextStyle, tm: string): void {
    let out = '';
    // A character without a glyph still extracts correctly through ActualText.
    if (s.missing)
      out += `/Span << /ActualText <FEFF${[...s.text].map((c) => utf16Hex(c.codePointAt(0)!)).join('')}> >> BDC\n`;
    const stateful = !!(st.tracking || st.bold);
    if (stateful) out += 'q\n';
    out += 'BT\n';
    if (st.color) out += `${num(st.color[0])} ${num(st.color[1])} ${num(st.color[2])} rg\n`;
    if (st.tracking) out += `${num(st.tracking)} Tc\n`;
    if (st.bold) {
      const c = st.color ?? [0, 0, 0];
      out += `2 Tr ${num(st.bold * st.size)} w ${num(c[0])} ${num(c[1])} ${num(c[2])} RG\n`;
    }
    out += tm + '\n';
    const size = num(st.size);
    for (const r of s.runs) out += `/F${r.font} ${size} Tf <${r.hex}> Tj\n`;
    out += 'ET\n';
    if (stateful) out += 'Q\n';
    if (s.missing) out += 'EMC\n';
    this.s += out;
  }
}

// ---------- line breaking ----------

const CLOSING = new Set([...'，。、；：？！）」』】〉》〕”’…,.;:!?)]}%·']);
const OPENING = new Set([...'（「『【〈《〔“‘([{']);

function isWide(cp: number): boolean {
  return (
    (cp >= 0x2e80 && cp <= 0x9fff) || // CJK radicals … unified ideographs
    (cp >= 0xac00 && cp <= 0xd7af) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xffef) ||
    cp >= 0x20000
  );
}

/** Break units: each CJK character, each Latin word; punctuation glued to its neighbour. */
function units(text: string): string[] {
  const out: string[] = [];
  let word = '';
  let glueNext = false;
  const push = (u: string) => {
    if (glueNext && out.length) out[out.length - 1] += u;
    else out.push(u);
    glueNext = false;
  };
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (ch === ' ') {
      if (word) push(word);
      word = '';
      if (out.length) out[out.length - 1] += ' ';
      continue;
    }
    if (CLOSING.has(ch)) {
      if (word) word += ch;
      else if (out.length) out[out.length - 1] += ch;
      else out.push(ch);
      continue;
    }
    if (OPENING.has(ch) || isWide(cp)) {
      if (word) push(word);
      word = '';
      push(ch);
      if (OPENING.has(ch)) glueNext = true;
      continue;
    }
    word += ch;
  }
  if (word) push(word);
  return out;
}

/** Greedy wrap into lines no wider than maxWidth (a single over-long unit is split by character). */
export function wrap(text: string, fonts: FontPair, size: number, maxWidth: number): string[] {
  const lines: string[] = [];
  let line = '';
  const fits = (t: string) => widthOf(shape(t.trimEnd(), fonts), size) <= maxWidth;
  for (const u of units(text)) {
    if (fits(line + u)) {
      line += u;
      continue;
    }
    if (line.trim()) lines.push(line.trimEnd());
    line = '';
    if (fits(u)) {
      line = u;
      continue;
    }
    for (const ch of u) {
      if (line && !fits(line + ch)) {
        lines.push(line.trimEnd());
        line = '';
      }
      line += ch;
    }
  }
  if (line.trim()) lines.push(line.trimEnd());
  return lines;
}

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface FittedText {
  size: number;
  lines: Array<{ shaped: Shaped; x: number; y: number; width: number }>;
}

/**
 * Fits text into a box: one line at `size` if it fits, else shrink down to
 * `minSize`, else wrap over up to `maxLines` lines (shrinking further as
 * needed). As a last resort one line is scaled to the box width, so the text
 * never overflows. Lines are centred (or left-aligned) and vertically centred.
 */
export function fitText(
  text: string,
  fonts: FontPair,
  box: Box,
  o: {
    size: number;
    minSize: number;
    maxLines?: number;
    lineHeight?: number;
    align?: 'left' | 'center';
  },
): FittedText {
  const lh = o.lineHeight ?? 1.2;
  const maxLines = o.maxLines ?? 2;
  const one = shape(text, fonts);
  const w1 = widthOf(one, 1);
  let size = o.size;
  let lines: Shaped[] = [one];
  if (w1 * size > box.w) {
    const shrink = box.w / w1;
    if (shrink >= o.minSize) size = shrink;
    else {
      let found = false;
      for (let s = Math.min(o.size, box.h / (1 + (maxLines - 1) * lh)); s >= 4; s -= 0.5) {
        const ls = wrap(text, fonts, s, box.w);
        if (ls.length <= maxLines && s * (1 + (ls.length - 1) * lh) <= box.h) {
          size = s;
          // Balance the lines: the narrowest width that still needs no more lines.
          let best = ls;
          let lo = box.w / ls.length;
          let hi = box.w;
          for (let k = 0; k < 8; k++) {
            const mid = (lo + hi) / 2;
            const t = wrap(text, fonts, s, mid);
            if (t.length <= ls.length) {
              best = t;
              hi = mid;
            } else lo = mid;
          }
          lines = best.map((l) => shape(l, fonts));
          found = true;
          break;
        }
      }
      if (!found) size = shrink;
    }
  }
  size = Math.min(size, box.h);
  const blockH = size * (1 + (lines.length - 1) * lh);
  // Ideographs sit roughly in [-0.12, 0.88] em around the baseline.
  let y = box.y + (box.h + blockH) / 2 - 0.88 * size;
  const out: FittedText['lines'] = [];
  for (const s of lines) {
    const width = widthOf(s, size);
    const x = o.align === 'left' ? box.x : box.x + (box.w - width) / 2;
    out.push({ shaped: s, x, y, width });
    y -= size * lh;
  }
  return { size, lines: out };
}

export function drawFitted(c: Content, f: FittedText, st: Omit<TextStyle, 'size' | 'align'>): void {
  for (const l of f.lines) c.text(l.shaped, l.x, l.y, { ...st, size: f.size });
}
