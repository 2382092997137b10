// Certificate layout and rendering (A4 landscape, Chinese first, English second).
//
// Speed: everything that does not depend on the certificate data (frame,
// ornaments, labels, emblem, and a font subset holding their characters plus
// printable ASCII) is built once per association and cached as compressed
// bytes ("static layer", font F1). Per certificate we only subset the
// characters of the data that F1 lacks (font F2, usually a few dozen hanzi),
// write one small content stream, and deflate it with native zlib.
import crypto from 'node:crypto';
import { PDFContentStream, PDFDocument, PDFName, type PDFContext, type PDFRef } from 'pdf-lib';
import {
  Content,
  drawFitted,
  fitText,
  shape,
  num,
  widthOf,
  type Box,
  type FontPair,
  type Rgb,
  type Shaped,
  type TextStyle,
} from './content';
import { deflate, loadSubsetEngine, PdfFont, type SubsetEngine } from './fonts';
import { qrOps } from './qr';
import { parseSerial } from './serial';
// China time has one home in the app; it is pure (no app state), so the library shares it.
import { chinaDate as chinaDay } from '../src/time/china';
import {
  DEFAULT_ASSOCIATION,
  type Association,
  type CertificateData,
  type RenderOptions,
} from './types';

export const PAGE = { width: 841.89, height: 595.28 } as const;
const W = PAGE.width;
const H = PAGE.height;
const CX = W / 2;

const RED: Rgb = [0.55, 0.1, 0.11];
const GOLD: Rgb = [0.7, 0.53, 0.26];
const INK: Rgb = [0.1, 0.09, 0.08];
const GREY: Rgb = [0.4, 0.36, 0.33];
const CREAM: Rgb = [0.992, 0.977, 0.945];
const FAINT: Rgb = [0.95, 0.9, 0.86];

/** Fixed boxes of the data fields, in PDF points (origin bottom-left). */
export const CERTIFICATE_LAYOUT = {
  title: { x: 120, y: 492, w: 602, h: 38 },
  titleEn: { x: 120, y: 449, w: 602, h: 14 },
  companyName: { x: 106, y: 364, w: 630, h: 50 },
  companyNameEn: { x: 106, y: 342, w: 630, h: 18 },
  grid: { x: 96, colWidth: 206, gap: 24, rows: [279, 226] as const },
  qr: { x: 84, top: 166, size: 78 },
  serial: { x: 190, y: 130 },
  url: { x: 190, y: 82, w: 215, h: 10 },
  founding: { cx: 478, cy: 124, r: 36 },
  association: { cx: 632, cy: 124 },
  emblem: { cx: 728, cy: 122 },
  fingerprint: { x: 120, y: 55, w: 602, h: 9 },
} as const;

const L = CERTIFICATE_LAYOUT;

const STATIC = {
  headingSub: '签署证书',
  headingSubEn: 'CERTIFICATE OF SIGNATURE',
  certifyZh: '兹证明',
  certifyEn: 'This is to certify that',
  pledgeZh: '已签署上述倡议书，郑重承诺坚持质量第一、诚信经营，履行质量主体责任，接受社会监督。',
  pledgeEn:
    'has signed the above Initiative and solemnly pledges to put quality first, keep its quality promises and accept public scrutiny.',
  labels: [
    ['统一社会信用代码', 'Unified Social Credit Code'],
    ['所在地区', 'Province / Region'],
    ['所属行业', 'Industry'],
    ['签署人', 'Signatory'],
    ['生效日期', 'Effective date'],
    ['倡议书版本', 'Initiative version'],
  ],
  serial: ['证书编号', 'Certificate No.'],
  verify: ['扫码或访问下列网址在线核验', 'Scan the code or visit the address below to verify'],
  issued: '发证日期 Date of issue',
  founding: ['发起企业', 'FOUNDING SIGNATORY'],
  fingerprint: '签名密钥指纹 Signing key fingerprint (SHA-256):',
  noteZh: '本证书附有可验证电子凭证（credential.jws）及 PDF 数字签名，内容如有改动即可被发现。',
  noteEn:
    'It carries a signed verifiable credential (credential.jws) and a PDF digital signature: any alteration is detectable.',
  emblemCentre: '质量诚信',
  emblemBottom: 'QUALITY · INTEGRITY',
  // Characters the dynamic fields always use; keeping them in F1 keeps F2 small.
  formatting: '年月日 · ',
} as const;

/** The development-key watermark, drawn across the page only when RenderOptions.sample is set. */
export const SAMPLE_WATERMARK = {
  zh: '样本 · SAMPLE — 开发密钥，无效力',
  en: 'SAMPLE — signed with a development key, of no validity',
} as const;

const PRINTABLE_ASCII = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('');

// ---------- user text ----------

const MAX_FIELD = 300;

/**
 * Normalises user text for drawing: NFC, control and format characters
 * (bidi overrides, zero-width, variation selectors) removed, whitespace
 * collapsed. Drawing is by glyph id, so nothing in it can act as PDF syntax.
 */
export function cleanText(s: unknown, field: string, required = true): string {
  if (s === undefined || s === null || s === '') {
    if (required) throw new TypeError(`certificate field ${field} is required`);
    return '';
  }
  if (typeof s !== 'string') throw new TypeError(`certificate field ${field} must be a string`);
  const t = s
    .normalize('NFC')
    .replace(/[\p{Cc}\u2028\u2029]/gu, ' ')
    .replace(/[\p{Cf}\p{Cs}\p{Co}\uFE00-\uFE0F\u{E0100}-\u{E01EF}]/gu, '')
    .replace(/\s+/gu, ' ')
    .trim();
  if (required && !t) throw new TypeError(`certificate field ${field} is empty`);
  if ([...t].length > MAX_FIELD)
    throw new RangeError(`certificate field ${field} is longer than ${MAX_FIELD} characters`);
  return t;
}

/** Calendar date in China Standard Time (UTC+8, no DST). */
export function chinaDate(
  v: Date | string,
  field: string,
): { y: number; m: number; d: number; iso: string } {
  let y: number, m: number, d: number;
  const dateOnly = typeof v === 'string' ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(v) : null;
  if (dateOnly) [y, m, d] = [Number(dateOnly[1]), Number(dateOnly[2]), Number(dateOnly[3])];
  else {
    const t = v instanceof Date ? v.getTime() : typeof v === 'string' ? Date.parse(v) : NaN;
    // Years outside 0000–9999 have no YYYY-MM-DD form: not a date a certificate can carry.
    const day = Number.isFinite(t) ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(chinaDay(new Date(t))) : null;
    if (!day) throw new TypeError(`certificate field ${field} is not a valid date`);
    [y, m, d] = [Number(day[1]), Number(day[2]), Number(day[3])];
  }
  const iso = `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
  return { y, m, d, iso };
}

export function normalisePublicUrl(u: string): string {
  let url: URL;
  try {
    url = new URL(u);
  } catch {
    throw new TypeError(`publicUrl is not a URL: ${u}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new TypeError('publicUrl must be http(s)');
  if (url.search || url.hash || url.username || url.password)
    throw new TypeError('publicUrl must not have a query, fragment or credentials');
  return url.href.replace(/\/+$/, '');
}

export function verifyUrl(publicUrl: string, serial: string): string {
  return `${normalisePublicUrl(publicUrl)}/verify/${serial}`;
}

interface Display {
  title: string;
  titleEn: string;
  company: string;
  companyEn: string;
  uscc: string;
  province: string;
  industry: string;
  signatory: string;
  activated: string;
  version: string;
  serial: string;
  url: string;
  issued: string;
  founding?: { n: number; total: number };
  fingerprint: string;
}

function display(data: CertificateData, opts: RenderOptions): Display {
  const p = parseSerial(typeof data.serial === 'string' ? data.serial : '');
  if (!p.ok || p.serial !== data.serial)
    throw new TypeError(
      `certificate serial is not a valid canonical serial: ${String(data.serial)}`,
    );
  const sha = String(data.initiative?.sha256 ?? '');
  if (!/^[0-9a-fA-F]{64}$/.test(sha))
    throw new TypeError('initiative.sha256 must be 64 hex characters');
  const bi = (b: { zh: string; en?: string } | undefined, f: string) =>
    [cleanText(b?.zh, `${f}.zh`), cleanText(b?.en, `${f}.en`, false)].filter(Boolean).join(' ');
  const act = chinaDate(data.activatedAt, 'activatedAt');
  const iss = chinaDate(data.issuedAt, 'issuedAt');
  let founding: Display['founding'];
  if (data.foundingNumber !== undefined && data.foundingNumber !== null) {
    const total = data.foundingTotal ?? 100;
    if (
      !Number.isInteger(data.foundingNumber) ||
      !Number.isInteger(total) ||
      data.foundingNumber < 1 ||
      data.foundingNumber > total
    ) {
      throw new RangeError(`foundingNumber must be 1–${total}`);
    }
    founding = { n: data.foundingNumber, total };
  }
  const titleZh = cleanText(data.signatory?.title?.zh, 'signatory.title.zh', false);
  const titleEn = cleanText(data.signatory?.title?.en, 'signatory.title.en', false);
  return {
    title: cleanText(data.initiative?.title?.zh, 'initiative.title.zh'),
    titleEn: cleanText(data.initiative?.title?.en, 'initiative.title.en', false),
    company: cleanText(data.company?.name, 'company.name'),
    companyEn: cleanText(data.company?.nameEn, 'company.nameEn', false),
    uscc: cleanText(data.company?.uscc, 'company.uscc'),
    province: bi(data.company?.province, 'company.province'),
    industry: bi(data.company?.industry, 'company.industry'),
    signatory: [
      cleanText(data.signatory?.name, 'signatory.name'),
      titleZh && `· ${titleZh}`,
      titleEn,
    ]
      .filter(Boolean)
      .join(' '),
    activated: `${act.y}年${act.m}月${act.d}日 · ${act.iso}`,
    version: `${cleanText(data.initiative?.version, 'initiative.version')} · SHA-256 ${sha.slice(0, 12).toLowerCase()}`,
    serial: p.serial,
    url: verifyUrl(opts.publicUrl, p.serial),
    issued: iss.iso,
    founding,
    fingerprint: cleanText(opts.keyFingerprint, 'keyFingerprint'),
  };
}

// ---------- static layer ----------

interface StaticLayer {
  font: PdfFont;
  z: Buffer;
  rawHash: Buffer;
  fontHash: Buffer;
}

const staticCache = new Map<string, StaticLayer>();

function staticStrings(a: Association): string {
  const all: string[] = [PRINTABLE_ASCII, a.zh, a.en];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') all.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(STATIC);
  return all.join('');
}

function shapeStatic(s: string, f: FontPair): Shaped {
  const r = shape(s, f);
  if (r.missing) throw new Error(`static text not covered by the static font: ${s}`);
  return r;
}

/** Text placed along a circle, centred on angle `mid` (radians); `outward` = tops point away from the centre. */
function arcText(
  c: Content,
  f: FontPair,
  text: string,
  cx: number,
  cy: number,
  r: number,
  mid: number,
  st: TextStyle,
  gap: number,
  outward: boolean,
): void {
  const chars = [...text].map((ch) => shapeStatic(ch, f));
  const advs = chars.map((s) => widthOf(s, st.size));
  const total = advs.reduce((a, b) => a + b, 0) + gap * (chars.length - 1);
  let off = 0;
  chars.forEach((s, i) => {
    const a = advs[i]!;
    const along = (off + a / 2) / r;
    const theta = outward ? mid + total / 2 / r - along : mid - total / 2 / r + along;
    const phi = outward ? theta - Math.PI / 2 : theta + Math.PI / 2;
    const cos = Math.cos(phi);
    const sin = Math.sin(phi);
    const x = cx + r * Math.cos(theta) - (a / 2) * cos;
    const y = cy + r * Math.sin(theta) - (a / 2) * sin;
    c.textAt(s, st, `${num(cos)} ${num(sin)} ${num(-sin)} ${num(cos)} ${num(x)} ${num(y)} Tm`);
    off += a + gap;
  });
}

function star(c: Content, cx: number, cy: number, R: number): void {
  const r = R * 0.382;
  let d = '';
  for (let i = 0; i < 10; i++) {
    const rad = i % 2 ? r : R;
    const a = Math.PI / 2 + (i * Math.PI) / 5;
    d += `${num(cx + rad * Math.cos(a))} ${num(cy + rad * Math.sin(a))} ${i ? 'l' : 'm'} `;
  }
  c.op(d + 'h f');
}

function emblem(c: Content, f: FontPair, a: Association, cx: number, cy: number): void {
  const R = 46;
  c.op('q /GS0 gs').strokeColor(RED).fillColor(RED);
  c.op('2.4 w');
  c.circle(cx, cy, R, 'S');
  c.op('0.7 w');
  c.circle(cx, cy, R - 4, 'S');
  // Upper arc: the association's name; shrink long names to keep within ~250°.
  const name = a.zh;
  let size = 10.5;
  const rName = R - 15.5;
  const nameW = (s: number) => widthOf(shapeStatic(name, f), s) + 2.2 * ([...name].length - 1);
  while (size > 5 && nameW(size) / rName > (250 * Math.PI) / 180) size -= 0.5;
  arcText(c, f, name, cx, cy, rName, Math.PI / 2, { size, color: RED, bold: 0.02 }, 2.2, true);
  arcText(
    c,
    f,
    STATIC.emblemBottom,
    cx,
    cy,
    R - 8.2,
    -Math.PI / 2,
    { size: 5.2, color: RED },
    0.9,
    false,
  );
  star(c, cx, cy + 5, 11);
  c.text(shapeStatic(STATIC.emblemCentre, f), cx, cy - 14, {
    size: 6.5,
    color: RED,
    align: 'center',
    tracking: 0.6,
  });
  c.op('Q');
}

function cornerOrnament(c: Content, x: number, y: number, sx: number, sy: number): void {
  // A small fret (回纹) bracket in each corner, drawn relative to the corner.
  const p = (dx: number, dy: number) => `${num(x + sx * dx)} ${num(y + sy * dy)}`;
  c.op(`${p(0, 46)} m ${p(0, 0)} l ${p(46, 0)} l S`);
  c.op(`${p(6, 30)} m ${p(6, 6)} l ${p(30, 6)} l S`);
  c.op(`${p(12, 20)} m ${p(12, 12)} l ${p(20, 12)} l ${p(20, 20)} l h S`);
}

function buildStatic(f1: PdfFont, a: Association): Buffer {
  const f: FontPair = { f1 };
  const c = new Content();
  const t = (s: string, x: number, y: number, st: TextStyle) => c.text(shapeStatic(s, f), x, y, st);
  // Paper and frame.
  c.fillColor(CREAM).rect(0, 0, W, H, 'f');
  c.strokeColor(RED)
    .op('3.2 w')
    .rect(16, 16, W - 32, H - 32, 'S');
  c.op('0.8 w').rect(23, 23, W - 46, H - 46, 'S');
  c.strokeColor(GOLD)
    .op('0.5 w')
    .rect(26.5, 26.5, W - 53, H - 53, 'S');
  c.strokeColor(RED).op('1 w');
  cornerOrnament(c, 32, 32, 1, 1);
  cornerOrnament(c, W - 32, 32, -1, 1);
  cornerOrnament(c, 32, H - 32, 1, -1);
  cornerOrnament(c, W - 32, H - 32, -1, -1);
  // Faint rosette behind the company name, a security-paper cue.
  c.strokeColor(FAINT).op('0.45 w');
  for (let i = 0; i < 36; i++) {
    const ang = (i * Math.PI * 2) / 36;
    c.circle(CX + 46 * Math.cos(ang), 330 + 46 * Math.sin(ang), 104, 'S');
  }
  // Heading (the initiative title itself is data, drawn in the dynamic layer).
  t(`${STATIC.headingSub}  ·  ${STATIC.headingSubEn}`, CX, 470, {
    size: 11,
    color: GOLD,
    tracking: 1.6,
    align: 'center',
  });
  // Divider with a centre diamond.
  c.strokeColor(GOLD)
    .op('0.6 w')
    .line(CX - 230, 440, CX - 12, 440)
    .line(CX + 12, 440, CX + 230, 440);
  c.fillColor(RED).op(
    `${num(CX)} ${num(444)} m ${num(CX + 5)} 440 l ${num(CX)} 436 l ${num(CX - 5)} 440 l h f`,
  );
  t(`${STATIC.certifyZh}  ${STATIC.certifyEn}`, CX, 420, {
    size: 10.5,
    color: GREY,
    align: 'center',
  });
  t(STATIC.pledgeZh, CX, 324, { size: 11.5, color: INK, align: 'center' });
  t(STATIC.pledgeEn, CX, 309, { size: 8.6, color: GREY, align: 'center' });
  // Detail grid labels and rules.
  STATIC.labels.forEach(([zh, en], i) => {
    const col = i % 3;
    const row = Math.floor(i / 3);
    const x = L.grid.x + col * (L.grid.colWidth + L.grid.gap);
    const y = L.grid.rows[row]!;
    const wz = t(zh, x, y, { size: 9, color: RED });
    t(en, x + wz + 6, y, { size: 7, color: GREY });
    c.strokeColor(GOLD)
      .op('0.4 w')
      .line(x, y - 38, x + L.grid.colWidth, y - 38);
  });
  // Serial / verification block labels.
  const wz = t(STATIC.serial[0], L.serial.x, L.serial.y + 26, { size: 9, color: RED });
  t(STATIC.serial[1], L.serial.x + wz + 6, L.serial.y + 26, { size: 7, color: GREY });
  t(STATIC.verify[0], L.serial.x, L.url.y + 28, { size: 7.5, color: GREY });
  t(STATIC.verify[1], L.serial.x, L.url.y + 17, { size: 6.5, color: GREY });
  // Issuer block: the association's name, then the emblem over it like a stamp.
  const ax = L.association.cx;
  t(a.zh, ax, L.association.cy + 8, {
    size: 15,
    color: INK,
    align: 'center',
    tracking: 2,
    bold: 0.02,
  });
  t(a.en, ax, L.association.cy - 8, { size: 8.5, color: GREY, align: 'center' });
  t(STATIC.issued, ax, L.association.cy - 28, { size: 7.5, color: GREY, align: 'center' });
  emblem(c, f, a, L.emblem.cx, L.emblem.cy);
  // Footer notes.
  t(STATIC.noteZh, CX, 44, { size: 6.8, color: GREY, align: 'center' });
  t(STATIC.noteEn, CX, 35, { size: 6.2, color: GREY, align: 'center' });
  return Buffer.from(c.s, 'latin1');
}

function getStatic(engine: SubsetEngine, a: Association): StaticLayer {
  const key = `${a.zh}\u0000${a.en}`;
  let s = staticCache.get(key);
  if (!s) {
    const cps = new Set<number>();
    for (const ch of staticStrings(a)) cps.add(ch.codePointAt(0)!);
    const font = new PdfFont(engine.subset(cps));
    const raw = buildStatic(font, a);
    s = { font, z: deflate(raw), rawHash: sha256(raw), fontHash: sha256(font.bytes) };
    if (staticCache.size > 8) staticCache.clear();
    staticCache.set(key, s);
  }
  return s;
}

// ---------- dynamic layer ----------

export interface RenderedLayout {
  companyName: {
    box: Box;
    size: number;
    lines: Array<{ text: string; x: number; y: number; width: number }>;
  };
}

let badgeOps: string | undefined;

function foundingBadge(c: Content, f: FontPair, n: number, total: number): void {
  const { cx, cy, r } = L.founding;
  if (!badgeOps) {
    // Scalloped rosette: 24 small circles around a disc; identical on every badge.
    const b = new Content();
    b.op('q').strokeColor(GOLD).fillColor([0.99, 0.95, 0.86]);
    for (let i = 0; i < 24; i++) {
      const a = (i * Math.PI * 2) / 24;
      b.circle(cx + r * Math.cos(a), cy + r * Math.sin(a), 5.2, 'f');
    }
    b.op('1.2 w').circle(cx, cy, r, 'B');
    b.op('0.5 w').circle(cx, cy, r - 4, 'S');
    b.op('Q');
    badgeOps = b.s;
  }
  c.s += badgeOps;
  c.text(shape(STATIC.founding[0], f), cx, cy + 10, {
    size: 11,
    color: RED,
    align: 'center',
    tracking: 1.5,
    bold: 0.02,
  });
  const no = fitText(
    `No. ${n} / ${total}`,
    f,
    { x: cx - r + 6, y: cy - 10, w: 2 * r - 12, h: 16 },
    { size: 14, minSize: 6, maxLines: 1 },
  );
  drawFitted(c, no, { color: INK, bold: 0.015 });
  c.text(shape(STATIC.founding[1], f), cx, cy - 20, {
    size: 5,
    color: GREY,
    align: 'center',
    tracking: 0.5,
  });
}

function buildDynamic(c: Content, f: FontPair, d: Display): RenderedLayout {
  const title = fitText(d.title, f, L.title, { size: 30, minSize: 16, maxLines: 1 });
  // Letter-spaced only when it is comfortably short.
  const tracking = title.size >= 30 && widthOf(title.lines[0]!.shaped, 30, 6) <= L.title.w ? 6 : 0;
  for (const l of title.lines) {
    c.text(l.shaped, CX, l.y, {
      size: title.size,
      color: RED,
      bold: 0.025,
      tracking,
      align: 'center',
    });
  }
  if (d.titleEn)
    drawFitted(c, fitText(d.titleEn, f, L.titleEn, { size: 10.5, minSize: 6, maxLines: 1 }), {
      color: GREY,
    });

  const name = fitText(d.company, f, L.companyName, {
    size: 27,
    minSize: 19,
    maxLines: 2,
    lineHeight: 1.15,
  });
  drawFitted(c, name, { color: INK, bold: 0.028 });
  if (d.companyEn)
    drawFitted(
      c,
      fitText(d.companyEn, f, L.companyNameEn, {
        size: 12.5,
        minSize: 8,
        maxLines: 2,
        lineHeight: 1.1,
      }),
      { color: GREY },
    );

  const values = [d.uscc, d.province, d.industry, d.signatory, d.activated, d.version];
  values.forEach((v, i) => {
    const col = i % 3;
    const row = Math.floor(i / 3);
    const box = {
      x: L.grid.x + col * (L.grid.colWidth + L.grid.gap),
      y: L.grid.rows[row]! - 35,
      w: L.grid.colWidth,
      h: 22,
    };
    drawFitted(
      c,
      fitText(v, f, box, { size: 12.5, minSize: 9, maxLines: 2, lineHeight: 1.1, align: 'left' }),
      { color: INK },
    );
  });

  c.op(qrOps(d.url, L.qr.x, L.qr.top, L.qr.size, INK).ops);
  c.text(shape(d.serial, f), L.serial.x, L.serial.y, {
    size: 17,
    color: INK,
    tracking: 0.8,
    bold: 0.02,
  });
  drawFitted(c, fitText(d.url, f, L.url, { size: 8, minSize: 4, maxLines: 1, align: 'left' }), {
    color: RED,
  });

  if (d.founding) foundingBadge(c, f, d.founding.n, d.founding.total);
  c.text(shape(d.issued, f), L.association.cx, L.association.cy - 41, {
    size: 9,
    color: INK,
    align: 'center',
  });

  drawFitted(
    c,
    fitText(`${STATIC.fingerprint} ${d.fingerprint}`, f, L.fingerprint, {
      size: 7,
      minSize: 4,
      maxLines: 1,
    }),
    { color: GREY },
  );

  return {
    companyName: {
      box: L.companyName,
      size: name.size,
      lines: name.lines.map((l) => ({ text: l.shaped.text, x: l.x, y: l.y, width: l.width })),
    },
  };
}

// ---------- development watermark ----------

const WATERMARK_COLOUR: Rgb = [0.78, 0.16, 0.16];

/**
 * Two large lines along the page diagonal, through its centre, light (GS1 alpha) so the
 * certificate stays readable. Its own content stream, between the static layer (paper and
 * labels) and the data, so the data is drawn over it.
 */
function buildWatermark(f: FontPair): Buffer {
  const c = new Content();
  const angle = Math.atan2(H, W);
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const diagonal = Math.hypot(W, H);
  c.op('q /GS1 gs');
  const line = (text: string, maxSize: number, share: number, offset: number) => {
    const s = shape(text, f);
    const size = Math.min(maxSize, (diagonal * share) / widthOf(s, 1));
    const w = widthOf(s, size);
    // Centred on the diagonal, `offset` points to its upper left side.
    const x = CX - (w / 2) * cos - offset * sin;
    const y = H / 2 - (w / 2) * sin + offset * cos;
    c.textAt(
      s,
      { size, color: WATERMARK_COLOUR },
      `${num(cos)} ${num(sin)} ${num(-sin)} ${num(cos)} ${num(x)} ${num(y)} Tm`,
    );
  };
  line(SAMPLE_WATERMARK.zh, 64, 0.6, 6);
  line(SAMPLE_WATERMARK.en, 26, 0.52, -34);
  c.op('Q');
  return Buffer.from(c.s, 'latin1');
}

// ---------- document ----------

export interface BuiltCertificate {
  doc: PDFDocument;
  /** SHA-256 binding the credential to what the page shows (see renderDigestOf) */
  renderDigest: string;
  verifyUrl: string;
  layout: RenderedLayout;
}

export function sha256(b: Uint8Array): Buffer {
  return crypto.createHash('sha256').update(b).digest();
}

/**
 * "sha256:" + hex SHA-256 over the concatenated SHA-256 of each part: the
 * page's decoded content streams in order, then its decoded font programs in
 * resource-name order. A hash list, so the static parts' hashes are computed
 * once per process.
 */
export function digestOfHashes(hashes: Uint8Array[]): string {
  const h = crypto.createHash('sha256');
  for (const x of hashes) h.update(x);
  return 'sha256:' + h.digest('hex');
}

/**
 * pdf-lib deflates with pako (JS, ~3× slower than native zlib, and its
 * 64 KB window set-up dominates for tiny streams). Route its flate streams
 * to zlib, and leave its own content streams (only the signature widget's
 * empty appearance here) unencoded.
 */
export function useFastStreams(ctx: PDFContext): void {
  ctx.flateStream = (contents, dict = {}) =>
    ctx.stream(deflate(contents), { ...dict, Filter: 'FlateDecode' });
  ctx.contentStream = (operators, dict = {}) =>
    PDFContentStream.of(ctx.obj(dict), operators, false);
}

/** Renders into an unsaved pdf-lib document (so issuing can add to it without a save/load round trip). */
export async function buildCertificate(
  data: CertificateData,
  opts: RenderOptions,
): Promise<BuiltCertificate> {
  const engine = await loadSubsetEngine();
  const a = opts.association ?? DEFAULT_ASSOCIATION;
  const st = getStatic(engine, {
    zh: cleanText(a.zh, 'association.zh'),
    en: cleanText(a.en, 'association.en'),
  });
  const d = display(data, opts);

  const need = new Set<number>();
  for (const s of [
    d.title,
    d.titleEn,
    d.company,
    d.companyEn,
    d.province,
    d.industry,
    d.signatory,
    d.version,
    d.fingerprint,
    ...(opts.sample ? [SAMPLE_WATERMARK.zh, SAMPLE_WATERMARK.en] : []),
  ]) {
    for (const ch of s) {
      const cp = ch.codePointAt(0)!;
      if (!st.font.has(cp)) need.add(cp);
    }
  }
  const f2 = need.size ? new PdfFont(engine.subset(need), st.font.tag) : undefined;
  const fonts: FontPair = { f1: st.font, f2 };
  const c = new Content();
  const layout = buildDynamic(c, fonts, d);
  const dynRaw = Buffer.from(c.s, 'latin1');
  const markRaw = opts.sample ? buildWatermark(fonts) : undefined;

  const doc = await PDFDocument.create({ updateMetadata: false });
  const ctx = doc.context;
  useFastStreams(ctx);
  const page = doc.addPage([W, H]);
  const contents = [
    ctx.register(ctx.stream(st.z, { Filter: 'FlateDecode' })),
    ...(markRaw ? [ctx.register(ctx.stream(deflate(markRaw), { Filter: 'FlateDecode' }))] : []),
    ctx.register(ctx.stream(deflate(dynRaw), { Filter: 'FlateDecode' })),
  ];
  page.node.set(PDFName.of('Contents'), ctx.obj(contents));
  const fontRefs: Record<string, PDFRef> = { F1: st.font.embed(ctx) };
  if (f2) fontRefs.F2 = f2.embed(ctx);
  page.node.set(
    PDFName.of('Resources'),
    ctx.obj({
      Font: fontRefs,
      ExtGState: {
        GS0: { Type: 'ExtGState', ca: 0.88, CA: 0.88 },
        ...(markRaw ? { GS1: { Type: 'ExtGState', ca: 0.2, CA: 0.2 } } : {}),
      },
    }),
  );

  const issued = typeof data.issuedAt === 'string' ? new Date(data.issuedAt) : data.issuedAt;
  doc.setTitle(`${d.company} · ${d.title} ${STATIC.headingSub} ${d.serial}`, {
    showInWindowTitleBar: true,
  });
  doc.setSubject(`${STATIC.headingSubEn} · ${d.titleEn || d.title} · ${d.serial}`);
  doc.setAuthor(`${a.zh} ${a.en}`);
  doc.setCreator('EQI registry');
  doc.setProducer('pdf-lib');
  doc.setLanguage('zh-CN');
  if (!Number.isNaN(issued.getTime())) {
    doc.setCreationDate(issued);
    doc.setModificationDate(issued);
  }

  const hashes = [st.rawHash, ...(markRaw ? [sha256(markRaw)] : []), sha256(dynRaw), st.fontHash];
  if (f2) hashes.push(sha256(f2.bytes));
  return { doc, renderDigest: digestOfHashes(hashes), verifyUrl: d.url, layout };
}

/** The certificate PDF without credential or signature. */
export async function renderCertificate(
  data: CertificateData,
  opts: RenderOptions,
): Promise<Uint8Array> {
  const { doc } = await buildCertificate(data, opts);
  // objectsPerTick: pdf-lib otherwise yields with setTimeout(0) (≥1 ms idle) every 50 objects.
  return doc.save({
    useObjectStreams: false,
    updateFieldAppearances: false,
    objectsPerTick: Infinity,
  });
}

/** Characters of `text` that the certificate font cannot draw (they would show as a box). */
export async function unsupportedCharacters(text: string): Promise<string[]> {
  const engine = await loadSubsetEngine();
  const chars = [...new Set(text)];
  const f = new PdfFont(engine.subset(chars.map((ch) => ch.codePointAt(0)!)));
  return chars.filter((ch) => !f.has(ch.codePointAt(0)!) && !/\s/.test(ch));
}
