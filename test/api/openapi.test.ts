/**
 * The published contract (/api/v1/openapi.json) is complete and agrees with the server: every
 * operation says what it answers, with media types and schemas; errors are problem documents;
 * path parameters are declared; public operations say so; and the routes described from outside
 * /api/v1 (health, metrics, keys) answer as described. `npm run lint:openapi` lints the same
 * document with Redocly's recommended rules.
 */
import assert from 'node:assert/strict';
import request from 'supertest';
import { z } from 'zod';
import { dumpOpenApi } from '../../scripts/openapi-dump';
import { ApiBuilder } from '../../src/http/api';
import { useRegistry } from '../helpers/registry';

interface MediaType {
  schema?: Record<string, unknown>;
}
interface Response {
  description?: string;
  content?: Record<string, MediaType>;
}
interface Operation {
  operationId?: string;
  summary?: string;
  tags?: string[];
  security?: Array<Record<string, string[]>>;
  parameters?: Array<{ name: string; in: string; required?: boolean; schema?: unknown }>;
  requestBody?: { content?: Record<string, MediaType> };
  responses?: Record<string, Response>;
}
interface Document {
  openapi: string;
  info: {
    title?: string;
    version?: string;
    license?: { name?: string; identifier?: string; url?: string };
  };
  servers?: Array<{ url: string }>;
  tags?: Array<{ name: string; description?: string }>;
  paths: Record<string, Record<string, Operation>>;
  components: {
    securitySchemes: Record<string, unknown>;
    schemas: Record<string, { properties?: Record<string, unknown>; required?: string[] }>;
  };
}

const PROBLEM_REF = '#/components/schemas/Problem';
const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options']);

function operations(
  doc: Document,
): Array<{ where: string; path: string; method: string; op: Operation }> {
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops)
      .filter(([method]) => METHODS.has(method))
      .map(([method, op]) => ({ where: `${method.toUpperCase()} ${path}`, path, method, op })),
  );
}

/** Every structural rule the document must keep; returns the breaches (empty when complete). */
function breaches(doc: Document): string[] {
  const out: string[] = [];
  if (doc.openapi !== '3.1.0') out.push(`openapi is ${doc.openapi}`);
  if (!doc.info.license?.name || !(doc.info.license.identifier || doc.info.license.url))
    out.push('info.license needs a name and an identifier or url');
  if (!doc.servers?.length) out.push('no servers');
  const problem = doc.components.schemas.Problem;
  for (const field of ['type', 'title', 'status', 'detail', 'instance', 'errors', 'requestId'])
    if (!problem?.properties?.[field]) out.push(`Problem schema lacks ${field}`);
  const tags = new Set((doc.tags ?? []).map((t) => t.name));
  const ids = new Set<string>();
  for (const { where, path, op } of operations(doc)) {
    if (!op.summary) out.push(`${where}: no summary`);
    if (!op.operationId) out.push(`${where}: no operationId`);
    else if (ids.has(op.operationId)) out.push(`${where}: duplicate operationId ${op.operationId}`);
    else ids.add(op.operationId);
    for (const t of op.tags ?? [])
      if (!tags.has(t)) out.push(`${where}: tag ${t} is not declared at the top level`);
    if (!Array.isArray(op.security))
      out.push(`${where}: no security (public operations declare [])`);
    for (const req of op.security ?? [])
      for (const scheme of Object.keys(req))
        if (!doc.components.securitySchemes[scheme])
          out.push(`${where}: unknown security scheme ${scheme}`);

    const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    const declared = (op.parameters ?? []).filter((p) => p.in === 'path');
    for (const name of templated) {
      const p = declared.find((d) => d.name === name);
      if (!p) out.push(`${where}: path parameter ${name} is not declared`);
      else if (p.required !== true || !p.schema)
        out.push(`${where}: path parameter ${name} must be required and have a schema`);
    }
    for (const p of declared)
      if (!templated.includes(p.name))
        out.push(`${where}: declares path parameter ${p.name} that the path does not have`);
    for (const [type, media] of Object.entries(op.requestBody?.content ?? {}))
      if (!media.schema) out.push(`${where}: request ${type} has no schema`);

    const responses = Object.entries(op.responses ?? {});
    if (!responses.some(([status]) => /^2\d\d$/.test(status)))
      out.push(`${where}: no success response`);
    for (const [status, resp] of responses) {
      const at = `${where} ${status}`;
      if (!resp.description) out.push(`${at}: no description`);
      const content = Object.entries(resp.content ?? {});
      if (status === '204') {
        if (content.length) out.push(`${at}: 204 has no body`);
        continue;
      }
      if (!content.length) out.push(`${at}: no media type`);
      for (const [type, media] of content) if (!media.schema) out.push(`${at} ${type}: no schema`);
      if (/^[45]\d\d$/.test(status)) {
        const problemOnly =
          content.length === 1 &&
          content[0][0] === 'application/problem+json' &&
          content[0][1].schema?.$ref === PROBLEM_REF;
        if (!problemOnly)
          out.push(`${at}: an error is application/problem+json with the Problem schema`);
      }
    }
  }
  return out;
}

describe('OpenAPI document', () => {
  const r = useRegistry();
  let doc: Document;

  before(async () => {
    const res = await request(r.app).get('/api/v1/openapi.json').expect(200);
    doc = res.body as Document;
  });

  it('when the document is read, then every operation declares success and error responses with media types and schemas, every error is a problem document, every path parameter is declared and every operation states its security', () => {
    assert.deepEqual(breaches(doc), []);
    assert.ok(operations(doc).length >= 40, `operations: ${operations(doc).length}`);
  });

  it('when the structural check is given a document with a gap, then it names the gap (it can fail)', () => {
    const broken = structuredClone(doc);
    const stats = broken.paths['/api/v1/stats'].get;
    delete stats.security;
    stats.responses!['200'] = { description: 'Statistics' };
    stats.responses!['400'] = {
      description: 'x',
      content: { 'application/json': { schema: { type: 'object' } } },
    };
    broken.paths['/api/v1/admin/pledges/{id}'].get.parameters = [];
    delete broken.info.license;
    assert.deepEqual(breaches(broken).sort(), [
      'GET /api/v1/admin/pledges/{id}: path parameter id is not declared',
      'GET /api/v1/stats 200: no media type',
      'GET /api/v1/stats 400: an error is application/problem+json with the Problem schema',
      'GET /api/v1/stats: no security (public operations declare [])',
      'info.license needs a name and an identifier or url',
    ]);
  });

  it('when files are offered, then the document names their media types (PDF, CSV, XLSX, NDJSON, JSON)', () => {
    const types = (path: string) =>
      Object.keys(doc.paths[path].get.responses!['200'].content ?? {});
    assert.deepEqual(types('/api/v1/admin/exports/signatories.{format}').sort(), [
      'application/json',
      'application/pdf',
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      'application/x-ndjson',
      'text/csv',
    ]);
    assert.deepEqual(types('/api/v1/me/certificate.pdf'), ['application/pdf']);
    assert.deepEqual(types('/api/v1/open-data/signatories.csv'), ['text/csv']);
    assert.deepEqual(Object.keys(doc.paths['/api/v1/verify'].post.requestBody?.content ?? {}), [
      'multipart/form-data',
    ]);
  });

  it('when public operations are listed, then they declare security: [] and guarded ones the bearer scheme', () => {
    assert.deepEqual(doc.paths['/api/v1/signatories'].get.security, []);
    assert.deepEqual(doc.paths['/healthz'].get.security, []);
    assert.deepEqual(doc.paths['/api/v1/auth/logout'].post.security, [{ bearerAuth: [] }]);
    assert.deepEqual(doc.paths['/metrics'].get.security, [{ metricsToken: [] }]);
  });

  it('when every parameter-free public GET in the document (and /metrics, open outside production) is called, then it answers a declared status with a declared media type', async () => {
    const called: string[] = [];
    const open = (o: { path: string; op: Operation }) =>
      o.op.security?.length === 0 || o.path === '/metrics';
    for (const { where, path, op } of operations(doc).filter(
      (o) => o.method === 'get' && !o.path.includes('{') && open(o),
    )) {
      const res = await request(r.app).get(path);
      const declared = op.responses?.[String(res.status)];
      assert.ok(declared, `${where} answered ${res.status}, which it does not declare`);
      const type = String(res.headers['content-type'] ?? '').split(';')[0];
      assert.ok(
        Object.keys(declared.content ?? {}).includes(type),
        `${where} ${res.status} sent ${type}; declared ${Object.keys(declared.content ?? {}).join(', ')}`,
      );
      called.push(path);
    }
    for (const path of [
      '/healthz',
      '/readyz',
      '/.well-known/jwks.json',
      '/metrics',
      '/api/v1/stats',
      '/api/v1/open-data/founders.pdf',
    ])
      assert.ok(called.includes(path), `${path} was checked`);
  });

  it('when the lint script dumps the document without a server, then it is the one the server publishes', async function () {
    this.timeout(20_000);
    assert.deepEqual(await dumpOpenApi(), doc);
  });

  it('when a route declares a success response without a schema, then the builder refuses it at start-up', () => {
    const api = new ApiBuilder();
    assert.throws(
      () =>
        api.route({
          method: 'get',
          path: '/x',
          summary: 'x',
          tags: ['meta'],
          responses: { 200: { description: 'something' } },
          handler: () => ({}),
        }),
      /GET|get \/api\/v1\/x: response 200 needs a schema/,
    );
    assert.doesNotThrow(() =>
      api.route({
        method: 'delete',
        path: '/y',
        summary: 'y',
        tags: ['meta'],
        responses: { 204: { description: 'gone' }, 409: { description: 'conflict' } },
        handler: () => undefined,
      }),
    );
    assert.doesNotThrow(() =>
      api.route({
        method: 'get',
        path: '/z',
        summary: 'z',
        tags: ['meta'],
        responses: { 200: { description: 'z', schema: z.object({}) } },
        handler: () => ({}),
      }),
    );
  });
});
