/**
 * Development certificates must not pass as real ones (issue #13): a registry on its generated
 * development keys issues certificates with the SAMPLE watermark, and the API, the verify page
 * and the upload verdict say "development certificate"; with configured keys none of it appears.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { createDevP12, exportSigningKeyPem, generateSigningKey } from '../../certificates';
import { SAMPLE_WATERMARK } from '../../certificates/render';
import { en } from '../../src/i18n/messages/en';
import { zhCN } from '../../src/i18n/messages/zh-CN';
import { needTool, runOk, tmpDir, writeTmp } from '../certificates/helpers';
import {
  activePledgeWithCertificate,
  useManualCertificates,
  type TestAdmin,
} from '../helpers/pledges';
import { useRegistry, type RegistryHandle } from '../helpers/registry';
import { escaped, uploadOnSite } from './helpers';

const squash = (s: string) => s.replace(/\s+/g, '');
const NOTICE = [zhCN['verify.development'], en['verify.development']] as const;

/** What every surface says about one certificate of registry `r`. */
async function surfaces(r: RegistryHandle, manual: { readonly admin: TestAdmin }) {
  const { serial, pdf } = await activePledgeWithCertificate(r, { admin: manual.admin });
  const api = (await request(r.app).get(`/api/v1/certificates/${serial}`).expect(200)).body as {
    development: boolean;
  };
  const verdict = (
    await request(r.app).post('/api/v1/verify').attach('file', pdf, 'c.pdf').expect(200)
  ).body as { valid: boolean; development: boolean };
  const pages = {
    zh: (await request(r.app).get(`/verify/${serial}`).expect(200)).text,
    en: (await request(r.app).get(`/verify/${serial}?lang=en`).expect(200)).text,
    uploadZh: (await uploadOnSite(r.app, pdf, 'zh-CN', 200)).text,
    uploadEn: (await uploadOnSite(r.app, pdf, 'en', 200)).text,
  };
  return { serial, pdf, api, verdict, pages };
}

describe('development certificates on the registry', function () {
  this.timeout(60_000);

  describe('a registry on generated development keys', () => {
    const r = useRegistry();
    const manual = useManualCertificates(r);
    let s: Awaited<ReturnType<typeof surfaces>>;
    before(async function () {
      this.timeout(60_000);
      assert.equal(r.registry.keys.isDevelopment, true, 'the test registry generates its keys');
      s = await surfaces(r, manual);
    });

    it('when its certificate is read with pdftotext, then the page carries the SAMPLE watermark', function () {
      needTool(this, 'pdftotext', 'poppler-utils');
      const text = squash(runOk('pdftotext', ['-raw', writeTmp(tmpDir(), 'c.pdf', s.pdf), '-']));
      assert.ok(text.includes(squash(SAMPLE_WATERMARK.zh)), text);
      assert.ok(text.includes(squash(SAMPLE_WATERMARK.en)), text);
    });

    it('when the API is asked, then the certificate and the upload verdict say development: true', () => {
      assert.equal(s.api.development, true);
      assert.equal(s.verdict.development, true);
      // Development only marks it: the file is still the registry's own, every check passes.
      assert.equal(s.verdict.valid, true);
    });

    it('when the verify page and the upload result are opened, then they show the development notice in the page language', () => {
      for (const page of [s.pages.zh, s.pages.uploadZh]) {
        assert.ok(page.includes(escaped(NOTICE[0])), 'the Chinese notice');
        assert.match(page, /role="alert" data-development/);
      }
      for (const page of [s.pages.en, s.pages.uploadEn])
        assert.ok(page.includes(escaped(NOTICE[1])), 'the English notice');
    });
  });

  describe('a registry with configured signing keys', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eqi-keys-'));
    const p12 = createDevP12({ commonName: 'EQI test (configured)', passphrase: 'configured' });
    fs.writeFileSync(path.join(dir, 'signing.pem'), exportSigningKeyPem(generateSigningKey()));
    fs.writeFileSync(path.join(dir, 'signing.p12'), p12.p12);
    const r = useRegistry({
      SIGNING_KEY: path.join(dir, 'signing.pem'),
      SIGNING_P12: path.join(dir, 'signing.p12'),
      SIGNING_P12_PASSWORD: p12.passphrase,
    });
    const manual = useManualCertificates(r);
    let s: Awaited<ReturnType<typeof surfaces>>;
    before(async function () {
      this.timeout(60_000);
      assert.equal(r.registry.keys.isDevelopment, false);
      s = await surfaces(r, manual);
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('when its certificate is read with pdftotext, then there is no watermark', function () {
      needTool(this, 'pdftotext', 'poppler-utils');
      const text = squash(runOk('pdftotext', ['-raw', writeTmp(tmpDir(), 'c.pdf', s.pdf), '-']));
      assert.ok(!text.includes('SAMPLE') && !text.includes('开发密钥'), text);
    });

    it('when the API and the pages are asked, then nothing says development', () => {
      assert.equal(s.api.development, false);
      assert.equal(s.verdict.development, false);
      assert.equal(s.verdict.valid, true);
      for (const page of Object.values(s.pages)) {
        assert.doesNotMatch(page, /data-development/);
        for (const n of NOTICE) assert.ok(!page.includes(escaped(n)));
      }
    });
  });
});
