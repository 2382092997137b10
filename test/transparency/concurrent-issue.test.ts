/**
 * Two instances can issue one pledge's certificate at once (a claim that ran out in a slow
 * process, or a retry racing the first attempt): both take the pledge's reserved serial, and
 * both must render the same credential, so whichever logs it second finds its own entry.
 */
import assert from 'node:assert/strict';
import { Certificate } from '../../models/certificate';
import { Pledge, type PledgeDoc } from '../../models/pledge';
import { activePledge, useManualCertificates } from '../helpers/pledges';
import { useRegistry } from '../helpers/registry';

describe('certificate issued twice at once (transparency log)', function () {
  this.timeout(60_000);
  const r = useRegistry();
  const m = useManualCertificates(r);

  it('when two issuers render one pledge at the same moment, then both succeed with one serial and one logged credential', async () => {
    const p = await activePledge(r, m.admin.token);
    const pledge = (await Pledge.findById(p.id).lean<PledgeDoc>())!;
    const first = r.registry.certificates.issueFor(pledge);
    // The second starts a little later, while the first is still rendering.
    await new Promise((res) => setTimeout(res, 5));
    const second = r.registry.certificates.issueFor(pledge);
    const [a, b] = await Promise.all([first, second]);
    assert.equal(a.serial, b.serial);
    assert.equal(a.jws, b.jws);
    assert.equal(await Certificate.countDocuments({ pledge: pledge._id }), 1);
  });
});
