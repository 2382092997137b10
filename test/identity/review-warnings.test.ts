/**
 * Review that can tell (issue #12 item 4): GET /api/v1/admin/pledges/:id and the console pledge
 * page warn about duplicates of other open or active pledges, a code whose region contradicts
 * the address, a free-mail address and a code revoked before.
 */
import assert from 'node:assert/strict';
import mongoose from 'mongoose';
import request from 'supertest';
import { makeUscc } from '../../src/domain/uscc';
import { reviewKeysStep } from '../../src/migrations/review-keys';
import { normaliseName, normalisePhone, provinceInAddress } from '../../src/pledges/warnings';
import {
  activePledge,
  sign,
  signAndConfirm,
  signAndConfirmWith,
  signBodyFor,
} from '../helpers/pledges';
import { useRegistry } from '../helpers/registry';
import { agent, consoleSignIn } from '../site/helpers';

interface Warning {
  code: string;
  message: string;
  pledges: Array<{ id: string; uscc: string }>;
}

describe('review warnings (unit)', () => {
  it('when names differ only by width, case, spaces or punctuation, then they normalise alike', () => {
    assert.equal(
      normaliseName('深圳市 示例（科技）有限公司'),
      normaliseName('深圳市示例(科技)有限公司'),
    );
    assert.equal(normaliseName('ＡＢＣ Trading Co., Ltd.'), normaliseName('abc trading co ltd'));
    assert.notEqual(
      normaliseName('深圳市示例科技有限公司'),
      normaliseName('深圳市示例贸易有限公司'),
    );
  });

  it('when phones differ by country prefix and separators, then they normalise alike', () => {
    assert.equal(normalisePhone('+86 138-0013-8000'), '13800138000');
    assert.equal(normalisePhone('0086 13800138000'), '13800138000');
    assert.equal(normalisePhone('(010) 1234 5678'), '01012345678');
  });

  it('when an address names one province, then it is found; none or several, then undefined', () => {
    assert.equal(provinceInAddress('广东省深圳市南山区科技园'), '44');
    assert.equal(provinceInAddress('No. 1 Road, Hangzhou, Zhejiang'), '33');
    assert.equal(provinceInAddress('深圳市南山区'), undefined);
    assert.equal(provinceInAddress('北京与上海之间'), undefined);
  });
});

describe('review warnings (API)', () => {
  const r = useRegistry();
  let admin: { token: string };
  const detail = async (id: string): Promise<Warning[]> => {
    const res = await request(r.app)
      .get(`/api/v1/admin/pledges/${id}`)
      .set('Authorization', `Bearer ${admin.token}`);
    assert.equal(res.status, 200, res.text);
    return res.body.warnings as Warning[];
  };
  const codes = (w: Warning[]) => w.map((x) => x.code).sort();

  before(async () => {
    admin = await r.makeAdmin();
  });

  it('when a pledge copies an active pledge’s name, e-mail, phone and domain under another code, then each is a warning naming that pledge', async () => {
    const active = await activePledge(
      r,
      admin.token,
      await signBodyFor(r.app, {
        company: { name: '杭州示例精工有限公司' },
        signatory: { email: 'ceo@shili-jinggong.example', phone: '+86 571 8888 0001' },
      }),
    );
    const copy = await signAndConfirmWith(r, {
      company: { name: '杭州示例精工 有限公司' },
      signatory: { email: 'ceo@shili-jinggong.example', phone: '0086 571-8888-0001' },
    });
    const warnings = await detail(copy.id);
    for (const code of ['same-name', 'same-email', 'same-phone', 'same-email-domain']) {
      const w = warnings.find((x) => x.code === code);
      assert.ok(w, `${code} in ${JSON.stringify(warnings)}`);
      assert.deepEqual(
        w.pledges.map((p) => p.id),
        [active.id],
      );
      assert.ok(w.message.length > 10);
    }
  });

  it('when nothing is alike, then there is no warning', async () => {
    const p = await signAndConfirmWith(r, {
      company: { name: '独一无二示例有限公司' },
      signatory: { email: 'only@unique-firm.example' },
    });
    assert.deepEqual(await detail(p.id), []);
  });

  it('when the code’s province contradicts the address, then a region warning; when they agree, none', async () => {
    const bad = await signAndConfirmWith(r, {
      company: {
        uscc: makeUscc({ provinceCode: '44', serial: 900_001 }),
        address: '浙江省杭州市西湖区文三路1号',
      },
      signatory: { email: 'a@region-one.example' },
    });
    assert.deepEqual(codes(await detail(bad.id)), ['region-mismatch']);
    const good = await signAndConfirmWith(r, {
      company: {
        uscc: makeUscc({ provinceCode: '44', serial: 900_002 }),
        address: '广东省广州市天河区1号',
      },
      signatory: { email: 'a@region-two.example' },
    });
    assert.deepEqual(codes(await detail(good.id)), []);
  });

  it('when the signatory uses a free-mail address, then a free-mail warning (for any company: the form has no size field)', async () => {
    const p = await signAndConfirmWith(r, { signatory: { email: 'boss123@qq.com' } });
    assert.deepEqual(codes(await detail(p.id)), ['free-mail']);
  });

  it('when the code was revoked before, then a revoked-before warning', async () => {
    const first = await activePledge(
      r,
      admin.token,
      await signBodyFor(r.app, { signatory: { email: 'x@revoked-firm.example' } }),
    );
    await mongoose.connection
      .db!.collection('pledges')
      .updateOne(
        { _id: new mongoose.Types.ObjectId(first.id) },
        { $set: { status: 'revoked' }, $unset: { openUscc: 1 } },
      );
    const again = await signAndConfirmWith(r, {
      company: { uscc: first.body.company.uscc },
      signatory: { email: 'y@revoked-firm-2.example' },
    });
    const w = (await detail(again.id)).find((x) => x.code === 'revoked-before');
    assert.ok(w);
    assert.deepEqual(
      w.pledges.map((p) => p.id),
      [first.id],
    );
  });

  it('when others signed the same code without confirming, then a competing-pledges warning', async () => {
    const body = await signBodyFor(r.app, { signatory: { email: 'z@competing-a.example' } });
    const other = await sign(
      r.app,
      await signBodyFor(r.app, {
        company: { uscc: body.company.uscc },
        signatory: { email: 'z@competing-b.example' },
      }),
    );
    const p = await signAndConfirm(r, body);
    const w = (await detail(p.id)).find((x) => x.code === 'competing-pledges');
    assert.ok(w);
    assert.deepEqual(
      w.pledges.map((x) => x.id),
      [other.id],
    );
    // Once the other's link has run out, it no longer counts.
    await mongoose.connection
      .db!.collection('pledges')
      .updateOne(
        { _id: new mongoose.Types.ObjectId(other.id) },
        { $set: { confirmExpiresAt: new Date(Date.now() - 1000) } },
      );
    assert.equal(
      (await detail(p.id)).some((x) => x.code === 'competing-pledges'),
      false,
    );
  });

  it('when older pledges have no review keys, then the migration step gives them keys and they are matched', async () => {
    const old = await signAndConfirmWith(r, {
      company: { name: '宁波旧档示例有限公司' },
      signatory: { email: 'o@old-a.example' },
    });
    await mongoose.connection
      .db!.collection('pledges')
      .updateOne({ _id: new mongoose.Types.ObjectId(old.id) }, { $unset: { reviewKeys: 1 } });
    const fresh = await signAndConfirmWith(r, {
      company: { name: '宁波旧档示例有限公司' },
      signatory: { email: 'o@old-b.example' },
    });
    assert.equal(
      (await detail(fresh.id)).some((w) => w.code === 'same-name'),
      false,
      'unmatched before the step',
    );
    await reviewKeysStep.up(mongoose.connection.db!);
    assert.ok((await detail(fresh.id)).some((w) => w.code === 'same-name'));
  });
});

describe('review warnings (console page)', () => {
  const r = useRegistry();

  it('when a pledge copies an active one and uses free mail, then the console pledge page lists the warnings in the admin’s language with links to the other pledge', async () => {
    const admin = await r.makeAdmin();
    const active = await activePledge(
      r,
      admin.token,
      await signBodyFor(r.app, { company: { name: '苏州示例控制有限公司' } }),
    );
    const copy = await signAndConfirmWith(r, {
      company: { name: '苏州示例控制有限公司' },
      signatory: { email: 'copycat@163.com' },
    });
    const a = agent(r.app);
    await consoleSignIn(a, admin);
    const page = await a.get(`/admin/pledges/${copy.id}`).expect(200);
    assert.match(page.text, /决定前请核查/);
    assert.match(page.text, /企业名称相同/);
    assert.match(page.text, new RegExp(`href="/admin/pledges/${active.id}"`));
    assert.match(page.text, /公共免费邮箱（163\.com）/);
    const quiet = await a.get(`/admin/pledges/${active.id}`).expect(200);
    assert.doesNotMatch(quiet.text, /公共免费邮箱/);
  });
});
