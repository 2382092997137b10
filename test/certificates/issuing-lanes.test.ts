/**
 * The issuing lanes of `issuePending` (src/certificates/issuing.ts): lanes open one after
 * another while earlier ones run, and a lane that fails must surface as issuePending's
 * rejection, never as an unhandled rejection (which stops the app process).
 */
import assert from 'node:assert/strict';
import type { CertificateDoc } from '../../models/certificate';
import type { PledgeDoc } from '../../models/pledge';
import { activePledge, useManualCertificates } from '../helpers/pledges';
import { useRegistry } from '../helpers/registry';

type Issuer = { issueFor(p: PledgeDoc): Promise<CertificateDoc> };

describe('certificate issuing lanes', () => {
  const r = useRegistry();
  const manual = useManualCertificates(r);

  it('when a lane opened while another is rendering fails, then issuePending rejects with its error and nothing is left unhandled', async () => {
    await activePledge(r, manual.admin.token);
    await activePledge(r, manual.admin.token);
    const issuer = (r.registry.certificates as unknown as { issuer: Issuer }).issuer;
    const real = issuer.issueFor.bind(issuer);
    let calls = 0;
    // The first lane renders for real (slow); the second fails at once, while the first runs.
    issuer.issueFor = (p) =>
      ++calls === 1 ? real(p) : Promise.reject(new Error('the second lane failed'));
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    // Mocha's own listener would fail the run; this test wants to see the event itself.
    const others = process.listeners('unhandledRejection');
    process.removeAllListeners('unhandledRejection');
    process.on('unhandledRejection', onUnhandled);
    try {
      await assert.rejects(r.registry.certificates.issuePending(), /the second lane failed/);
      await new Promise((res) => setTimeout(res, 50));
    } finally {
      process.off('unhandledRejection', onUnhandled);
      for (const l of others) process.on('unhandledRejection', l);
      delete (issuer as Partial<Issuer>).issueFor;
    }
    assert.equal(calls, 2);
    assert.deepEqual(unhandled, []);
  });
});
