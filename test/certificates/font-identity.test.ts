// The font pipeline's output, pinned: a certificate and a roster rendered from fixed inputs must
// carry exactly the font programs, widths, CID maps and extracted text recorded here. Moving the
// font file or the subsetter to another package (issue #11) must not change a byte of them; a
// deliberate change of font or subsetting updates these values in the same commit.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import zlib from 'node:zlib';
import {
  PDFArray,
  PDFDict,
  PDFDocument,
  PDFName,
  PDFRawStream,
  PDFRef,
  type PDFContext,
  type PDFObject,
} from 'pdf-lib';
import { renderCertificate } from '../../certificates';
import { RosterWriter } from '../../src/exports/pdf';
import { ExportQuery, type ExportRow } from '../../src/exports/rows';
import { PUBLIC_URL, RARE, needTool, runOk, sampleData, tmpDir, writeTmp } from './helpers';

const sha = (b: Uint8Array | string) => crypto.createHash('sha256').update(b).digest('hex');

interface EmbeddedFont {
  baseFont: string;
  /** sha256 of the decompressed FontFile2 (the TrueType program itself) */
  fontFile: string;
  fontFileBytes: number;
  /** sha256 of the decompressed ToUnicode CMap */
  toUnicode: string;
  /** sha256 of the CIDFont's W array as written */
  widths: string;
  /** `Identity`, or sha256 of the decompressed CIDToGIDMap stream */
  cidToGid: string;
}

/** Every Type0 font in the document, in object order, with its parts hashed. */
function embeddedFonts(ctx: PDFContext): EmbeddedFont[] {
  const deref = (o: PDFObject | undefined): PDFObject | undefined =>
    o instanceof PDFRef ? ctx.lookup(o) : o;
  const streamBytes = (o: PDFObject | undefined): Buffer => {
    const s = deref(o);
    assert.ok(s instanceof PDFRawStream, 'a stream');
    assert.equal(s.dict.get(PDFName.of('Filter')), PDFName.of('FlateDecode'));
    return zlib.inflateSync(s.contents);
  };
  const out: EmbeddedFont[] = [];
  for (const [, obj] of ctx.enumerateIndirectObjects()) {
    if (!(obj instanceof PDFDict) || obj.get(PDFName.of('Subtype')) !== PDFName.of('Type0'))
      continue;
    const kids = deref(obj.get(PDFName.of('DescendantFonts')));
    assert.ok(kids instanceof PDFArray);
    const cid = deref(kids.get(0));
    assert.ok(cid instanceof PDFDict);
    const descriptor = deref(cid.get(PDFName.of('FontDescriptor')));
    assert.ok(descriptor instanceof PDFDict);
    const file = streamBytes(descriptor.get(PDFName.of('FontFile2')));
    const cidToGid = deref(cid.get(PDFName.of('CIDToGIDMap')));
    out.push({
      baseFont: String(obj.get(PDFName.of('BaseFont'))),
      fontFile: sha(file),
      fontFileBytes: file.length,
      toUnicode: sha(streamBytes(obj.get(PDFName.of('ToUnicode')))),
      widths: sha(String(deref(cid.get(PDFName.of('W'))))),
      cidToGid:
        cidToGid === PDFName.of('Identity')
          ? 'Identity'
          : sha(streamBytes(cid.get(PDFName.of('CIDToGIDMap')))),
    });
  }
  return out;
}

function pdftotext(t: Mocha.Context, pdf: Uint8Array): string {
  needTool(t, 'pdftotext', 'poppler-utils');
  const dir = tmpDir();
  try {
    return runOk('pdftotext', ['-layout', writeTmp(dir, 'doc.pdf', pdf), '-']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function assertText(text: string, expected: { sha256: string; chars: number }): void {
  assert.deepEqual(
    { sha256: sha(text), chars: text.length },
    expected,
    `extracted text changed:\n${text}`,
  );
}

const ROWS: ExportRow[] = [1, 2, 3].map((n) => ({
  sequence: n,
  foundingNumber: n,
  companyName: `厦门${RARE.slice(n - 1, n + 2)}科技有限公司`,
  companyNameEn: `Xiamen Example ${n} Co., Ltd.`,
  uscc: `91350100M00010${n}Y43`,
  province: '福建',
  industry: '制造业',
  signatoryName: `王${RARE[n]}`,
  signatoryTitle: '总经理',
  initiativeVersion: 1,
  activatedAt: `2026-03-0${n}T10:00:00+08:00`,
  status: 'active',
  statusLabel: '有效',
  certificateSerial: `EQI-2026-00000${n}`,
  provinceCode: '35',
  industryCode: 'C',
  activated: new Date(`2026-03-0${n}T02:00:00.000Z`),
}));

async function renderRoster(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const roster = new RosterWriter(
    async (c) => {
      chunks.push(c);
    },
    {
      query: ExportQuery.parse({}),
      exportId: '0123456789abcdef0123456789abcdef',
      generatedAt: new Date('2026-03-05T02:00:00.000Z'),
    },
  );
  await roster.writeRows(ROWS);
  await roster.end();
  return Buffer.concat(chunks);
}

describe('font pipeline identity', function () {
  this.timeout(20_000);

  describe('a certificate rendered from fixed inputs', () => {
    let pdf: Uint8Array;
    before(async () => {
      pdf = await renderCertificate(sampleData(), {
        publicUrl: PUBLIC_URL,
        keyFingerprint: '3F2A 9C01 D4E5 B6A7',
        // The association the recordings were made with (the default has since become fictional).
        association: { zh: '中国质量协会', en: 'China Association for Quality' },
      });
    });

    it('when its fonts are read back, then the font programs, widths and maps are the recorded ones', async () => {
      const fonts = embeddedFonts((await PDFDocument.load(pdf)).context);
      assert.deepEqual(fonts, CERTIFICATE_FONTS);
    });

    it('when its text is extracted with pdftotext, then it is the recorded text', function () {
      assertText(pdftotext(this, pdf), CERTIFICATE_TEXT);
    });
  });

  describe('a roster rendered from fixed rows', () => {
    let pdf: Buffer;
    before(async () => {
      pdf = await renderRoster();
    });

    it('when its font is read back, then the font program, widths and maps are the recorded ones', async () => {
      const fonts = embeddedFonts((await PDFDocument.load(pdf)).context);
      assert.deepEqual(fonts, ROSTER_FONTS);
    });

    it('when its text is extracted with pdftotext, then it is the recorded text', function () {
      assertText(pdftotext(this, pdf), ROSTER_TEXT);
    });
  });
});

// Recorded from the code before the font moved out of @expo-google-fonts/noto-sans-sc and the
// subsetter out of subset-font (commit "Font identity test …").
const CERTIFICATE_FONTS: EmbeddedFont[] = [
  {
    baseFont: '/JRUKNB+NotoSansSC-Regular',
    fontFile: '235f14240db7250866d7330cb87139d856a3e1c1c4c79c789eb8c74057c5b3dd',
    fontFileBytes: 33380,
    toUnicode: '10b37dfbe8e242ab5f8ae324b3796b889046aef69d872d44d09085d4b5134992',
    widths: '72f320be0af592c61f73069d539bfc1bf1a01ccf8ed21b30409e46d444a83590',
    cidToGid: 'Identity',
  },
  {
    baseFont: '/ZXRAOK+NotoSansSC-Regular',
    fontFile: 'e999939c0e8c831bad70b1c6f1de58f20c870b5d4cc28d01f1286f4f04506a02',
    fontFileBytes: 6020,
    toUnicode: 'e8071791323e3eca1b80c7f53f0ba9ff4b6dc5ec8a50f5848a1d682f656c524a',
    widths: '142bda27db11f0bc97a0d5cb1c2c494524818717ab21f1d51fa78be619e2de42',
    cidToGid: 'Identity',
  },
];
const CERTIFICATE_TEXT = {
  sha256: '8527f9ceca7375b522d95d67a8568059ee36376ae3625d896c7c1cde5fcc5c59',
  chars: 4838,
};
const ROSTER_FONTS: EmbeddedFont[] = [
  {
    baseFont: '/ZLRTVZ+NotoSansSC-Regular',
    fontFile: '7fc88b85dbd0aa1c4a247eccdfd45d08e4da82583f53d43f147cbcfcb0b82ee8',
    fontFileBytes: 23516,
    toUnicode: 'a160632ab6429bae7df371f88c6761bb0c2ce4b80ea5d2e78d4b367af5a98600',
    widths: '49b644d39614536f881a5d23366f79afe38b1757a5b658749bef30eddd4cfe4c',
    cidToGid: '0c005e548fafa4e57f906eb2cb8a5b20df4ee1224686be5e7be547a7598650d3',
  },
];
const ROSTER_TEXT = {
  sha256: 'd8b0d5640cd29501127496517cc10cc8f905bbc49cd909a9f9881b1fca08c18c',
  chars: 1845,
};
