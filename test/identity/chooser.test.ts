/**
 * One e-mail that signs for several companies (issue #12 item 5) gets one sign-in link naming
 * them all, and chooses the company after opening it (API and site).
 */
import assert from 'node:assert/strict';
import request from 'supertest';
import { assertProblem, signAndConfirmWith, waitForMailSince } from '../helpers/pledges';
import { useRegistry, type RegistryHandle } from '../helpers/registry';
import { decodeMail, tokenFromMail } from '../helpers/smtp';
import { agent, csrfFrom } from '../site/helpers';

async function twoCompanies(r: RegistryHandle, email: string) {
  const a = await signAndConfirmWith(r, {
    company: { name: '青岛示例甲有限公司' },
    signatory: { email },
  });
  const b = await signAndConfirmWith(r, {
    company: { name: '青岛示例乙有限公司' },
    signatory: { email },
  });
  return { a, b };
}

async function oneLink(r: RegistryHandle, email: string): Promise<{ token: string; text: string }> {
  const since = r.smtp.received.length;
  await request(r.app).post('/api/v1/auth/login-link').send({ email }).expect(202);
  const mail = await waitForMailSince(r, email, /login\/verify\?token=/, since);
  // Give a second mail the chance to arrive: there must be only one.
  await new Promise((res) => setTimeout(res, 600));
  const all = r.smtp.received.slice(since).filter((m) => m.to.includes(email));
  assert.equal(all.length, 1, 'one sign-in mail for all companies');
  return {
    token: tokenFromMail(mail, '/login/verify'),
    text: Buffer.from(decodeMail(mail.raw), 'latin1').toString('utf8'),
  };
}

describe('sign-in chooser for a contact of several companies', () => {
  const r = useRegistry();

  it('when the contact of two companies signs in through the API, then one mail names both, the link offers the choice, and the chosen company’s session follows', async () => {
    const email = 'group-cfo@qingdao-group.example';
    const { a, b } = await twoCompanies(r, email);
    const { token, text } = await oneLink(r, email);
    assert.match(text, /青岛示例甲有限公司/);
    assert.match(text, /青岛示例乙有限公司/);
    const choose = await request(r.app)
      .post('/api/v1/auth/login-link/verify')
      .send({ token })
      .expect(200);
    assert.equal(choose.body.token, undefined);
    assert.deepEqual(
      choose.body.choose.map((c: { uscc: string }) => c.uscc).sort(),
      [a.body.company.uscc, b.body.company.uscc].sort(),
    );
    const wrong = await request(r.app)
      .post('/api/v1/auth/login-link/verify')
      .send({ token, company: '91350100M000100Y43' });
    assertProblem(wrong, 400, ['company']);
    const chosen = await request(r.app)
      .post('/api/v1/auth/login-link/verify')
      .send({ token, company: b.body.company.uscc })
      .expect(200);
    const me = await request(r.app)
      .get('/api/v1/me/pledge')
      .set('Authorization', `Bearer ${chosen.body.token}`)
      .expect(200);
    assert.equal(me.body.company.uscc, b.body.company.uscc);
    assertProblem(
      await request(r.app)
        .post('/api/v1/auth/login-link/verify')
        .send({ token, company: a.body.company.uscc }),
      400,
    );
  });

  it('when the contact of two companies opens the link on the site, then a chooser lists both and choosing one signs in to it', async () => {
    const email = 'group-ceo@qingdao-group.example';
    const { a } = await twoCompanies(r, email);
    const { token } = await oneLink(r, email);
    const ag = agent(r.app);
    const landing = await ag.get(`/login/verify?token=${encodeURIComponent(token)}`).expect(200);
    const chooser = await ag
      .post('/login/verify')
      .type('form')
      .send({ _csrf: csrfFrom(landing.text), token })
      .expect(200);
    assert.match(chooser.text, /青岛示例甲有限公司/);
    assert.match(chooser.text, /青岛示例乙有限公司/);
    assert.match(chooser.text, new RegExp(`name="company" value="${a.body.company.uscc}"`));
    await ag
      .post('/login/verify')
      .type('form')
      .send({ _csrf: csrfFrom(chooser.text), token, company: a.body.company.uscc })
      .expect(303)
      .expect('Location', '/me');
    const me = await ag.get('/me').expect(200);
    assert.match(me.text, /青岛示例甲有限公司/);
    assert.doesNotMatch(me.text, /青岛示例乙有限公司/);
  });
});
