import assert from 'node:assert/strict';
import request from 'supertest';
import { Pledge } from '../../models/pledge';
import { usccCheckChar } from '../../src/domain/uscc';
import { useRegistry } from '../helpers/registry';
import { tokenFromMail } from '../helpers/smtp';
import {
  agent,
  csrfFrom,
  HTML,
  postSignForm,
  signFields,
  signInOnSite,
  type Agent,
} from './helpers';

describe('site forms', () => {
  const r = useRegistry();

  /** The token of the confirmation link last mailed to `email`. */
  const confirmToken = async (email: string) =>
    tokenFromMail(await r.smtp.waitFor(email, /confirm\?token=/), '/confirm');

  /** Presses the confirmation page's button (the page's CSRF token, the link's token). */
  const postConfirm = (a: Agent, page: string, token: string) =>
    a
      .post('/confirm')
      .type('form')
      .send({ _csrf: csrfFrom(page), token });

  /** Signs through the form, confirms through the e-mailed link's page; returns the pledge id. */
  async function signAndConfirm(
    a: Agent,
    fields = signFields(),
  ): Promise<{ id: string; fields: Record<string, string> }> {
    await postSignForm(a, fields, 303).then((res) =>
      assert.equal(res.headers.location, '/sign/sent'),
    );
    const token = await confirmToken(fields.email);
    const landing = await a.get(`/confirm?token=${encodeURIComponent(token)}`).expect(200);
    await postConfirm(a, landing.text, token).expect(200);
    const pledge = await Pledge.findOne({ uscc: fields.uscc }).lean();
    return { id: String(pledge!._id), fields };
  }

  /** Signs in through the site; checks that only the button, not the link, sets the session cookie. */
  async function signIn(a: Agent, email: string): Promise<void> {
    const { landing, done } = await signInOnSite(r, a, email);
    assert.doesNotMatch(
      String(landing.headers['set-cookie'] ?? ''),
      /eqi_session/,
      'GET sets no session',
    );
    const cookie = String(done.headers['set-cookie']);
    assert.match(cookie, /eqi_session=[^;]+;/);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Lax/);
    assert.doesNotMatch(cookie, /Secure/, 'not Secure outside production');
  }

  it('when the sign form is posted without or with a wrong CSRF token, then 403 and nothing is stored', async () => {
    const fields = signFields();
    const page = await agent(r.app).get('/sign').expect(200);
    const version = /name="version" value="(\d+)"/.exec(page.text)![1];
    const sha256 = /name="sha256" value="([0-9a-f]{64})"/.exec(page.text)![1];
    const noToken = await request(r.app)
      .post('/sign')
      .set('Accept', HTML)
      .type('form')
      .send({ ...fields, version, sha256 })
      .expect(403);
    assert.match(noToken.text, /表单已失效/);
    // A token from someone else's cookie does not fit this visitor's cookie.
    await agent(r.app).get('/sign').expect(200);
    const other = agent(r.app);
    await other.get('/sign').expect(200);
    await other
      .post('/sign')
      .type('form')
      .send({ ...fields, version, sha256, _csrf: csrfFrom(page.text) })
      .expect(403);
    assert.equal(await Pledge.countDocuments({ uscc: fields.uscc }), 0);
  });

  it('when other forms are posted without a CSRF token, then each is refused with 403', async () => {
    for (const path of ['/confirm', '/login', '/login/verify']) {
      await request(r.app)
        .post(path)
        .set('Accept', HTML)
        .type('form')
        .send({ token: 'x'.repeat(40), email: 'a@example.cn' })
        .expect(403);
    }
  });

  it('when the sign form has errors, then it comes back with 400, a linked error summary, field messages and the values kept', async () => {
    const a = agent(r.app);
    const res = await postSignForm(
      a,
      signFields({
        uscc: '91350100M000100Y44',
        name: '',
        email: 'not-an-email',
        industry: '',
        agree: '',
        website: 'example.cn',
        nameEn: '<b>Kept & escaped</b>',
      }),
      400,
    );
    assert.match(res.text, /<div class="error-summary" role="alert"/);
    for (const field of ['uscc', 'name', 'industry', 'website', 'email', 'agree']) {
      assert.match(res.text, new RegExp(`<a href="#f-${field}">`), `summary links to ${field}`);
      assert.match(
        res.text,
        new RegExp(`id="f-${field}"[^>]*aria-invalid="true"`),
        `${field} is marked invalid`,
      );
    }
    assert.match(res.text, /统一社会信用代码的校验位（最后一位）不符/);
    assert.match(res.text, /请填写企业名称。/);
    assert.match(res.text, /请选择所属行业。/);
    assert.match(res.text, /请填写有效的电子邮箱地址/);
    assert.match(res.text, /请勾选同意倡议书后再提交/);
    assert.match(res.text, /<title>有误：签署倡议书/);
    assert.match(res.text, /value="91350100M000100Y44"/);
    assert.match(res.text, /value="&lt;b&gt;Kept &amp; escaped&lt;\/b&gt;"/);
    assert.equal(res.headers['cache-control'], 'no-store');

    const english = agent(r.app);
    await english.get('/?lang=en').expect(200);
    const en = await postSignForm(english, signFields({ uscc: '9135010' }), 400);
    assert.match(en.text, /<html lang="en">/);
    assert.match(en.text, /A Unified Social Credit Code has 18 characters; this one has 7\./);
  });

  it('when a USCC character is not allowed or the province is unknown, then the message says which', async () => {
    const res = await postSignForm(agent(r.app), signFields({ uscc: '91350100M000100YI3' }), 400);
    assert.match(res.text, /第 17 位的“I”无效/);
    const body = '91990100MA0000001';
    const unknownProvince = await postSignForm(
      agent(r.app),
      signFields({ uscc: body + usccCheckChar(body) }),
      400,
    );
    assert.match(unknownProvince.text, /第 3–8 位“990100”不是有效的行政区划代码/);
  });

  it('when the form is valid, then 303 to "check your e-mail"; the link page changes nothing until its button is pressed', async () => {
    const a = agent(r.app);
    const fields = signFields();
    await postSignForm(a, fields, 303).then((res) =>
      assert.equal(res.headers.location, '/sign/sent'),
    );
    const stored = await Pledge.findOne({ uscc: fields.uscc }).lean();
    assert.equal(stored!.status, 'pending_confirmation');
    assert.equal(stored!.companyNameEn, fields.nameEn);
    assert.equal(stored!.signatory.phone, fields.phone);

    const token = await confirmToken(fields.email);
    const landing = await a.get(`/confirm?token=${encodeURIComponent(token)}`).expect(200);
    assert.match(landing.text, /确认签署/);
    assert.match(landing.text, /<form method="post" action="\/confirm"/);
    assert.equal(
      (await Pledge.findById(stored!._id).lean())!.status,
      'pending_confirmation',
      'GET changed nothing',
    );

    const done = await postConfirm(a, landing.text, token).expect(200);
    assert.match(done.text, /签署已确认/);
    assert.match(done.text, /签署已提交质量协会审核/);
    assert.equal((await Pledge.findById(stored!._id).lean())!.status, 'pending_review');

    const again = await postConfirm(a, landing.text, token).expect(400);
    assert.match(again.text, /链接已使用/);
    const bogus = await postConfirm(a, landing.text, 'z'.repeat(43)).expect(400);
    assert.match(bogus.text, /链接无效/);
    const incomplete = await a.get('/confirm').expect(400);
    assert.match(incomplete.text, /链接不完整/);
  });

  it('when a USCC already has a confirmed pledge, then the form says so at the field (409)', async () => {
    const fields = signFields();
    await postSignForm(agent(r.app), fields, 303);
    // Only a confirmed pledge holds the code (issue #12: no squatting by unconfirmed pledges).
    const token = await confirmToken(fields.email);
    await request(r.app).post('/api/v1/pledges/confirm').send({ token }).expect(200);
    const res = await postSignForm(
      agent(r.app),
      { ...fields, email: 'someone-else@example.cn' },
      409,
    );
    assert.match(res.text, /该统一社会信用代码已有经邮箱确认、待审核或已生效的签署/);
    assert.match(res.text, /<a href="#f-uscc">/);
  });

  it('when the initiative version in the form is stale, then consent is asked again for the current version', async () => {
    const a = agent(r.app);
    const fresh = await a.get('/sign').expect(200);
    const res = await a
      .post('/sign')
      .type('form')
      .send({ ...signFields(), _csrf: csrfFrom(fresh.text), version: '99', sha256: 'a'.repeat(64) })
      .expect(400);
    assert.match(res.text, /倡议书已更新为第 1 版/);
    assert.doesNotMatch(res.text, /id="f-agree"[^>]*checked/);
  });

  it('when a company signs in by e-mail link, then /me shows its pledge and history; it can withdraw with a reason and keeps its founder number', async () => {
    const a = agent(r.app);
    const { id, fields } = await signAndConfirm(a);
    const admin = await r.makeAdmin();
    await request(r.app)
      .post(`/api/v1/admin/pledges/${id}/approve`)
      .set('Authorization', `Bearer ${admin.token}`)
      .send({ evidenceChecked: true })
      .expect(200);

    await a.get('/me').expect(303).expect('Location', '/login');
    await signIn(a, fields.email);
    const me = await a.get('/me').expect(200);
    assert.equal(me.headers['cache-control'], 'no-store');
    assert.ok(me.text.includes(fields.name));
    assert.match(me.text, /badge badge-active">有效/);
    assert.match(me.text, /发起企业 第 \d+ 号/);
    assert.match(me.text, /签署记录/);
    assert.match(me.text, /质量协会/);
    const number = /发起企业 第 (\d+) 号/.exec(me.text)![1];

    // Signed-in forms need the session-bound token.
    await a.post('/me/withdraw').type('form').send({ reason: '业务调整' }).expect(403);
    await a.post('/logout').type('form').send({}).expect(403);
    const short = await a
      .post('/me/withdraw')
      .type('form')
      .send({ _csrf: csrfFrom(me.text), reason: 'x' })
      .expect(400);
    assert.match(short.text, /撤回原因至少需要 2 个字符/);
    await a
      .post('/me/withdraw')
      .type('form')
      .send({ _csrf: csrfFrom(me.text), reason: '业务调整 <b>不再</b>' })
      .expect(303)
      .expect('Location', '/me?done=withdrawn');
    const after = await a.get('/me?done=withdrawn').expect(200);
    assert.match(after.text, /签署已撤回。/);
    assert.match(after.text, /badge badge-withdrawn">已撤回/);
    assert.ok(after.text.includes('原因：业务调整 &lt;b&gt;不再&lt;/b&gt;'));
    assert.doesNotMatch(after.text, /action="\/me\/withdraw"/, 'nothing left to withdraw');

    const founders = await request(r.app).get('/founders').expect(200);
    const row = new RegExp(
      `<tr class="status-withdrawn">\\s*<td class="num" data-label="编号"><span class="founder-no">${number}</span>`,
    );
    assert.match(founders.text, row, 'the founder keeps its number, shown as withdrawn');

    const out = await a
      .post('/logout')
      .type('form')
      .send({ _csrf: csrfFrom(after.text) })
      .expect(303)
      .expect('Location', '/');
    assert.match(String(out.headers['set-cookie']), /eqi_session=;/);
    await a.get('/me').expect(303).expect('Location', '/login');
  });

  it('when a session cookie is broken or expired, then /me sends the visitor to sign in again', async () => {
    const res = await request(r.app).get('/me').set('Cookie', 'eqi_session=not.a.jwt').expect(303);
    assert.equal(res.headers.location, '/login?expired=1');
    const login = await request(r.app).get('/login?expired=1').expect(200);
    assert.match(login.text, /登录已过期/);
  });

  it('when the login form has a bad e-mail, then 400 with the message; any valid e-mail gets the same "check your e-mail"', async () => {
    const a = agent(r.app);
    const form = await a.get('/login').expect(200);
    const bad = await a
      .post('/login')
      .type('form')
      .send({ _csrf: csrfFrom(form.text), email: 'nope' })
      .expect(400);
    assert.match(bad.text, /请填写有效的电子邮箱地址/);
    await a
      .post('/login')
      .type('form')
      .send({ _csrf: csrfFrom(form.text), email: 'nobody@example.cn' })
      .expect(303)
      .expect('Location', '/login/sent');
  });

  it('when a sign-in link is reused, then the page says so and sets no session', async () => {
    const a = agent(r.app);
    const { fields } = await signAndConfirm(a);
    await signIn(a, fields.email);
    const mail = r.smtp.received
      .filter(
        (m) => m.to.includes(fields.email) && /login\/verify/.test(m.raw.replace(/=\r?\n/g, '')),
      )
      .pop()!;
    const token = tokenFromMail(mail, '/login/verify');
    const b = agent(r.app);
    const landing = await b.get(`/login/verify?token=${encodeURIComponent(token)}`).expect(200);
    const res = await b
      .post('/login/verify')
      .type('form')
      .send({ _csrf: csrfFrom(landing.text), token })
      .expect(400);
    assert.match(res.text, /链接已使用/);
    assert.doesNotMatch(String(res.headers['set-cookie'] ?? ''), /eqi_session=[^;]/);
  });
});
