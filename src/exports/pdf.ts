/**
 * The PDF roster: a bilingual (Chinese first), paginated A4 landscape list of signatories, the
 * document a ministry prints. Written incrementally so memory stays flat however many rows:
 *
 *   - each page's content stream is laid out, compressed and written as soon as it is full;
 *   - text is drawn with the full Noto Sans SC font's glyph ids, and the font is embedded at the
 *     end, subset to exactly the characters drawn (see pdf-font.ts);
 *   - object numbers are fixed in advance (font, page tree nodes, pages), so a page can name its
 *     parent and its font before they are written: PDF objects may come in any order before the
 *     cross-reference table, which is written last from the recorded byte offsets.
 *
 * What stays in memory: one page of layout, the set of glyphs drawn, and two numbers per page
 * (byte offsets), about 16 bytes per ~20 rows.
 */
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { utf16Hex } from '../../certificates/fonts';
import { industryByCode } from '../domain/industries';
import { provinceByCode } from '../domain/provinces';
import { GlyphSet } from './pdf-font';
import { chinaDate as chinaDay, chinaDateTime } from '../time/china';
import { pickRowFields } from './bson-pick';
import { statusLabel, toRow, type ExportQuery, type ExportRow } from './rows';

const deflateAsync = promisify(zlib.deflate);

// A4 landscape, points.
const PAGE_W = 841.89;
const PAGE_H = 595.28;
const MARGIN_X = 36;
const MARGIN_TOP = 34;
const MARGIN_BOTTOM = 34;
const PAD = 3;

const ZH = { size: 8, lead: 10 };
const EN = { size: 6.4, lead: 8 };
const GRAY = 0.38;
/** Lines a cell may wrap to before it is cut with an ellipsis (a company name would need ~200 characters). */
const MAX_LINES = 6;
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/g;
/** Pages per intermediate page-tree node (a balanced two-level tree, not one huge /Kids array). */
const PAGES_PER_NODE = 100;
/** A page's content stream is about 40 KB; the buffer grows if one is longer. */
const PAGE_BYTES = 64 * 1024;
/** Bytes of PDF objects gathered before they are written to the sink as one chunk. */
const CHUNK_BYTES = 128 * 1024;
/** Pages laid out before they are compressed together (zlib's thread pool) and written. */
const PAGES_PER_FLUSH = 8;
const ENDOBJ = Buffer.from('\nendobj\n', 'latin1');
const ENDSTREAM_ENDOBJ = Buffer.from('\nendstream\nendobj\n', 'latin1');

export interface RosterOptions {
  query: ExportQuery;
  exportId: string;
  generatedAt: Date;
  /**
   * `public`: the open-data roster anyone may download: the public directory's columns only (no
   * sequence, no certificate serial, and never a signatory) and no export id, since no signed
   * manifest is kept for anonymous downloads. Default `admin`.
   */
  audience?: 'admin' | 'public';
}

interface Cell {
  zh: string;
  en?: string;
  /** monospaced-looking codes stay on one line (USCC, serial) */
  nowrap?: boolean;
}

interface Column {
  key: keyof ExportRow;
  zh: string;
  en: string;
  width: number;
  cell(r: ExportRow): Cell;
}

function chinaDate(d: Date | null): string {
  return d ? chinaDay(d) : '';
}

function columns(founders: boolean): Column[] {
  const seq: Column = {
    key: 'sequence',
    zh: '序号',
    en: 'No.',
    width: 34,
    cell: (r) => ({ zh: String(r.sequence) }),
  };
  const founding: Column = {
    key: 'foundingNumber',
    zh: '发起编号',
    en: 'Founding No.',
    width: 46,
    cell: (r) => ({ zh: r.foundingNumber === null ? '—' : String(r.foundingNumber) }),
  };
  return [
    ...(founders ? [founding, seq] : [seq, founding]),
    {
      key: 'companyName',
      zh: '企业名称',
      en: 'Company',
      width: 222,
      cell: (r) => ({ zh: r.companyName, en: r.companyNameEn }),
    },
    {
      key: 'uscc',
      zh: '统一社会信用代码',
      en: 'USCC',
      width: 96,
      cell: (r) => ({ zh: r.uscc, nowrap: true }),
    },
    {
      key: 'province',
      zh: '省份',
      en: 'Province',
      width: 56,
      cell: (r) => ({
        zh: provinceByCode(r.provinceCode)?.zh ?? r.provinceCode,
        en: provinceByCode(r.provinceCode)?.en,
      }),
    },
    {
      key: 'industry',
      zh: '行业',
      en: 'Industry',
      width: 120,
      cell: (r) => {
        const i = industryByCode(r.industryCode);
        return i ? { zh: `${i.code} ${i.zh}`, en: i.en } : { zh: r.industryCode };
      },
    },
    {
      key: 'activatedAt',
      zh: '生效日期',
      en: 'Activated',
      width: 54,
      cell: (r) => ({ zh: chinaDate(r.activated) }),
    },
    {
      key: 'status',
      zh: '状态',
      en: 'Status',
      width: 44,
      cell: (r) => ({ zh: statusLabel(r.status).zh, en: statusLabel(r.status).en }),
    },
    {
      key: 'certificateSerial',
      zh: '证书编号',
      en: 'Certificate serial',
      width: 88,
      cell: (r) => ({ zh: r.certificateSerial || '—', nowrap: true }),
    },
  ];
}

/** The open-data roster: what the founders page and directory show, spread over the page width. */
function publicColumns(founders: boolean): Column[] {
  const widths: Partial<Record<keyof ExportRow, number>> = { companyName: 290, industry: 170 };
  return columns(founders)
    .filter((c) => c.key !== 'sequence' && c.key !== 'certificateSerial')
    .map((c) => ({ ...c, width: widths[c.key] ?? c.width }));
}

function filterLines(q: ExportQuery): { zh: string; en: string } {
  const zh: string[] = [];
  const en: string[] = [];
  if (q.founders === '1') {
    zh.push('发起企业');
    en.push('founding signatories');
  }
  const listed = (['active', 'withdrawn', 'revoked'] as const).map(statusLabel);
  const st =
    q.status === 'all'
      ? {
          zh: `全部（${listed.map((l) => l.zh).join('、')}）`,
          en: `all (${listed.map((l) => l.en.toLowerCase()).join(', ')})`,
        }
      : statusLabel(q.status);
  zh.push(`状态：${st.zh}`);
  en.push(`status: ${q.status === 'all' ? st.en : st.en.toLowerCase()}`);
  if (q.province) {
    const p = provinceByCode(q.province);
    zh.push(`省份：${p?.zh ?? q.province}`);
    en.push(`province: ${p?.en ?? q.province}`);
  }
  if (q.industry) {
    const i = industryByCode(q.industry);
    zh.push(`行业：${q.industry} ${i?.zh ?? ''}`.trim());
    en.push(`industry: ${q.industry} ${i?.en ?? ''}`.trim());
  }
  if (q.from || q.to) {
    zh.push(`生效日期：${q.from ?? '…'} 至 ${q.to ?? '…'}（北京时间）`);
    en.push(`activated: ${q.from ?? '…'} to ${q.to ?? '…'} (China time)`);
  }
  return { zh: `筛选条件：${zh.join('；')}`, en: `Filters: ${en.join('; ')}` };
}

function num(x: number): string {
  const r = Math.round(x * 100) / 100;
  return r === 0 ? '0' : String(r);
}

/**
 * Incremental PDF file writer: objects are written as they come, offsets kept for the xref.
 * Objects are gathered into chunks of about CHUNK_BYTES and written as one buffer each: one copy
 * per chunk instead of one per object, and a few sink writes per 100 pages instead of two per page.
 */
class PdfFile {
  private offset = 0;
  private readonly offsets: number[] = [];
  private parts: Buffer[] = [];
  private partsBytes = 0;
  constructor(private readonly out: (chunk: Buffer) => Promise<void>) {}

  async raw(b: Buffer): Promise<void> {
    this.add(b);
    await this.flush();
  }

  async object(num: number, body: Buffer): Promise<void> {
    this.offsets[num] = this.offset;
    this.add(Buffer.from(`${num} 0 obj\n`, 'latin1'));
    this.add(body);
    this.add(ENDOBJ);
    if (this.partsBytes >= CHUNK_BYTES) await this.flush();
  }

  async stream(num: number, data: Buffer): Promise<void> {
    this.offsets[num] = this.offset;
    this.add(
      Buffer.from(
        `${num} 0 obj\n<< /Length ${data.length} /Filter /FlateDecode >>\nstream\n`,
        'latin1',
      ),
    );
    this.add(data);
    this.add(ENDSTREAM_ENDOBJ);
    if (this.partsBytes >= CHUNK_BYTES) await this.flush();
  }

  private add(b: Buffer): void {
    this.parts.push(b);
    this.partsBytes += b.length;
    this.offset += b.length;
  }

  /** Writes what has been gathered. */
  async flush(): Promise<void> {
    if (!this.parts.length) return;
    const chunk = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
    this.parts = [];
    this.partsBytes = 0;
    await this.out(chunk);
  }

  /** Cross-reference table and trailer; every object 1..size-1 must have been written. */
  async finish(size: number, trailer: string): Promise<void> {
    const xref = this.offset;
    let s = `xref\n0 ${size}\n0000000000 65535 f \n`;
    for (let i = 1; i < size; i++) {
      const o = this.offsets[i];
      if (o === undefined) throw new Error(`PDF object ${i} was never written`);
      s += `${String(o).padStart(10, '0')} 00000 n \n`;
      if (s.length > 64_000) {
        await this.raw(Buffer.from(s, 'latin1'));
        s = '';
      }
    }
    s += `trailer\n<< /Size ${size} ${trailer} >>\nstartxref\n${xref}\n%%EOF\n`;
    await this.raw(Buffer.from(s, 'latin1'));
  }
}

// Fixed object numbers; pages follow from FIRST_PAGE_OBJ in groups: [tree node, (content, page) × 100].
const OBJ = {
  catalog: 1,
  pages: 2,
  type0: 3,
  cidFont: 4,
  descriptor: 5,
  file: 6,
  toUnicode: 7,
  cidToGid: 8,
  info: 9,
};
const FIRST_GROUP_OBJ = 10;
const GROUP_SPAN = 1 + 2 * PAGES_PER_NODE;
const nodeObj = (group: number) => FIRST_GROUP_OBJ + group * GROUP_SPAN;
const contentObj = (page: number) =>
  nodeObj(Math.floor(page / PAGES_PER_NODE)) + 1 + 2 * (page % PAGES_PER_NODE);
const pageObj = (page: number) => contentObj(page) + 1;

/** Lays out and writes the roster; rows arrive in order, pages leave as soon as they are full. */
export class RosterWriter {
  private readonly glyphs = new GlyphSet();
  private readonly file: PdfFile;
  private readonly cols: Column[];
  private readonly founders: boolean;
  private readonly public: boolean;
  private readonly title: { zh: string; en: string };
  private readonly headerLines: Array<{ text: string; size: number; gray: number }>;
  private page = -1;
  /** The current page's content stream so far (see op). */
  private content: Buffer = Buffer.allocUnsafe(PAGE_BYTES);
  private contentLength = 0;
  private y = 0;
  private rowsOnPage = 0;
  private rows = 0;
  private started = false;
  /** Pages laid out but not yet compressed and written (compressed together, in parallel). */
  private pending: Array<{ page: number; buffer: Buffer; length: number }> = [];
  /** Page buffers whose pages have been written, for the next pages (one set per export, reused). */
  private readonly spare: Buffer[] = [];

  constructor(
    out: (chunk: Buffer) => Promise<void>,
    private readonly opts: RosterOptions,
  ) {
    this.file = new PdfFile(out);
    this.founders = opts.query.founders === '1';
    this.public = opts.audience === 'public';
    this.cols = this.public ? publicColumns(this.founders) : columns(this.founders);
    this.title = this.founders
      ? {
          zh: '企业质量诚信倡议 · 发起企业名录',
          en: 'Enterprise Quality Integrity Initiative · Founding Signatories',
        }
      : {
          zh: '企业质量诚信倡议 · 签署企业名录',
          en: 'Enterprise Quality Integrity Initiative · Signatories',
        };
    const f = filterLines(opts.query);
    this.headerLines = [
      { text: f.zh, size: 7.5, gray: 0.2 },
      { text: f.en, size: 6.5, gray: GRAY },
      {
        text: `生成时间：${chinaDateTime(opts.generatedAt)}（北京时间）  ·  Generated ${opts.generatedAt.toISOString().slice(0, 19).replace('T', ' ')} UTC`,
        size: 6.5,
        gray: GRAY,
      },
      this.public
        ? {
            text: '公开版：不含签署人姓名、职务及联系方式  ·  Public edition: no signatory names, titles or contacts',
            size: 6.5,
            gray: GRAY,
          }
        : {
            text: `导出编号 Export ID：${opts.exportId}  ·  签名清单 Signed manifest：/api/v1/admin/exports/${opts.exportId}/manifest`,
            size: 6.5,
            gray: GRAY,
          },
    ];
  }

  async writeRows(rows: ExportRow[]): Promise<void> {
    if (!this.started) await this.start();
    for (const r of rows) {
      this.row(r);
      // As soon as a few pages are full: the pages of a whole batch at once would be ~25 page
      // buffers and deflate streams in memory, and the batch's rows held meanwhile.
      if (this.pending.length >= PAGES_PER_FLUSH) await this.flushPending();
    }
  }

  /**
   * Stored pledges as their BSON bytes, each made a row only as it is laid out: a batch of 500
   * rows made at once lived through the batch's layout, long enough for V8 to allocate them (and
   * the driver's own per-document objects) straight into the old generation, where they piled up
   * as garbage until a full GC.
   */
  async writeDocs(docs: Buffer[]): Promise<void> {
    if (!this.started) await this.start();
    for (const d of docs) {
      this.row(toRow(pickRowFields(d), false));
      if (this.pending.length >= PAGES_PER_FLUSH) await this.flushPending();
    }
  }

  async end(): Promise<void> {
    if (!this.started) await this.start();
    if (this.page < 0) this.newPage();
    const total = this.founders
      ? `共 ${this.rows} 家发起企业 · ${this.rows} founding signatories in total`
      : `共 ${this.rows} 家企业 · ${this.rows} signatories in total`;
    if (this.y - 14 < MARGIN_BOTTOM) this.newPage();
    this.text(
      this.rows ? total : '无符合条件的记录 · No matching records',
      MARGIN_X,
      this.y - 12,
      8,
      0,
    );
    this.closePage();
    await this.flushPending(true);
    await this.writeTrailer();
  }

  private async start(): Promise<void> {
    this.started = true;
    // Binary comment line so transfer tools treat the file as binary.
    await this.file.raw(Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1'));
  }

  // ---- layout -------------------------------------------------------------------------------

  private newPage(): void {
    if (this.page >= 0) this.closePage();
    this.page++;
    this.rowsOnPage = 0;
    this.contentLength = 0;
    let y = PAGE_H - MARGIN_TOP;
    if (this.page === 0) {
      this.text(this.title.zh, MARGIN_X, y - 14, 14, 0, true);
      this.text(this.title.en, MARGIN_X, y - 28, 9, 0.25);
      y -= 36;
      for (const l of this.headerLines) {
        y -= l.size + 3;
        this.text(l.text, MARGIN_X, y, l.size, l.gray);
      }
      y -= 8;
    } else {
      // Running header on later pages.
      this.text(`${this.title.zh}  ${this.title.en}`, MARGIN_X, y - 8, 7.5, 0.2, true);
      if (!this.public)
        this.text(
          `导出编号 Export ID：${this.opts.exportId}`,
          PAGE_W - MARGIN_X,
          y - 8,
          6.5,
          GRAY,
          false,
          'right',
        );
      y -= 16;
    }
    // Column header: Chinese above English, on a tinted band.
    const h = ZH.lead + EN.lead + 2 * PAD;
    this.op(
      `0.9 0.93 0.97 rg ${num(MARGIN_X)} ${num(y - h)} ${num(PAGE_W - 2 * MARGIN_X)} ${num(h)} re f`,
    );
    let x = MARGIN_X;
    for (const c of this.cols) {
      this.text(c.zh, x + PAD, y - PAD - ZH.size, ZH.size, 0, true);
      this.text(c.en, x + PAD, y - PAD - ZH.lead - EN.size, EN.size, GRAY);
      x += c.width;
    }
    y -= h;
    this.op(`0.5 G 0.6 w ${num(MARGIN_X)} ${num(y)} m ${num(PAGE_W - MARGIN_X)} ${num(y)} l S`);
    this.y = y;
    const footer = `第 ${this.page + 1} 页 / Page ${this.page + 1}`;
    this.text(footer, PAGE_W / 2, MARGIN_BOTTOM - 14, 7, GRAY, false, 'center');
  }

  private row(r: ExportRow): void {
    const cells = this.cols.map((c) => {
      const cell = c.cell(r);
      const w = c.width - 2 * PAD;
      return {
        zh: this.wrap(cell.zh, ZH.size, w, cell.nowrap),
        en: cell.en ? this.wrap(cell.en, EN.size, w, cell.nowrap) : [],
      };
    });
    const h =
      Math.max(...cells.map((c) => c.zh.length * ZH.lead + c.en.length * EN.lead)) + 2 * PAD;
    if (this.page < 0 || this.y - h < MARGIN_BOTTOM) this.newPage();
    const top = this.y;
    if (this.rowsOnPage % 2 === 1) {
      // `0.965 g x y w h re f`, written piece by piece (see text).
      this.beginOp();
      this.put('0.965 g ');
      this.putNum(MARGIN_X);
      this.put(' ');
      this.putNum(top - h);
      this.put(' ');
      this.putNum(PAGE_W - 2 * MARGIN_X);
      this.put(' ');
      this.putNum(h);
      this.put(' re f');
    }
    let x = MARGIN_X;
    cells.forEach((cell, i) => {
      // Each line sits in a box of its leading; the baseline is the font size below the box top.
      let lineTop = top - PAD;
      for (const l of cell.zh) {
        this.text(l, x + PAD, lineTop - ZH.size, ZH.size, 0);
        lineTop -= ZH.lead;
      }
      for (const l of cell.en) {
        this.text(l, x + PAD, lineTop - EN.size, EN.size, GRAY);
        lineTop -= EN.lead;
      }
      x += this.cols[i]!.width;
    });
    this.y = top - h;
    // `0.85 G 0.3 w x y m x2 y l S`: the rule under the row.
    this.beginOp();
    this.put('0.85 G 0.3 w ');
    this.putNum(MARGIN_X);
    this.put(' ');
    this.putNum(this.y);
    this.put(' m ');
    this.putNum(PAGE_W - MARGIN_X);
    this.put(' ');
    this.putNum(this.y);
    this.put(' l S');
    this.rowsOnPage++;
    this.rows++;
  }

  /** Greedy line breaking: between any two CJK characters, at spaces in Latin text. */
  private wrap(text: string, size: number, width: number, nowrap = false): string[] {
    if (!text) return [];
    // Control characters have no glyph and no place in a printed list.
    text = text.replace(CONTROL_CHARS, ' ').trim();
    if (nowrap || this.glyphs.measure(text, size) <= width) return [text];
    const tokens = text.match(
      /[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u{20000}-\u{3ffff}]|\s+|[^\s\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u{20000}-\u{3ffff}]+/gu,
    ) ?? [text];
    // Widths add up (no kerning, and the font's advances are whole units, so the sums are exact):
    // a line's advance is kept as it grows instead of measuring the line again for every token.
    const lines: string[] = [];
    let line = '';
    let lineAdv = 0;
    const fits = (adv: number) => (adv * size) / 1000 <= width;
    const push = () => {
      if (line.trim()) lines.push(line.trimEnd());
      line = '';
      lineAdv = 0;
    };
    for (const tok of tokens) {
      const tokAdv = this.glyphs.advance(tok);
      if (fits(lineAdv + tokAdv)) {
        line += tok;
        lineAdv += tokAdv;
        continue;
      }
      if (/^\s+$/.test(tok)) {
        push();
        continue;
      }
      push();
      if (fits(tokAdv)) {
        line = tok;
        lineAdv = tokAdv;
        continue;
      }
      // A word wider than the column: break it by character.
      for (const ch of tok) {
        const chAdv = this.glyphs.advance(ch);
        if (line && !fits(lineAdv + chAdv)) push();
        line += ch;
        lineAdv += chAdv;
      }
    }
    push();
    if (lines.length > MAX_LINES) {
      const kept = lines.slice(0, MAX_LINES);
      let last = kept[MAX_LINES - 1]!;
      while (last && this.glyphs.measure(last + '…', size) > width)
        last = [...last].slice(0, -1).join('');
      kept[MAX_LINES - 1] = last + '…';
      return kept;
    }
    return lines;
  }

  /**
   * Draws one string: `BT /F1 size Tf gray g 1 0 0 1 x y Tm <glyph ids> Tj ET`, bold ones inside
   * `q … Q`, and ones with a character the font lacks inside an ActualText span. Written piece by
   * piece into the page's bytes: as one template string per call, the strings (and their copies
   * when flattened for the write) were most of a roster's allocation, ~8 KB a row, and enough
   * of it outlived two scavenges to be promoted, piling up as old-space garbage between full GCs
   * (+110 MB of heap over a 100,000-row roster).
   */
  private text(
    s: string,
    x: number,
    y: number,
    size: number,
    gray: number,
    bold = false,
    align: 'left' | 'center' | 'right' = 'left',
  ): void {
    if (!s) return;
    const missing = this.glyphs.lacksGlyph(s);
    if (align !== 'left') {
      const w = this.glyphs.measure(s, size);
      x -= align === 'center' ? w / 2 : w;
    }
    this.beginOp();
    // A character the font lacks still extracts (and is read aloud) correctly.
    if (missing)
      this.put(
        `/Span << /ActualText <FEFF${[...s].map((c) => utf16Hex(c.codePointAt(0)!)).join('')}> >> BDC\n`,
      );
    // Bold without a bold face: fill and stroke the outlines (q/Q: the render mode and line width must not leak).
    if (bold) {
      this.put('q ');
      this.putNum(gray);
      this.put(' G ');
      this.putNum(size / 40);
      this.put(' w BT 2 Tr');
    } else this.put('BT');
    this.put(' /F1 ');
    this.putNum(size);
    this.put(' Tf ');
    this.putNum(gray);
    this.put(' g 1 0 0 1 ');
    this.putNum(x);
    this.put(' ');
    this.putNum(y);
    this.put(' Tm <');
    this.reserve(4 * s.length);
    this.contentLength = this.glyphs.hexInto(s, this.content, this.contentLength);
    this.put('> Tj ET');
    if (bold) this.put(' Q');
    if (missing) this.put('\nEMC');
  }

  /** Appends one content-stream operation to the page (operations are separated by newlines). */
  private op(s: string): void {
    this.beginOp();
    this.put(s);
  }

  /** Starts an operation: a newline after the one before. */
  private beginOp(): void {
    this.reserve(1);
    if (this.contentLength > 0) this.content[this.contentLength++] = 0x0a;
  }

  /** Room for `n` more bytes in the page's content stream (it grows if a page is longer). */
  private reserve(n: number): void {
    if (this.content.length - this.contentLength >= n) return;
    const grown = Buffer.allocUnsafe(Math.max(2 * this.content.length, this.contentLength + n));
    this.content.copy(grown, 0, 0, this.contentLength);
    this.content = grown;
  }

  /** Appends latin1 text to the page. */
  private put(s: string): void {
    this.reserve(s.length);
    this.contentLength += this.content.write(s, this.contentLength, 'latin1');
  }

  /** Appends a number exactly as num() writes it, digit by digit instead of as a string. */
  private putNum(x: number): void {
    let n = Math.round(x * 100);
    // num() itself for what the digits below do not cover (never seen in a layout).
    if (!Number.isSafeInteger(n)) return this.put(num(x));
    this.reserve(24);
    const b = this.content;
    let at = this.contentLength;
    if (n === 0) {
      b[at++] = 0x30;
    } else {
      if (n < 0) {
        b[at++] = 0x2d;
        n = -n;
      }
      const frac = n % 100;
      let int = (n - frac) / 100;
      let digits = 1;
      for (let p = 10; p <= int; p *= 10) digits++;
      for (let i = at + digits - 1; i >= at; i--) {
        b[i] = 0x30 + (int % 10);
        int = Math.floor(int / 10);
      }
      at += digits;
      if (frac) {
        b[at++] = 0x2e;
        b[at++] = 0x30 + Math.floor(frac / 10);
        if (frac % 10) b[at++] = 0x30 + (frac % 10);
      }
    }
    this.contentLength = at;
  }

  private closePage(): void {
    this.pending.push({ page: this.page, buffer: this.content, length: this.contentLength });
    this.content = this.spare.pop() ?? Buffer.allocUnsafe(PAGE_BYTES);
    this.contentLength = 0;
  }

  // ---- output -------------------------------------------------------------------------------

  /** Compresses finished pages in parallel (zlib's thread pool) and writes them in order. */
  private async flushPending(all = false): Promise<void> {
    if (!all && this.pending.length < PAGES_PER_FLUSH) return;
    const batch = this.pending;
    this.pending = [];
    const data = await Promise.all(batch.map((p) => deflateAsync(p.buffer.subarray(0, p.length))));
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i]!.page;
      await this.file.stream(contentObj(p), data[i]!);
      await this.file.object(
        pageObj(p),
        Buffer.from(
          `<< /Type /Page /Parent ${nodeObj(Math.floor(p / PAGES_PER_NODE))} 0 R /MediaBox [0 0 ${PAGE_W} ${PAGE_H}] /Resources << /Font << /F1 ${OBJ.type0} 0 R >> >> /Contents ${contentObj(p)} 0 R >>`,
          'latin1',
        ),
      );
    }
    // Compressed and copied out: the buffers can take the next pages.
    for (const p of batch) if (this.spare.length < PAGES_PER_FLUSH + 1) this.spare.push(p.buffer);
    await this.file.flush();
  }

  private async writeTrailer(): Promise<void> {
    const pages = this.page + 1;
    const groups = Math.ceil(pages / PAGES_PER_NODE);
    for (let g = 0; g < groups; g++) {
      const first = g * PAGES_PER_NODE;
      const n = Math.min(PAGES_PER_NODE, pages - first);
      const kids = Array.from({ length: n }, (_, i) => `${pageObj(first + i)} 0 R`).join(' ');
      await this.file.object(
        nodeObj(g),
        Buffer.from(
          `<< /Type /Pages /Parent ${OBJ.pages} 0 R /Kids [${kids}] /Count ${n} >>`,
          'latin1',
        ),
      );
    }
    const nodes = Array.from({ length: groups }, (_, g) => `${nodeObj(g)} 0 R`).join(' ');
    await this.file.object(
      OBJ.pages,
      Buffer.from(`<< /Type /Pages /Kids [${nodes}] /Count ${pages} >>`, 'latin1'),
    );
    for (const [n, body] of await this.glyphs.fontObjects(OBJ)) await this.file.object(n, body);
    await this.file.object(
      OBJ.catalog,
      Buffer.from(
        `<< /Type /Catalog /Pages ${OBJ.pages} 0 R /Lang (zh-CN) /ViewerPreferences << /DisplayDocTitle true >> >>`,
        'latin1',
      ),
    );
    const title = `${this.title.zh} ${this.title.en}`;
    const date = `D:${this.opts.generatedAt.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
    await this.file.object(
      OBJ.info,
      Buffer.from(
        `<< /Title <FEFF${[...title].map((c) => utf16Hex(c.codePointAt(0)!)).join('')}> /Producer (EQI registry) /CreationDate (${date}) /Subject (${this.public ? 'open data' : `export ${this.opts.exportId}`}) >>`,
        'latin1',
      ),
    );
    // Objects of the last group's unused page slots do not exist: the table ends at the last page.
    const size = pageObj(this.page) + 1;
    const id = randomBytes(16).toString('hex');
    await this.file.finish(
      size,
      `/Root ${OBJ.catalog} 0 R /Info ${OBJ.info} 0 R /ID [<${id}> <${id}>]`,
    );
  }
}
