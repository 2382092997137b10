/**
 * What the fuzz suite aims at: every route the app's routers declare (read from their stacks,
 * so a new route is fuzzed without being listed), described by the published OpenAPI document
 * for the API and by a small declared list of the site's forms and query fields.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Router } from 'express';
import { silentLogger } from '../../src/logger';
import { createRegistry } from '../../src/registry';
import { testConfig } from '../helpers/app';

/** The JSON Schema subset zod's toJSONSchema produces for our schemas. */
export interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  pattern?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  [k: string]: unknown;
}

export interface Field {
  name: string;
  schema: JsonSchema;
}

export type Identity = 'anonymous' | 'admin' | 'company';

export interface Target {
  method: string;
  /** Express pattern, e.g. /api/v1/admin/pledges/:id/approve. */
  path: string;
  api: boolean;
  /** Who the route is for (its guarded variant gets past the gate with this identity). */
  role?: 'admin' | 'company';
  params: Field[];
  query: Field[];
  /** JSON body (API) or form fields (site). */
  body?: JsonSchema;
  /** How the site form is posted and which CSRF token it carries. */
  form?: { csrf: 'anonymous' | 'session' | 'none'; multipart?: boolean };
  /** The route takes a file upload (multipart). */
  upload?: boolean;
}

/** Method and path of every route in the registry's routers, as mounted. */
export function declaredRoutes(): Array<{ method: string; path: string }> {
  const config = testConfig({
    DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'eqi-fuzz-routes-')),
  });
  const registry = createRegistry(config, silentLogger());
  const out: Array<{ method: string; path: string }> = [];
  type Layer = {
    route?: { path: string; methods: Record<string, boolean> };
    handle?: { stack?: Layer[] };
  };
  const walk = (stack: Layer[], prefix: string) => {
    for (const l of stack) {
      if (l.route)
        for (const m of Object.keys(l.route.methods))
          out.push({ method: m.toUpperCase(), path: prefix + l.route.path });
      else if (l.handle?.stack) walk(l.handle.stack, prefix);
    }
  };
  for (const m of registry.routes)
    walk((m.router as Router & { stack: Layer[] }).stack, !m.path || m.path === '/' ? '' : m.path);
  fs.rmSync(config.dataDir, { recursive: true, force: true });
  return out;
}

const s = (extra: JsonSchema = {}): JsonSchema => ({ type: 'string', ...extra });
const text = (maxLength: number): JsonSchema => s({ minLength: 1, maxLength });
const obj = (
  props: Record<string, JsonSchema>,
  required: string[] = Object.keys(props),
): JsonSchema => ({
  type: 'object',
  properties: props,
  required,
});
const INDUSTRY = s({ enum: 'ABCDEFGHIJKLMNOPQRST'.split('') });
const PROVINCE = s({ pattern: '^\\d{2}$' });
const DAY = s({ format: 'date' });
const PAGE = { type: 'integer', minimum: 1, maximum: 1000 } satisfies JsonSchema;
const REASON = text(500);
const INITIATIVE = obj({
  titleZh: text(200),
  titleEn: text(300),
  textZh: text(20000),
  textEn: text(40000),
});

/**
 * The site's forms: fields a browser posts and the CSRF token it carries. Every POST route of
 * the site must be listed here (the suite checks), so a new form cannot go unfuzzed.
 */
export const SITE_FORMS: Record<
  string,
  { fields: JsonSchema; csrf: 'anonymous' | 'session' | 'none'; multipart?: boolean }
> = {
  'POST /sign': {
    csrf: 'anonymous',
    fields: obj(
      {
        uscc: s({ pattern: '^[0-9A-HJ-NPQRTUWXY]{18}$' }),
        name: text(100),
        nameEn: text(200),
        industry: INDUSTRY,
        address: text(200),
        website: s({ format: 'uri' }),
        signatoryName: text(60),
        title: text(60),
        email: s({ format: 'email' }),
        phone: s({ pattern: '^\\+?[0-9 ()-]{5,30}$' }),
        agree: s({ enum: ['yes', 'on'] }),
        version: { type: 'integer', minimum: 1, maximum: 3 },
        sha256: s({ pattern: '^[0-9a-f]{64}$' }),
      },
      ['uscc', 'name', 'industry', 'signatoryName', 'title', 'email', 'agree', 'version', 'sha256'],
    ),
  },
  'POST /confirm': {
    csrf: 'anonymous',
    fields: obj({ token: s({ pattern: '^[A-Za-z0-9_-]{43}$' }) }),
  },
  'POST /confirm/resend': { csrf: 'anonymous', fields: obj({ email: s({ format: 'email' }) }) },
  'POST /login': { csrf: 'anonymous', fields: obj({ email: s({ format: 'email' }) }) },
  'POST /login/verify': {
    csrf: 'anonymous',
    fields: obj({ token: s({ pattern: '^[A-Za-z0-9_-]{43}$' }), company: text(18) }, ['token']),
  },
  'POST /me/withdraw': { csrf: 'session', fields: obj({ reason: REASON }) },
  'POST /logout': { csrf: 'none', fields: obj({}) },
  'POST /admin/logout': { csrf: 'none', fields: obj({}) },
  'POST /verify/upload': { csrf: 'anonymous', multipart: true, fields: obj({}) },
  'POST /admin/login': {
    csrf: 'anonymous',
    fields: obj({ email: s({ format: 'email' }), password: text(200) }),
  },
  'POST /admin/pledges/:id/approve': {
    csrf: 'session',
    fields: obj({ evidenceChecked: s({ enum: ['yes'] }) }),
  },
  'POST /admin/pledges/:id/reject': { csrf: 'session', fields: obj({ reason: REASON }) },
  'POST /admin/pledges/:id/cancel': { csrf: 'session', fields: obj({ reason: REASON }) },
  'POST /admin/pledges/:id/revoke': { csrf: 'session', fields: obj({ reason: REASON }) },
  'POST /admin/pledges/:id/correct': {
    csrf: 'session',
    fields: obj({ name: text(100), nameEn: text(200), industry: INDUSTRY, reason: REASON }, [
      'reason',
    ]),
  },
  'POST /admin/initiatives': { csrf: 'session', fields: INITIATIVE },
  'POST /admin/initiatives/:version': { csrf: 'session', fields: INITIATIVE },
  'POST /admin/initiatives/:version/publish': { csrf: 'session', fields: obj({}) },
  'POST /admin/initiatives/:version/discard': { csrf: 'session', fields: obj({}) },
  'POST /admin/accounts': {
    csrf: 'session',
    fields: obj({ email: s({ format: 'email' }), password: text(200) }),
  },
  'POST /admin/accounts/:id/disable': { csrf: 'session', fields: obj({}) },
};

/** Query fields the site's pages read (every page also gets `lang` and unknown keys). */
export const SITE_QUERIES: Record<string, Record<string, JsonSchema>> = {
  '/directory': { q: text(100), province: PROVINCE, industry: INDUSTRY, page: PAGE },
  '/verify': { serial: text(40) },
  '/confirm': { token: s({ pattern: '^[A-Za-z0-9_-]{43}$' }) },
  '/login/verify': { token: s({ pattern: '^[A-Za-z0-9_-]{43}$' }) },
  '/login': { expired: s({ enum: ['1'] }), done: s({ enum: ['1'] }) },
  '/admin/login': { expired: s({ enum: ['1'] }), disabled: s({ enum: ['1'] }) },
  '/admin/pledges': {
    status: s({
      enum: [
        'pending_confirmation',
        'pending_review',
        'active',
        'rejected',
        'withdrawn',
        'revoked',
      ],
    }),
    province: PROVINCE,
    industry: INDUSTRY,
    from: DAY,
    to: DAY,
    q: text(100),
    page: PAGE,
  },
  '/admin/audit': {
    action: text(60),
    actor: text(60),
    subject: text(60),
    from: DAY,
    to: DAY,
    page: PAGE,
  },
  '/admin/exports/download': {
    format: s({ enum: ['csv', 'xlsx', 'json', 'pdf'] }),
    status: s({ enum: ['active', 'withdrawn', 'revoked', 'all'] }),
    founders: s({ enum: ['0', '1'] }),
    includeContacts: s({ enum: ['0', '1'] }),
  },
};

interface OpenApiOp {
  parameters?: Array<{ name: string; in: string; schema: JsonSchema }>;
  requestBody?: { content: Record<string, { schema: JsonSchema }> };
  security?: unknown[];
}

const toOpenApiPath = (p: string) => p.replace(/:([A-Za-z_]+)/g, '{$1}');
const paramNames = (p: string) => [...p.matchAll(/:([A-Za-z_]+)/g)].map((m) => m[1]);
const roleOf = (p: string): Target['role'] =>
  /^(\/api\/v1)?\/admin(\/|$)/.test(p) && p !== '/admin/login'
    ? 'admin'
    : /^(\/api\/v1)?\/me(\/|$)/.test(p)
      ? 'company'
      : undefined;

/**
 * Targets for every declared route: API routes take their parameters and body from the OpenAPI
 * document (and must be in it), site routes from SITE_FORMS and SITE_QUERIES.
 */
export function buildTargets(
  routes: Array<{ method: string; path: string }>,
  openApi: { paths: Record<string, Record<string, OpenApiOp>> },
): { targets: Target[]; undocumented: string[]; undeclaredForms: string[] } {
  const targets: Target[] = [];
  const undocumented: string[] = [];
  const undeclaredForms: string[] = [];
  for (const r of routes) {
    const api = r.path.startsWith('/api/v1/');
    const base = { method: r.method, path: r.path, api, role: roleOf(r.path) };
    const anyParam = (name: string): Field => ({
      name,
      schema: s({ minLength: 1, maxLength: 40 }),
    });
    if (api) {
      const op = openApi.paths[toOpenApiPath(r.path)]?.[r.method.toLowerCase()];
      if (!op) {
        undocumented.push(`${r.method} ${r.path}`);
        continue;
      }
      const fields = (where: string) =>
        (op.parameters ?? [])
          .filter((p) => p.in === where)
          .map((p) => ({ name: p.name, schema: p.schema }));
      targets.push({
        ...base,
        params: fields('path'),
        query: fields('query'),
        body: op.requestBody?.content['application/json']?.schema,
        upload: r.method === 'POST' && op.requestBody?.content['multipart/form-data'] !== undefined,
      });
      continue;
    }
    const params = paramNames(r.path).map(anyParam);
    const query = Object.entries(SITE_QUERIES[r.path] ?? {}).map(([name, schema]) => ({
      name,
      schema,
    }));
    if (r.method === 'GET' || r.method === 'HEAD') {
      targets.push({ ...base, params, query });
      continue;
    }
    const form = SITE_FORMS[`${r.method} ${r.path}`];
    if (!form) {
      undeclaredForms.push(`${r.method} ${r.path}`);
      continue;
    }
    targets.push({
      ...base,
      params,
      query,
      body: form.fields,
      form: { csrf: form.csrf, multipart: form.multipart },
      upload: form.multipart,
    });
  }
  return { targets, undocumented, undeclaredForms };
}
