/**
 * The upload check reads log-proof.json as `npm run verify` does (src/transparency/offline.ts):
 * the embedded checkpoint is signed by the registry's own log key, the inclusion proof leads to
 * its root, and the entry names this serial and credential. Twins of a registry certificate,
 * re-issued with the registry's keys and the same credential but another log-proof.json, fail
 * only that check, with a reason code the pages translate.
 */
import assert from 'node:assert/strict';
import request from 'supertest';
import {
  decodeJws,
  extractAttachment,
  generateSigningKey,
  issueCertificate,
  LOG_PROOF_FILENAME,
  type CertificateCredential,
} from '../../certificates';
import { Certificate, type CertificateDoc } from '../../models/certificate';
import { en } from '../../src/i18n/messages/en';
import { zhCN } from '../../src/i18n/messages/zh-CN';
import { memoryLog } from '../certificates/helpers';
import { activePledgeWithCertificate, useManualCertificates } from '../helpers/pledges';
import { useRegistry } from '../helpers/registry';
import { escaped, uploadOnSite } from './helpers';

interface Check {
  name: string;
  ok: boolean;
  code?: string;
  reason?: string;
  detail?: string;
}
interface Bundle {
  leafIndex: number;
  entry: string;
  inclusionProof: string[];
  checkpoint: string;
}

describe('upload check: the transparency-log proof', function () {
  this.timeout(60_000);
  const r = useRegistry();
  const manual = useManualCertificates(r);
  let pdf: Buffer;
  let other: Buffer;
  let cert: CertificateDoc;

  /** The same certificate (data, credential, keys), with `proof` as its log-proof.json. */
  async function twin(
    proof: ((jws: string) => Promise<object | null>) | undefined,
  ): Promise<Buffer> {
    const payload = decodeJws(cert.jws).payload as unknown as CertificateCredential;
    const issued = await issueCertificate(cert.data, {
      signingKey: r.registry.keys.signingKey,
      p12Signer: r.registry.keys.pdfSigner,
      publicUrl: r.config.publicUrl,
      association: r.config.association,
      credentialStatus: payload.credentialStatus,
      logVerifierKey: payload.logVerifierKey,
      development: r.registry.keys.isDevelopment,
      logProof: proof,
    });
    assert.equal(issued.jws, cert.jws, 'the twin carries the very credential the registry issued');
    return Buffer.from(issued.pdf);
  }

  const verify = async (file: Buffer) =>
    (await request(r.app).post('/api/v1/verify').attach('file', file, 'c.pdf').expect(200))
      .body as { valid: boolean; checks: Check[] };
  const bundleOf = async (file: Buffer) =>
    JSON.parse((await extractAttachment(file, LOG_PROOF_FILENAME))!) as Bundle;

  /** The verdict fails on log-proof alone, with `code`. */
  async function failsOnlyLogProof(file: Buffer, code: string): Promise<void> {
    const v = await verify(file);
    assert.equal(v.valid, false);
    const failed = v.checks.filter((c) => !c.ok);
    assert.deepEqual(
      failed.map((c) => [c.name, c.code]),
      [['log-proof', code]],
      JSON.stringify(v.checks),
    );
    assert.ok(failed[0]!.reason, 'the API keeps the English reason beside the code');
  }

  before(async function () {
    this.timeout(60_000);
    const a = await activePledgeWithCertificate(r, manual);
    const b = await activePledgeWithCertificate(r, manual);
    pdf = a.pdf;
    other = b.pdf;
    cert = (await Certificate.findOne({ serial: a.serial }).lean<CertificateDoc>())!;
  });

  it('when a registry certificate is uploaded, then the log-proof check passes and says what it proved', async () => {
    const v = await verify(pdf);
    assert.equal(v.valid, true, JSON.stringify(v.checks));
    const log = v.checks.find((c) => c.name === 'log-proof');
    assert.ok(log?.ok);
    assert.match(log.detail!, /leaf \d+ of the tree of size \d+/);
    assert.match(log.detail!, new RegExp(cert.serial));
    // Reported after the file's own checks, before the register's.
    const names = v.checks.map((c) => c.name);
    assert.ok(
      names.indexOf('log-proof') > names.indexOf('pdf-signature') &&
        names.indexOf('log-proof') < names.indexOf('serial-known'),
      names.join(),
    );
  });

  it('when the file carries no log-proof.json, then only the log check fails, as no-log-proof', async () => {
    await failsOnlyLogProof(await twin(undefined), 'no-log-proof');
  });

  it('when a hash of the inclusion proof is altered, then it fails as inclusion-invalid', async () => {
    const real = await bundleOf(pdf);
    assert.ok(real.inclusionProof.length > 0, 'the test registry has logged more than one entry');
    const flipped = Buffer.from(real.inclusionProof[0]!, 'base64');
    flipped[0]! ^= 1;
    await failsOnlyLogProof(
      await twin(async () => ({
        ...real,
        inclusionProof: [flipped.toString('base64'), ...real.inclusionProof.slice(1)],
      })),
      'inclusion-invalid',
    );
  });

  it('when the proof is another certificate’s (genuine, from the same log), then it fails as entry-mismatch', async () => {
    const foreign = await bundleOf(other);
    await failsOnlyLogProof(await twin(async () => foreign), 'entry-mismatch');
  });

  it('when the checkpoint is signed by another log key (the file brings its own log), then it fails as checkpoint-unverified', async () => {
    const fake = memoryLog(generateSigningKey(), r.config.publicUrl);
    await failsOnlyLogProof(await twin((jws) => fake.logProof(jws)), 'checkpoint-unverified');
  });

  it('when the proof is not a bundle, then it fails as log-proof-malformed', async () => {
    await failsOnlyLogProof(await twin(async () => ({ hello: 'world' })), 'log-proof-malformed');
  });

  it('when such a file is checked on the site, then the log line fails with its reason in the page language', async () => {
    const file = await twin(undefined);
    for (const [lang, catalog] of [
      ['zh-CN', zhCN],
      ['en', en],
    ] as const) {
      const res = await uploadOnSite(r.app, file, lang, 200);
      const line =
        /<li class="checklist-item checklist-fail" data-check="log-proof">([^]*?)<\/li>/.exec(
          res.text,
        )?.[1];
      assert.ok(line, `${lang}: the log line failed`);
      assert.ok(line.includes(escaped(catalog['upload.check.log-proof'])), `${lang}: its label`);
      assert.ok(
        line.includes(
          `<span lang="${lang}">${escaped(catalog['upload.reason.no-log-proof'])}</span>`,
        ),
        `${lang}: ${line}`,
      );
    }
  });
});
