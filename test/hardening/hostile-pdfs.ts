/**
 * Hostile PDFs for the upload abuse tests, built from raw bytes and zlib (and pdf-lib for the
 * certificate-based one): small files that cost a naive reader gigabytes or seconds.
 */
import zlib from 'node:zlib';
import { PDFDocument, PDFName, PDFRawStream, PDFArray } from 'pdf-lib';

/** A PDF made of the given object bodies (numbered from 1; object 1 must be the catalog or not). */
function pdfOf(objects: Array<string | Buffer>, root = 1): Buffer {
  const parts: Buffer[] = [Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1')];
  objects.forEach((o, i) => {
    parts.push(
      Buffer.from(`${i + 1} 0 obj\n`, 'latin1'),
      typeof o === 'string' ? Buffer.from(o, 'latin1') : o,
      Buffer.from('\nendobj\n', 'latin1'),
    );
  });
  parts.push(
    Buffer.from(`trailer\n<< /Root ${root} 0 R /Size ${objects.length + 1} >>\n%%EOF\n`, 'latin1'),
  );
  return Buffer.concat(parts);
}

const streamObj = (dict: string, data: Buffer) =>
  Buffer.concat([
    Buffer.from(`<< ${dict} /Length ${data.length} >>\nstream\n`, 'latin1'),
    data,
    Buffer.from('\nendstream', 'latin1'),
  ]);

/**
 * zlib data that inflates to about `bytes` zeros, without ever holding them: one fully
 * flushed 16 MiB block of zeros (position-independent after the flush) repeated.
 */
export function zeroBomb(bytes: number): Buffer {
  const block = 16 * 1024 * 1024;
  const d = zlib.deflateSync(Buffer.alloc(block), { level: 9 }); // header + block + final + adler
  const raw = zlib.deflateRawSync(Buffer.alloc(block), {
    level: 9,
    finishFlush: zlib.constants.Z_FULL_FLUSH,
  });
  const reps = Math.max(1, Math.ceil(bytes / block));
  // zlib header, then the raw (non-final, byte-aligned) block repeated, then an empty final block.
  return Buffer.concat([
    d.subarray(0, 2),
    ...Array<Buffer>(reps).fill(raw),
    Buffer.from([0x03, 0x00]),
  ]);
}

/** A PDF whose object stream inflates to `bytes` (default 1 GiB) from about a megabyte. */
export function objectStreamBomb(bytes = 1024 * 1024 * 1024): Buffer {
  return pdfOf([
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [] /Count 0 >>',
    streamObj('/Type /ObjStm /N 1 /First 4 /Filter /FlateDecode', zeroBomb(bytes)),
  ]);
}

/** A PDF claiming an object stream of `n` objects. */
export function objectStreamCount(n: number): Buffer {
  const body = zlib.deflateSync(Buffer.from('4 0 null ', 'latin1'));
  return pdfOf([
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [] /Count 0 >>',
    streamObj(`/Type /ObjStm /N ${n} /First 4 /Filter /FlateDecode`, body),
  ]);
}

/** A PDF with `n` top-level objects (tiny ones: about 20 bytes each). */
export function manyObjects(n: number): Buffer {
  const objects: string[] = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [] /Count 0 >>',
  ];
  for (let i = 2; i < n; i++) objects.push('null');
  return pdfOf(objects);
}

/** Arrays (or dictionaries) nested `depth` deep in one object. */
export function deepNesting(depth: number, kind: 'array' | 'dict' = 'array'): Buffer {
  const open = kind === 'array' ? '[' : '<< /A ';
  const close = kind === 'array' ? ']' : ' >>';
  return pdfOf([
    '<< /Type /Catalog /Pages 2 0 R /Deep 3 0 R >>',
    '<< /Type /Pages /Kids [] /Count 0 >>',
    open.repeat(depth) + close.repeat(depth),
  ]);
}

/** A page tree whose Kids refer to itself (a cycle) and a Names tree that does too. */
export function cyclicTrees(): Buffer {
  return pdfOf([
    '<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles 3 0 R >> >>',
    '<< /Type /Pages /Kids [2 0 R] /Count 1 >>',
    '<< /Kids [3 0 R 3 0 R] >>',
  ]);
}

/**
 * A genuine certificate whose page draws one 16 MiB stream 64 times (the credential still
 * verifies, so the page's content is decoded to compare it).
 */
export async function manyContentRefs(certificate: Uint8Array, refs = 64): Promise<Buffer> {
  const doc = await PDFDocument.load(certificate, { updateMetadata: false });
  const big = doc.context.register(
    PDFRawStream.of(
      doc.context.obj({ Filter: 'FlateDecode' }),
      zlib.deflateSync(Buffer.alloc(16 * 1024 * 1024, 0x20), { level: 9 }),
    ),
  );
  doc
    .getPage(0)
    .node.set(
      PDFName.of('Contents'),
      doc.context.obj(Array<typeof big>(refs).fill(big)) as PDFArray,
    );
  return Buffer.from(await doc.save({ useObjectStreams: false }));
}

/** A syntactically plain "PDF" of exactly `size` bytes (header, then spaces). */
export function pdfOfSize(size: number): Buffer {
  const head = Buffer.from('%PDF-1.7\n', 'latin1');
  return Buffer.concat([head, Buffer.alloc(size - head.length, 0x20)]);
}
