/**
 * The certificate render pool on its own (src/certificates/render-pool.ts): certificates
 * rendered and signed in worker threads are the ones issued in-process, a log proof is asked
 * of the main thread between signing and finishing, and a worker that dies fails only its own
 * jobs and is replaced. Real worker threads, real PDFs.
 */
import assert from 'node:assert/strict';
import type { Worker } from 'node:worker_threads';
import {
  extractAttachment,
  issueCertificate,
  LOG_PROOF_FILENAME,
  toJwks,
  verifyCertificatePdf,
} from '../../certificates';
import { RenderPool } from '../../src/certificates/render-pool';
import { issuer, PUBLIC_URL, sampleData } from './helpers';

describe('certificates: the render pool', function () {
  this.timeout(60_000);
  const pools: RenderPool[] = [];
  const pool = (opts?: ConstructorParameters<typeof RenderPool>[3]) => {
    const o = issuer();
    const p = new RenderPool(
      { signingKey: o.signingKey, pdfSigner: o.p12Signer },
      PUBLIC_URL,
      undefined,
      opts,
    );
    pools.push(p);
    return p;
  };
  after(async () => {
    await Promise.all(pools.map((p) => p.close()));
  });

  it('when a certificate is rendered and signed in a worker, then its credential is the in-process one and the PDF verifies', async () => {
    const data = sampleData({}, 301);
    const here = await issueCertificate(data, issuer());
    const there = await pool({ size: 1 }).issue({ data });
    // Ed25519 is deterministic: the same JWS means the same credential, render digest included.
    assert.equal(there.jws, here.jws);
    const check = await verifyCertificatePdf(there.pdf, toJwks([issuer().signingKey]));
    assert.equal(check.valid, true, JSON.stringify(check.checks));
  });

  it('when a log proof is wanted, then the signed credential comes to the caller and its proof is attached to the PDF', async () => {
    const seen: string[] = [];
    const out = await pool({ size: 1 }).issue({
      data: sampleData({}, 302),
      logProof: async (jws) => {
        seen.push(jws);
        return { leafIndex: 41, note: 'from the main thread' };
      },
    });
    assert.deepEqual(seen, [out.jws]);
    const proof = await extractAttachment(out.pdf, LOG_PROOF_FILENAME);
    assert.ok(proof, 'log-proof.json attached');
    assert.deepEqual(JSON.parse(proof), { leafIndex: 41, note: 'from the main thread' });
  });

  it('when the log proof fails, then that certificate fails with its error and the worker goes on', async () => {
    const p = pool({ size: 1 });
    await assert.rejects(
      p.issue({
        data: sampleData({}, 303),
        logProof: () => Promise.reject(new Error('no checkpoint in time')),
      }),
      /no checkpoint in time/,
    );
    assert.equal((await p.issue({ data: sampleData({}, 304) })).jws.split('.').length, 3);
    assert.equal(p.replaced, 0);
  });

  it('when many certificates wait for their log proofs at once, then one worker holds them all and each gets its own proof', async () => {
    const p = pool({ size: 1 });
    const out = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        p.issue({
          data: sampleData({}, 310 + i),
          logProof: async (jws) => {
            await new Promise((r) => setTimeout(r, 200));
            return { i, jwsTail: jws.slice(-16) };
          },
        }),
      ),
    );
    for (const [i, o] of out.entries()) {
      const proof = JSON.parse((await extractAttachment(o.pdf, LOG_PROOF_FILENAME))!);
      assert.deepEqual(proof, { i, jwsTail: o.jws.slice(-16) });
    }
  });

  it('when a worker dies with a certificate in progress, then that certificate fails and the next one is issued by a new worker', async () => {
    const p = pool({ size: 1 });
    let dying: Promise<unknown> | undefined;
    const job = p.issue({
      data: sampleData({}, 330),
      logProof: async () => {
        const slots = (p as unknown as { slots: Set<{ worker: Worker }> }).slots;
        dying = Promise.all([...slots].map((s) => s.worker.terminate()));
        await dying;
        return {};
      },
    });
    await assert.rejects(job, /renderer stopped/);
    assert.equal(p.replaced, 1);
    const next = await p.issue({ data: sampleData({}, 331) });
    const check = await verifyCertificatePdf(next.pdf, toJwks([issuer().signingKey]));
    assert.equal(check.valid, true);
  });

  it('when the pool is closed, then it refuses more certificates', async () => {
    const p = pool({ size: 1 });
    await p.close();
    await assert.rejects(p.issue({ data: sampleData({}, 340) }), /shut down/);
  });
});
