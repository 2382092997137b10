import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { PDFDocument } from 'pdf-lib';
import {
  CERTIFICATE_LAYOUT,
  PAGE,
  buildCertificate,
  issueCertificatePdf,
  renderCertificate,
  unsupportedCharacters,
  verifyUrl,
} from '../../certificates';
import {
  PUBLIC_URL,
  RARE,
  artifactsDir,
  hasTool,
  issuer,
  needTool,
  readPgm,
  run,
  runOk,
  sampleData,
  tmpDir,
  writeTmp,
} from './helpers';

const FINGERPRINT =
  '3F2A 9C01 D4E5 B6A7 9801 0203 0405 0607 0809 0A0B 0C0D 0E0F 1011 1213 1415 1617';
const opts = { publicUrl: PUBLIC_URL, keyFingerprint: FINGERPRINT };

describe('certificate rendering', function () {
  this.timeout(20_000);
  let dir: string;
  let pdfPath: string;
  let pdf: Uint8Array;
  const data = sampleData();

  before(async () => {
    dir = tmpDir();
    pdf = await renderCertificate(data, opts);
    pdfPath = writeTmp(dir, 'cert.pdf', pdf);
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('when rendered, then it is one A4 landscape page', async () => {
    const doc = await PDFDocument.load(pdf);
    assert.equal(doc.getPageCount(), 1);
    const { width, height } = doc.getPage(0).getSize();
    assert.ok(Math.abs(width - 841.89) < 0.01 && Math.abs(height - 595.28) < 0.01);
    assert.match(doc.getTitle() ?? '', new RegExp(RARE));
  });

  it('when the text is extracted with pdftotext, then every field is there, Chinese first', function () {
    needTool(this, 'pdftotext', 'poppler-utils');
    const text = runOk('pdftotext', ['-layout', pdfPath, '-']);
    const flat = text.replace(/\s+/g, ' ');
    for (const s of [
      data.company.name,
      'Xiamen Zhekun Technology Co., Ltd.',
      '企业质量诚信倡议书',
      'Enterprise Quality Integrity Initiative',
      '91350100M000100Y43',
      '福建 Fujian',
      '制造业 Manufacturing',
      '王喆 · 总经理 General Manager',
      '2026年3月5日 · 2026-03-05',
      '1.0 · SHA-256 3f2a9c01d4e5',
      '发起企业',
      'No. 7 / 100',
      data.serial,
      verifyUrl(PUBLIC_URL, data.serial),
      '示例质量协会',
      'Example Quality Association',
      FINGERPRINT,
    ]) {
      assert.ok(flat.includes(s), `missing in extracted text: ${s}`);
    }
    assert.ok(flat.indexOf('兹证明') < flat.indexOf('This is to certify that'));
  });

  it('when fonts are listed with pdffonts, then every font is embedded, subset-tagged and has a ToUnicode map', function () {
    needTool(this, 'pdffonts', 'poppler-utils');
    const lines = runOk('pdffonts', [pdfPath]).trim().split('\n').slice(2);
    assert.ok(lines.length >= 1, 'no fonts listed');
    for (const line of lines) {
      const cols = line.trim().split(/\s+/);
      // name type... enc emb sub uni objID gen
      const [name] = cols;
      const [emb, sub, uni] = cols.slice(-5, -2);
      assert.match(name!, /^[A-Z]{6}\+NotoSansSC-Regular$/, line);
      assert.deepEqual([emb, sub, uni], ['yes', 'yes', 'yes'], line);
    }
    assert.doesNotMatch(lines.join('\n'), /Helvetica|Times|Courier/);
  });

  it('when rasterised at 72 dpi, then each rare character of the company name has its own ink (no blank or .notdef glyphs)', async function () {
    needTool(this, 'pdftoppm', 'poppler-utils');
    const built = await buildCertificate(data, opts);
    const layout = built.layout.companyName;
    assert.equal(layout.lines.length, 1);
    const line = layout.lines[0]!;
    assert.equal(line.text, data.company.name);
    runOk('pdftoppm', [
      '-r',
      '72',
      '-gray',
      '-f',
      '1',
      '-l',
      '1',
      '-singlefile',
      pdfPath,
      path.join(dir, 'page'),
    ]);
    const img = readPgm(path.join(dir, 'page.pgm'));
    assert.equal(img.width, Math.round(PAGE.width));
    // Ideographs advance 1 em: character i occupies [x + i·size, x + (i+1)·size], and about
    // [baseline − 0.12 em, baseline + 0.88 em] vertically. 1 pt = 1 px at 72 dpi, y flipped.
    const cell = (i: number) => {
      const x0 = Math.round(line.x + i * layout.size) + 1;
      const x1 = Math.round(line.x + (i + 1) * layout.size) - 1;
      const y0 = Math.round(PAGE.height - (line.y + 0.88 * layout.size)) + 1;
      const y1 = Math.round(PAGE.height - (line.y - 0.12 * layout.size)) - 1;
      const bits: number[] = [];
      let dark = 0;
      for (let y = y0; y < y1; y++) {
        for (let x = x0; x < x1; x++) {
          const d = img.px[y * img.width + x]! < 110 ? 1 : 0;
          bits.push(d);
          dark += d;
        }
      }
      return { dark: dark / bits.length, bits };
    };
    const chars = [...data.company.name];
    const cells = chars.map((_, i) => cell(i));
    for (const ch of RARE) {
      const i = chars.indexOf(ch);
      assert.ok(
        cells[i]!.dark > 0.08,
        `no ink for ${ch}: ${(cells[i]!.dark * 100).toFixed(1)}% dark`,
      );
    }
    // Different characters must look different: a run of identical .notdef boxes would not.
    const rare = [...RARE].map((ch) => cells[chars.indexOf(ch)]!.bits);
    for (let a = 0; a < rare.length; a++) {
      for (let b = a + 1; b < rare.length; b++) {
        const diff = rare[a]!.reduce((n, v, k) => n + (v !== rare[b]![k] ? 1 : 0), 0);
        assert.ok(diff > 20, `characters ${a} and ${b} render alike (${diff} px differ)`);
      }
    }
    // And just right of the name, inside its box, the paper is blank: the check can see absence.
    const after = cell(chars.length + 1);
    assert.ok(
      line.x + (chars.length + 2) * layout.size <
        CERTIFICATE_LAYOUT.companyName.x + CERTIFICATE_LAYOUT.companyName.w,
    );
    assert.ok(after.dark < 0.005, `unexpected ink right of the name: ${after.dark}`);
  });

  it('when the QR code is decoded with zbarimg, then it opens the verify URL of the serial', function () {
    needTool(this, 'pdftoppm', 'poppler-utils');
    needTool(this, 'zbarimg', 'zbar-tools');
    // Crop around the QR (with its quiet zone) to keep zbar fast.
    const { x, top, size } = CERTIFICATE_LAYOUT.qr;
    const k = 150 / 72;
    const crop = [
      '-x',
      String(Math.round((x - 24) * k)),
      '-y',
      String(Math.round((PAGE.height - top - 24) * k)),
    ];
    crop.push('-W', String(Math.round((size + 48) * k)), '-H', String(Math.round((size + 48) * k)));
    runOk('pdftoppm', ['-r', '150', '-png', ...crop, '-singlefile', pdfPath, path.join(dir, 'qr')]);
    const r = run('zbarimg', ['--quiet', '--raw', path.join(dir, 'qr.png')]);
    assert.equal(r.status, 0, r.out);
    assert.equal(r.stdout.trim(), `${PUBLIC_URL}/verify/${data.serial}`);
  });

  it('when a sample is rendered, then it is saved to test-artifacts for people to look at', async function () {
    fs.mkdirSync(artifactsDir, { recursive: true });
    const out = path.join(artifactsDir, 'certificate-sample.pdf');
    fs.writeFileSync(out, await issueCertificatePdf(data, issuer()));
    needTool(this, 'pdftoppm', 'poppler-utils');
    runOk('pdftoppm', [
      '-r',
      '110',
      '-png',
      '-singlefile',
      out,
      path.join(artifactsDir, 'certificate-sample'),
    ]);
    assert.ok(fs.statSync(path.join(artifactsDir, 'certificate-sample.png')).size > 10_000);
  });
});

describe('certificate layout with difficult text', function () {
  this.timeout(20_000);
  const box = CERTIFICATE_LAYOUT.companyName;

  const inside = (l: { x: number; y: number; width: number }, size: number) => {
    assert.ok(l.x >= box.x - 0.01, `line starts left of the box: ${l.x}`);
    assert.ok(l.x + l.width <= box.x + box.w + 0.01, `line overflows right: ${l.x + l.width}`);
    assert.ok(
      l.y - 0.12 * size >= box.y - 0.5 && l.y + 0.88 * size <= box.y + box.h + 0.5,
      `line outside vertically: ${l.y}`,
    );
  };

  it('when the company name is long, then it shrinks and then wraps inside its box instead of overflowing', async () => {
    for (const name of [
      '中华人民共和国某某省某某市某某区某某高新技术产业开发区某某精密机械制造股份有限公司',
      '北京' + '喆堃犇垚昇玥珺'.repeat(12) + '有限公司',
      'Supercalifragilisticexpialidocious-International-Holdings-Group-Company-Limited-Branch-Office-Number-Seventeen',
    ]) {
      const built = await buildCertificate(
        sampleData({ company: { ...sampleData().company, name } }),
        opts,
      );
      const l = built.layout.companyName;
      assert.ok(l.lines.length >= 1 && l.lines.length <= 2, `${l.lines.length} lines`);
      assert.ok(l.size < 27, 'long name kept the full size');
      for (const line of l.lines) inside(line, l.size);
      assert.equal(
        l.lines.map((x) => x.text).join(''),
        name.replace(/ /g, ''),
        'text lost in wrapping',
      );
    }
  });

  it('when the company name is short, then it stays one line at full size, centred', async () => {
    const built = await buildCertificate(
      sampleData({ company: { ...sampleData().company, name: '喆堃公司' } }),
      opts,
    );
    const l = built.layout.companyName;
    assert.equal(l.lines.length, 1);
    assert.equal(l.size, 27);
    const line = l.lines[0]!;
    assert.ok(Math.abs(line.x + line.width / 2 - (box.x + box.w / 2)) < 0.01);
  });

  it('when user text contains PDF syntax, control and bidi characters, then it is drawn as text and the file stays valid', async () => {
    const nasty = 'Evil) Tj ET /F1 99 Tf (pwn <00ff> \\ 公司\n\u0000\u202Eabc\u200B\uFEFF';
    const pdf = await renderCertificate(
      sampleData({
        company: { ...sampleData().company, name: nasty, nameEn: '%%EOF\nendobj trailer <<>>' },
      }),
      opts,
    );
    const doc = await PDFDocument.load(pdf);
    assert.equal(doc.getPageCount(), 1);
    if (!hasTool('pdftotext')) return;
    const dir = tmpDir();
    try {
      const p = writeTmp(dir, 'nasty.pdf', pdf);
      const text = runOk('pdftotext', [p, '-']).replace(/\s+/g, ' ');
      assert.ok(text.includes('Evil) Tj ET /F1 99 Tf (pwn <00ff> \\ 公司 abc'), text);
      assert.ok(text.includes('%%EOF endobj trailer <<>>'));
      if (hasTool('qpdf')) assert.equal(run('qpdf', ['--check', p]).status, 0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('when required data is missing or invalid, then rendering refuses with a clear error', async () => {
    await assert.rejects(
      renderCertificate(sampleData({ serial: 'EQI-2026-000123-X' }), opts),
      /serial/,
    );
    await assert.rejects(
      renderCertificate(
        sampleData({ company: { ...sampleData().company, name: ' \u200B ' } }),
        opts,
      ),
      /company\.name/,
    );
    await assert.rejects(
      renderCertificate(
        sampleData({ initiative: { ...sampleData().initiative, sha256: 'abc' } }),
        opts,
      ),
      /sha256/,
    );
    await assert.rejects(
      renderCertificate(sampleData({ foundingNumber: 101 }), opts),
      /foundingNumber/,
    );
    await assert.rejects(
      renderCertificate(sampleData({ activatedAt: 'yesterday' }), opts),
      /activatedAt/,
    );
    await assert.rejects(
      renderCertificate(sampleData(), { ...opts, publicUrl: 'javascript:alert(1)' }),
      /publicUrl/,
    );
  });

  it('when a character is outside the font, then unsupportedCharacters names it and the text still extracts', async () => {
    assert.deepEqual(await unsupportedCharacters(`${RARE} ABC 有限公司`), []);
    assert.deepEqual(await unsupportedCharacters('公司\uE000𠮷'), ['\uE000', '𠮷']);
    const name = '𠮷野家（上海）餐饮有限公司';
    const pdf = await renderCertificate(
      sampleData({ company: { ...sampleData().company, name } }),
      opts,
    );
    if (!hasTool('pdftotext')) return;
    const dir = tmpDir();
    try {
      // Drawn as a .notdef box, but ActualText keeps search and copy-paste right.
      assert.ok(runOk('pdftotext', [writeTmp(dir, 'x.pdf', pdf), '-']).includes(name));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
