/** The console's cancel button (issue #12 item 3): an admin cancels a pending pledge with a reason. */
import assert from 'node:assert/strict';
import { Event } from '../../models/event';
import { Pledge } from '../../models/pledge';
import { sign } from '../helpers/pledges';
import { useRegistry } from '../helpers/registry';
import { adminConsole, csrfFrom, pledgeInConsole } from '../site/helpers';

describe('console: cancelling a pending pledge', () => {
  const r = useRegistry();

  it('when an admin cancels a pledge awaiting review with a reason, then it is cancelled and audited', async () => {
    const { p, a } = await pledgeInConsole(r);
    const page = await a.get(`/admin/pledges/${p.id}`).expect(200);
    assert.match(page.text, new RegExp(`action="/admin/pledges/${p.id}/cancel"`));
    const res = await a
      .post(`/admin/pledges/${p.id}/cancel`)
      .type('form')
      .send({ _csrf: csrfFrom(page.text), reason: '签署人无权代表企业' })
      .expect(303);
    assert.equal(res.headers.location, `/admin/pledges/${p.id}?done=cancelled`);
    const doc = await Pledge.findById(p.id).lean();
    assert.equal(doc!.status, 'cancelled');
    assert.equal(doc!.closedReason, '签署人无权代表企业');
    assert.ok(await Event.exists({ action: 'pledge.cancelled', 'subject.id': p.id }));
    const after = await a.get(`/admin/pledges/${p.id}?done=cancelled`).expect(200);
    assert.doesNotMatch(after.text, /\/cancel"/, 'no cancel button on a closed pledge');
    assert.doesNotMatch(after.text, /console\.done\.cancelled/);
  });

  it('when the reason is missing, then 400 at the cancel form and nothing changes', async () => {
    const p = await sign(r.app);
    const { a } = await adminConsole(r);
    const page = await a.get(`/admin/pledges/${p.id}`).expect(200);
    const res = await a
      .post(`/admin/pledges/${p.id}/cancel`)
      .type('form')
      .send({ _csrf: csrfFrom(page.text), reason: '' });
    assert.equal(res.status, 400);
    assert.equal((await Pledge.findById(p.id).lean())!.status, 'pending_confirmation');
  });
});
