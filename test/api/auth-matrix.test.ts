/**
 * Who may call what, generated from the OpenAPI document: every operation the document marks
 * with the bearer scheme is called with no token, malformed headers, each kind of bad token, the
 * wrong role and a disabled administrator, and must refuse each without changing anything. A
 * route declared with `auth:` is guarded and listed by the same declaration (src/http/api.ts),
 * so a new guarded route is covered here without editing this file.
 */
import assert from 'node:assert/strict';
import mongoose from 'mongoose';
import request, { type Test } from 'supertest';
import { badTokens, validToken } from '../helpers/jwt';
import {
  activePledge,
  assertProblem,
  companySession,
  dbSnapshot,
  pledgeDoc,
  signAndConfirm,
  type SignedPledge,
} from '../helpers/pledges';
import { useRegistry } from '../helpers/registry';

type Role = 'admin' | 'company';
type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  anyOf?: JsonSchema[];
}

interface Operation {
  security?: Array<Record<string, string[]>>;
  'x-roles'?: Role[];
  parameters?: Array<{ name: string; in: string; required?: boolean; schema: JsonSchema }>;
  requestBody?: { content: Record<string, { schema: JsonSchema }> };
}

interface Guarded {
  method: Method;
  /** The document's path template, e.g. /api/v1/admin/pledges/{id}. */
  template: string;
  /** The path to call, with the template's parameters filled in. */
  path: string;
  body?: unknown;
  roles: Role[];
}

const COLLECTIONS = [
  'pledges',
  'companies',
  'accounts',
  'tokens',
  'outboxes',
  'events',
  'counters',
  'initiatives',
  'certificates',
];
const MALFORMED = ['Basic YWRtaW46YWRtaW4=', 'Bearer', 'Bearer a b', 'bearer x.y.z', 'Token abc'];

/** A value the schema accepts, so only the missing permission stands between the call and its effect. */
function sample(s: JsonSchema): unknown {
  if (s.const !== undefined) return s.const;
  if (s.enum?.length) return s.enum[0];
  if (s.anyOf?.length) return sample(s.anyOf[0]);
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
  switch (type) {
    case 'object':
      return Object.fromEntries(
        (s.required ?? []).map((k) => [k, sample(s.properties?.[k] ?? {})]),
      );
    case 'integer':
    case 'number':
      return s.minimum ?? 1;
    case 'boolean':
      return false;
    case 'array':
      return [];
    default: {
      if (s.format === 'email') return 'matrix.probe@caq.test';
      const n = Math.max(s.minLength ?? 1, Math.min(s.maxLength ?? 12, 12));
      return '资料不全 reason text '.repeat(4).slice(0, n);
    }
  }
}

describe('auth matrix (generated from the OpenAPI document)', () => {
  const r = useRegistry();
  let admin: Awaited<ReturnType<typeof r.makeAdmin>>;
  let a: SignedPledge; // active pledge of company A, with its certificate
  let b: SignedPledge; // pending_review pledge of company B
  let aCompany: string;
  let companyToken: string; // a real company session (B's contact)
  let disabledToken: string;
  let guarded: Guarded[];

  /** Values for path parameters by name: real records, so an unguarded call would change them. */
  let pathValues: Record<string, string>;

  const call = (route: Guarded, auth?: string): Test => {
    let req = request(r.app)[route.method](route.path);
    if (auth !== undefined) req = req.set('Authorization', auth);
    return route.body !== undefined ? req.send(route.body as object) : req;
  };
  const label = (route: Guarded) => `${route.method.toUpperCase()} ${route.template}`;
  const onlyFor = (role: Role) =>
    guarded.filter((g) => g.roles.length === 1 && g.roles[0] === role);
  const open = (role: Role) => guarded.filter((g) => g.roles.includes(role));

  before(async function () {
    this.timeout(60_000);
    admin = await r.makeAdmin();
    a = await activePledge(r, admin.token);
    b = await signAndConfirm(r);
    aCompany = String((await pledgeDoc(a.id))!.company);
    companyToken = await companySession(r, b.body.signatory.email);
    const other = await r.makeAdmin();
    disabledToken = other.token;
    assert.equal(
      (
        await request(r.app)
          .post(`/api/v1/admin/accounts/${other.id}/disable`)
          .set('Authorization', `Bearer ${admin.token}`)
      ).status,
      204,
    );
    // A's certificate is issued in the background; wait for it, so nothing changes during the checks.
    let cert: { serial: string } | null = null;
    for (let i = 0; i < 200 && !cert; i++) {
      cert = await mongoose.connection
        .db!.collection<{ serial: string }>('certificates')
        .findOne({});
      if (!cert) await new Promise((done) => setTimeout(done, 100));
    }
    assert.ok(cert, 'a certificate was issued');
    pathValues = { id: b.id, serial: cert.serial, version: '1' };

    const doc = (await request(r.app).get('/api/v1/openapi.json').expect(200)).body as {
      paths: Record<string, Record<string, Operation>>;
    };
    guarded = [];
    for (const [template, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops) as Array<[Method, Operation]>) {
        if (!op.security?.some((req) => 'bearerAuth' in req)) continue;
        assert.ok(
          op['x-roles']?.length,
          `${method} ${template}: a bearer-guarded operation names its roles`,
        );
        const path = template.replace(/\{([A-Za-z_]+)\}/g, (_m, name: string) => {
          const p = op.parameters?.find((x) => x.in === 'path' && x.name === name);
          assert.ok(p, `${method} ${template}: path parameter ${name} is declared`);
          return encodeURIComponent(pathValues[name] ?? String(sample(p.schema)));
        });
        const query = (op.parameters ?? [])
          .filter((p) => p.in === 'query' && p.required)
          .map((p) => `${p.name}=${encodeURIComponent(String(sample(p.schema)))}`);
        const bodySchema = op.requestBody?.content['application/json']?.schema;
        guarded.push({
          method,
          template,
          path: query.length ? `${path}?${query.join('&')}` : path,
          body: bodySchema ? sample(bodySchema) : undefined,
          roles: op['x-roles']!,
        });
      }
    }
  });

  it('when the document is read, then every /admin and /me operation is guarded for its role and every other one is declared public', async () => {
    const doc = (await request(r.app).get('/api/v1/openapi.json').expect(200)).body as {
      paths: Record<string, Record<string, Operation>>;
    };
    for (const [template, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const where = `${method} ${template}`;
        if (template.startsWith('/api/v1/admin/'))
          assert.deepEqual(op['x-roles'], ['admin'], where);
        else if (template.startsWith('/api/v1/me/'))
          assert.deepEqual(op['x-roles'], ['company'], where);
        if (op['x-roles']) assert.deepEqual(op.security, [{ bearerAuth: [] }], where);
        else assert.ok(Array.isArray(op.security), `${where} declares its security (public: [])`);
      }
    }
    assert.ok(
      onlyFor('admin').length >= 19 && onlyFor('company').length >= 3,
      `guarded operations found: ${guarded.map(label).join(', ')}`,
    );
    assert.ok(
      guarded.some((g) => g.template === '/api/v1/auth/logout' && g.roles.length === 2),
      'sign-out needs any session',
    );
  });

  it('when no token is sent, then every guarded operation answers 401 with a Bearer challenge and nothing changes', async () => {
    const before = await dbSnapshot(COLLECTIONS);
    for (const route of guarded) {
      const res = await call(route);
      assert.equal(res.status, 401, `${label(route)}: ${res.status} ${res.text}`);
      assertProblem(res, 401);
      assert.equal(res.headers['www-authenticate'], 'Bearer', label(route));
    }
    assert.deepEqual(await dbSnapshot(COLLECTIONS), before);
  });

  for (const header of MALFORMED) {
    it(`when the Authorization header is "${header}", then every guarded operation answers 401`, async () => {
      for (const route of guarded) {
        const res = await call(route, header);
        assert.equal(res.status, 401, `${label(route)}: ${res.status} ${res.text}`);
        assertProblem(res, 401);
      }
    });
  }

  for (const role of ['admin', 'company'] as const) {
    it(`when operations open to ${role}s get each kind of bad ${role} token, then all answer 401 and nothing changes`, async () => {
      const claims =
        role === 'admin'
          ? { sub: admin.id, role }
          : { sub: new mongoose.Types.ObjectId().toHexString(), role, company: aCompany };
      const before = await dbSnapshot(COLLECTIONS);
      for (const { name, token } of badTokens(claims, r.config.jwtSecret)) {
        for (const route of open(role)) {
          const res = await call(route, `Bearer ${token}`);
          assert.equal(res.status, 401, `${name} on ${label(route)}: ${res.status} ${res.text}`);
          assertProblem(res, 401);
        }
      }
      assert.deepEqual(await dbSnapshot(COLLECTIONS), before);
      assert.equal((await pledgeDoc(b.id))!.status, 'pending_review');
      assert.equal((await pledgeDoc(a.id))!.status, 'active');
    });
  }

  it('when a company token (a real session or a freshly signed one) is used on admin operations, then 403 and nothing changes', async () => {
    const signed = validToken(
      {
        sub: new mongoose.Types.ObjectId().toHexString(),
        role: 'company',
        company: String((await pledgeDoc(b.id))!.company),
      },
      r.config.jwtSecret,
    );
    const before = await dbSnapshot(COLLECTIONS);
    for (const token of [companyToken, signed]) {
      for (const route of onlyFor('admin')) {
        const res = await call(route, `Bearer ${token}`);
        assert.equal(res.status, 403, `${label(route)}: ${res.status} ${res.text}`);
        assertProblem(res, 403);
      }
    }
    assert.deepEqual(await dbSnapshot(COLLECTIONS), before);
  });

  it('when an admin token is used on company operations, then 403 and nothing changes', async () => {
    const before = await dbSnapshot(COLLECTIONS);
    for (const route of onlyFor('company')) {
      const res = await call(route, `Bearer ${admin.token}`);
      assert.equal(res.status, 403, `${label(route)}: ${res.status} ${res.text}`);
      assertProblem(res, 403);
    }
    assert.deepEqual(await dbSnapshot(COLLECTIONS), before);
  });

  it('when a disabled admin’s token is sent, then every admin operation answers 401 account-disabled and nothing changes', async () => {
    const before = await dbSnapshot(COLLECTIONS);
    for (const route of onlyFor('admin')) {
      const res = await call(route, `Bearer ${disabledToken}`);
      assert.equal(res.status, 401, `${label(route)}: ${res.status} ${res.text}`);
      assertProblem(res, 401);
      assert.equal(res.body.type, '/problems/account-disabled', label(route));
    }
    assert.deepEqual(await dbSnapshot(COLLECTIONS), before);
  });
});
