/**
 * The credential as JSON-LD: expanded with the jsonld processor in safe mode (which refuses to
 * drop a term it cannot map), with a document loader that serves the W3C VC 2.0 context from a
 * local copy (@digitalcredentials/credentials-v2-context) and the registry's own context from the
 * app (GET /ns/eqi/v1), as another verifier's loader would fetch it. No network.
 */
import assert from 'node:assert/strict';
import mongoose from 'mongoose';
import request from 'supertest';
import { decodeJws, extractCredential } from '../../certificates';
import { activePledge } from '../helpers/pledges';
import { useRegistry } from '../helpers/registry';

interface JsonLd {
  expand(
    input: object,
    options: { documentLoader: (url: string) => Promise<object>; safe?: boolean },
  ): Promise<unknown[]>;
}
// Neither package ships types; only expand() and the context object are used.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const jsonld = require('jsonld') as JsonLd;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const vc2 = require('@digitalcredentials/credentials-v2-context') as {
  CONTEXT_URL: string;
  CONTEXT: object;
};

/** Every string, number and boolean under `v`, but not in @context and not null. */
function leaves(v: unknown): number {
  if (v === null) return 0;
  if (Array.isArray(v)) return v.reduce((n: number, x) => n + leaves(x), 0);
  if (typeof v === 'object')
    return Object.entries(v as object).reduce(
      (n, [k, x]) => n + (k === '@context' ? 0 : leaves(x)),
      0,
    );
  return 1;
}

/** The values of an expanded document: each @value, each @id and each node @type. */
function expandedValues(v: unknown): number {
  if (Array.isArray(v)) return v.reduce((n: number, x) => n + expandedValues(x), 0);
  if (!v || typeof v !== 'object') return 0;
  const o = v as Record<string, unknown>;
  if ('@value' in o) return 1;
  return Object.entries(o).reduce(
    (n, [k, x]) =>
      n + (k === '@id' ? 1 : k === '@type' ? (x as unknown[]).length : expandedValues(x)),
    0,
  );
}

describe('certificate credentials as JSON-LD (the registry context at /ns/eqi/v1)', function () {
  this.timeout(60_000);
  const r = useRegistry();
  let payload: Record<string, unknown>;

  const loader = (contexts: Record<string, () => Promise<object>>) => async (url: string) => {
    const load = contexts[url];
    if (!load) throw new Error(`no document for ${url} (tests have no network)`);
    return { contextUrl: null, documentUrl: url, document: await load() };
  };
  const served = async () => {
    const res = await request(r.app).get('/ns/eqi/v1').expect(200);
    assert.match(String(res.headers['content-type']), /^application\/ld\+json/);
    assert.equal(res.headers['access-control-allow-origin'], '*');
    return JSON.parse(res.text) as object;
  };

  before(async () => {
    const p = await activePledge(r, (await r.makeAdmin()).token);
    for (let i = 0; i < 400 && !payload; i++) {
      const cert = (await mongoose.connection
        .db!.collection('certificates')
        .findOne({ pledge: new mongoose.Types.ObjectId(p.id) })) as { serial: string } | null;
      const stored = cert
        ? await mongoose.connection
            .db!.collection('certificate_pdfs')
            .findOne({ _id: cert.serial as never })
        : null;
      if (stored)
        payload = decodeJws(
          (await extractCredential(Buffer.from((stored.pdf as { buffer: Uint8Array }).buffer)))!,
        ).payload;
      else await new Promise((res) => setTimeout(res, 50));
    }
    assert.ok(payload, 'a certificate was issued');
  });

  it('when an issued credential is expanded in safe mode with the VC 2.0 context and the served registry context, then it succeeds and every value is kept under an absolute IRI', async () => {
    assert.deepEqual(payload['@context'], [vc2.CONTEXT_URL, 'https://registry.test/ns/eqi/v1']);
    const expanded = await jsonld.expand(payload, {
      safe: true,
      documentLoader: loader({
        [vc2.CONTEXT_URL]: async () => vc2.CONTEXT,
        'https://registry.test/ns/eqi/v1': served,
      }),
    });
    assert.equal(expanded.length, 1);
    // Nothing dropped: as many values come out as went in (the language maps become tagged values).
    assert.equal(expandedValues(expanded), leaves(payload));
    const iris = new Set<string>();
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object')
        for (const [k, x] of Object.entries(v)) {
          if (!k.startsWith('@')) iris.add(k);
          walk(x);
        }
    };
    walk(expanded);
    for (const iri of iris) assert.match(iri, /^https:\/\//, iri);
    for (const term of [
      'uscc',
      'serialNumber',
      'renderDigest',
      'logVerifierKey',
      // The test registry signs with generated development keys, so its credentials carry it.
      'developmentKey',
      'foundingNumber',
      'province',
    ])
      assert.ok(iris.has(`https://registry.test/ns/eqi/v1#${term}`), term);
    const subject = (expanded[0] as Record<string, Array<Record<string, unknown>>>)[
      'https://www.w3.org/2018/credentials#credentialSubject'
    ]![0]!;
    assert.deepEqual(subject['@type'], ['https://schema.org/Organization']);
    assert.ok(
      (subject['https://registry.test/ns/eqi/v1#province'] as Array<{ '@language': string }>).some(
        (v) => v['@language'] === 'zh',
      ),
    );
  });

  it('when the registry context is left out, then safe-mode expansion refuses the credential (the context is what keeps its terms)', async () => {
    const only = { ...payload, '@context': [vc2.CONTEXT_URL] };
    await assert.rejects(
      jsonld.expand(only, {
        safe: true,
        documentLoader: loader({ [vc2.CONTEXT_URL]: async () => vc2.CONTEXT }),
      }),
      /safe mode|dropped|relative/i,
    );
  });
});
