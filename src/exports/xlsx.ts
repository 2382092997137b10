/**
 * XLSX written directly: the worksheet's XML is made a batch of rows at a time and deflated (in
 * zlib's thread pool) straight into a streamed ZIP. exceljs's streaming writer built a row, cell
 * and style object per cell and hashed every cell's style (7.3 s for 100,000 rows, 5 CPU s of it
 * in exceljs); the file here has the same parts: one sheet, a bold frozen header row, column
 * widths, numbers as numbers and text as inline strings (typed text, never a formula).
 *
 * ZIP (APPNOTE 6.3): each entry is a local header with bit 3 set (sizes and CRC follow the data
 * in a data descriptor, so nothing is buffered), then the central directory. No ZIP64: an entry
 * or the file past 4 GiB is refused (a sheet holds at most 1,048,576 rows anyway).
 */
import zlib from 'node:zlib';
import type { ExportColumn, ExportRow } from './rows';

/** Excel's limit: a sheet has at most this many rows (the header included). */
export const XLSX_MAX_ROWS = 1_048_576;

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const XML_ILLEGAL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g;
const XML_SPECIAL = /[&<>]/g;
const XML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };

/** Text as XML character data: escaped, and the characters XML 1.0 cannot carry as U+FFFD. */
export function xmlText(s: string): string {
  return s.replace(XML_ILLEGAL, '\ufffd').replace(XML_SPECIAL, (c) => XML_ENTITIES[c]!);
}

const attr = (s: string): string => xmlText(s).replace(/"/g, '&quot;');

/** A1-style column letters (1 → A, 27 → AA). */
function columnName(n: number): string {
  let s = '';
  for (; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}

const XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';
const NS_MAIN = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
const NS_REL = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
const NS_PKG_REL = 'http://schemas.openxmlformats.org/package/2006/relationships';

function packageParts(sheetName: string, created: Date): Array<[string, string]> {
  const at = created.toISOString().slice(0, 19) + 'Z';
  return [
    [
      '[Content_Types].xml',
      `${XML_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/><Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/><Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/></Types>`,
    ],
    [
      '_rels/.rels',
      `${XML_HEAD}<Relationships xmlns="${NS_PKG_REL}"><Relationship Id="rId1" Type="${NS_REL}/officeDocument" Target="xl/workbook.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/><Relationship Id="rId3" Type="${NS_REL}/extended-properties" Target="docProps/app.xml"/></Relationships>`,
    ],
    [
      'docProps/core.xml',
      `${XML_HEAD}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:creator>EQI registry</dc:creator><dcterms:created xsi:type="dcterms:W3CDTF">${at}</dcterms:created><dcterms:modified xsi:type="dcterms:W3CDTF">${at}</dcterms:modified></cp:coreProperties>`,
    ],
    [
      'docProps/app.xml',
      `${XML_HEAD}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"><Application>EQI registry</Application><HeadingPairs><vt:vector size="2" baseType="variant"><vt:variant><vt:lpstr>Worksheets</vt:lpstr></vt:variant><vt:variant><vt:i4>1</vt:i4></vt:variant></vt:vector></HeadingPairs><TitlesOfParts><vt:vector size="1" baseType="lpstr"><vt:lpstr>${xmlText(sheetName)}</vt:lpstr></vt:vector></TitlesOfParts></Properties>`,
    ],
    [
      'xl/workbook.xml',
      `${XML_HEAD}<workbook xmlns="${NS_MAIN}" xmlns:r="${NS_REL}"><sheets><sheet name="${attr(sheetName)}" sheetId="1" r:id="rId1"/></sheets></workbook>`,
    ],
    [
      'xl/_rels/workbook.xml.rels',
      `${XML_HEAD}<Relationships xmlns="${NS_PKG_REL}"><Relationship Id="rId1" Type="${NS_REL}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="${NS_REL}/styles" Target="styles.xml"/></Relationships>`,
    ],
    [
      'xl/styles.xml',
      // Style 1: bold (the header row).
      `${XML_HEAD}<styleSheet xmlns="${NS_MAIN}"><fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font><font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>`,
    ],
  ];
}

/** DOS date and time of `d` (local fields, as zip tools show them). */
function dosTime(d: Date): { time: number; date: number } {
  return {
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | Math.floor(d.getSeconds() / 2),
    date: ((d.getFullYear() - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
  };
}

const FOUR_GIB = 0x1_0000_0000;

/** A ZIP written front to back: entries are deflated as their data comes, the directory last. */
class ZipStream {
  private offset = 0;
  private readonly entries: Array<{
    name: Buffer;
    crc: number;
    compressed: number;
    size: number;
    offset: number;
  }> = [];
  private readonly stamp: { time: number; date: number };

  constructor(
    private readonly put: (chunk: Buffer) => Promise<void>,
    created: Date,
  ) {
    this.stamp = dosTime(created);
  }

  private async raw(b: Buffer): Promise<void> {
    this.offset += b.length;
    if (this.offset >= FOUR_GIB) throw new Error('the XLSX file would pass 4 GiB (no ZIP64)');
    await this.put(b);
  }

  /** Starts an entry; its data goes through `write` (deflated), `close` writes the descriptor. */
  async entry(name: string): Promise<{
    write(data: Buffer): Promise<void>;
    close(): Promise<void>;
  }> {
    const nameBytes = Buffer.from(name, 'utf8');
    const offset = this.offset;
    const h = Buffer.alloc(30);
    h.writeUInt32LE(0x04034b50, 0);
    h.writeUInt16LE(20, 4); // version needed: 2.0 (deflate)
    h.writeUInt16LE(0x0808, 6); // bit 3: sizes in the data descriptor; bit 11: UTF-8 names
    h.writeUInt16LE(8, 8); // deflate
    h.writeUInt16LE(this.stamp.time, 10);
    h.writeUInt16LE(this.stamp.date, 12);
    h.writeUInt16LE(nameBytes.length, 26);
    await this.raw(Buffer.concat([h, nameBytes]));
    let crc = 0;
    let size = 0;
    let compressed = 0;
    const deflate = zlib.createDeflateRaw({ level: 6 });
    const out: Buffer[] = [];
    deflate.on('data', (c: Buffer) => out.push(c));
    const failed = new Promise<never>((_, reject) => deflate.once('error', reject));
    failed.catch(() => undefined);
    const ended = new Promise<void>((resolve) => deflate.once('end', resolve));
    // One chunk is compressed (in zlib's thread pool) while the caller makes the next.
    let inFlight: Promise<void> = Promise.resolve();
    const passOn = async () => {
      while (out.length) {
        const c = out.shift()!;
        compressed += c.length;
        await this.raw(c);
      }
    };
    return {
      write: async (data) => {
        await Promise.race([inFlight, failed]);
        await passOn();
        crc = zlib.crc32(data, crc);
        size += data.length;
        if (size >= FOUR_GIB) throw new Error('an XLSX part would pass 4 GiB (no ZIP64)');
        inFlight = new Promise<void>((resolve, reject) =>
          deflate.write(data, (err) => (err ? reject(err) : resolve())),
        );
        inFlight.catch(() => undefined);
      },
      close: async () => {
        await Promise.race([inFlight, failed]);
        deflate.end();
        await Promise.race([ended, failed]);
        await passOn();
        const d = Buffer.alloc(16);
        d.writeUInt32LE(0x08074b50, 0);
        d.writeUInt32LE(crc >>> 0, 4);
        d.writeUInt32LE(compressed, 8);
        d.writeUInt32LE(size, 12);
        await this.raw(d);
        this.entries.push({ name: nameBytes, crc: crc >>> 0, compressed, size, offset });
      },
    };
  }

  async file(name: string, text: string): Promise<void> {
    const e = await this.entry(name);
    await e.write(Buffer.from(text, 'utf8'));
    await e.close();
  }

  /** The central directory and its end record. */
  async finish(): Promise<void> {
    const start = this.offset;
    const parts: Buffer[] = [];
    for (const e of this.entries) {
      const c = Buffer.alloc(46);
      c.writeUInt32LE(0x02014b50, 0);
      c.writeUInt16LE(20, 4); // made by: 2.0
      c.writeUInt16LE(20, 6);
      c.writeUInt16LE(0x0808, 8);
      c.writeUInt16LE(8, 10);
      c.writeUInt16LE(this.stamp.time, 12);
      c.writeUInt16LE(this.stamp.date, 14);
      c.writeUInt32LE(e.crc, 16);
      c.writeUInt32LE(e.compressed, 20);
      c.writeUInt32LE(e.size, 24);
      c.writeUInt16LE(e.name.length, 28);
      c.writeUInt32LE(e.offset, 42);
      parts.push(c, e.name);
    }
    const dir = Buffer.concat(parts);
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(this.entries.length, 8);
    end.writeUInt16LE(this.entries.length, 10);
    end.writeUInt32LE(dir.length, 12);
    end.writeUInt32LE(start, 16);
    await this.raw(Buffer.concat([dir, end]));
  }
}

export interface XlsxSheetWriter {
  writeRows(rows: ExportRow[]): Promise<void>;
  /** Closes the sheet and writes the rest of the package (the sink is not ended). */
  end(): Promise<void>;
}

/**
 * One sheet of `columns`: header row in bold, frozen below it, widths from the columns. Numbers
 * are numbers, null and '' leave the cell out, anything else is text.
 */
export function xlsxSheetWriter(
  put: (chunk: Buffer) => Promise<void>,
  columns: ExportColumn[],
  sheetName: string,
  created: Date,
): XlsxSheetWriter {
  const zip = new ZipStream(put, created);
  const keys = columns.map((c) => c.key);
  const letters = columns.map((_, i) => columnName(i + 1));
  let sheet: Awaited<ReturnType<ZipStream['entry']>> | undefined;
  let rowNo = 1;
  const cell = (ref: string, v: unknown, style = ''): string => {
    if (v === null || v === undefined || v === '') return '';
    if (typeof v === 'number')
      return Number.isFinite(v) ? `<c r="${ref}"${style}><v>${v}</v></c>` : '';
    return `<c r="${ref}"${style} t="inlineStr"><is><t xml:space="preserve">${xmlText(String(v))}</t></is></c>`;
  };
  const start = async () => {
    for (const [name, text] of packageParts(sheetName, created)) await zip.file(name, text);
    sheet = await zip.entry('xl/worksheets/sheet1.xml');
    const cols = columns
      .map((c, i) => `<col min="${i + 1}" max="${i + 1}" width="${c.width}" customWidth="1"/>`)
      .join('');
    const header = columns
      .map((c, i) => cell(`${letters[i]}1`, `${c.zh} ${c.en}`, ' s="1"'))
      .join('');
    await sheet.write(
      Buffer.from(
        `${XML_HEAD}<worksheet xmlns="${NS_MAIN}" xmlns:r="${NS_REL}"><sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft"/></sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/><cols>${cols}</cols><sheetData><row r="1" s="1" customFormat="1">${header}</row>`,
        'utf8',
      ),
    );
  };
  return {
    async writeRows(rows) {
      if (!sheet) await start();
      if (rowNo + rows.length > XLSX_MAX_ROWS)
        throw new Error(`an XLSX sheet holds at most ${XLSX_MAX_ROWS - 1} rows below its header`);
      let xml = '';
      for (const r of rows) {
        const n = ++rowNo;
        xml += `<row r="${n}">`;
        for (let i = 0; i < keys.length; i++) xml += cell(`${letters[i]}${n}`, r[keys[i]!]);
        xml += '</row>';
      }
      await sheet!.write(Buffer.from(xml, 'utf8'));
    },
    async end() {
      if (!sheet) await start();
      await sheet!.write(
        Buffer.from(
          '</sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>',
          'utf8',
        ),
      );
      await sheet!.close();
      await zip.finish();
    },
  };
}
