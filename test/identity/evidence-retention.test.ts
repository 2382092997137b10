/**
 * Evidence retention (issue #12 item 1): evidence is deleted 3 years after its pledge ended
 * (withdrawn, revoked, rejected, cancelled, expired; or an unconfirmed pledge's link ran out), and
 * kept before that and for every pledge still open or active, however old.
 */
import assert from 'node:assert/strict';
import mongoose from 'mongoose';
import request from 'supertest';
import { Event } from '../../models/event';
import { listEvidence } from '../../src/pledges/evidence';
import { purgeExpiredEvidence, retentionCutoff } from '../../src/pledges/retention';
import { useRegistry } from '../helpers/registry';
import {
  activePledge,
  companySession,
  confirmationToken,
  sign,
  signAndConfirm,
  uploadLetter,
  withdrawAs,
} from '../helpers/pledges';

const DAY = 86_400_000;

describe('evidence retention', () => {
  const r = useRegistry();
  let adminToken: string;
  before(async () => {
    adminToken = (await r.makeAdmin()).token;
  });
  const pledges = () => mongoose.connection.db!.collection('pledges');
  const files = (id: string) => listEvidence(new mongoose.Types.ObjectId(id));

  /** Moves every transition of the pledge (so its end) to `at`. */
  async function endedAt(id: string, at: Date): Promise<void> {
    const _id = new mongoose.Types.ObjectId(id);
    const doc = await pledges().findOne({ _id });
    const history = (doc!.history as Array<Record<string, unknown>>).map((h) => ({ ...h, at }));
    await pledges().updateOne({ _id }, { $set: { history } });
  }
  const threeYearsAnd = (days: number) =>
    new Date(retentionCutoff(new Date()).getTime() - days * DAY);

  async function rejected(): Promise<string> {
    const p = await signAndConfirm(r);
    await request(r.app)
      .post(`/api/v1/admin/pledges/${p.id}/reject`)
      .set('Authorization', `Bearer ${adminToken}`)
      .send({ reason: 'Letter does not match' })
      .expect(200);
    return p.id;
  }
  async function withdrawn(): Promise<string> {
    const p = await activePledge(r, adminToken);
    const session = await companySession(r, p.body.signatory.email);
    await withdrawAs(r.app, session, { reason: 'Company closed' }).expect(200);
    return p.id;
  }

  it('when a pledge was withdrawn or rejected 3 years and 1 day ago, then its evidence is deleted (audited) and the pledge itself kept', async () => {
    const w = await withdrawn();
    const j = await rejected();
    await endedAt(w, threeYearsAnd(1));
    await endedAt(j, threeYearsAnd(1));
    const gone = [...(await files(w)), ...(await files(j))].map((f) => f.id);
    assert.equal(gone.length, 2);
    assert.ok((await purgeExpiredEvidence()) >= 2);
    assert.deepEqual(await files(w), []);
    assert.deepEqual(await files(j), []);
    const kept = (await pledges().findOne({ _id: new mongoose.Types.ObjectId(w) }))!;
    assert.equal(kept.status, 'withdrawn');
    assert.equal(kept.evidence, undefined, 'its list of the deleted files is gone too');
    const chunks = mongoose.connection.db!.collection('evidence.chunks');
    assert.equal(
      await chunks.countDocuments({ files_id: { $in: gone } }),
      0,
      'their chunks are gone too',
    );
    assert.ok(await Event.exists({ action: 'pledge.evidence-deleted', 'subject.id': w }));
  });

  it('when a pledge ended 3 years less a day ago, or is active or awaiting review however old, then its evidence is kept', async () => {
    const recent = await withdrawn();
    await endedAt(recent, threeYearsAnd(-1));
    const active = (await activePledge(r, adminToken)).id;
    await endedAt(active, threeYearsAnd(400));
    const review = (await signAndConfirm(r)).id;
    await endedAt(review, threeYearsAnd(400));
    await purgeExpiredEvidence();
    for (const id of [recent, active, review]) assert.equal((await files(id)).length, 1, id);
  });

  it('when an unconfirmed pledge’s link ran out 3 years and 1 day ago, then its evidence is deleted; one that ran out later keeps it', async () => {
    const make = async () => {
      const since = r.smtp.received.length;
      const p = await sign(r.app);
      await uploadLetter(r.app, p.id, await confirmationToken(r, p.body.signatory.email, since));
      return p.id;
    };
    const old = await make();
    const newer = await make();
    await pledges().updateOne(
      { _id: new mongoose.Types.ObjectId(old) },
      { $set: { confirmExpiresAt: threeYearsAnd(1) } },
    );
    await pledges().updateOne(
      { _id: new mongoose.Types.ObjectId(newer) },
      { $set: { confirmExpiresAt: threeYearsAnd(-1) } },
    );
    await purgeExpiredEvidence();
    assert.deepEqual(await files(old), []);
    assert.equal((await files(newer)).length, 1);
  });

  it('when the cutoff is computed, then it is the same day three calendar years earlier', () => {
    assert.equal(
      retentionCutoff(new Date('2029-03-01T10:00:00Z')).toISOString(),
      '2026-03-01T10:00:00.000Z',
    );
  });
});
