/** The approval's audit event records the reviewer's "evidence checked" tick and who ticked it (issue #12 item 4). */
import assert from 'node:assert/strict';
import request from 'supertest';
import { Event } from '../../models/event';
import { Pledge, PledgeStatus } from '../../models/pledge';
import { recoverActivations } from '../../src/pledges/activation';
import { settleCarriedEvents } from '../../src/audit/carried';
import { approve, signAndConfirm } from '../helpers/pledges';
import { useRegistry } from '../helpers/registry';
import { agent, csrfFrom } from '../site/helpers';

// The event is carried on the pledge until the sealer moves it into the log: moved here first.
const activated = async (id: string) => {
  await settleCarriedEvents();
  return (await Event.findOne({ action: 'pledge.activated', 'subject.id': id }).lean())!;
};

describe('the approval audit event and the evidence tick', () => {
  const r = useRegistry();

  it('when an admin approves through the API with evidenceChecked, then the activation event records the tick and the admin, and the admin API shows it', async () => {
    const admin = await r.makeAdmin();
    const p = await signAndConfirm(r);
    await approve(r.app, admin.token, p.id);
    const e = await activated(p.id);
    assert.equal(e.actor, `admin:${admin.id}`);
    assert.deepEqual(
      { ...(e.after as Record<string, unknown>), sequence: 0, foundingNumber: 0 },
      {
        status: 'active',
        sequence: 0,
        foundingNumber: 0,
        evidenceChecked: true,
        checkedBy: `admin:${admin.id}`,
      },
    );
    const detail = await request(r.app)
      .get(`/api/v1/admin/pledges/${p.id}`)
      .set('Authorization', `Bearer ${admin.token}`)
      .expect(200);
    const apiEvent = (
      detail.body.events as Array<{ action: string; after: Record<string, unknown> }>
    ).find((x) => x.action === 'pledge.activated');
    assert.equal(apiEvent?.after.evidenceChecked, true);
    assert.equal(apiEvent?.after.checkedBy, `admin:${admin.id}`);
  });

  it('when the API approval is refused for want of the tick, then no activation event is written', async () => {
    const admin = await r.makeAdmin();
    const p = await signAndConfirm(r);
    await request(r.app)
      .post(`/api/v1/admin/pledges/${p.id}/approve`)
      .set('Authorization', `Bearer ${admin.token}`)
      .send({ evidenceChecked: false })
      .expect(400);
    assert.equal(await Event.countDocuments({ action: 'pledge.activated', 'subject.id': p.id }), 0);
  });

  it('when an admin ticks the box and approves in the console, then the event list on the pledge page shows "evidence checked: yes" and the reviewer by e-mail', async () => {
    const admin = await r.makeAdmin();
    const p = await signAndConfirm(r);
    const a = agent(r.app);
    const form = await a.get('/admin/login').expect(200);
    await a
      .post('/admin/login')
      .type('form')
      .send({ _csrf: csrfFrom(form.text), email: admin.email, password: admin.password })
      .expect(303);
    const page = await a.get(`/admin/pledges/${p.id}`).expect(200);
    await a
      .post(`/admin/pledges/${p.id}/approve`)
      .type('form')
      .send({ _csrf: csrfFrom(page.text), evidenceChecked: 'yes' })
      .expect(303);
    const after = await a.get(`/admin/pledges/${p.id}`).expect(200);
    const row = after.text.match(/<code class="code">pledge\.activated<\/code>[\s\S]*?<\/tr>/)?.[0];
    assert.ok(row, 'the activation event is listed');
    assert.match(row, /已核查证明材料：<\/span> <span class="change-after">是<\/span>/);
    assert.match(
      row,
      new RegExp(
        `核查人：</span> <span class="change-after">${admin.email.replace(/\./g, '\\.')}</span>`,
      ),
    );
    const en = await a.get(`/admin/pledges/${p.id}?lang=en`).expect(200);
    assert.match(en.text, /Evidence checked:<\/span> <span class="change-after">yes<\/span>/);
  });

  it('when an admin-approved activation is finished by crash recovery, then its event still records the tick and the reviewer', async () => {
    const admin = await r.makeAdmin();
    const p = await signAndConfirm(r);
    // The admin's claim (step 1) happened, then the instance died before reserving a number.
    await Pledge.updateOne(
      { _id: p.id },
      {
        $set: { status: PledgeStatus.Activating, updatedAt: new Date(Date.now() - 120_000) },
        $push: {
          history: {
            from: PledgeStatus.PendingReview,
            to: PledgeStatus.Activating,
            at: new Date(),
            actor: `admin:${admin.id}`,
          },
        },
      },
      { timestamps: false },
    );
    assert.equal(await recoverActivations(60_000), 1);
    const e = await activated(p.id);
    assert.equal(e.actor, 'system:recovery');
    assert.equal((e.after as Record<string, unknown>).evidenceChecked, true);
    assert.equal((e.after as Record<string, unknown>).checkedBy, `admin:${admin.id}`);
  });
});

describe('an activation nobody reviewed', () => {
  const r = useRegistry({ REVIEW_MODE: 'auto' });

  it('when auto review activates a pledge, then its event says the evidence was not checked and names no reviewer', async () => {
    const p = await signAndConfirm(r);
    assert.equal(p.status, 'active');
    const e = await activated(p.id);
    assert.equal((e.after as Record<string, unknown>).evidenceChecked, false);
    assert.equal((e.after as Record<string, unknown>).checkedBy, null);
  });
});
