import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import mongoose from 'mongoose';
import request from 'supertest';
import {
  extractAttachment,
  extractCredential,
  decodeJws,
  LOG_PROOF_FILENAME,
} from '../../certificates';
import {
  decodeEntry,
  leafHash,
  openCheckpoint,
  parseVerifierKey,
  verifyInclusion,
} from '../../src/tlog';
import { activePledge } from '../helpers/pledges';
import { useRegistry } from '../helpers/registry';

describe('certificates bound to the transparency log', function () {
  this.timeout(60_000);
  const r = useRegistry({
    ASSOCIATION_NAME_ZH: '测试质量协会',
    ASSOCIATION_NAME_EN: 'Test Quality Association',
  });

  it('when a certificate is issued, then its PDF carries log-proof.json whose entry names its credential and whose inclusion proof verifies offline against the embedded checkpoint and the vkey', async () => {
    const admin = (await r.makeAdmin()).token;
    const p = await activePledge(r, admin);
    let cert: { serial: string } | null = null;
    for (let i = 0; i < 400 && !cert; i++) {
      cert = (await mongoose.connection
        .db!.collection('certificates')
        .findOne({ pledge: new mongoose.Types.ObjectId(p.id) })) as { serial: string } | null;
      if (!cert) await new Promise((res) => setTimeout(res, 50));
    }
    assert.ok(cert, 'a certificate was issued');
    const pdfDoc = await mongoose.connection
      .db!.collection('certificate_pdfs')
      .findOne({ _id: cert.serial as never });
    const pdf = Buffer.from((pdfDoc!.pdf as { buffer: Uint8Array }).buffer);

    const jws = (await extractCredential(pdf))!;
    const proof = JSON.parse((await extractAttachment(pdf, LOG_PROOF_FILENAME))!) as {
      leafIndex: number;
      entry: string;
      inclusionProof: string[];
      checkpoint: string;
    };
    const vkey = parseVerifierKey((await request(r.app).get('/log/vkey').expect(200)).text.trim());
    const cp = openCheckpoint(proof.checkpoint, vkey);
    const entryBytes = Buffer.from(proof.entry, 'base64');
    const entry = decodeEntry(entryBytes);
    assert.equal(entry.type, 'certificate.issued');
    assert.ok('serial' in entry && entry.serial === cert.serial);
    assert.ok(
      'credentialSha256' in entry &&
        entry.credentialSha256 === createHash('sha256').update(jws).digest('hex'),
    );
    assert.ok(
      verifyInclusion(
        proof.leafIndex,
        cp.size,
        leafHash(entryBytes),
        proof.inclusionProof.map((h) => Buffer.from(h, 'base64')),
        cp.rootHash,
      ),
    );

    // The kid resolves: the key URL under the issuer, whose fragment is the JWKS entry's kid.
    const jwks = (await request(r.app).get('/.well-known/jwks.json').expect(200)).body as {
      keys: Array<{ kid: string }>;
    };
    const kid = decodeJws(jws).header.kid as string;
    assert.match(kid, /^https:\/\/registry\.test\/\.well-known\/jwks\.json#[A-Za-z0-9_-]{43}$/);
    assert.ok(jwks.keys.some((k) => k.kid === kid.split('#')[1]));
    const list = decodeJws(
      (await request(r.app).get('/api/v1/status/revocation').expect(200)).text,
    );
    assert.equal(list.header.kid, kid);
    assert.equal(list.payload.iss, 'https://registry.test');
    // The configured association issues it (ASSOCIATION_NAME_ZH / _EN).
    assert.deepEqual((decodeJws(jws).payload as { issuer: object }).issuer, {
      id: 'https://registry.test',
      name: '测试质量协会',
      nameEn: 'Test Quality Association',
    });
    const payload = decodeJws(jws).payload as {
      iss: string;
      credentialStatus: Array<Record<string, string>>;
    };
    assert.equal(payload.iss, 'https://registry.test');
    assert.deepEqual(
      payload.credentialStatus.map((s) => [s.type, s.statusPurpose, s.statusListCredential]),
      [
        [
          'BitstringStatusListEntry',
          'revocation',
          'https://registry.test/api/v1/status/revocation',
        ],
        [
          'BitstringStatusListEntry',
          'suspension',
          'https://registry.test/api/v1/status/suspension',
        ],
      ],
    );
    assert.match(payload.credentialStatus[0].statusListIndex, /^(0|[1-9][0-9]*)$/);

    const online = await request(r.app)
      .get(`/api/v1/certificates/${cert.serial}/proof`)
      .expect(200);
    assert.equal(online.body.leafIndex, proof.leafIndex);
    assert.equal(online.body.entry, proof.entry);
    const cp2 = openCheckpoint(online.body.checkpoint, vkey);
    assert.ok(
      verifyInclusion(
        online.body.leafIndex,
        cp2.size,
        leafHash(entryBytes),
        (online.body.inclusionProof as string[]).map((h) => Buffer.from(h, 'base64')),
        cp2.rootHash,
      ),
    );
    assert.equal(
      (await request(r.app).get('/api/v1/certificates/EQI-2026-999999-X/proof')).status,
      404,
    );
  });
});
