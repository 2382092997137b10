/**
 * Declares API routes once: the same zod schemas validate requests and generate the OpenAPI
 * 3.1 document, so the published contract cannot drift from what the server accepts.
 */
import express, { type RequestHandler, type Router } from 'express';
import { z } from 'zod';
import { requireRole, sessionOf } from '../auth/middleware';
import { parseInput } from '../errors';
import { withRequestContext } from '../request-context';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/**
 * A whole number in a query string or path segment, written in decimal digits only: z.coerce
 * would also take `0x10`, `1e1`, ` 10` or `''` (as 0), each a different spelling of a number
 * the client may not have meant.
 */
export const decimalInt = (min: number, max: number) =>
  z
    .string()
    .regex(/^[0-9]{1,15}$/, 'Expected a whole number written in decimal digits.')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .meta({ description: `A whole number from ${min} to ${max}, in decimal digits` });

/**
 * Who may call a route. A role installs `requireRole` (admins are also checked against their
 * account on every request); `session` is any signed-in company or admin.
 */
export type RouteAuth = 'company' | 'admin' | 'session';

const ROLES_OF: Record<RouteAuth, Array<'company' | 'admin'>> = {
  company: ['company'],
  admin: ['admin'],
  session: ['company', 'admin'],
};

/**
 * One response. Without `schema`/`content` an error status (4xx/5xx) is a problem document and
 * 204 has no body; any other status must say what it sends.
 */
export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
  /** Media type of `schema`; application/json by default. */
  contentType?: string;
  /** Several media types for one status (an export as CSV, XLSX, JSON or PDF). */
  content?: Record<string, z.ZodType>;
}

/** Shared by routes served here and routes only described here (mounted outside /api/v1). */
interface Described {
  method: Method;
  summary: string;
  tags: string[];
  auth?: RouteAuth;
  query?: z.ZodType;
  params?: z.ZodType;
  /** A request body that is not JSON (e.g. a multipart upload), for the document only. */
  requestContent?: Record<string, z.ZodType>;
  responses: Record<number, ResponseSpec>;
}

export interface RouteSpec<
  B extends z.ZodType,
  Q extends z.ZodType,
  P extends z.ZodType,
> extends Described {
  /** Express-style path relative to /api/v1, e.g. `/admin/pledges/:id/approve`. */
  path: string;
  body?: B;
  query?: Q;
  params?: P;
  /** Runs after the `auth` check, before validation (e.g. a rate limit). */
  middleware?: RequestHandler[];
  /**
   * A public GET that reads no body and no session (the certificate lookup every QR scan makes):
   * also served by `publicReads`, which the app mounts before the body parsers and the session
   * check. A request that carries credentials or a body skips that copy and is answered by the
   * full chain, exactly as any other route.
   */
  publicRead?: boolean;
  handler: (
    input: { body: z.output<B>; query: z.output<Q>; params: z.output<P> },
    req: express.Request,
    res: express.Response,
  ) => Promise<unknown> | unknown;
}

/** A route served by another router (health, metrics, JWKS), described in the same document. */
export interface ExternalSpec extends Omit<Described, 'auth'> {
  /** The full path, e.g. `/healthz`. */
  path: string;
  /** A security scheme other than the session's bearer token (e.g. the metrics token). */
  security?: { scheme: string; description: string };
}

interface Recorded extends Described {
  /** The path as the document shows it, from the server root. */
  fullPath: string;
  body?: z.ZodType;
  security?: ExternalSpec['security'];
}

/** Refuses the request unless the session (set by `authenticate`) may call this route. */
function guard(auth: RouteAuth): RequestHandler {
  if (auth === 'session') {
    return (_req, res, next) => {
      sessionOf(res);
      next();
    };
  }
  return requireRole(auth);
}

/**
 * Lets a request into a public read's early copy only when the middleware it skips would have
 * done nothing: no credentials for the session check to accept or refuse, no body to parse.
 */
const withoutCredentialsOrBody: RequestHandler = (req, _res, next) => {
  const h = req.headers;
  const plain =
    h.authorization === undefined &&
    h.cookie === undefined &&
    h['content-length'] === undefined &&
    h['transfer-encoding'] === undefined;
  next(plain ? undefined : 'route');
};

export class ApiBuilder {
  readonly router: Router = express.Router();
  /** The `publicRead` routes by their full paths, for the app to mount early (src/app.ts). */
  readonly publicReads: Router = express.Router();
  private readonly routes: Recorded[] = [];

  route<
    B extends z.ZodType = z.ZodUndefined,
    Q extends z.ZodType = z.ZodUndefined,
    P extends z.ZodType = z.ZodUndefined,
  >(spec: RouteSpec<B, Q, P>): void {
    this.record({ ...spec, fullPath: '/api/v1' + spec.path });
    const validate: RequestHandler = async (req, res) => {
      const input = {
        params: spec.params
          ? parseInput(spec.params, req.params, 'The address is not valid.')
          : undefined,
        query: spec.query
          ? parseInput(spec.query, req.query ?? {}, 'Some query parameters are invalid.')
          : undefined,
        body: spec.body ? parseInput(spec.body, req.body ?? {}) : undefined,
      } as { body: z.output<B>; query: z.output<Q>; params: z.output<P> };
      const result = await spec.handler(input, req, res);
      if (!res.headersSent && result !== undefined) res.json(result);
    };
    // The declaration is the enforcement: `auth` both guards the route and marks it in the document.
    const guards = spec.auth ? [guard(spec.auth)] : [];
    this.router[spec.method](spec.path, ...guards, ...(spec.middleware ?? []), validate);
    if (spec.publicRead) {
      if (spec.method !== 'get' || spec.auth || spec.body)
        throw new Error(`${spec.method} ${spec.path}: a public read is a GET without auth or body`);
      // The request context is set after the body parsers for other routes; here, at once.
      this.publicReads.get(
        '/api/v1' + spec.path,
        withoutCredentialsOrBody,
        withRequestContext,
        ...(spec.middleware ?? []),
        validate,
      );
    }
  }

  /** Describes a route another router serves, so the document covers the whole service. */
  external(spec: ExternalSpec): void {
    this.record({ ...spec, fullPath: spec.path });
  }

  private record(r: Recorded): void {
    for (const [status, resp] of Object.entries(r.responses)) {
      const s = Number(status);
      if (s < 400 && s !== 204 && !resp.schema && !resp.content)
        throw new Error(`${r.method} ${r.fullPath}: response ${status} needs a schema`);
    }
    this.routes.push(r);
  }

  openApi(
    info: {
      title: string;
      version: string;
      description?: string;
      license?: { name: string; identifier?: string; url?: string };
    },
    opts: { servers?: Array<{ url: string; description?: string }> } = {},
  ): Record<string, unknown> {
    const paths: Record<string, Record<string, unknown>> = {};
    const schemes: Record<string, unknown> = {
      bearerAuth: {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description: 'A session token from POST /api/v1/auth/login or /auth/login-link/verify',
      },
    };
    const schema = (s: z.ZodType, io: 'input' | 'output') => {
      const { $schema, ...rest } = z.toJSONSchema(s, { io, unrepresentable: 'any' }) as Record<
        string,
        unknown
      >;
      void $schema;
      return rest;
    };
    const tags = new Set<string>();
    for (const r of this.routes) {
      const path = r.fullPath.replace(/:([A-Za-z_]+)/g, '{$1}');
      const parameters: unknown[] = [];
      for (const [where, s] of [
        ['path', r.params],
        ['query', r.query],
      ] as const) {
        if (!s) continue;
        const js = schema(s, 'input') as {
          properties?: Record<string, unknown>;
          required?: string[];
        };
        for (const [name, p] of Object.entries(js.properties ?? {})) {
          parameters.push({
            name,
            in: where,
            required: where === 'path' || (js.required ?? []).includes(name),
            schema: p,
          });
        }
      }
      r.tags.forEach((t) => tags.add(t));
      const op: Record<string, unknown> = {
        summary: r.summary,
        tags: r.tags,
        operationId: `${r.method}_${r.fullPath.replace(/^\/api\/v1/, '').replace(/[^A-Za-z0-9]+/g, '_')}`,
      };
      if (parameters.length) op.parameters = parameters;
      if (r.body)
        op.requestBody = {
          required: true,
          content: { 'application/json': { schema: schema(r.body, 'input') } },
        };
      else if (r.requestContent)
        op.requestBody = {
          required: true,
          content: Object.fromEntries(
            Object.entries(r.requestContent).map(([type, s]) => [
              type,
              { schema: schema(s, 'input') },
            ]),
          ),
        };
      const declared = Object.fromEntries(
        Object.entries(r.responses).map(([status, resp]) => {
          const content =
            resp.content ??
            (resp.schema ? { [resp.contentType ?? 'application/json']: resp.schema } : undefined);
          if (content)
            return [
              status,
              {
                description: resp.description,
                content: Object.fromEntries(
                  Object.entries(content).map(([type, s]) => [
                    type,
                    { schema: schema(s, 'output') },
                  ]),
                ),
              },
            ];
          return [
            status,
            Number(status) >= 400 ? problem(resp.description) : { description: resp.description },
          ];
        }),
      );
      const errors: Record<string, unknown> = {
        '400': problem('Invalid input (field-level `errors`)'),
      };
      if (r.auth)
        Object.assign(errors, {
          '401': problem('Not signed in or the token is invalid/expired'),
          '403': problem('Signed in without the required role'),
        });
      if (r.security) errors['401'] = problem(r.security.description);
      op.responses = { ...errors, ...declared };
      if (r.auth) {
        op.security = [{ bearerAuth: [] }];
        // Which roles the guard lets through (the bearer scheme itself carries no roles).
        op['x-roles'] = ROLES_OF[r.auth];
      } else if (r.security) {
        op.security = [{ [r.security.scheme]: [] }];
        schemes[r.security.scheme] = {
          type: 'http',
          scheme: 'bearer',
          description: r.security.description,
        };
      } else op.security = [];
      (paths[path] ??= {})[r.method] = op;
    }
    return {
      openapi: '3.1.0',
      info,
      servers: opts.servers ?? [{ url: '/' }],
      // In the order routes first use them: the reference reads from signing to administration.
      tags: [...tags].map((name) => ({ name, description: TAG_DESCRIPTIONS[name] ?? name })),
      paths,
      components: {
        securitySchemes: schemes,
        schemas: { Problem: PROBLEM_SCHEMA },
      },
    };
  }
}

const TAG_DESCRIPTIONS: Record<string, string> = {
  initiative: 'The text companies sign',
  pledges: 'Signing and confirming a pledge',
  auth: 'Sign-in and sign-out (company links, administrator passwords)',
  company: 'What a signed-in company can see and do',
  public: 'Public registry data, no sign-in',
  certificates: 'Certificate lookup and verification',
  admin: "The association's administration (administrators only)",
  exports: 'Downloads: signatory exports and open data',
  meta: 'This document',
  operations: 'Health, readiness and metrics for operators',
  keys: 'Public keys to check certificates and export manifests',
  log: 'The transparency log: checkpoints, tiles and proofs (C2SP tlog-tiles, RFC 9162)',
};

const PROBLEM_SCHEMA = {
  type: 'object',
  description: 'RFC 9457 problem details',
  properties: {
    type: {
      type: 'string',
      format: 'uri-reference',
      description: '`/problems/<code>`: the stable machine-readable code',
      examples: ['/problems/validation-failed'],
    },
    title: { type: 'string', examples: ['Bad Request'] },
    status: { type: 'integer', examples: [400] },
    detail: { type: 'string', examples: ['Some fields are invalid.'] },
    instance: { type: 'string', examples: ['/api/v1/pledges'] },
    requestId: {
      type: 'string',
      description:
        'Quote it when reporting a server error (5xx only; also the X-Request-Id header)',
    },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        properties: { path: { type: 'string' }, message: { type: 'string' } },
        required: ['path', 'message'],
      },
    },
  },
  required: ['type', 'title', 'status'],
};

function problem(description: string): Record<string, unknown> {
  return {
    description,
    content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
  };
}
