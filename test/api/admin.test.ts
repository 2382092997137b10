/**
 * The association's admin API (routes/api/admin.ts) through HTTP against the real app: the review
 * queue and its filters, one pledge's record, corrections, initiative versions, administrator
 * accounts, the audit search, and who may call any of it.
 */
import assert from 'node:assert/strict';
import mongoose from 'mongoose';
import request, { type Response } from 'supertest';
import { Account } from '../../models/account';
import { Company } from '../../models/company';
import { Event } from '../../models/event';
import { Initiative, initiativeHash } from '../../models/initiative';
import { Pledge } from '../../models/pledge';
import { recordEvent } from '../../src/audit/events';
import { makeUscc } from '../../src/domain/uscc';
import type { ProvinceCode } from '../../src/domain/provinces';
import type { IndustryCode } from '../../src/domain/industries';
import {
  activePledge,
  assertProblem,
  settleCarriedWork,
  sign,
  signAndConfirm,
  signBodyFor,
  type SignBody,
} from '../helpers/pledges';
import { useRegistry, type RegistryHandle } from '../helpers/registry';

type Admin = Awaited<ReturnType<RegistryHandle['makeAdmin']>>;

const API = '/api/v1';

function as(r: RegistryHandle, token: string) {
  return {
    get: (path: string) =>
      request(r.app)
        .get(API + path)
        .set('Authorization', `Bearer ${token}`),
    post: (path: string, body?: object) => {
      const req = request(r.app)
        .post(API + path)
        .set('Authorization', `Bearer ${token}`);
      return body ? req.send(body) : req;
    },
    put: (path: string, body: object) =>
      request(r.app)
        .put(API + path)
        .set('Authorization', `Bearer ${token}`)
        .send(body),
    delete: (path: string) =>
      request(r.app)
        .delete(API + path)
        .set('Authorization', `Bearer ${token}`),
  };
}

/** A query string written as in a browser's address bar, percent-encoded where it must be. */
const rawQuery = (query: string): string => encodeURI(query).replace(/%25([0-9A-F]{2})/g, '%$1');

type AdminApi = { r: RegistryHandle; admin: Admin; api: ReturnType<typeof as> };

/** This block's registry, and an admin with its API client, made before the block's own hooks. */
function useAdminApi(): AdminApi {
  const r = useRegistry();
  const t = { r } as AdminApi;
  before(async () => {
    t.admin = await r.makeAdmin();
    t.api = as(r, t.admin.token);
  });
  return t;
}

function expectOk(res: Response, status = 200): Response {
  assert.equal(
    res.status,
    status,
    `expected ${status}, got ${res.status}: ${res.text.slice(0, 500)}`,
  );
  return res;
}

/** Polls the pledge record until its (current) certificate is issued; returns the serial. */
async function issuedSerial(
  r: RegistryHandle,
  token: string,
  pledgeId: string,
  other?: string,
): Promise<string> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    r.registry.certificateIssuer.poke();
    await r.registry.certificateIssuer.idle();
    const res = expectOk(await as(r, token).get(`/admin/pledges/${pledgeId}`));
    const serial = res.body.pledge.certificateSerial as string | null;
    if (serial && serial !== other) return serial;
    if (Date.now() > deadline) throw new Error(`no certificate for pledge ${pledgeId}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

interface AuditItem {
  id: string;
  seq: number | null;
  hash: string | null;
  at: string;
  actor: string;
  action: string;
  subject: { type: string; id: string };
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

describe('admin API', () => {
  describe('review queue filters (GET /api/v1/admin/pledges)', () => {
    const r = useRegistry();
    let admin: Admin;
    // A: pending_confirmation, B: pending_review, C: pending_review, D: active, E: rejected.
    const ids: Record<'A' | 'B' | 'C' | 'D' | 'E', string> = { A: '', B: '', C: '', D: '', E: '' };
    const bodies: Partial<Record<keyof typeof ids, SignBody>> = {};
    // Chosen around the China Standard Time day boundaries (UTC+8).
    const createdAt: Record<keyof typeof ids, string> = {
      A: '2009-09-01T15:59:59.999Z', // CST 2009-09-01 23:59:59.999
      B: '2009-09-01T16:30:00.000Z', // CST 2009-09-02 00:30
      C: '2009-09-02T10:00:00.000Z', // CST 2009-09-02 18:00
      D: '2009-09-02T15:59:59.999Z', // CST 2009-09-02 23:59:59.999
      E: '2009-09-02T16:00:00.000Z', // CST 2009-09-03 00:00
    };
    // English names without punctuation, so that metacharacters can only match the one name that has them.
    const spec: Record<
      keyof typeof ids,
      { name: string; nameEn: string; province: ProvinceCode; industry: IndustryCode }
    > = {
      A: {
        name: '青松示例精密仪器有限公司',
        nameEn: 'Qingsong Example Instruments',
        province: '11',
        industry: 'C',
      },
      B: {
        name: '上海白鹭示例食品有限公司',
        nameEn: 'Bailu Example Foods',
        province: '31',
        industry: 'F',
      },
      C: {
        name: '星河示例(上海)C++软件有限公司',
        nameEn: 'Xinghe Example Software',
        province: '31',
        industry: 'I',
      },
      D: {
        name: '松涛示例建材有限公司',
        nameEn: 'Songtao Example Building Materials',
        province: '44',
        industry: 'C',
      },
      E: {
        name: '明湖示例纺织有限公司',
        nameEn: 'Minghu Example Textiles',
        province: '11',
        industry: 'E',
      },
    };

    const list = async (query: Record<string, string>): Promise<Response> =>
      expectOk(
        await request(r.app)
          .get(`${API}/admin/pledges`)
          .query({ pageSize: '200', ...query })
          .set('Authorization', `Bearer ${admin.token}`),
      );
    const names = (res: Response): string[] =>
      (res.body.items as Array<{ id: string }>).map((p) => {
        const key = (Object.keys(ids) as Array<keyof typeof ids>).find((k) => ids[k] === p.id);
        assert.ok(key, `unexpected pledge ${p.id} in the queue`);
        return key;
      });

    before(async function () {
      this.timeout(60_000);
      admin = await r.makeAdmin();
      let n = 0;
      const body = async (k: keyof typeof ids) => {
        n += 1;
        const s = spec[k];
        const b = await signBodyFor(r.app, {
          company: {
            uscc: makeUscc({ provinceCode: s.province, serial: 515_000 + n }),
            name: s.name,
            nameEn: s.nameEn,
            industry: s.industry,
          },
          signatory: { email: `queue-${k.toLowerCase()}@queue.example` },
        });
        bodies[k] = b;
        return b;
      };
      ids.A = (await sign(r.app, await body('A'))).id;
      ids.B = (await signAndConfirm(r, await body('B'))).id;
      ids.C = (await signAndConfirm(r, await body('C'))).id;
      ids.D = (await activePledge(r, admin.token, await body('D'))).id;
      ids.E = (await signAndConfirm(r, await body('E'))).id;
      expectOk(
        await as(r, admin.token).post(`/admin/pledges/${ids.E}/reject`, {
          reason: '资料不全 / incomplete',
        }),
      );
      for (const k of Object.keys(ids) as Array<keyof typeof ids>) {
        await Pledge.collection.updateOne(
          { _id: new mongoose.Types.ObjectId(ids[k]) },
          { $set: { createdAt: new Date(createdAt[k]) } },
        );
      }
    });

    it('when no filter is given, then every pledge is listed oldest first with the total and page', async () => {
      const res = await list({});
      assert.deepEqual(names(res), ['A', 'B', 'C', 'D', 'E']);
      assert.equal(res.body.total, 5);
      assert.equal(res.body.page, 1);
      assert.equal(res.body.pageSize, 200);
      assert.equal(res.body.items[3].status, 'active');
    });

    it('when every filter is an empty string (a submitted GET form), then nothing is filtered', async () => {
      const res = await list({ status: '', province: '', industry: '', from: '', to: '', q: '' });
      assert.deepEqual(names(res), ['A', 'B', 'C', 'D', 'E']);
    });

    it('when filtered by status, then only pledges in that status are listed', async () => {
      assert.deepEqual(names(await list({ status: 'pending_confirmation' })), ['A']);
      assert.deepEqual(names(await list({ status: 'pending_review' })), ['B', 'C']);
      assert.deepEqual(names(await list({ status: 'active' })), ['D']);
      assert.deepEqual(names(await list({ status: 'rejected' })), ['E']);
      const none = await list({ status: 'withdrawn' });
      assert.deepEqual(names(none), []);
      assert.equal(none.body.total, 0);
    });

    it('when filtered by province, then only pledges of that province (from the USCC) are listed', async () => {
      assert.deepEqual(names(await list({ province: '31' })), ['B', 'C']);
      assert.deepEqual(names(await list({ province: '11' })), ['A', 'E']);
      assert.deepEqual(names(await list({ province: '44' })), ['D']);
      assert.deepEqual(names(await list({ province: '65' })), []);
    });

    it('when filtered by industry, then only pledges of that industry are listed', async () => {
      assert.deepEqual(names(await list({ industry: 'C' })), ['A', 'D']);
      assert.deepEqual(names(await list({ industry: 'I' })), ['C']);
      assert.deepEqual(names(await list({ industry: 'T' })), []);
    });

    it('when filters are combined, then a pledge must match all of them', async () => {
      assert.deepEqual(
        names(await list({ status: 'pending_review', province: '31', industry: 'F' })),
        ['B'],
      );
      assert.deepEqual(names(await list({ status: 'active', province: '31' })), []);
      assert.deepEqual(names(await list({ province: '11', from: '2009-09-02' })), ['E']);
    });

    it('when from and to name one CST day, then pledges created that day in China time are listed, both ends included', async () => {
      // B was created at 16:30 UTC on 1 September: 00:30 on 2 September in China.
      assert.deepEqual(names(await list({ from: '2009-09-02', to: '2009-09-02' })), [
        'B',
        'C',
        'D',
      ]);
      assert.deepEqual(names(await list({ from: '2009-09-01', to: '2009-09-01' })), ['A']);
      assert.deepEqual(names(await list({ from: '2009-09-03', to: '2009-09-03' })), ['E']);
      assert.deepEqual(names(await list({ from: '2009-09-01', to: '2009-09-03' })), [
        'A',
        'B',
        'C',
        'D',
        'E',
      ]);
      assert.deepEqual(names(await list({ from: '2009-08-30', to: '2009-08-31' })), []);
    });

    it('when only from or only to is given, then the range is open on the other side', async () => {
      assert.deepEqual(names(await list({ from: '2009-09-02' })), ['B', 'C', 'D', 'E']);
      assert.deepEqual(names(await list({ to: '2009-09-01' })), ['A']);
      assert.deepEqual(names(await list({ to: '2009-09-02' })), ['A', 'B', 'C', 'D']);
      assert.deepEqual(names(await list({ from: '2009-09-03' })), ['E']);
    });

    it('when q is part of a Chinese company name, then pledges whose name contains it are listed', async () => {
      assert.deepEqual(names(await list({ q: '白鹭' })), ['B']);
      assert.deepEqual(names(await list({ q: '上海' })), ['B', 'C']);
      assert.deepEqual(names(await list({ q: '示例' })), ['A', 'B', 'C', 'D', 'E']);
      assert.deepEqual(names(await list({ q: 'bailu example' })), ['B']);
      assert.deepEqual(names(await list({ q: '不存在的名称' })), []);
    });

    it('when q is a USCC, then only the exact code matches (any case), never a part of it', async () => {
      const uscc = bodies.D!.company.uscc;
      assert.deepEqual(names(await list({ q: uscc })), ['D']);
      assert.deepEqual(names(await list({ q: uscc.toLowerCase() })), ['D']);
      assert.deepEqual(names(await list({ q: uscc.slice(0, 17) })), []);
      assert.deepEqual(names(await list({ q: uscc.slice(1) })), []);
    });

    it('when q holds regular-expression metacharacters, then they are matched literally', async () => {
      assert.deepEqual(names(await list({ q: '.*' })), []);
      assert.deepEqual(names(await list({ q: '.' })), []);
      assert.deepEqual(names(await list({ q: '^' })), []);
      // As a pattern "(上海)" would also match B's name; literally only C has the brackets.
      assert.deepEqual(names(await list({ q: '(上海)' })), ['C']);
      // As a pattern these would not even compile.
      assert.deepEqual(names(await list({ q: 'C++' })), ['C']);
      assert.deepEqual(names(await list({ q: '(' })), ['C']);
      assert.deepEqual(names(await list({ q: '[' })), []);
      assert.deepEqual(names(await list({ q: '\\' })), []);
    });

    it('when paging, then the total counts every match and each page holds pageSize pledges in order', async () => {
      const p1 = await list({ pageSize: '2', page: '1' });
      const p2 = await list({ pageSize: '2', page: '2' });
      const p3 = await list({ pageSize: '2', page: '3' });
      const p4 = await list({ pageSize: '2', page: '4' });
      assert.deepEqual(
        [names(p1), names(p2), names(p3), names(p4)],
        [['A', 'B'], ['C', 'D'], ['E'], []],
      );
      for (const p of [p1, p2, p3, p4]) assert.equal(p.body.total, 5);
      assert.equal(p2.body.page, 2);
      assert.equal(p2.body.pageSize, 2);
      const filtered = await list({ status: 'pending_review', pageSize: '1', page: '2' });
      assert.deepEqual(names(filtered), ['C']);
      assert.equal(filtered.body.total, 2);
    });

    it('when a leap day or the last day of a month is given, then it is accepted as a date', async () => {
      assert.deepEqual(names(await list({ from: '2008-02-29', to: '2009-08-31' })), []);
    });

    const invalid: Array<{ query: string; field: string; label?: string }> = [
      { query: 'status=bogus', field: 'status' },
      { query: 'status=ACTIVE', field: 'status' },
      { query: 'province=99', field: 'province' },
      { query: 'province=1', field: 'province' },
      { query: 'province=110', field: 'province' },
      { query: 'industry=Z', field: 'industry' },
      { query: 'industry=c', field: 'industry' },
      { query: 'from=2009-09-03&to=2009-09-01', field: 'to' },
      { query: 'from=2009-02-30', field: 'from' },
      { query: 'to=2009-02-29', field: 'to' },
      { query: 'from=2009-13-01', field: 'from' },
      { query: 'from=2009-9-1', field: 'from' },
      { query: 'to=09%2F01%2F2009', field: 'to' },
      { query: 'from=2009-09-01T00%3A00%3A00Z', field: 'from' },
      { query: 'colour=red', field: 'colour' },
      { query: 'q[]=a', field: 'q[]' },
      { query: 'q[$ne]=x', field: 'q[$ne]' },
      { query: 'status[$ne]=active', field: 'status[$ne]' },
      { query: 'q=a&q=b', field: 'q' },
      { query: 'status=active&status=revoked', field: 'status' },
      { query: `q=${'质'.repeat(101)}`, field: 'q', label: 'q of 101 characters' },
      { query: 'page=0', field: 'page' },
      { query: 'page=abc', field: 'page' },
      { query: 'pageSize=201', field: 'pageSize' },
      { query: 'pageSize=1.5', field: 'pageSize' },
    ];
    for (const { query, field, label } of invalid) {
      it(`when the queue is asked for ${label ?? query}, then 400 problem+json naming ${field}`, async () => {
        const res = await request(r.app)
          .get(`${API}/admin/pledges?${rawQuery(query)}`)
          .set('Authorization', `Bearer ${admin.token}`);
        assertProblem(res, 400, [field]);
      });
    }
  });

  describe('pledge record, review and corrections', () => {
    const t = useAdminApi();
    const { r } = t;
    /** An active pledge of this block's admin, and the serial of its issued certificate. */
    const certified = async () => {
      const p = await activePledge(r, t.admin.token);
      return { p, serial: await issuedSerial(r, t.admin.token, p.id) };
    };

    it('when the pledge id is unknown, then 404; when it is malformed, then 400 naming id', async () => {
      assertProblem(
        await t.api.get(`/admin/pledges/${new mongoose.Types.ObjectId().toHexString()}`),
        404,
      );
      assertProblem(await t.api.get('/admin/pledges/not-an-id'), 400, ['id']);
      assertProblem(await t.api.get('/admin/pledges/0123456789abcdef0123456'), 400, ['id']);
      assertProblem(await t.api.get(`/admin/pledges/${'z'.repeat(24)}`), 400, ['id']);
    });

    it('when a pledge was approved, certified and revoked, then its record lists the certificate as revoked and every event in time order', async function () {
      this.timeout(40_000);
      const p = await activePledge(r, t.admin.token);
      const other = await activePledge(r, t.admin.token); // its events must not show up
      const serial = await issuedSerial(r, t.admin.token, p.id);
      await issuedSerial(r, t.admin.token, other.id);
      expectOk(
        await t.api.post(`/admin/certificates/${serial}/revoke`, {
          reason: '虚假宣传 / false claims',
        }),
      );

      const res = expectOk(await t.api.get(`/admin/pledges/${p.id}`));
      assert.equal(res.body.pledge.id, p.id);
      assert.equal(res.body.pledge.status, 'revoked');
      assert.equal(res.body.pledge.company.uscc, p.body.company.uscc);
      assert.equal(res.body.pledge.certificateSerial, serial);
      assert.deepEqual(
        res.body.certificates.map(
          (c: { serial: string; status: string; statusReason: string | null }) => [
            c.serial,
            c.status,
            c.statusReason,
          ],
        ),
        [[serial, 'revoked', '虚假宣传 / false claims']],
      );
      const events = res.body.events as AuditItem[];
      assert.deepEqual(
        events.map((e) => e.action),
        [
          'pledge.signed',
          'pledge.confirmed',
          'pledge.activated',
          'certificate.issued',
          'certificate.revoked',
        ],
      );
      for (let i = 1; i < events.length; i++)
        assert.ok(
          Date.parse(events[i - 1].at) <= Date.parse(events[i].at),
          `events out of order at ${i}`,
        );
      for (const e of events)
        assert.ok([p.id, serial].includes(e.subject.id), `foreign event ${JSON.stringify(e)}`);
      const revoked = events[4];
      assert.equal(revoked.actor, `admin:${t.admin.id}`);
      assert.deepEqual(revoked.subject, { type: 'certificate', id: serial });
      assert.equal(revoked.after?.reason, '虚假宣传 / false claims');
      assert.equal(events[2].actor, `admin:${t.admin.id}`);
      assert.ok(!JSON.stringify(res.body).includes('confirmTokenHash'));
    });

    it('when a pledge awaiting review is rejected through the admin API, then its record shows the reason and pledge.rejected', async () => {
      const p = await signAndConfirm(r);
      const res = expectOk(
        await t.api.post(`/admin/pledges/${p.id}/reject`, {
          reason: '材料不符 / documents do not match',
        }),
      );
      assert.equal(res.body.status, 'rejected');
      const record = expectOk(await t.api.get(`/admin/pledges/${p.id}`));
      assert.equal(record.body.pledge.closedReason, '材料不符 / documents do not match');
      assert.deepEqual(record.body.certificates, []);
      assert.deepEqual(
        (record.body.events as AuditItem[]).map((e) => e.action),
        ['pledge.signed', 'pledge.confirmed', 'pledge.rejected'],
      );
      assertProblem(
        await t.api.post(`/admin/pledges/${p.id}/approve`, { evidenceChecked: true }),
        409,
      );
      assertProblem(
        await t.api.post(`/admin/pledges/${new mongoose.Types.ObjectId().toHexString()}/approve`, {
          evidenceChecked: true,
        }),
        404,
      );
      assertProblem(await t.api.post(`/admin/pledges/${p.id}/reject`, {}), 400, ['reason']);
    });

    it('when an active pledge is corrected, then a new serial supersedes the old certificate and pledge.corrected records the reason', async function () {
      this.timeout(40_000);
      const { p, serial: oldSerial } = await certified();
      const res = expectOk(
        await t.api.post(`/admin/pledges/${p.id}/correct`, {
          name: '堃垚示例建设工程有限公司',
          nameEn: 'Kunyao Example Construction Co.',
          reason: '工商变更 / registered name changed',
        }),
      );
      assert.equal(res.body.status, 'active');
      assert.equal(res.body.company.name, '堃垚示例建设工程有限公司');
      assert.equal(res.body.company.nameEn, 'Kunyao Example Construction Co.');

      const record = expectOk(await t.api.get(`/admin/pledges/${p.id}`));
      const newSerial = record.body.pledge.certificateSerial as string;
      assert.ok(newSerial);
      assert.notEqual(newSerial, oldSerial);

      const old = expectOk(await request(r.app).get(`${API}/certificates/${oldSerial}`));
      assert.equal(old.body.status, 'superseded');
      assert.equal(old.body.supersededBy, newSerial);
      const fresh = expectOk(await request(r.app).get(`${API}/certificates/${newSerial}`));
      assert.equal(fresh.body.status, 'valid');
      assert.equal(fresh.body.company.name, '堃垚示例建设工程有限公司');

      assert.deepEqual(
        (
          record.body.certificates as Array<{
            serial: string;
            status: string;
            supersededBy: string | null;
          }>
        ).map((c) => [c.serial, c.status, c.supersededBy]),
        [
          [oldSerial, 'superseded', newSerial],
          [newSerial, 'valid', null],
        ],
      );
      const events = record.body.events as AuditItem[];
      const corrected = events.filter((e) => e.action === 'pledge.corrected');
      assert.equal(corrected.length, 1);
      assert.equal(corrected[0].actor, `admin:${t.admin.id}`);
      assert.equal(corrected[0].after?.reason, '工商变更 / registered name changed');
      assert.equal(corrected[0].after?.name, '堃垚示例建设工程有限公司');
      assert.equal(corrected[0].before?.name, p.body.company.name);
      assert.ok(
        events.some((e) => e.action === 'certificate.superseded' && e.subject.id === oldSerial),
      );
      assert.ok(
        events.some((e) => e.action === 'certificate.issued' && e.subject.id === newSerial),
      );
      const doc = await Pledge.findById(p.id).lean();
      assert.equal(doc!.companyName, '堃垚示例建设工程有限公司');
      const company = await Company.findById(doc!.company).lean();
      assert.equal(company!.name, '堃垚示例建设工程有限公司');
      const directory = expectOk(
        await request(r.app).get(`${API}/signatories`).query({ q: '堃垚示例' }),
      );
      assert.deepEqual(
        directory.body.items.map((s: { company: { uscc: string } }) => s.company.uscc),
        [p.body.company.uscc],
      );
    });

    // Regression guard (found while writing these tests).
    it('when a pledge is corrected, then the answer carries the new certificate serial', async function () {
      this.timeout(40_000);
      const { p, serial: oldSerial } = await certified();
      const res = expectOk(
        await t.api.post(`/admin/pledges/${p.id}/correct`, {
          name: '昇犇示例物流有限公司',
          reason: '名称更正',
        }),
      );
      const record = expectOk(await t.api.get(`/admin/pledges/${p.id}`));
      assert.notEqual(record.body.pledge.certificateSerial, oldSerial);
      assert.equal(
        res.body.certificateSerial,
        record.body.pledge.certificateSerial,
        `answer: ${JSON.stringify(res.body)}`,
      );
    });

    // Regression guard (found while writing these tests).
    it('when a correction is addressed with the id in capitals, then pledge.corrected still appears in the pledge record', async function () {
      this.timeout(40_000);
      const { p } = await certified();
      const upper = p.id.toUpperCase();
      assert.equal(expectOk(await t.api.get(`/admin/pledges/${upper}`)).body.pledge.id, p.id);
      expectOk(
        await t.api.post(`/admin/pledges/${upper}/correct`, {
          nameEn: 'Capital Letters Example Co',
          reason: '英文名称更正',
        }),
      );
      const record = expectOk(await t.api.get(`/admin/pledges/${p.id}`));
      assert.equal(record.body.pledge.company.nameEn, 'Capital Letters Example Co');
      const actions = (record.body.events as AuditItem[]).map((e) => e.action);
      assert.ok(actions.includes('pledge.corrected'), `events: ${actions.join(', ')}`);
    });

    // Regression guard: events must be recorded under the stored (lower-case) id.
    it('when a rejection is addressed with the id in capitals, then pledge.rejected still appears in the pledge record', async () => {
      const p = await signAndConfirm(r);
      expectOk(
        await t.api.post(`/admin/pledges/${p.id.toUpperCase()}/reject`, { reason: '资料不全' }),
      );
      const record = expectOk(await t.api.get(`/admin/pledges/${p.id}`));
      assert.equal(record.body.pledge.status, 'rejected');
      const actions = (record.body.events as AuditItem[]).map((e) => e.action);
      assert.deepEqual(actions, ['pledge.signed', 'pledge.confirmed', 'pledge.rejected']);
    });

    it('when only the industry is corrected and the name field is left empty, then the name stays and a new certificate is issued', async function () {
      this.timeout(40_000);
      const { p, serial: oldSerial } = await certified();
      const industry = p.body.company.industry === 'E' ? 'F' : 'E';
      const res = expectOk(
        await t.api.post(`/admin/pledges/${p.id}/correct`, {
          name: '',
          industry,
          reason: '行业分类更正',
        }),
      );
      assert.equal(res.body.company.industry, industry);
      assert.equal(res.body.company.name, p.body.company.name);
      const old = expectOk(await request(r.app).get(`${API}/certificates/${oldSerial}`));
      assert.equal(old.body.status, 'superseded');
    });

    it('when there is nothing to correct, then 400 and neither the pledge nor its certificate changes', async function () {
      this.timeout(40_000);
      const { p, serial } = await certified();
      await settleCarriedWork(); // the background passes' share of what came before
      const before = await Pledge.findById(p.id).lean();
      const eventsBefore = await Event.countDocuments({});
      assertProblem(
        await t.api.post(`/admin/pledges/${p.id}/correct`, { reason: '没有变化' }),
        400,
      );
      assertProblem(
        await t.api.post(`/admin/pledges/${p.id}/correct`, {
          name: '',
          nameEn: '',
          reason: '没有变化',
        }),
        400,
      );
      assertProblem(
        await t.api.post(`/admin/pledges/${p.id}/correct`, { name: '新名称示例有限公司' }),
        400,
        ['reason'],
      );
      assertProblem(
        await t.api.post(`/admin/pledges/${p.id}/correct`, { industry: 'Z', reason: '行业' }),
        400,
        ['industry'],
      );
      assertProblem(
        await t.api.post(`/admin/pledges/${p.id}/correct`, {
          uscc: 'x',
          name: '新名称示例有限公司',
          reason: '代码',
        }),
        400,
        ['uscc'],
      );
      assert.deepEqual(await Pledge.findById(p.id).lean(), before);
      assert.equal(await Event.countDocuments({}), eventsBefore);
      assert.equal(
        expectOk(await request(r.app).get(`${API}/certificates/${serial}`)).body.status,
        'valid',
      );
    });

    it('when the pledge is not active, then correcting it is 409 and nothing changes; an unknown pledge is 404', async function () {
      this.timeout(40_000);
      const pending = await signAndConfirm(r);
      await settleCarriedWork();
      const before = await Pledge.findById(pending.id).lean();
      const res = await t.api.post(`/admin/pledges/${pending.id}/correct`, {
        name: '新名称示例有限公司',
        reason: '名称更正',
      });
      assertProblem(res, 409);
      assert.equal(res.body.type, '/problems/pledge-not-active');
      assert.deepEqual(await Pledge.findById(pending.id).lean(), before);

      const active = await activePledge(r, t.admin.token);
      const serial = await issuedSerial(r, t.admin.token, active.id);
      expectOk(await t.api.post(`/admin/certificates/${serial}/revoke`, { reason: '撤销测试' }));
      assertProblem(
        await t.api.post(`/admin/pledges/${active.id}/correct`, {
          name: '新名称示例有限公司',
          reason: '名称更正',
        }),
        409,
      );
      assert.equal(
        expectOk(await request(r.app).get(`${API}/certificates/${serial}`)).body.status,
        'revoked',
      );

      assertProblem(
        await t.api.post(`/admin/pledges/${new mongoose.Types.ObjectId().toHexString()}/correct`, {
          name: '新名称示例有限公司',
          reason: '名称更正',
        }),
        404,
      );
    });
  });

  describe('initiative versions', () => {
    const t = useAdminApi();
    const { r } = t;
    let v1: { version: number; sha256: string };
    let oldPledge: string;
    const draft = {
      titleZh: '企业质量诚信倡议书（2026年修订版）',
      titleEn: 'Enterprise Quality Integrity Initiative (2026 revision)',
      textZh: '我们倡议：坚守质量诚信，履行质量承诺，接受社会监督，持续改进产品和服务质量。',
      textEn:
        'We pledge to uphold quality integrity, keep our quality promises, accept public oversight and keep improving.',
    };
    const edited = {
      ...draft,
      textZh: draft.textZh + '（修订）我们将公开质量信息。',
      textEn: draft.textEn + ' We will publish our quality information.',
    };
    const hashOf = (version: number, d: typeof draft) =>
      initiativeHash({
        version,
        title: { zh: d.titleZh, en: d.titleEn },
        text: { zh: d.textZh, en: d.textEn },
      });

    before(async function () {
      this.timeout(30_000);
      const cur = expectOk(await request(r.app).get(`${API}/initiative`));
      v1 = { version: cur.body.version, sha256: cur.body.sha256 };
      oldPledge = (await signAndConfirm(r)).id;
    });

    it('when versions are listed, then the published one shows with how many pledges signed it', async () => {
      const res = expectOk(await t.api.get('/admin/initiatives'));
      assert.equal(res.body.items.length, 1);
      assert.equal(res.body.items[0].version, v1.version);
      assert.equal(res.body.items[0].status, 'published');
      assert.equal(res.body.items[0].sha256, v1.sha256);
      assert.equal(res.body.items[0].pledges, 1);
    });

    it('when a draft is created, then 201 with the next version number and its hash; the public initiative stays the old one', async () => {
      const res = expectOk(await t.api.post('/admin/initiatives', draft), 201);
      assert.equal(res.body.version, v1.version + 1);
      assert.equal(res.body.status, 'draft');
      assert.equal(res.body.publishedAt, null);
      assert.deepEqual(res.body.title, { zh: draft.titleZh, en: draft.titleEn });
      assert.equal(res.body.sha256, hashOf(v1.version + 1, draft));
      const pub = expectOk(await request(r.app).get(`${API}/initiative`));
      assert.equal(pub.body.version, v1.version);
      assert.equal(pub.body.sha256, v1.sha256);
      const preview = expectOk(await t.api.get(`/admin/initiatives/${v1.version + 1}`));
      assert.equal(preview.body.text.zh, draft.textZh);
    });

    it('when a second draft is started, then 409 and the first draft is unchanged', async () => {
      const res = await t.api.post('/admin/initiatives', { ...draft, titleZh: '另一份草稿标题' });
      assertProblem(res, 409);
      assert.equal(res.body.type, '/problems/draft-exists');
      const list = expectOk(await t.api.get('/admin/initiatives'));
      assert.deepEqual(
        list.body.items.map((v: { version: number; status: string }) => [v.version, v.status]),
        [
          [v1.version + 1, 'draft'],
          [v1.version, 'published'],
        ],
      );
      assert.equal(list.body.items[0].title.zh, draft.titleZh);
    });

    it('when a draft is invalid, then 400 naming the field', async () => {
      assertProblem(await t.api.post('/admin/initiatives', { ...draft, textZh: '太短' }), 400, [
        'textZh',
      ]);
      assertProblem(await t.api.post('/admin/initiatives', { ...draft, version: 7 }), 400, [
        'version',
      ]);
      assertProblem(
        await t.api.put(`/admin/initiatives/${v1.version + 1}`, { titleZh: draft.titleZh }),
        400,
        ['titleEn', 'textZh', 'textEn'],
      );
    });

    it('when the draft is edited, then its text and hash change, the edit is audited, and the public initiative is still the old one', async () => {
      const v2 = v1.version + 1;
      const res = expectOk(await t.api.put(`/admin/initiatives/${v2}`, edited));
      assert.equal(res.body.status, 'draft');
      assert.equal(res.body.text.zh, edited.textZh);
      assert.equal(res.body.sha256, hashOf(v2, edited));
      assert.equal(
        expectOk(await t.api.get(`/admin/initiatives/${v2}`)).body.sha256,
        hashOf(v2, edited),
      );
      const pub = expectOk(await request(r.app).get(`${API}/initiative`));
      assert.equal(pub.body.version, v1.version);
      assert.equal(pub.body.sha256, v1.sha256);
      const audit = expectOk(
        await t.api.get(`/admin/audit?action=initiative.draft_updated&subject=${v2}`),
      );
      assert.equal(audit.body.total, 1);
      assert.equal(audit.body.items[0].actor, `admin:${t.admin.id}`);
    });

    it('when someone signs the draft before it is published, then 400 naming initiative.version', async () => {
      const body = await signBodyFor(r.app);
      body.initiative = { version: v1.version + 1, sha256: hashOf(v1.version + 1, edited) };
      assertProblem(await request(r.app).post(`${API}/pledges`).send(body), 400, [
        'initiative.version',
      ]);
    });

    it('when the draft is published, then the public initiative and the sign API move to it while existing pledges keep their version', async () => {
      const v2 = v1.version + 1;
      const res = expectOk(await t.api.post(`/admin/initiatives/${v2}/publish`));
      assert.equal(res.body.status, 'published');
      assert.ok(res.body.publishedAt);
      assert.equal(res.body.sha256, hashOf(v2, edited));

      const pub = expectOk(await request(r.app).get(`${API}/initiative`));
      assert.equal(pub.body.version, v2);
      assert.equal(pub.body.sha256, hashOf(v2, edited));
      assert.equal(pub.body.text.zh, edited.textZh);

      const stale = await signBodyFor(r.app);
      stale.initiative = v1;
      assertProblem(await request(r.app).post(`${API}/pledges`).send(stale), 400, [
        'initiative.version',
      ]);
      const wrongHash = await signBodyFor(r.app);
      wrongHash.initiative = { version: v2, sha256: v1.sha256 };
      assertProblem(await request(r.app).post(`${API}/pledges`).send(wrongHash), 400, [
        'initiative.sha256',
      ]);

      const fresh = await sign(r.app); // signBodyFor reads the current version
      const freshRecord = expectOk(await t.api.get(`/admin/pledges/${fresh.id}`));
      assert.deepEqual(freshRecord.body.pledge.initiative, {
        version: v2,
        sha256: hashOf(v2, edited),
      });
      const oldRecord = expectOk(await t.api.get(`/admin/pledges/${oldPledge}`));
      assert.deepEqual(oldRecord.body.pledge.initiative, v1);

      const list = expectOk(await t.api.get('/admin/initiatives'));
      assert.deepEqual(
        list.body.items.map((v: { version: number; status: string; pledges: number }) => [
          v.version,
          v.status,
          v.pledges,
        ]),
        [
          [v2, 'published', 1],
          [v1.version, 'published', 1],
        ],
      );
    });

    it('when a published version is edited, discarded or published again, then 409 and its text is unchanged', async () => {
      const v2 = v1.version + 1;
      for (const v of [v1.version, v2]) {
        const before = expectOk(await t.api.get(`/admin/initiatives/${v}`)).body;
        const put = await t.api.put(`/admin/initiatives/${v}`, draft);
        assertProblem(put, 409);
        assert.equal(put.body.type, '/problems/initiative-published');
        assertProblem(await t.api.delete(`/admin/initiatives/${v}`), 409);
        assertProblem(await t.api.post(`/admin/initiatives/${v}/publish`), 409);
        assert.deepEqual(expectOk(await t.api.get(`/admin/initiatives/${v}`)).body, before);
      }
      assert.equal(expectOk(await request(r.app).get(`${API}/initiative`)).body.version, v2);
    });

    it('when a version does not exist, then 404 for reading, editing, discarding and publishing', async () => {
      assertProblem(await t.api.get('/admin/initiatives/99'), 404);
      assertProblem(await t.api.put('/admin/initiatives/99', draft), 404);
      assertProblem(await t.api.delete('/admin/initiatives/99'), 404);
      assertProblem(await t.api.post('/admin/initiatives/99/publish'), 404);
      assert.equal(
        await mongoose.connection.db!.collection('initiatives').countDocuments({ version: 99 }),
        0,
      );
    });

    it('when the version is not a positive whole number, then 400 naming version', async () => {
      for (const v of ['abc', '0', '-1', '1.5', '2x']) {
        assertProblem(await t.api.get(`/admin/initiatives/${v}`), 400, ['version']);
        assertProblem(await t.api.put(`/admin/initiatives/${v}`, draft), 400, ['version']);
        assertProblem(await t.api.delete(`/admin/initiatives/${v}`), 400, ['version']);
        assertProblem(await t.api.post(`/admin/initiatives/${v}/publish`), 400, ['version']);
      }
    });

    it('when a draft is discarded, then it is gone, the public version is unchanged, and the next draft reuses the number', async () => {
      const v3 = v1.version + 2;
      expectOk(await t.api.post('/admin/initiatives', draft), 201);
      const del = await t.api.delete(`/admin/initiatives/${v3}`);
      assert.equal(del.status, 204, del.text);
      assertProblem(await t.api.get(`/admin/initiatives/${v3}`), 404);
      assert.equal(
        expectOk(await request(r.app).get(`${API}/initiative`)).body.version,
        v1.version + 1,
      );
      const again = expectOk(await t.api.post('/admin/initiatives', draft), 201);
      assert.equal(again.body.version, v3);
      expectOk(await t.api.delete(`/admin/initiatives/${v3}`), 204);
    });

    it('when drafts are made and published, then each step is in the audit log with the admin as actor', async () => {
      const v2 = String(v1.version + 1);
      const actor = `admin:${t.admin.id}`;
      const drafted = expectOk(await t.api.get('/admin/audit?action=initiative.drafted')).body
        .items as AuditItem[];
      assert.ok(
        drafted.some(
          (e) => e.subject.id === v2 && e.subject.type === 'initiative' && e.actor === actor,
        ),
        JSON.stringify(drafted),
      );
      const published = expectOk(await t.api.get('/admin/audit?action=initiative.published')).body
        .items as AuditItem[];
      assert.equal(published.length, 1);
      assert.equal(published[0].subject.id, v2);
      assert.equal(published[0].actor, actor);
      assert.equal(published[0].after?.sha256, hashOf(v1.version + 1, edited));
      const discarded = expectOk(
        await t.api.get('/admin/audit?action=initiative.draft_discarded'),
      ).body;
      assert.equal(discarded.total, 2);
      const all = expectOk(await t.api.get(`/admin/audit?action=initiative.&actor=${actor}`)).body
        .items as AuditItem[];
      assert.deepEqual(all.map((e) => e.action).reverse(), [
        'initiative.drafted',
        'initiative.draft_updated',
        'initiative.published',
        'initiative.drafted',
        'initiative.draft_discarded',
        'initiative.drafted',
        'initiative.draft_discarded',
      ]);
    });
  });

  describe('initiative drafts started at the same moment', () => {
    const r = useRegistry();

    it('when a second draft reaches the database however it is written, then the unique draft index refuses it', async () => {
      const draft = (version: number) => {
        const c = {
          version,
          title: { zh: `草稿${version}`, en: `Draft ${version}` },
          text: { zh: '我们倡议：坚守质量诚信。', en: 'We pledge quality integrity.' },
        };
        return { ...c, sha256: initiativeHash(c), status: 'draft' as const };
      };
      await Initiative.init();
      await Initiative.create(draft(90));
      await assert.rejects(
        Initiative.create(draft(91)),
        (e: { code?: number }) => e.code === 11000,
      );
      await Initiative.deleteOne({ version: 90 });
    });

    it('when two admins start a draft at once, then one gets 201 and the other 409, never a 5xx or two drafts', async () => {
      const [a, b] = [await r.makeAdmin(), await r.makeAdmin()];
      const body = (t: string) => ({
        titleZh: `并发草稿${t}`,
        titleEn: `Concurrent draft ${t}`,
        textZh: '我们倡议：坚守质量诚信，履行质量承诺，接受社会监督。',
        textEn: 'We pledge to uphold quality integrity and keep our promises.',
      });
      const results = await Promise.all([
        as(r, a.token).post('/admin/initiatives', body('A')),
        as(r, b.token).post('/admin/initiatives', body('B')),
      ]);
      assert.deepEqual(
        results.map((x) => x.status).sort(),
        [201, 409],
        results.map((x) => x.text).join('\n'),
      );
      const list = expectOk(await as(r, a.token).get('/admin/initiatives'));
      assert.equal(
        list.body.items.filter((v: { status: string }) => v.status === 'draft').length,
        1,
      );
      const drafted = expectOk(
        await as(r, a.token).get('/admin/audit?action=initiative.drafted'),
      ).body;
      assert.equal(drafted.total, 1);
    });
  });

  describe('administrator accounts', () => {
    const t = useAdminApi();
    const { r } = t;

    const login = (email: string, password: string) =>
      request(r.app).post(`${API}/auth/login`).send({ email, password });

    it('when an admin creates an account, then 201 without any password hash, and the new admin can sign in and use the API', async () => {
      const password = 'a long enough passphrase 质量';
      const res = expectOk(
        await t.api.post('/admin/accounts', { email: 'New.Reviewer@CAQ.test', password }),
        201,
      );
      assert.equal(res.body.email, 'new.reviewer@caq.test');
      assert.equal(res.body.disabled, false);
      assert.match(res.body.id, /^[0-9a-f]{24}$/);
      assert.ok(!/passwordHash|scrypt/.test(res.text), res.text);
      assert.ok(!res.text.includes(password));

      const list = expectOk(await t.api.get('/admin/accounts'));
      assert.ok(!/passwordHash|scrypt/.test(list.text), list.text);
      const mine = list.body.items.find((a: { id: string }) => a.id === res.body.id);
      assert.deepEqual(
        { email: mine.email, disabled: mine.disabled },
        { email: 'new.reviewer@caq.test', disabled: false },
      );
      assert.ok(list.body.items.every((a: Record<string, unknown>) => !('passwordHash' in a)));

      const token = expectOk(await login('new.reviewer@caq.test', password)).body.token as string;
      expectOk(await as(r, token).get('/admin/pledges'));
      const stored = await Account.findById(res.body.id).lean();
      assert.equal(stored!.role, 'admin');
      assert.notEqual(stored!.passwordHash, password);

      const audit = expectOk(
        await t.api.get(`/admin/audit?action=admin.created&actor=admin:${t.admin.id}`),
      ).body.items as AuditItem[];
      assert.deepEqual(
        audit.map((e) => e.subject),
        [{ type: 'account', id: 'new.reviewer@caq.test' }],
      );
    });

    it('when the e-mail is already an administrator (in any case), then 409 and no second account is made', async () => {
      const res = await t.api.post('/admin/accounts', {
        email: 'NEW.reviewer@caq.test',
        password: 'another long passphrase',
      });
      assertProblem(res, 409);
      assert.equal(res.body.type, '/problems/admin-exists');
      assert.equal(await Account.countDocuments({ email: 'new.reviewer@caq.test' }), 1);
      // The old password still works: the account was not overwritten.
      expectOk(await login('new.reviewer@caq.test', 'a long enough passphrase 质量'));
      assertProblem(await login('new.reviewer@caq.test', 'another long passphrase'), 401);
    });

    it('when the password is shorter than 12 characters or the e-mail is invalid, then 400 naming the field and nothing is made', async () => {
      const before = await Account.countDocuments({});
      assertProblem(
        await t.api.post('/admin/accounts', { email: 'short@caq.test', password: '12345678901' }),
        400,
        ['password'],
      );
      assertProblem(
        await t.api.post('/admin/accounts', { email: 'short@caq.test', password: '' }),
        400,
        ['password'],
      );
      assertProblem(await t.api.post('/admin/accounts', { email: 'short@caq.test' }), 400, [
        'password',
      ]);
      assertProblem(
        await t.api.post('/admin/accounts', {
          email: 'not an e-mail',
          password: 'a long enough passphrase',
        }),
        400,
        ['email'],
      );
      assertProblem(
        await t.api.post('/admin/accounts', {
          email: 'x@caq.test',
          password: 'a long enough passphrase',
          role: 'admin',
        }),
        400,
        ['role'],
      );
      assert.equal(await Account.countDocuments({}), before);
      expectOk(
        await t.api.post('/admin/accounts', { email: 'twelve@caq.test', password: '123456789012' }),
        201,
      );
    });

    it('when an admin tries to disable their own account, then 409 and the account still works', async () => {
      const res = await t.api.post(`/admin/accounts/${t.admin.id}/disable`);
      assertProblem(res, 409);
      assert.equal(res.body.type, '/problems/cannot-disable-self');
      assert.notEqual((await Account.findById(t.admin.id).lean())!.disabled, true);
      expectOk(await t.api.get('/admin/accounts'));
    });

    it("when another admin disables B, then B's unexpired token is refused at once (401) and B cannot sign in", async () => {
      const password = 'b has a long passphrase';
      const created = expectOk(
        await t.api.post('/admin/accounts', { email: 'b.admin@caq.test', password }),
        201,
      );
      const bToken = expectOk(await login('b.admin@caq.test', password)).body.token as string;
      const b = as(r, bToken);
      expectOk(await b.get('/admin/pledges'));

      const res = await t.api.post(`/admin/accounts/${created.body.id}/disable`);
      assert.equal(res.status, 204, res.text);

      const refused = await b.get('/admin/pledges');
      assertProblem(refused, 401);
      assert.equal(refused.body.type, '/problems/account-disabled');
      assertProblem(
        await b.post('/admin/initiatives', {
          titleZh: '标题标题',
          titleEn: 'Title',
          textZh: '正'.repeat(20),
          textEn: 'e'.repeat(20),
        }),
        401,
      );
      assertProblem(await b.post(`/admin/accounts/${t.admin.id}/disable`), 401);
      assert.notEqual((await Account.findById(t.admin.id).lean())!.disabled, true);
      const again = await login('b.admin@caq.test', password);
      assertProblem(again, 401);
      assert.equal(again.body.token, undefined);

      const list = expectOk(await t.api.get('/admin/accounts'));
      assert.equal(
        list.body.items.find((a: { id: string }) => a.id === created.body.id).disabled,
        true,
      );
      const twice = await t.api.post(`/admin/accounts/${created.body.id}/disable`);
      assertProblem(twice, 409);
      const audit = expectOk(await t.api.get('/admin/audit?action=admin.disabled')).body
        .items as AuditItem[];
      assert.deepEqual(
        audit.map((e) => [e.actor, e.subject.id]),
        [[`admin:${t.admin.id}`, 'b.admin@caq.test']],
      );
    });

    it('when the same account is created twice at once, then one 201 and one 409, and only one account exists', async () => {
      const body = { email: 'twin@caq.test', password: 'a long enough passphrase' };
      const results = await Promise.all([
        t.api.post('/admin/accounts', body),
        t.api.post('/admin/accounts', body),
      ]);
      assert.deepEqual(
        results.map((x) => x.status).sort(),
        [201, 409],
        results.map((x) => x.text).join('\n'),
      );
      assert.equal(await Account.countDocuments({ email: 'twin@caq.test' }), 1);
    });

    it('when two admins disable the same admin at once, then one 204 and one 409, and it is audited once', async () => {
      const other = await r.makeAdmin();
      const target = expectOk(
        await t.api.post('/admin/accounts', {
          email: 'target@caq.test',
          password: 'a long enough passphrase',
        }),
        201,
      );
      const results = await Promise.all([
        t.api.post(`/admin/accounts/${target.body.id}/disable`),
        as(r, other.token).post(`/admin/accounts/${target.body.id}/disable`),
      ]);
      assert.deepEqual(
        results.map((x) => x.status).sort(),
        [204, 409],
        results.map((x) => x.text).join('\n'),
      );
      assert.equal(
        await Event.countDocuments({ action: 'admin.disabled', 'subject.id': 'target@caq.test' }),
        1,
      );
    });

    it('when the admin account behind a token has been deleted, then the token is refused (401)', async () => {
      const gone = await r.makeAdmin();
      expectOk(await as(r, gone.token).get('/admin/accounts'));
      await Account.deleteOne({ _id: gone.id });
      assertProblem(await as(r, gone.token).get('/admin/accounts'), 401);
    });

    it('when the account to disable is unknown, malformed or not an administrator, then 404 / 400 / 404', async () => {
      assertProblem(
        await t.api.post(`/admin/accounts/${new mongoose.Types.ObjectId().toHexString()}/disable`),
        404,
      );
      assertProblem(await t.api.post('/admin/accounts/nope/disable'), 400, ['id']);
      const p = await signAndConfirm(r); // confirming makes a company account
      const company = await Account.findOne({
        email: p.body.signatory.email,
        role: 'company',
      }).lean();
      assert.ok(company);
      assertProblem(await t.api.post(`/admin/accounts/${String(company._id)}/disable`), 404);
      assert.notEqual((await Account.findById(company._id).lean())!.disabled, true);
    });
  });

  describe('audit search (GET /api/v1/admin/audit)', () => {
    const t = useAdminApi();
    const { r } = t;
    let approved: string;
    let rejected: string;
    const dated = [
      '2009-09-01T15:59:59.999Z', // CST 2009-09-01
      '2009-09-01T16:30:00.000Z', // CST 2009-09-02
      '2009-09-02T15:59:59.000Z', // CST 2009-09-02
      '2009-09-02T16:00:00.000Z', // CST 2009-09-03
    ];

    const search = async (query: Record<string, string>) =>
      expectOk(
        await t.api.get(
          `/admin/audit?${new URLSearchParams({ pageSize: '200', ...query }).toString()}`,
        ),
      ).body as {
        items: AuditItem[];
        total: number;
        page: number;
        pageSize: number;
      };

    before(async function () {
      this.timeout(60_000);
      approved = (await activePledge(r, t.admin.token)).id;
      await issuedSerial(r, t.admin.token, approved); // no background event lands during the tests
      rejected = (await signAndConfirm(r)).id;
      expectOk(await t.api.post(`/admin/pledges/${rejected}/reject`, { reason: '资料不全' }));
      expectOk(
        await t.api.post('/admin/accounts', {
          email: 'audited@caq.test',
          password: 'a long enough passphrase',
        }),
        201,
      );
      for (const [i, at] of dated.entries()) {
        await recordEvent({
          at: new Date(at),
          actor: 'test:dates',
          action: 'test.dated',
          subject: { type: 'test', id: `d${i}` },
        });
      }
    });

    it('when searched by an exact action, then only that action is listed', async () => {
      const res = await search({ action: 'pledge.rejected' });
      assert.equal(res.total, 1);
      assert.equal(res.items[0].action, 'pledge.rejected');
      assert.deepEqual(res.items[0].subject, { type: 'pledge', id: rejected });
      assert.equal(res.items[0].after?.reason, '资料不全');
      // Without the final dot it is not a prefix.
      assert.equal((await search({ action: 'pledge' })).total, 0);
      assert.equal((await search({ action: 'pledge.sign' })).total, 0);
    });

    it('when searched by a prefix ending in a dot, then every action starting with it is listed and nothing else', async () => {
      const res = await search({ action: 'pledge.' });
      assert.ok(
        res.items.every((e) => e.action.startsWith('pledge.')),
        JSON.stringify(res.items.map((e) => e.action)),
      );
      assert.equal(res.total, await Event.countDocuments({ action: /^pledge\./ }));
      assert.deepEqual([...new Set(res.items.map((e) => e.action))].sort(), [
        'pledge.activated',
        'pledge.confirmed',
        'pledge.rejected',
        'pledge.signed',
      ]);
      assert.equal(res.total, 6); // two signed, two confirmed, one activated, one rejected
    });

    it('when searched by actor, then only that actor’s events are listed, newest first', async () => {
      const res = await search({ actor: `admin:${t.admin.id}` });
      assert.deepEqual(
        res.items.map((e) => e.action),
        ['admin.created', 'pledge.rejected', 'pledge.activated'],
      );
      assert.ok(res.items.every((e) => e.actor === `admin:${t.admin.id}`));
      assert.equal((await search({ actor: 'public' })).total, 2);
      assert.equal(
        (await search({ actor: `admin:${new mongoose.Types.ObjectId().toHexString()}` })).total,
        0,
      );
    });

    it('when searched by subject id, then only events about that subject are listed, newest first', async () => {
      const res = await search({ subject: approved });
      assert.deepEqual(
        res.items.map((e) => e.action),
        ['pledge.activated', 'pledge.confirmed', 'pledge.signed'],
      );
      assert.ok(res.items.every((e) => e.subject.id === approved));
      const account = await search({ subject: 'audited@caq.test' });
      assert.deepEqual(
        account.items.map((e) => e.action),
        ['admin.created'],
      );
    });

    it('when searched by CST dates, then events of those China days are listed, both ends included', async () => {
      const ids = async (q: Record<string, string>) =>
        (await search({ actor: 'test:dates', ...q })).items.map((e) => e.subject.id);
      assert.deepEqual(await ids({ from: '2009-09-02', to: '2009-09-02' }), ['d2', 'd1']);
      assert.deepEqual(await ids({ from: '2009-09-01', to: '2009-09-01' }), ['d0']);
      assert.deepEqual(await ids({ from: '2009-09-03' }), ['d3']);
      assert.deepEqual(await ids({ to: '2009-09-02' }), ['d2', 'd1', 'd0']);
      assert.deepEqual(await ids({}), ['d3', 'd2', 'd1', 'd0']);
      // Everything the API did today lies after 2009.
      const today = await search({ from: '2010-01-01' });
      assert.equal(today.total, (await Event.countDocuments({})) - 4);
    });

    it('when paging, then the total counts every match and pages split the newest-first list without overlap', async () => {
      const all = await search({});
      assert.equal(all.total, await Event.countDocuments({}));
      for (let i = 1; i < all.items.length; i++)
        assert.ok(
          Date.parse(all.items[i - 1].at) >= Date.parse(all.items[i].at),
          `not newest first at ${i}`,
        );
      const pages: AuditItem[] = [];
      for (let page = 1; page <= Math.ceil(all.total / 4) + 1; page++) {
        const res = await search({ pageSize: '4', page: String(page) });
        assert.equal(res.total, all.total);
        assert.equal(res.pageSize, 4);
        assert.equal(res.page, page);
        assert.ok(res.items.length <= 4);
        pages.push(...res.items);
      }
      assert.deepEqual(
        pages.map((e) => e.id),
        all.items.map((e) => e.id),
      );
      const dates = await search({ actor: 'test:dates', pageSize: '3', page: '2' });
      assert.equal(dates.total, 4);
      assert.deepEqual(
        dates.items.map((e) => e.subject.id),
        ['d0'],
      );
    });

    it('when events are sealed, then search results show their place in the hash chain', async () => {
      const deadline = Date.now() + 10_000;
      let items: AuditItem[] = [];
      while (Date.now() < deadline) {
        items = (await search({ action: 'pledge.rejected' })).items;
        if (items[0]?.seq) break;
        await new Promise((res) => setTimeout(res, 100));
      }
      assert.equal(typeof items[0].seq, 'number');
      assert.match(String(items[0].hash), /^[0-9a-f]{64}$/);
    });

    const invalid: Array<{ query: string; field: string }> = [
      { query: 'action=$where', field: 'action' },
      { query: 'action=pledge.*', field: 'action' },
      { query: 'action=Pledge.Signed', field: 'action' },
      { query: 'action=pledge..', field: 'action' },
      { query: 'action[$regex]=.*', field: 'action[$regex]' },
      { query: 'actor={"$ne":1}', field: 'actor' },
      { query: 'actor=admin x', field: 'actor' },
      { query: 'actor=a&actor=b', field: 'actor' },
      { query: 'subject=$gt', field: 'subject' },
      { query: 'from=2009-02-30', field: 'from' },
      { query: 'from=2009-09-03&to=2009-09-02', field: 'to' },
      { query: 'to=yesterday', field: 'to' },
      { query: 'page=0', field: 'page' },
      { query: 'pageSize=0', field: 'pageSize' },
      { query: 'pageSize=1000', field: 'pageSize' },
      { query: 'status=active', field: 'status' },
    ];
    for (const { query, field } of invalid) {
      it(`when the audit log is searched with ${query}, then 400 problem+json naming ${field}`, async () => {
        const res = await request(r.app)
          .get(`${API}/admin/audit?${rawQuery(query)}`)
          .set('Authorization', `Bearer ${t.admin.token}`);
        assertProblem(res, 400, [field]);
      });
    }
  });
  // Who may call the admin routes (no token, company token, disabled admin): auth-matrix.test.ts.
});
