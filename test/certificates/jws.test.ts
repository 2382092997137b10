import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import {
  CredentialError,
  buildCredential,
  exportSigningKeyPem,
  generateSigningKey,
  jwkThumbprint,
  keyFingerprint,
  loadSigningKey,
  signCredential,
  toJwks,
  verifyCredential,
} from '../../certificates';
import { PUBLIC_URL, sampleData } from './helpers';

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof CredentialError, `expected CredentialError, got ${String(e)}`);
    return e.reason;
  }
  assert.fail('expected verification to fail');
}

describe('credential JWS (EdDSA)', () => {
  const key = generateSigningKey();
  const jwks = toJwks([key]);
  const vc = buildCredential(sampleData(), {
    publicUrl: PUBLIC_URL,
    renderDigest: 'sha256:' + '0'.repeat(64),
  });

  it('when a credential is signed, then it verifies with the published key and the payload round-trips', () => {
    const jws = signCredential(vc, key);
    const [h] = jws.split('.');
    assert.deepEqual(JSON.parse(Buffer.from(h!, 'base64url').toString()), {
      alg: 'EdDSA',
      typ: 'vc+jwt',
      cty: 'vc',
      kid: key.kid,
    });
    assert.deepEqual(verifyCredential(jws, jwks), JSON.parse(JSON.stringify(vc)));
  });

  it('when a credential is signed for the registry, then its kid is the resolvable key URL <PUBLIC_URL>/.well-known/jwks.json#<RFC 7638 thumbprint> and the payload carries iss', () => {
    const jws = signCredential(vc, key, { publicUrl: 'HTTPS://EQI.example.org/' });
    const header = JSON.parse(Buffer.from(jws.split('.')[0]!, 'base64url').toString()) as {
      kid: string;
    };
    assert.equal(header.kid, `${PUBLIC_URL}/.well-known/jwks.json#${jwkThumbprint(key.publicJwk)}`);
    assert.equal(vc.iss, PUBLIC_URL);
    assert.deepEqual(verifyCredential(jws, jwks), JSON.parse(JSON.stringify(vc)));
    // A credential signed before kids were URLs (bare thumbprint) still verifies.
    assert.deepEqual(
      verifyCredential(signCredential(vc, key), jwks),
      JSON.parse(JSON.stringify(vc)),
    );
  });

  it('when a URL kid names another host than iss, a path other than the JWKS, or a fragment that is not a published key, then verification fails with unknown-key', () => {
    const forged = (kid: string, payload: object = vc) => {
      const input = `${b64({ alg: 'EdDSA', typ: 'vc+jwt', cty: 'vc', kid })}.${b64(payload)}`;
      return `${input}.${crypto.sign(null, Buffer.from(input), key.privateKey).toString('base64url')}`;
    };
    const t = key.kid;
    for (const kid of [
      `https://evil.example/.well-known/jwks.json#${t}`,
      `${PUBLIC_URL}/keys.json#${t}`,
      `${PUBLIC_URL}/.well-known/jwks.json#${generateSigningKey().kid}`,
      `${PUBLIC_URL}/.well-known/jwks.json`,
      `${PUBLIC_URL}/.well-known/jwks.json?x=1#${t}`,
      `ftp://eqi.example.org/.well-known/jwks.json#${t}`,
    ]) {
      assert.equal(
        reason(() => verifyCredential(forged(kid), jwks)),
        'unknown-key',
        kid,
      );
    }
    // Without iss in the payload the URL form is still accepted by its shape.
    const { iss: _iss, ...noIss } = vc;
    assert.ok(
      verifyCredential(forged(`https://any.example/.well-known/jwks.json#${t}`, noIss), jwks),
    );
  });

  it('when the credential is built, then it is VC 2.0-shaped with the certified fields', () => {
    assert.deepEqual(vc['@context'], [
      'https://www.w3.org/ns/credentials/v2',
      `${PUBLIC_URL}/ns/eqi/v1`,
    ]);
    assert.deepEqual(vc.type, ['VerifiableCredential', 'QualityIntegrityPledgeCredential']);
    assert.equal(vc.id, `${PUBLIC_URL}/verify/${sampleData().serial}`);
    assert.equal(vc.serialNumber, sampleData().serial);
    assert.equal(vc.validFrom, '2026-03-05T02:00:00.000Z');
    assert.equal(vc.credentialSubject.uscc, '91350100M000100Y43');
    assert.equal(vc.credentialSubject.name, sampleData().company.name);
    assert.equal(vc.credentialSubject.pledge.foundingNumber, 7);
    assert.equal(vc.credentialSubject.pledge.initiative.version, '1.0');
    assert.equal(vc.credentialSubject.pledge.initiative.sha256, sampleData().initiative.sha256);
  });

  it('when one character of the payload is changed, then verification fails with bad-signature', () => {
    const jws = signCredential(vc, key);
    const [h, p, s] = jws.split('.') as [string, string, string];
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
    payload.credentialSubject.uscc = '91350100M000100Y44';
    assert.equal(
      reason(() => verifyCredential(`${h}.${b64(payload)}.${s}`, jwks)),
      'bad-signature',
    );
    // Flipping one base64url character of the payload, too.
    const flipped = p.slice(0, 10) + (p[10] === 'A' ? 'B' : 'A') + p.slice(11);
    assert.notEqual(
      reason(() => verifyCredential(`${h}.${flipped}.${s}`, jwks)),
      undefined,
    );
  });

  it('when signed by a foreign key, then verification fails (unknown kid, or bad-signature if it claims our kid)', () => {
    const foreign = generateSigningKey();
    assert.equal(
      reason(() => verifyCredential(signCredential(vc, foreign), jwks)),
      'unknown-key',
    );
    const impostor = { ...foreign, kid: key.kid };
    assert.equal(
      reason(() => verifyCredential(signCredential(vc, impostor), jwks)),
      'bad-signature',
    );
  });

  it('when the header says alg none, HS256 or RS256, then it is rejected before any key is used', () => {
    const p = b64(vc);
    for (const alg of ['none', 'HS256', 'RS256', 'ES256', 'eddsa', undefined]) {
      const h = b64({ alg, kid: key.kid, typ: 'vc+jwt' });
      assert.equal(
        reason(() => verifyCredential(`${h}.${p}.`, jwks)),
        'unsupported-alg',
        String(alg),
      );
    }
    // HS256 "signed" with the public key as the secret (the classic confusion attack).
    const h = b64({ alg: 'HS256', kid: key.kid });
    const mac = crypto
      .createHmac('sha256', key.publicJwk.x)
      .update(`${h}.${p}`)
      .digest('base64url');
    assert.equal(
      reason(() => verifyCredential(`${h}.${p}.${mac}`, jwks)),
      'unsupported-alg',
    );
  });

  it('when the JWS is malformed, then verification fails with malformed', () => {
    for (const bad of [
      '',
      'a.b',
      'a.b.c.d',
      '!!.??.**',
      `${b64('x')}.${b64(vc)}.sig`,
      'x'.repeat(70_000),
    ]) {
      assert.equal(
        reason(() => verifyCredential(bad, jwks)),
        'malformed',
        bad.slice(0, 20),
      );
    }
  });

  it('when a JWKS entry is mislabelled (kid not its own thumbprint), then it is not trusted', () => {
    const jws = signCredential(vc, key);
    const other = generateSigningKey();
    const lying = { keys: [{ ...other.publicJwk, kid: key.kid }] };
    assert.equal(
      reason(() => verifyCredential(jws, lying)),
      'unknown-key',
    );
    assert.equal(
      reason(() => verifyCredential(jws, { keys: 'nope' } as unknown as { keys: unknown[] })),
      'unknown-key',
    );
  });

  it('when keys rotate, then a JWKS listing old and new keys verifies credentials of both', () => {
    const next = generateSigningKey();
    const both = toJwks([next, key]);
    assert.ok(verifyCredential(signCredential(vc, key), both));
    assert.ok(verifyCredential(signCredential(vc, next), both));
  });

  it('when a key is exported as PEM and loaded again, then kid, JWK and fingerprint are the same (RFC 7638)', () => {
    const again = loadSigningKey(exportSigningKeyPem(key));
    assert.equal(again.kid, key.kid);
    assert.deepEqual(again.publicJwk, key.publicJwk);
    assert.equal(key.kid, jwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x: key.publicJwk.x }));
    assert.match(key.fingerprint, /^([0-9A-F]{4} ){15}[0-9A-F]{4}$/);
    assert.equal(
      key.fingerprint.replace(/ /g, '').toLowerCase(),
      Buffer.from(key.kid, 'base64url').toString('hex'),
    );
    assert.equal(keyFingerprint(key.kid), key.fingerprint);
    assert.throws(
      () => loadSigningKey(crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey),
      TypeError,
    );
  });

  it('when computing an RFC 7638 thumbprint, then it matches the RFC 8037 Ed25519 example', () => {
    // RFC 8037 appendix A.3
    assert.equal(
      jwkThumbprint({
        kty: 'OKP',
        crv: 'Ed25519',
        x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo',
      }),
      'kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k',
    );
  });
});
