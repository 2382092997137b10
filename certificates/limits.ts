/**
 * Caps on the work one uploaded PDF can cause while it is read: bytes inflated from its
 * compressed streams and objects parsed, counted per document (per pdf-lib context).
 *
 * pdf-lib inflates object streams and cross-reference streams while it loads a file, with its
 * own uncapped JavaScript decoder: a 1 MB file can make it produce a gigabyte. This module
 * takes that step over (native zlib with an output cap, charged to the document's budget), and
 * `decodeStream` charges every later decode to the same budget, so 64 references to one large
 * stream cost what 64 streams cost. pdf-lib turns an error thrown while parsing an object into
 * an "invalid object" and goes on, so a breach is recorded and re-thrown after loading.
 */
import zlib from 'node:zlib';
import {
  decodePDFRawStream,
  PDFArray,
  PDFName,
  PDFNumber,
  type PDFContext,
  type PDFRawStream,
} from 'pdf-lib';
// pdf-lib (1.17, no longer developed) exposes no hook for the decoding it does while parsing.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const ByteStream = require('pdf-lib/cjs/core/parser/ByteStream').default as {
  of(bytes: Uint8Array): unknown;
  fromPDFRawStream(raw: PDFRawStream): unknown;
};

export type PdfLimitKind = 'inflated' | 'objects' | 'nesting' | 'time' | 'memory';

/** A PDF over one of the caps: not a broken certificate but a file too costly to check. */
export class PdfLimitError extends Error {
  constructor(
    readonly kind: PdfLimitKind,
    message: string,
  ) {
    super(message);
    this.name = 'PdfLimitError';
  }
}

export interface PdfLimits {
  /** Bytes all decodes of one document may produce together. */
  maxInflatedBytes: number;
  /** Objects one document may have (top-level plus those inside object streams). */
  maxObjects: number;
}

/** A certificate inflates to well under 1 MiB and has about 40 objects. */
export const DEFAULT_PDF_LIMITS: Readonly<PdfLimits> = Object.freeze({
  maxInflatedBytes: 32 * 1024 * 1024,
  maxObjects: 20_000,
});

let limits: PdfLimits = { ...DEFAULT_PDF_LIMITS };

/** Sets the caps for this thread (the verification worker takes them from its pool). */
export function setPdfLimits(next: Partial<PdfLimits>): void {
  limits = { ...limits, ...next };
}

export function pdfLimits(): Readonly<PdfLimits> {
  return limits;
}

interface Budget {
  inflated: number;
  objects: number;
  breach?: PdfLimitError;
}

const budgets = new WeakMap<PDFContext, Budget>();

function budgetOf(ctx: PDFContext): Budget {
  let b = budgets.get(ctx);
  if (!b) budgets.set(ctx, (b = { inflated: 0, objects: 0 }));
  return b;
}

function breach(b: Budget, e: PdfLimitError): never {
  b.breach ??= e;
  throw b.breach;
}

const mib = (n: number) => `${Math.round(n / 1048576)} MiB`;

/** Throws the first breach recorded for the document (call after pdf-lib has loaded it). */
export function assertWithinLimits(ctx: PDFContext): void {
  const b = budgets.get(ctx);
  if (b?.breach) throw b.breach;
}

export function chargeObjects(ctx: PDFContext, n: number): void {
  const b = budgetOf(ctx);
  if (b.breach) throw b.breach;
  b.objects += Math.max(0, n);
  if (b.objects > limits.maxObjects)
    breach(b, new PdfLimitError('objects', `the PDF has more than ${limits.maxObjects} objects`));
}

/**
 * Inflates `data` (zlib) into at most `maxBytes` and what is left of the document's budget.
 * Over the budget is a PdfLimitError; over `maxBytes` alone is a plain error (one stream too big).
 */
export function inflateWithin(ctx: PDFContext, data: Uint8Array, maxBytes: number): Uint8Array {
  const b = budgetOf(ctx);
  if (b.breach) throw b.breach;
  const left = limits.maxInflatedBytes - b.inflated;
  const cap = Math.min(maxBytes, left);
  let out: Buffer;
  try {
    out = zlib.inflateSync(data, {
      maxOutputLength: Math.max(1, cap),
      finishFlush: zlib.constants.Z_SYNC_FLUSH,
    });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ERR_BUFFER_TOO_LARGE') throw e;
    if (cap === left)
      breach(
        b,
        new PdfLimitError(
          'inflated',
          `the PDF's compressed streams expand to more than ${mib(limits.maxInflatedBytes)}`,
        ),
      );
    throw new Error(`a stream expands to more than ${mib(maxBytes)}`, { cause: e });
  }
  b.inflated += out.length;
  return out;
}

/**
 * A stack overflow while walking the file's objects (arrays in arrays, a page tree that
 * refers to itself) as the limit it is; anything else is not a limit (undefined).
 */
export function asLimitError(e: unknown): PdfLimitError | undefined {
  if (e instanceof PdfLimitError) return e;
  if (e instanceof RangeError && /call stack/i.test(e.message))
    return new PdfLimitError('nesting', 'the PDF nests its objects too deeply');
  return undefined;
}

/** Counts `N G obj` headers in the raw file, stopping once past the cap. */
export function countObjectHeaders(bytes: Uint8Array, stopAfter = limits.maxObjects): number {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  const re = /\d+[\0\t\n\f\r ]+\d+[\0\t\n\f\r ]*obj/g;
  let n = 0;
  while (re.exec(text) && n <= stopAfter) n++;
  return n;
}

function filterOf(raw: PDFRawStream): PDFName | undefined | 'other' {
  const f = raw.dict.lookup(PDFName.of('Filter'));
  const name = f instanceof PDFArray && f.size() === 1 ? f.lookup(0) : f;
  if (name === undefined) return undefined;
  return name instanceof PDFName ? name : 'other';
}

/** What pdf-lib's parser gets for an object or cross-reference stream. */
function decodeForParser(raw: PDFRawStream): Uint8Array {
  const ctx = raw.dict.context;
  if (raw.dict.lookup(PDFName.of('Type')) === PDFName.of('ObjStm')) {
    const n = raw.dict.lookup(PDFName.of('N'));
    chargeObjects(ctx, n instanceof PDFNumber ? n.asNumber() : 0);
  }
  const filter = filterOf(raw);
  if (filter === undefined) return raw.contents;
  if (filter !== PDFName.of('FlateDecode'))
    throw new Error('object and cross-reference streams must be Flate-compressed');
  const inflated = inflateWithin(ctx, raw.contents, limits.maxInflatedBytes);
  // Predictors (PNG rows in xref streams) are undone by pdf-lib, now that the size is known.
  if (!raw.dict.has(PDFName.of('DecodeParms'))) return inflated;
  return decodePDFRawStream(raw).decode();
}

ByteStream.fromPDFRawStream = (raw: PDFRawStream) => ByteStream.of(decodeForParser(raw));
