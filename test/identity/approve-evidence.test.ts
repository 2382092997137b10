/** Approving requires ticking that the evidence was checked (issue #12 item 4), in the API and the console. */
import assert from 'node:assert/strict';
import request from 'supertest';
import { Pledge } from '../../models/pledge';
import { assertProblem, signAndConfirm } from '../helpers/pledges';
import { useRegistry } from '../helpers/registry';
import { csrfFrom, pledgeInConsole } from '../site/helpers';

describe('approving needs the evidence checked', () => {
  const r = useRegistry();

  for (const [label, body] of [
    ['no body', undefined],
    ['an empty body', {}],
    ['evidenceChecked false', { evidenceChecked: false }],
    ['evidenceChecked "true" as a string', { evidenceChecked: 'true' }],
  ] as const) {
    it(`when the API approve call has ${label}, then 400 naming evidenceChecked and the pledge stays under review`, async () => {
      const admin = await r.makeAdmin();
      const p = await signAndConfirm(r);
      const call = request(r.app)
        .post(`/api/v1/admin/pledges/${p.id}/approve`)
        .set('Authorization', `Bearer ${admin.token}`);
      const res = body === undefined ? await call : await call.send(body);
      assertProblem(res, 400, ['evidenceChecked']);
      assert.equal((await Pledge.findById(p.id).lean())!.status, 'pending_review');
    });
  }

  it('when the console approve form is sent without the tick, then 400 saying so and the pledge stays under review; with it, approved', async () => {
    const { p, a } = await pledgeInConsole(r);
    const page = await a.get(`/admin/pledges/${p.id}`).expect(200);
    assert.match(page.text, /name="evidenceChecked" value="yes"/);
    const refused = await a
      .post(`/admin/pledges/${p.id}/approve`)
      .type('form')
      .send({ _csrf: csrfFrom(page.text) });
    assert.equal(refused.status, 400);
    assert.match(refused.text, /请先勾选已核查证明材料/);
    assert.equal((await Pledge.findById(p.id).lean())!.status, 'pending_review');
    await a
      .post(`/admin/pledges/${p.id}/approve`)
      .type('form')
      .send({ _csrf: csrfFrom(page.text), evidenceChecked: 'yes' })
      .expect(303);
    assert.equal((await Pledge.findById(p.id).lean())!.status, 'active');
  });
});
