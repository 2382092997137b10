/**
 * The verification pool on its own: a worker that runs over its time or out of memory is
 * replaced and its file refused with the reason (422); a full pool refuses more uploads (503);
 * a closed one refuses everything. Real worker threads, real PDFs.
 */
import assert from 'node:assert/strict';
import { issueCertificatePdf, toJwks } from '../../certificates';
import { VerificationRefused, VerifyPool } from '../../src/certificates/verify-pool';
import { issuer, sampleData } from '../certificates/helpers';
import { manyObjects, objectStreamBomb } from './hostile-pdfs';

describe('upload abuse: the verification worker pool', function () {
  this.timeout(60_000);
  let certificate: Uint8Array;
  const jwks = () => toJwks([issuer().signingKey]);
  const pools: VerifyPool[] = [];
  const pool = (opts: ConstructorParameters<typeof VerifyPool>[0]) => {
    const p = new VerifyPool(opts);
    pools.push(p);
    return p;
  };

  before(async () => {
    certificate = await issueCertificatePdf(sampleData(), issuer());
  });
  after(async () => {
    await Promise.all(pools.map((p) => p.close()));
  });

  const refusal = async (work: Promise<unknown>): Promise<VerificationRefused> => {
    try {
      await work;
    } catch (e) {
      assert.ok(e instanceof VerificationRefused, String(e));
      return e;
    }
    assert.fail('expected a refusal');
  };

  it('when a genuine certificate is checked in the pool, then its offline checks pass as they do in-process', async () => {
    const result = await pool({ size: 1 }).verify(certificate, jwks());
    assert.equal(result.valid, true, JSON.stringify(result.checks));
  });

  it('when a verification runs over its time, then 422 says so and its worker is replaced (twice in a row)', async () => {
    const p = pool({ size: 1, timeoutMs: 1 });
    for (const n of [1, 2]) {
      const e = await refusal(p.verify(certificate, jwks()));
      assert.equal(e.status, 422);
      assert.equal(e.kind, 'time');
      assert.match(e.detail!, /takes longer than 0\.001 s/);
      assert.equal(p.replaced, n);
    }
  });

  it('when a worker runs out of memory, then 422 says so, the worker is replaced and the next file is checked', async () => {
    const p = pool({
      size: 1,
      maxHeapMb: 24,
      timeoutMs: 30_000,
      limits: { maxObjects: 10_000_000 },
    });
    const e = await refusal(p.verify(manyObjects(230_000), jwks()));
    assert.equal(e.status, 422);
    assert.equal(e.kind, 'memory');
    assert.equal(p.replaced, 1);
    assert.equal((await p.verify(certificate, jwks())).valid, true);
  });

  it('when a file is over a cap set for the pool, then 422 names that cap, and the same worker checks the next file', async () => {
    const p = pool({ size: 1, limits: { maxInflatedBytes: 1024 * 1024 } });
    const e = await refusal(p.verify(objectStreamBomb(8 * 1024 * 1024), jwks()));
    assert.equal(e.kind, 'inflated');
    assert.match(e.detail!, /expand to more than 1 MiB/);
    assert.equal((await p.verify(certificate, jwks())).valid, true);
    assert.equal(p.replaced, 0);
  });

  it('when every place is taken, then one more upload is a 503 with Retry-After; a released place can be taken again', () => {
    const p = pool({ size: 1, maxPending: 2 });
    const a = p.admit();
    const b = p.admit();
    assert.throws(
      () => p.admit(),
      (e: VerificationRefused) => e.status === 503 && e.kind === 'busy' && e.retryAfter === 5,
    );
    a();
    a(); // releasing twice gives back one place only
    const c = p.admit();
    assert.throws(() => p.admit(), VerificationRefused);
    b();
    c();
  });

  it('when the pool is closed, then queued and new verifications are a 503', async () => {
    const p = pool({ size: 1 });
    const queued = refusal(p.verify(certificate, jwks()));
    await p.close();
    assert.equal((await queued).status, 503);
    assert.equal((await refusal(p.verify(certificate, jwks()))).status, 503);
    assert.throws(() => p.admit(), VerificationRefused);
  });
});
