// Certificates signed with generated development keys must not pass as real ones: the page
// carries the SAMPLE watermark and the credential the developmentKey claim; without the flag
// neither appears (font-identity.test.ts pins that the plain rendering is unchanged).
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  PAGE,
  decodeJws,
  issueCertificate,
  renderCertificate,
  toJwks,
  verifyCertificatePdf,
} from '../../certificates';
import { isDevelopmentCredential } from '../../certificates/credential';
import { SAMPLE_WATERMARK } from '../../certificates/render';
import {
  PUBLIC_URL,
  issuer,
  needTool,
  readPgm,
  runOk,
  sampleData,
  tmpDir,
  writeTmp,
} from './helpers';

const FINGERPRINT = 'AAAA BBBB CCCC DDDD';
const squash = (s: string) => s.replace(/\s+/g, '');

/** The page's text in content order (rotated text comes out a glyph a line, so spaces are dropped). */
function pageText(pdf: Uint8Array): string {
  return squash(runOk('pdftotext', ['-raw', writeTmp(tmpDir(), 'c.pdf', pdf), '-']));
}

function raster(pdf: Uint8Array): ReturnType<typeof readPgm> {
  const dir = tmpDir();
  runOk('pdftoppm', [
    '-r',
    '72',
    '-gray',
    '-singlefile',
    writeTmp(dir, 'c.pdf', pdf),
    path.join(dir, 'page'),
  ]);
  return readPgm(path.join(dir, 'page.pgm'));
}

describe('development certificates', function () {
  this.timeout(30_000);
  const data = sampleData();

  it('when rendered as a sample, then pdftotext finds the watermark in Chinese and English; rendered plainly, it finds none', async function () {
    needTool(this, 'pdftotext', 'poppler-utils');
    const sample = pageText(
      await renderCertificate(data, {
        publicUrl: PUBLIC_URL,
        keyFingerprint: FINGERPRINT,
        sample: true,
      }),
    );
    assert.ok(sample.includes(squash(SAMPLE_WATERMARK.zh)), sample);
    assert.ok(sample.includes(squash(SAMPLE_WATERMARK.en)), sample);
    // The certificate's own text is still all there.
    assert.ok(sample.includes(squash(data.company.name)));
    const plain = pageText(
      await renderCertificate(data, { publicUrl: PUBLIC_URL, keyFingerprint: FINGERPRINT }),
    );
    assert.ok(!plain.includes('SAMPLE'), plain);
    assert.ok(!plain.includes('开发密钥'), plain);
  });

  it('when rasterised, then the watermark is light ink along the diagonal and the company name stays dark', async function () {
    needTool(this, 'pdftoppm', 'poppler-utils');
    const opts = { publicUrl: PUBLIC_URL, keyFingerprint: FINGERPRINT };
    const sample = raster(await renderCertificate(data, { ...opts, sample: true }));
    const plain = raster(await renderCertificate(data, opts));
    assert.equal(sample.width, plain.width);
    // Along the diagonal (bottom-left to top-right), in each third, the sample has ink the plain page lacks.
    const thirds = [0, 0, 0];
    let darkest = 255;
    for (let y = 0; y < sample.height; y++) {
      for (let x = 0; x < sample.width; x++) {
        const i = y * sample.width + x;
        if (plain.px[i]! < 235 || sample.px[i]! >= plain.px[i]! - 10) continue;
        darkest = Math.min(darkest, sample.px[i]!);
        const t = x / sample.width;
        const onDiagonal = Math.abs(PAGE.height - y - (x * PAGE.height) / PAGE.width) < 80;
        if (onDiagonal) thirds[Math.min(2, Math.floor(t * 3))]!++;
      }
    }
    for (const n of thirds)
      assert.ok(n > 300, `watermark ink per third of the diagonal: ${thirds}`);
    // Light: where the paper was blank, the watermark is no darker than a pale grey.
    assert.ok(darkest > 150, `darkest watermark pixel ${darkest}`);
    // The data is drawn over it: the company name keeps its darkest ink.
    const nameRow = Math.round(PAGE.height - 380);
    const minIn = (img: typeof sample) =>
      Math.min(...img.px.subarray(nameRow * img.width, (nameRow + 1) * img.width));
    assert.ok(minIn(sample) <= minIn(plain) + 5, `${minIn(sample)} vs ${minIn(plain)}`);
  });

  it('when issued with development keys, then the credential says developmentKey and the PDF still verifies', async () => {
    const o = issuer();
    const dev = await issueCertificate(data, { ...o, development: true });
    assert.equal(decodeJws(dev.jws).payload.developmentKey, true);
    assert.ok(isDevelopmentCredential(dev.credential));
    const checked = await verifyCertificatePdf(dev.pdf, toJwks([o.signingKey]));
    assert.ok(checked.valid, JSON.stringify(checked.checks));
    assert.ok(checked.credential && isDevelopmentCredential(checked.credential));
  });

  it('when issued with configured keys, then the credential has no developmentKey claim', async () => {
    const plain = await issueCertificate(data, issuer());
    assert.equal('developmentKey' in decodeJws(plain.jws).payload, false);
    assert.equal(isDevelopmentCredential(plain.credential), false);
  });
});
