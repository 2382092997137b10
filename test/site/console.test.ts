/**
 * The association's console pages, through HTTP like a browser: sign in with a password, work the
 * review queue, act on a pledge, publish an initiative version, manage administrators, search
 * the audit log and start exports. Every state change is checked in the database or the API.
 */
import assert from 'node:assert/strict';
import request from 'supertest';
import { Account } from '../../models/account';
import { Certificate } from '../../models/certificate';
import { Event } from '../../models/event';
import { Pledge } from '../../models/pledge';
import { companySession, signAndConfirm, type TestAdmin } from '../helpers/pledges';
import { useRegistry, type RegistryHandle } from '../helpers/registry';
import { agent, consoleSignIn, csrfFrom, setCookies, type Agent } from './helpers';

/** Where a console sign-in lands: the review queue. */
const QUEUE = '/admin/pledges?status=pending_review';

/** A new admin signed in through the console's form; the agent keeps the session cookie. */
async function signedInAdmin(r: RegistryHandle): Promise<{ admin: TestAdmin; a: Agent }> {
  const admin = await r.makeAdmin();
  const a = agent(r.app);
  await consoleSignIn(a, admin, QUEUE);
  return { admin, a };
}

/** Posts a console form with the CSRF token of the page it is on. */
async function postFrom(
  a: Agent,
  pagePath: string,
  action: string,
  fields: Record<string, string>,
): Promise<request.Response> {
  const page = await a.get(pagePath).expect(200);
  return a
    .post(action)
    .type('form')
    .send({ _csrf: csrfFrom(page.text), ...fields });
}

/** A pledge signed, confirmed and then approved from its console page by `a`. */
async function approvedInConsole(r: RegistryHandle, a: Agent) {
  const p = await signAndConfirm(r);
  await postFrom(a, `/admin/pledges/${p.id}`, `/admin/pledges/${p.id}/approve`, {
    evidenceChecked: 'yes',
  });
  return p;
}

async function issued(r: RegistryHandle, pledgeId: string): Promise<string> {
  await r.registry.certificateIssuer.idle();
  r.registry.certificateIssuer.poke();
  await r.registry.certificateIssuer.idle();
  const p = await Pledge.findById(pledgeId).lean();
  assert.ok(p?.certificateSerial, 'a certificate was issued');
  return p.certificateSerial;
}

const text = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');

describe('association console (pages)', () => {
  const r = useRegistry();

  describe('signing in', () => {
    it('when nobody is signed in, then every console page redirects to the sign-in page', async () => {
      for (const path of [
        '/admin/pledges',
        '/admin/pledges/0123456789abcdef01234567',
        '/admin/initiatives',
        '/admin/accounts',
        '/admin/audit',
        '/admin/exports',
      ]) {
        await agent(r.app).get(path).expect(303).expect('Location', '/admin/login');
      }
    });

    it('when the password is wrong, then 401 with one message that does not say which field was wrong, and no session', async () => {
      const admin = await r.makeAdmin();
      const a = agent(r.app);
      const res = await postFrom(a, '/admin/login', '/admin/login', {
        email: admin.email,
        password: 'wrong password here',
      });
      assert.equal(res.status, 401);
      assert.match(res.text, /邮箱或密码不正确/);
      const cookies = setCookies(res);
      assert.equal(
        cookies.some((c) => c.startsWith('eqi_session=')),
        false,
      );
      await a.get('/admin/pledges').expect(303);
    });

    it('when the form has no CSRF token, then 403 and no session', async () => {
      const admin = await r.makeAdmin();
      const res = await agent(r.app)
        .post('/admin/login')
        .type('form')
        .send({ email: admin.email, password: admin.password });
      assert.equal(res.status, 403);
    });

    it('when a company contact with a session opens the console, then it is sent to the admin sign-in', async () => {
      const p = await signAndConfirm(r);
      const jwt = await companySession(r, p.body.signatory.email);
      await agent(r.app)
        .get('/admin/pledges')
        .set('Cookie', `eqi_session=${jwt}`)
        .expect(303)
        .expect('Location', '/admin/login');
    });

    it('when an admin is disabled while signed in, then the next console page sends them to sign in, saying so', async () => {
      const { admin, a } = await signedInAdmin(r);
      await a.get('/admin/pledges').expect(200);
      await Account.updateOne({ email: admin.email }, { $set: { disabled: true } });
      await a.get('/admin/pledges').expect(303).expect('Location', '/admin/login?disabled=1');
    });
  });

  describe('review queue and decisions', () => {
    it('when the queue is filtered by status and name, then only matching pledges are listed, linked to their page', async () => {
      const { a } = await signedInAdmin(r);
      const waiting = await signAndConfirm(r);
      const other = await signAndConfirm(r);
      const name = waiting.body.company.name;
      const page = await a
        .get(`/admin/pledges?status=pending_review&q=${encodeURIComponent(name)}`)
        .expect(200);
      assert.ok(page.text.includes(`href="/admin/pledges/${waiting.id}"`));
      assert.ok(!page.text.includes(`href="/admin/pledges/${other.id}"`));
      const active = await a
        .get(`/admin/pledges?status=active&q=${encodeURIComponent(name)}`)
        .expect(200);
      assert.ok(!active.text.includes(`/admin/pledges/${waiting.id}`));
      assert.match(text(active.text), /没有符合条件的签署记录/);
    });

    it('when filters are invalid, then a 400 page names the field and lists nothing (never a 500)', async () => {
      const { a } = await signedInAdmin(r);
      for (const q of [
        'status=nonsense',
        'from=2009-02-30',
        'from=2009-09-02&to=2009-09-01',
        'province=99',
        'q[$ne]=x',
        'hack=1',
      ]) {
        const res = await a.get(`/admin/pledges?${q}`);
        assert.equal(res.status, 400, q);
        assert.match(res.text, /class="error-summary"/, q);
        assert.ok(!/href="\/admin\/pledges\/[0-9a-f]{24}"/.test(res.text), q);
      }
    });

    it('when an admin approves from the pledge page, then it becomes active with a number and the page says so', async () => {
      const { admin, a } = await signedInAdmin(r);
      const p = await signAndConfirm(r);
      const res = await postFrom(a, `/admin/pledges/${p.id}`, `/admin/pledges/${p.id}/approve`, {
        evidenceChecked: 'yes',
      });
      assert.equal(res.status, 303);
      assert.equal(res.headers.location, `/admin/pledges/${p.id}?done=approved`);
      const doc = await Pledge.findById(p.id).lean();
      assert.equal(doc?.status, 'active');
      assert.ok(doc?.sequence);
      assert.ok(doc?.history.at(-1)?.actor.endsWith(admin.id));
      const after = await a.get(res.headers.location).expect(200);
      assert.match(after.text, /已通过审核/);
      // Approving twice is refused on the page, not with a 500.
      const again = await a
        .post(`/admin/pledges/${p.id}/approve`)
        .type('form')
        .send({ _csrf: csrfFrom(after.text), evidenceChecked: 'yes' });
      assert.equal(again.status, 409);
      assert.match(again.text, /操作未执行/);
    });

    it('when a rejection has no reason, then 400 with the reason field marked, and the pledge still waits', async () => {
      const { a } = await signedInAdmin(r);
      const p = await signAndConfirm(r);
      const res = await postFrom(a, `/admin/pledges/${p.id}`, `/admin/pledges/${p.id}/reject`, {
        reason: ' ',
      });
      assert.equal(res.status, 400);
      assert.match(res.text, /href="#f-reason"/);
      assert.equal((await Pledge.findById(p.id).lean())?.status, 'pending_review');
      const ok = await postFrom(a, `/admin/pledges/${p.id}`, `/admin/pledges/${p.id}/reject`, {
        reason: '营业执照信息与申报不一致',
      });
      assert.equal(ok.status, 303);
      const doc = await Pledge.findById(p.id).lean();
      assert.equal(doc?.status, 'rejected');
      assert.equal(doc?.closedReason, '营业执照信息与申报不一致');
    });

    it('when the form carries a wrong CSRF token, then 403 and nothing changes', async () => {
      const { a } = await signedInAdmin(r);
      const p = await signAndConfirm(r);
      await a
        .post(`/admin/pledges/${p.id}/approve`)
        .type('form')
        .send({ _csrf: 'forged', evidenceChecked: 'yes' })
        .expect(403);
      assert.equal((await Pledge.findById(p.id).lean())?.status, 'pending_review');
    });

    it('when an id is malformed or unknown, then a 404 page', async () => {
      const { a } = await signedInAdmin(r);
      await a.get('/admin/pledges/not-an-id').expect(404);
      await a.get('/admin/pledges/0123456789abcdef01234567').expect(404);
    });

    it('when an admin revokes and then corrects, then the certificate states follow and the page shows every event', async () => {
      const { admin, a } = await signedInAdmin(r);
      const p = await approvedInConsole(r, a);
      const first = await issued(r, p.id);

      const corrected = await postFrom(
        a,
        `/admin/pledges/${p.id}`,
        `/admin/pledges/${p.id}/correct`,
        { name: '', nameEn: '', industry: 'I', reason: '行业登记有误' },
      );
      assert.equal(corrected.status, 303);
      const second = (await Pledge.findById(p.id).lean())!.certificateSerial!;
      assert.notEqual(second, first);
      assert.equal((await Certificate.findOne({ serial: first }).lean())?.status, 'superseded');
      assert.equal((await Pledge.findById(p.id).lean())?.industry, 'I');

      const revoked = await postFrom(a, `/admin/pledges/${p.id}`, `/admin/pledges/${p.id}/revoke`, {
        reason: '质量投诉经核查属实',
      });
      assert.equal(revoked.status, 303);
      const lookup = await request(r.app).get(`/api/v1/certificates/${second}`).expect(200);
      assert.equal(lookup.body.status, 'revoked');
      assert.equal(lookup.body.statusReason, '质量投诉经核查属实');

      const page = text((await a.get(`/admin/pledges/${p.id}`).expect(200)).text);
      for (const action of [
        'pledge.signed',
        'pledge.confirmed',
        'pledge.activated',
        'certificate.issued',
        'pledge.corrected',
        'certificate.superseded',
        'certificate.revoked',
      ]) {
        assert.ok(page.includes(action), `the page lists ${action}`);
      }
      assert.ok(page.includes(admin.email), 'admins are shown by e-mail');
      assert.ok(!page.includes('撤销证书 EQI'), 'no revoke form once revoked');
    });

    it('when a correction changes nothing, then 400 and no new certificate', async () => {
      const { a } = await signedInAdmin(r);
      const p = await approvedInConsole(r, a);
      const serial = await issued(r, p.id);
      const res = await postFrom(a, `/admin/pledges/${p.id}`, `/admin/pledges/${p.id}/correct`, {
        name: '',
        nameEn: '',
        industry: '',
        reason: '无变化',
      });
      assert.equal(res.status, 400);
      assert.equal((await Pledge.findById(p.id).lean())?.certificateSerial, serial);
    });
  });

  describe('initiative versions', () => {
    it('when an admin drafts, previews and publishes a version, then new signers get it and old pledges keep theirs', async () => {
      const { a } = await signedInAdmin(r);
      const before = await signAndConfirm(r);
      const current = (await request(r.app).get('/api/v1/initiative').expect(200)).body;

      const fields = {
        titleZh: '企业质量诚信倡议书（修订版）',
        titleEn: 'Enterprise Quality Integrity Initiative (revised)',
        textZh: '我们承诺：质量第一，诚信为本，接受社会监督。\n第二段：持续改进。',
        textEn:
          'We pledge quality first and honesty as our foundation.\nSecond: continuous improvement.',
      };
      const created = await postFrom(a, '/admin/initiatives', '/admin/initiatives', fields);
      assert.equal(created.status, 303);
      const version = current.version + 1;
      assert.equal(created.headers.location, `/admin/initiatives/${version}?done=drafted`);
      const preview = await a.get(created.headers.location).expect(200);
      assert.ok(preview.text.includes('<p>第二段：持续改进。</p>'), 'the preview shows paragraphs');
      // A draft is not what signers see.
      assert.equal(
        (await request(r.app).get('/api/v1/initiative').expect(200)).body.version,
        current.version,
      );

      // One draft at a time: the list offers no new-draft form, and a posted one is refused.
      assert.equal(
        (await a.get('/admin/initiatives')).text.includes('action="/admin/initiatives" '),
        false,
      );
      const second = await postFrom(
        a,
        `/admin/initiatives/${version}`,
        '/admin/initiatives',
        fields,
      );
      assert.equal(second.status, 409);
      assert.match(second.text, /已有一份草稿/);

      const published = await postFrom(
        a,
        `/admin/initiatives/${version}`,
        `/admin/initiatives/${version}/publish`,
        {},
      );
      assert.equal(published.status, 303);
      const now = (await request(r.app).get('/api/v1/initiative').expect(200)).body;
      assert.equal(now.version, version);
      assert.equal(now.title.zh, fields.titleZh);
      assert.equal((await Pledge.findById(before.id).lean())?.initiative.version, current.version);

      const edit = await postFrom(a, '/admin/initiatives', `/admin/initiatives/${version}`, fields);
      assert.equal(edit.status, 409, 'a published text never changes');
      assert.match(edit.text, /该版本已发布/);
      assert.equal(
        (await a.get(`/admin/initiatives/${version}`)).text.includes('/publish"'),
        false,
        'a published version offers no publish form',
      );
      const events = await Event.find({
        'subject.type': 'initiative',
        'subject.id': String(version),
      }).lean();
      assert.deepEqual(events.map((e) => e.action).sort(), [
        'initiative.drafted',
        'initiative.published',
      ]);
    });

    it('when a draft is too short, then 400 with each field marked and no draft is made', async () => {
      const { a } = await signedInAdmin(r);
      const res = await postFrom(a, '/admin/initiatives', '/admin/initiatives', {
        titleZh: 'x',
        titleEn: '',
        textZh: '短',
        textEn: '',
      });
      assert.equal(res.status, 400);
      for (const f of ['titleZh', 'titleEn', 'textZh', 'textEn'])
        assert.match(res.text, new RegExp(`href="#f-${f}"`));
      const res2 = await a.get('/admin/initiatives/abc');
      assert.equal(res2.status, 404);
    });
  });

  describe('administrators and the audit log', () => {
    it('when an admin creates another and disables it, then the new one could sign in until disabled, and both actions are in the audit log', async () => {
      const { admin, a } = await signedInAdmin(r);
      const email = `new-${Date.now()}@caq.test`;
      const short = await postFrom(a, '/admin/accounts', '/admin/accounts', {
        email,
        password: 'short',
      });
      assert.equal(short.status, 400);
      assert.ok(!short.text.includes('value="short"'), 'a password is never shown back');
      assert.equal(await Account.countDocuments({ email }), 0);

      const created = await postFrom(a, '/admin/accounts', '/admin/accounts', {
        email,
        password: 'a long enough password',
      });
      assert.equal(created.status, 303);
      const dup = await postFrom(a, '/admin/accounts', '/admin/accounts', {
        email,
        password: 'a long enough password',
      });
      assert.equal(dup.status, 409);

      const b = agent(r.app);
      await consoleSignIn(b, { email, password: 'a long enough password' }, QUEUE);
      const id = String((await Account.findOne({ email }).lean())!._id);
      const disabled = await postFrom(a, '/admin/accounts', `/admin/accounts/${id}/disable`, {});
      assert.equal(disabled.status, 303);
      await b.get('/admin/pledges').expect(303).expect('Location', '/admin/login?disabled=1');

      const self = await postFrom(a, '/admin/accounts', `/admin/accounts/${admin.id}/disable`, {});
      assert.equal(self.status, 409);
      assert.equal((await Account.findById(admin.id).lean())?.disabled, false);

      const audit = text(
        (await a.get(`/admin/audit?subject=${encodeURIComponent(email)}`).expect(200)).text,
      );
      assert.ok(audit.includes('admin.created') && audit.includes('admin.disabled'));
      assert.ok(audit.includes(admin.email));
    });

    it('when the audit log is searched by action prefix, then only those actions show, newest first', async () => {
      const { a } = await signedInAdmin(r);
      await signAndConfirm(r);
      const html = (await a.get('/admin/audit?action=pledge.&pageSize=200').expect(200)).text;
      const actions = [...html.matchAll(/<code class="code">([a-z_.]+)<\/code>/g)].map((m) => m[1]);
      assert.ok(actions.length > 0);
      assert.ok(
        actions.every((x) => x.startsWith('pledge.')),
        actions.join(),
      );
      const times = [...html.matchAll(/<time datetime="([^"]+)"/g)].map((m) => m[1]);
      assert.deepEqual([...times].sort().reverse(), times);
      await a.get('/admin/audit?action=%24where').expect(400);
    });
  });

  describe('exports', () => {
    it('when the export form is sent, then it leads to the API export with the same filters, which the session may download', async () => {
      const { a } = await signedInAdmin(r);
      const res = await a
        .get(
          '/admin/exports/download?format=csv&status=all&province=&industry=C&from=&to=&founders=1',
        )
        .expect(303);
      assert.equal(
        res.headers.location,
        '/api/v1/admin/exports/signatories.csv?status=all&industry=C&founders=1',
      );
      const csv = await a.get(res.headers.location).expect(200);
      assert.match(String(csv.headers['content-type']), /text\/csv/);
      await a.get('/admin/exports/download?format=exe&status=active').expect(400);
      await a.get('/admin/exports/download?format=csv&status=everything').expect(400);
    });
  });
});
