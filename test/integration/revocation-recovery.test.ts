import assert from 'node:assert/strict';
import request from 'supertest';
import { Certificate, CertificateStatus } from '../../models/certificate';
import { Pledge, PledgeStatus, type PledgeDoc } from '../../models/pledge';
import { completeInterruptedRevocations } from '../../src/certificates/status';
import { activePledgeWithCertificate } from '../helpers/pledges';
import { useRegistry } from '../helpers/registry';

/** The state a crash leaves between a revocation's two writes: the certificate revoked, the pledge still active. */
async function revokeCertificateOnly(serial: string): Promise<void> {
  await Certificate.updateOne(
    { serial },
    {
      $set: { status: CertificateStatus.Revoked, statusReason: '故障测试：撤销' },
      $unset: { currentFor: 1 },
    },
  );
}

const pledgeStatus = async (id: string) => (await Pledge.findById(id).lean<PledgeDoc>())!.status;

describe('revocation recovery', () => {
  const r = useRegistry();

  it('when a crash came between the certificate and the pledge write, then recovery revokes the pledge (and only that one)', async () => {
    const stuck = await activePledgeWithCertificate(r);
    const other = await activePledgeWithCertificate(r);
    await revokeCertificateOnly(stuck.serial);
    assert.equal(
      await pledgeStatus(stuck.id),
      PledgeStatus.Active,
      'the crash state: an active pledge with a revoked certificate',
    );

    assert.equal(await completeInterruptedRevocations(), 1);
    const p = (await Pledge.findById(stuck.id).lean<PledgeDoc>())!;
    assert.equal(p.status, PledgeStatus.Revoked);
    assert.equal(p.openUscc, undefined, 'a revoked pledge no longer holds its code');
    assert.equal(
      await pledgeStatus(other.id),
      PledgeStatus.Active,
      'a pledge with a valid certificate is left alone',
    );
    assert.equal(await completeInterruptedRevocations(), 0, 'nothing left to finish');
  });

  it('when the admin revokes again after such a crash, then the answer is 409 and the pledge is revoked', async () => {
    const stuck = await activePledgeWithCertificate(r);
    await revokeCertificateOnly(stuck.serial);
    const res = await request(r.app)
      .post(`/api/v1/admin/certificates/${stuck.serial}/revoke`)
      .set('Authorization', `Bearer ${stuck.admin.token}`)
      .send({ reason: '再次撤销' });
    assert.equal(res.status, 409);
    assert.equal(await pledgeStatus(stuck.id), PledgeStatus.Revoked);
  });
});
