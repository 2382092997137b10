/**
 * CSV lines straight from stored pledges' BSON bytes, for the large exports: a row's cells are
 * copied from the document's UTF-8 into one output buffer per batch, so a million rows make no
 * row objects, no JS strings and no per-cell allocations (that was ~25 µs a row, most of a
 * 1,000,000-row export's time).
 *
 * Only what a stored pledge holds is read this way: the expected types, valid UTF-8, known
 * province, industry and status codes, dates in years 1970–9999. Any other document is written
 * by the general path (pickRowFields, toRow, csvCell), so every line is the line that path makes.
 */
import { INDUSTRY_CODES } from '../domain/industries';
import { PROVINCE_CODES, provinceByCode } from '../domain/provinces';
import { CHINA_OFFSET_MS } from '../time/china';
import { csvCell } from './csv-cell';
import { industryLabel, statusLabel, type ExportColumn, type ExportRow } from './rows';

/** Slots of the fields a line reads (top level, then under `initiative` and `signatory`). */
const F = {
  sequence: 0,
  foundingNumber: 1,
  companyName: 2,
  companyNameEn: 3,
  uscc: 4,
  province: 5,
  industry: 6,
  activatedAt: 7,
  status: 8,
  certificateSerial: 9,
  initiative: 10,
  signatory: 11,
  version: 12,
  name: 13,
  title: 14,
  email: 15,
  phone: 16,
  count: 17,
} as const;
type F = (typeof F)[keyof typeof F];

const TOP: Array<[string, F]> = [
  ['sequence', F.sequence],
  ['foundingNumber', F.foundingNumber],
  ['companyName', F.companyName],
  ['companyNameEn', F.companyNameEn],
  ['uscc', F.uscc],
  ['province', F.province],
  ['industry', F.industry],
  ['activatedAt', F.activatedAt],
  ['status', F.status],
  ['certificateSerial', F.certificateSerial],
  ['initiative', F.initiative],
  ['signatory', F.signatory],
];
const INITIATIVE: Array<[string, F]> = [['version', F.version]];
const SIGNATORY: Array<[string, F]> = [
  ['name', F.name],
  ['title', F.title],
  ['email', F.email],
  ['phone', F.phone],
];

/** Names by byte length, for matching a BSON element name without making a string of it. */
type NameTable = Array<Array<{ bytes: Buffer; slot: F }> | undefined>;
function nameTable(names: Array<[string, F]>): NameTable {
  const t: NameTable = [];
  for (const [n, slot] of names) (t[n.length] ??= []).push({ bytes: Buffer.from(n), slot });
  return t;
}
const TOP_NAMES = nameTable(TOP);
const INITIATIVE_NAMES = nameTable(INITIATIVE);
const SIGNATORY_NAMES = nameTable(SIGNATORY);

/** The document cannot be written here: the general path writes its line. */
const FALLBACK = Symbol('fallback');

/** A whole cell as CSV bytes (labels are fixed text, escaped once). */
const cellBytes = (v: string): Buffer => Buffer.from(csvCell(v), 'utf8');

/** Two-byte province codes → the province's Chinese name, as toRow labels it. */
const PROVINCE_CELLS = new Map<number, Buffer>(
  PROVINCE_CODES.map((c) => [
    (c.charCodeAt(0) << 8) | c.charCodeAt(1),
    cellBytes(provinceByCode(c)!.zh),
  ]),
);
/** One-byte industry codes → toRow's label (`C 制造业`). */
const INDUSTRY_CELLS = new Map<number, Buffer>(
  INDUSTRY_CODES.map((c) => [c.charCodeAt(0), cellBytes(industryLabel(c) ?? c)]),
);
const STATUS_CELLS: Array<{ code: Buffer; cell: Buffer }> = (
  ['active', 'withdrawn', 'revoked', 'pending_confirmation', 'pending_review'] as const
).map((s) => ({ code: Buffer.from(s), cell: cellBytes(statusLabel(s).zh) }));

/** Line columns this encoder can write; any other column makes the writer use the general path. */
const SUPPORTED = new Set<keyof ExportRow>([
  'sequence',
  'foundingNumber',
  'companyName',
  'companyNameEn',
  'uscc',
  'province',
  'industry',
  'signatoryName',
  'signatoryTitle',
  'initiativeVersion',
  'activatedAt',
  'statusLabel',
  'certificateSerial',
  'email',
  'phone',
]);

const COLUMN_SLOT: Partial<Record<keyof ExportRow, F>> = {
  sequence: F.sequence,
  foundingNumber: F.foundingNumber,
  companyName: F.companyName,
  companyNameEn: F.companyNameEn,
  uscc: F.uscc,
  province: F.province,
  industry: F.industry,
  signatoryName: F.name,
  signatoryTitle: F.title,
  initiativeVersion: F.version,
  activatedAt: F.activatedAt,
  statusLabel: F.status,
  certificateSerial: F.certificateSerial,
  email: F.email,
  phone: F.phone,
};

const DAY_MS = 86_400_000;
/** 9999-12-31T23:59:59.999 (shifted): toISOString's four-digit years end there. */
const MAX_SHIFTED_MS = 253_402_300_799_999;

/**
 * The length of the well-formed UTF-8 sequence at `k` (before `e`) that starts with a byte ≥ 0x80,
 * or 0 when it is not one (Unicode's table 3-7: no overlongs, surrogates or code points past
 * U+10FFFF), as Buffer's decoder judges it.
 */
function utf8Length(b: Buffer, k: number, e: number): number {
  const c = b[k]!;
  if (c >= 0xc2 && c <= 0xdf) {
    if (k + 1 >= e) return 0;
    const c1 = b[k + 1]!;
    return c1 >= 0x80 && c1 <= 0xbf ? 2 : 0;
  }
  if (c >= 0xe0 && c <= 0xef) {
    if (k + 2 >= e) return 0;
    const c1 = b[k + 1]!;
    const c2 = b[k + 2]!;
    const lo = c === 0xe0 ? 0xa0 : 0x80;
    const hi = c === 0xed ? 0x9f : 0xbf;
    return c1 >= lo && c1 <= hi && c2 >= 0x80 && c2 <= 0xbf ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (k + 3 >= e) return 0;
    const c1 = b[k + 1]!;
    const c2 = b[k + 2]!;
    const c3 = b[k + 3]!;
    const lo = c === 0xf0 ? 0x90 : 0x80;
    const hi = c === 0xf4 ? 0x8f : 0xbf;
    return c1 >= lo && c1 <= hi && c2 >= 0x80 && c2 <= 0xbf && c3 >= 0x80 && c3 <= 0xbf ? 4 : 0;
  }
  return 0;
}

/** A growable output buffer for one batch's lines. */
class Out {
  buf: Buffer;
  pos = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
  byte(c: number): void {
    this.ensure(1);
    this.buf[this.pos++] = c;
  }
  bytes(src: Buffer, start = 0, end = src.length): void {
    this.ensure(end - start);
    this.pos += src.copy(this.buf, this.pos, start, end);
  }
  string(s: string): void {
    this.ensure(Buffer.byteLength(s, 'utf8'));
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }
  /** A non-negative integer below 10^10 in decimal. */
  digits(n: number): void {
    this.ensure(11);
    if (n < 0) {
      this.buf[this.pos++] = 0x2d;
      n = -n;
    }
    let len = 1;
    for (let p = 10; p <= n; p *= 10) len++;
    for (let i = this.pos + len - 1; i >= this.pos; i--) {
      this.buf[i] = 0x30 + (n % 10);
      n = Math.floor(n / 10);
    }
    this.pos += len;
  }
  two(n: number): void {
    this.buf[this.pos++] = 0x30 + Math.floor(n / 10);
    this.buf[this.pos++] = 0x30 + (n % 10);
  }
}

export interface CsvBsonEncoder {
  /** Whether the columns can be written from BSON here at all. */
  readonly supported: boolean;
  /**
   * Appends the lines of `docs` to a new buffer; `general(doc)` makes the line of a document this
   * encoder does not write itself.
   */
  lines(docs: Buffer[], general: (doc: Buffer) => string): Buffer;
}

export function csvBsonEncoder(columns: ExportColumn[], withContacts: boolean): CsvBsonEncoder {
  const slots = columns.map((c) => COLUMN_SLOT[c.key] ?? -1);
  const supported = columns.every((c) => SUPPORTED.has(c.key));
  // Per field: BSON type (0 = absent), start and end of its value bytes. Reused for every document.
  const type = new Uint8Array(F.count);
  const start = new Int32Array(F.count);
  const end = new Int32Array(F.count);
  let lastDay = NaN;
  let lastDayBytes = Buffer.alloc(0);

  /** Records the wanted elements of the document at `at` into the slots (last one wins, as in bson). */
  const scan = (b: Buffer, at: number, names: NameTable): void => {
    const size = b.readInt32LE(at);
    const stop = at + size - 1;
    if (size < 5 || stop >= b.length || b[stop] !== 0) throw FALLBACK;
    let i = at + 4;
    while (i < stop) {
      const t = b[i++]!;
      const nameStart = i;
      while (i < stop && b[i] !== 0) i++;
      if (i >= stop) throw FALLBACK;
      const slot = match(b, nameStart, i, names);
      i++;
      let next: number;
      switch (t) {
        case 0x01: // double
        case 0x09: // UTC datetime
        case 0x11: // timestamp
        case 0x12: // int64
          next = i + 8;
          break;
        case 0x02: {
          const n = b.readInt32LE(i);
          if (n < 1 || b[i + 3 + n] !== 0) throw FALLBACK;
          next = i + 4 + n;
          break;
        }
        case 0x03: // document
        case 0x04: // array
          next = i + b.readInt32LE(i);
          break;
        case 0x05: // binary
          next = i + 5 + b.readInt32LE(i);
          break;
        case 0x07: // ObjectId
          next = i + 12;
          break;
        case 0x08: // boolean
          next = i + 1;
          break;
        case 0x0a: // null
          next = i;
          break;
        case 0x10: // int32
          next = i + 4;
          break;
        default:
          throw FALLBACK;
      }
      if (next > stop || next < i) throw FALLBACK;
      if (slot !== undefined) {
        type[slot] = t;
        start[slot] = i;
        end[slot] = next;
      }
      i = next;
    }
    if (i !== stop) throw FALLBACK;
  };

  const match = (b: Buffer, s: number, e: number, names: NameTable): F | undefined => {
    const candidates = names[e - s];
    if (!candidates) return undefined;
    for (const c of candidates) {
      let k = 0;
      while (k < c.bytes.length && c.bytes[k] === b[s + k]) k++;
      if (k === c.bytes.length) return c.slot;
    }
    return undefined;
  };

  /** A string cell: OWASP's apostrophe before formula starts, RFC 4180 quotes where needed. */
  const stringCell = (out: Out, b: Buffer, s: number, e: number): void => {
    const first = e > s ? b[s]! : -1;
    // A CR first is a formula start too (and needs quotes anyway).
    const prefix =
      first === 0x3d ||
      first === 0x2b ||
      first === 0x2d ||
      first === 0x40 ||
      first === 0x09 ||
      first === 0x0d;
    // Checked before it is copied: quotes needed, and valid UTF-8 only (the general path
    // decodes invalid bytes to U+FFFD).
    let quote = false;
    for (let k = s; k < e;) {
      const c = b[k]!;
      if (c < 0x80) {
        if (c === 0x22 || c === 0x2c || c === 0x0d || c === 0x0a) quote = true;
        k++;
      } else {
        const n = utf8Length(b, k, e);
        if (n === 0) throw FALLBACK;
        k += n;
      }
    }
    if (quote) return quoted(out, b, s, e, prefix);
    if (prefix) out.byte(0x27);
    out.bytes(b, s, e);
  };

  /** RFC 4180: in double quotes, quotes doubled (the bytes are checked by stringCell first). */
  const quoted = (out: Out, b: Buffer, s: number, e: number, prefix: boolean): void => {
    out.ensure(2 * (e - s) + 3);
    const buf = out.buf;
    let p = out.pos;
    buf[p++] = 0x22;
    if (prefix) buf[p++] = 0x27;
    for (let k = s; k < e; k++) {
      const c = b[k]!;
      if (c === 0x22) buf[p++] = 0x22;
      buf[p++] = c;
    }
    buf[p++] = 0x22;
    out.pos = p;
  };

  /** A string field: its bytes as a cell, '' when absent or null. */
  const text = (out: Out, b: Buffer, f: F): void => {
    const t = type[f];
    if (t === 0 || t === 0x0a) return;
    if (t !== 0x02) throw FALLBACK;
    stringCell(out, b, start[f]! + 4, end[f]! - 1);
  };

  /** An int32 field (anything else numeric goes the general way); `absent` for missing or null. */
  const integer = (out: Out, b: Buffer, f: F, absent: string): void => {
    const t = type[f];
    if (t === 0 || t === 0x0a) {
      if (absent) out.string(absent);
      return;
    }
    if (t !== 0x10) throw FALLBACK;
    out.digits(b.readInt32LE(start[f]!));
  };

  /** A code from a table of cells (province, industry, status): unknown or absent codes go the general way. */
  const coded = (out: Out, b: Buffer, f: F): void => {
    if (type[f] !== 0x02) throw FALLBACK;
    const s = start[f]! + 4;
    const e = end[f]! - 1;
    let cell: Buffer | undefined;
    if (f === F.province)
      cell = e - s === 2 ? PROVINCE_CELLS.get((b[s]! << 8) | b[s + 1]!) : undefined;
    else if (f === F.industry) cell = e - s === 1 ? INDUSTRY_CELLS.get(b[s]!) : undefined;
    else
      for (const st of STATUS_CELLS)
        if (st.code.length === e - s && st.code.equals(b.subarray(s, e))) cell = st.cell;
    if (!cell) throw FALLBACK;
    out.bytes(cell);
  };

  /** toChinaIso: `2026-12-02T04:08:26+08:00`; the day's digits are made once per day. */
  const date = (out: Out, b: Buffer, f: F): void => {
    const t = type[f];
    if (t === 0 || t === 0x0a) return;
    if (t !== 0x09) throw FALLBACK;
    const lo = b.readUInt32LE(start[f]!);
    const hi = b.readInt32LE(start[f]! + 4);
    const ms = hi * 4_294_967_296 + lo + CHINA_OFFSET_MS;
    if (!(ms >= 0 && ms <= MAX_SHIFTED_MS)) throw FALLBACK;
    const day = Math.floor(ms / DAY_MS);
    if (day !== lastDay) {
      lastDay = day;
      lastDayBytes = Buffer.from(new Date(day * DAY_MS).toISOString().slice(0, 11), 'latin1');
    }
    let sec = Math.floor((ms - day * DAY_MS) / 1000);
    out.bytes(lastDayBytes);
    out.ensure(14);
    out.two(Math.floor(sec / 3600));
    out.buf[out.pos++] = 0x3a;
    sec %= 3600;
    out.two(Math.floor(sec / 60));
    out.buf[out.pos++] = 0x3a;
    out.two(sec % 60);
    out.pos += out.buf.write('+08:00', out.pos, 'latin1');
  };

  const line = (out: Out, b: Buffer): void => {
    type.fill(0);
    scan(b, 0, TOP_NAMES);
    if (type[F.initiative] === 0x03) scan(b, start[F.initiative]!, INITIATIVE_NAMES);
    else if (type[F.initiative] !== 0 && type[F.initiative] !== 0x0a) throw FALLBACK;
    if (type[F.signatory] === 0x03) scan(b, start[F.signatory]!, SIGNATORY_NAMES);
    else if (type[F.signatory] !== 0 && type[F.signatory] !== 0x0a) throw FALLBACK;
    for (let c = 0; c < slots.length; c++) {
      if (c > 0) out.byte(0x2c);
      const f = slots[c] as F;
      switch (f) {
        case F.sequence:
          integer(out, b, f, '');
          break;
        case F.foundingNumber:
          integer(out, b, f, '');
          break;
        case F.version:
          integer(out, b, f, '0');
          break;
        case F.province:
        case F.industry:
        case F.status:
          coded(out, b, f);
          break;
        case F.activatedAt:
          date(out, b, f);
          break;
        case F.email:
        case F.phone:
          if (withContacts) text(out, b, f);
          break;
        default:
          text(out, b, f);
      }
    }
    out.ensure(2);
    out.buf[out.pos++] = 0x0d;
    out.buf[out.pos++] = 0x0a;
  };

  return {
    supported,
    lines(docs, general) {
      const out = new Out(Math.max(4096, docs.length * 320));
      for (const d of docs) {
        const mark = out.pos;
        try {
          line(out, d);
        } catch (e) {
          if (e !== FALLBACK) throw e;
          out.pos = mark;
          out.string(general(d));
        }
      }
      return out.buf.subarray(0, out.pos);
    },
  };
}
