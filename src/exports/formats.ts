/**
 * Export writers. Each takes rows a batch at a time and writes bytes to a sink, waiting whenever
 * the sink is full, so an export of a million rows holds no more than a batch or two of rows (and
 * the XLSX and PDF writers' small buffers) in memory.
 */
import type { Writable } from 'node:stream';
import { csvCell } from './csv-cell';
import { pickRowFields } from './bson-pick';
import { csvBsonEncoder } from './csv-bson';
import { RosterWriter } from './pdf';
import { xlsxSheetWriter } from './xlsx';
import { toRow, type ExportColumn, type ExportQuery, type ExportRow } from './rows';

export { csvCell };

export type ExportFormat = 'csv' | 'xlsx' | 'json' | 'ndjson' | 'pdf';

export const CONTENT_TYPES: Record<ExportFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  json: 'application/json; charset=utf-8',
  ndjson: 'application/x-ndjson; charset=utf-8',
  pdf: 'application/pdf',
};

export const FILE_EXTENSIONS: Record<ExportFormat, string> = {
  csv: 'csv',
  xlsx: 'xlsx',
  json: 'json',
  ndjson: 'ndjson',
  pdf: 'pdf',
};

export interface RowWriter {
  writeRows(rows: ExportRow[]): Promise<void>;
  /** Writes stored pledges given as their BSON bytes (a writer that reads them itself: CSV). */
  writeDocs?(docs: Buffer[]): Promise<void>;
  /** Writes what remains and ends the sink. */
  end(): Promise<void>;
}

export interface WriterOptions {
  columns: ExportColumn[];
  query: ExportQuery;
  exportId: string;
  generatedAt: Date;
  /** Who the file is for (the PDF roster's columns and header; see RosterOptions). */
  audience?: 'admin' | 'public';
}

export class SinkClosedError extends Error {
  constructor() {
    super('the export sink closed before the export finished (client gone?)');
    this.name = 'SinkClosedError';
  }
}

/** Resolves once `sink` can take more, rejects if it closes or fails first. */
export function drained(sink: Writable): Promise<void> {
  if (sink.destroyed) return Promise.reject(new SinkClosedError());
  if (!sink.writableNeedDrain) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const done = (err?: Error): void => {
      sink.off('drain', onDrain);
      sink.off('close', onClose);
      sink.off('error', done);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = () => done();
    const onClose = () => done(new SinkClosedError());
    sink.on('drain', onDrain);
    sink.on('close', onClose);
    sink.on('error', done);
  });
}

/** Writes a chunk, then waits for 'drain' when the sink's buffer is full: backpressure instead of buffering the export. */
export async function put(sink: Writable, chunk: string | Buffer): Promise<void> {
  if (sink.destroyed || sink.writableEnded) throw new SinkClosedError();
  sink.write(chunk);
  await drained(sink);
}

/** Ends the sink and waits until it has taken everything (its 'finish'). */
function endSink(sink: Writable, chunk?: string | Buffer): Promise<void> {
  if (sink.destroyed) return Promise.reject(new SinkClosedError());
  return new Promise<void>((resolve, reject) => {
    const onClose = () => reject(new SinkClosedError());
    sink.once('close', onClose);
    const finished = (err?: Error | null) => {
      sink.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    if (chunk === undefined) sink.end(finished);
    else sink.end(chunk, finished);
  });
}

export function csvWriter(
  sink: Writable,
  columns: ExportColumn[],
  withContacts = false,
): RowWriter {
  // The BOM makes Excel read the file as UTF-8 (Chinese otherwise shows as mojibake).
  let header: string | null =
    '\uFEFF' + columns.map((c) => csvCell(`${c.zh} ${c.en}`)).join(',') + '\r\n';
  const keys = columns.map((c) => c.key);
  const line = (row: ExportRow): string => {
    let s = csvCell(row[keys[0]!]);
    for (let i = 1; i < keys.length; i++) s += ',' + csvCell(row[keys[i]!]);
    return s + '\r\n';
  };
  const encoder = csvBsonEncoder(columns, withContacts);
  const general = (doc: Buffer): string => line(toRow(pickRowFields(doc), withContacts));
  const takeHeader = (): string => {
    const h = header ?? '';
    header = null;
    return h;
  };
  return {
    async writeRows(rows) {
      let out = takeHeader();
      for (const r of rows) out += line(r);
      await put(sink, out);
    },
    ...(encoder.supported && {
      async writeDocs(docs: Buffer[]) {
        const h = takeHeader();
        // One buffer per batch, the lines copied from the documents' bytes (see csv-bson.ts).
        const lines = encoder.lines(docs, general);
        await put(sink, h ? Buffer.concat([Buffer.from(h, 'utf8'), lines]) : lines);
      },
    }),
    async end() {
      await endSink(sink, header ?? undefined);
    },
  };
}

export function jsonWriter(sink: Writable, columns: ExportColumn[], ndjson: boolean): RowWriter {
  let first = true;
  const keys = columns.flatMap((c) => c.json ?? [c.key]);
  const pick = (row: ExportRow): Record<string, unknown> => {
    const o: Record<string, unknown> = {};
    for (const k of keys) o[k] = row[k] ?? null;
    return o;
  };
  return {
    async writeRows(rows) {
      let out = '';
      for (const r of rows) {
        const json = JSON.stringify(pick(r));
        if (ndjson) out += json + '\n';
        else {
          out += (first ? '[\n' : ',\n') + json;
          first = false;
        }
      }
      if (out) await put(sink, out);
    },
    async end() {
      await endSink(sink, ndjson ? undefined : first ? '[]\n' : '\n]\n');
    },
  };
}

/** XLSX (src/exports/xlsx.ts): the sheet's XML deflated into a streamed ZIP, waiting while the sink is full. */
export function xlsxWriter(
  sink: Writable,
  columns: ExportColumn[],
  sheetName = '签署企业 Signatories',
  created = new Date(),
): RowWriter {
  const sheet = xlsxSheetWriter((chunk) => put(sink, chunk), columns, sheetName, created);
  return {
    writeRows: (rows) => sheet.writeRows(rows),
    async end() {
      await sheet.end();
      await endSink(sink);
    },
  };
}

export function pdfWriter(sink: Writable, opts: WriterOptions): RowWriter {
  const roster = new RosterWriter((chunk) => put(sink, chunk), {
    query: opts.query,
    exportId: opts.exportId,
    generatedAt: opts.generatedAt,
    audience: opts.audience,
  });
  return {
    writeRows: (rows) => roster.writeRows(rows),
    writeDocs: (docs) => roster.writeDocs(docs),
    async end() {
      await roster.end();
      await endSink(sink);
    },
  };
}

export function writerFor(format: ExportFormat, sink: Writable, opts: WriterOptions): RowWriter {
  switch (format) {
    case 'csv':
      return csvWriter(sink, opts.columns, opts.query.includeContacts === '1');
    case 'xlsx':
      return xlsxWriter(sink, opts.columns, undefined, opts.generatedAt);
    case 'json':
      return jsonWriter(sink, opts.columns, false);
    case 'ndjson':
      return jsonWriter(sink, opts.columns, true);
    case 'pdf':
      return pdfWriter(sink, opts);
  }
}
