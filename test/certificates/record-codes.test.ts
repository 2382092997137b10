/**
 * A certificate record carries the province and industry codes behind its certified names, so
 * the verify page names them in the reader's language without mapping names back to codes;
 * records issued before that get their codes from a migration step.
 */
import assert from 'node:assert/strict';
import mongoose from 'mongoose';
import request from 'supertest';
import { Certificate } from '../../models/certificate';
import { Pledge } from '../../models/pledge';
import { industryByCode } from '../../src/domain/industries';
import { provinceFromUscc } from '../../src/domain/provinces';
import { certificateCodes, codesOf } from '../../src/migrations/certificate-codes';
import {
  activePledgeWithCertificate,
  signBodyFor,
  useManualCertificates,
} from '../helpers/pledges';
import { useRegistry } from '../helpers/registry';

describe('certificate records carry province and industry codes', () => {
  const r = useRegistry();
  const manual = useManualCertificates(r);

  async function certified(industry: string) {
    const p = await activePledgeWithCertificate(r, {
      admin: manual.admin,
      body: await signBodyFor(r.app, { company: { industry } }),
    });
    return (await Pledge.findById(p.id).lean())!;
  }

  it('when a certificate is issued, then its record holds the pledge codes and the verify page names them in the page language', async () => {
    const pledge = await certified('I');
    const cert = (await Certificate.findOne({ serial: pledge.certificateSerial }).lean())!;
    assert.deepEqual(cert.codes, { province: pledge.province, industry: 'I' });
    const province = provinceFromUscc(pledge.uscc)!;
    const en = await request(r.app).get(`/verify/${cert.serial}?lang=en`).expect(200);
    assert.ok(en.text.includes(`<dd>${province.en}</dd>`), 'province in English');
    assert.ok(en.text.includes(`<dd>${industryByCode('I')!.en}</dd>`), 'industry in English');
    const zh = await request(r.app).get(`/verify/${cert.serial}?lang=zh-CN`).expect(200);
    assert.ok(zh.text.includes(`<dd>${industryByCode('I')!.zh}</dd>`), 'industry in Chinese');
  });

  it('when a record was issued without codes, then the migration step gives it the codes behind its names, once, and leaves records with codes alone', async () => {
    const pledge = await certified('F');
    const db = mongoose.connection.db!;
    await db
      .collection('certificates')
      .updateOne({ serial: pledge.certificateSerial }, { $unset: { codes: 1 } });
    const kept = await certified('C');
    await db
      .collection('certificates')
      .updateOne(
        { serial: kept.certificateSerial },
        { $set: { codes: { province: '11', industry: 'A' } } },
      );
    await certificateCodes.up(db);
    await certificateCodes.up(db);
    assert.deepEqual(
      (await Certificate.findOne({ serial: pledge.certificateSerial }).lean())!.codes,
      { province: pledge.province, industry: 'F' },
    );
    assert.deepEqual(
      (await Certificate.findOne({ serial: kept.certificateSerial }).lean())!.codes,
      { province: '11', industry: 'A' },
    );
  });

  it('when a certified name is in the tables, then it maps to its code; a code written as its own name stays that code', () => {
    assert.deepEqual(
      codesOf({ uscc: '91350100M000100Y43', province: { zh: '福建' }, industry: { zh: '制造业' } }),
      { province: '35', industry: 'C' },
    );
    assert.deepEqual(
      codesOf({ uscc: '91350100M000100Y43', province: { zh: '35' }, industry: { zh: 'Z' } }),
      { province: '35', industry: 'Z' },
    );
    assert.equal(codesOf({ uscc: '91350100M000100Y43' }), null);
  });
});
