/**
 * Export writers. Each takes rows one at a time and writes bytes to a sink, so an export of a
 * million rows never holds more than a row (and the XLSX writer's small buffers) in memory.
 */
import { PassThrough, type Writable } from 'node:stream';
import ExcelJS from 'exceljs';
import type { ExportColumn, ExportRow } from './rows';

export type ExportFormat = 'csv' | 'xlsx' | 'json' | 'ndjson';

export const CONTENT_TYPES: Record<ExportFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  json: 'application/json; charset=utf-8',
  ndjson: 'application/x-ndjson; charset=utf-8',
};

export interface RowWriter {
  write(row: ExportRow): Promise<void>;
  end(): Promise<void>;
}

/** Waits for 'drain' when the sink's buffer is full: backpressure instead of buffering the export. */
async function put(sink: Writable, chunk: string | Buffer): Promise<void> {
  if (!sink.write(chunk)) {
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error): void => {
        sink.off('drain', done);
        sink.off('close', done);
        sink.off('error', done);
        if (err) reject(err);
        else resolve();
      };
      sink.once('drain', () => done());
      sink.once('close', () => done(new Error('the client went away')));
      sink.once('error', done);
    });
  }
}

/**
 * A CSV cell: RFC 4180 quoting, and cells a spreadsheet would run as a formula (starting with
 * = + - @ or a tab / carriage return) are prefixed with an apostrophe.
 */
export function csvCell(v: unknown): string {
  let s = v === null || v === undefined ? '' : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvWriter(sink: Writable, columns: ExportColumn[]): RowWriter {
  // The BOM makes Excel read the file as UTF-8 (Chinese otherwise shows as mojibake).
  let header: string | null = '\uFEFF' + columns.map((c) => csvCell(`${c.zh} ${c.en}`)).join(',') + '\r\n';
  let buffered = '';
  return {
    async write(row) {
      if (header) {
        buffered = header;
        header = null;
      }
      buffered += columns.map((c) => csvCell(row[c.key])).join(',') + '\r\n';
      // Batch small rows into fewer writes.
      if (buffered.length >= 16_384) {
        const out = buffered;
        buffered = '';
        await put(sink, out);
      }
    },
    async end() {
      await put(sink, (header ?? '') + buffered);
      sink.end();
    },
  };
}

export function jsonWriter(sink: Writable, columns: ExportColumn[], ndjson: boolean): RowWriter {
  let first = true;
  const pick = (row: ExportRow): Record<string, unknown> => Object.fromEntries(columns.map((c) => [c.key, row[c.key] ?? null]));
  return {
    async write(row) {
      const json = JSON.stringify(pick(row));
      if (ndjson) await put(sink, json + '\n');
      else {
        await put(sink, (first ? '[\n' : ',\n') + json);
        first = false;
      }
    },
    async end() {
      if (!ndjson) await put(sink, first ? '[]\n' : '\n]\n');
      sink.end();
    },
  };
}

export function xlsxWriter(sink: Writable, columns: ExportColumn[], sheetName = '签署企业 Signatories'): RowWriter {
  const stream = new PassThrough();
  stream.pipe(sink);
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ stream, useStyles: true, useSharedStrings: false });
  const ws = wb.addWorksheet(sheetName, { views: [{ state: 'frozen', ySplit: 1 }] });
  ws.columns = columns.map((c) => ({ header: `${c.zh} ${c.en}`, key: c.key, width: c.width }));
  ws.getRow(1).font = { bold: true };
  ws.getRow(1).commit();
  return {
    async write(row) {
      ws.addRow(columns.map((c) => row[c.key] ?? null)).commit();
      if (stream.writableNeedDrain) await new Promise<void>((r) => stream.once('drain', () => r()));
    },
    async end() {
      ws.commit();
      await wb.commit();
    },
  };
}

export function writerFor(format: ExportFormat, sink: Writable, columns: ExportColumn[]): RowWriter {
  switch (format) {
    case 'csv':
      return csvWriter(sink, columns);
    case 'xlsx':
      return xlsxWriter(sink, columns);
    case 'json':
      return jsonWriter(sink, columns, false);
    case 'ndjson':
      return jsonWriter(sink, columns, true);
  }
}
