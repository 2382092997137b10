/**
 * Declares API routes once: the same zod schemas validate requests and generate the OpenAPI
 * 3.1 document, so the published contract cannot drift from what the server accepts.
 */
import express, { type RequestHandler, type Router } from 'express';
import { z } from 'zod';
import { parseInput } from '../errors';

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

export interface RouteSpec<B extends z.ZodType, Q extends z.ZodType, P extends z.ZodType> {
  method: Method;
  /** Express-style path relative to /api/v1, e.g. `/admin/pledges/:id/approve`. */
  path: string;
  summary: string;
  tags: string[];
  auth?: 'company' | 'admin';
  body?: B;
  query?: Q;
  params?: P;
  /** Response schemas by status, for the document. */
  responses: Record<number, { description: string; schema?: z.ZodType; contentType?: string }>;
  middleware?: RequestHandler[];
  handler: (input: { body: z.output<B>; query: z.output<Q>; params: z.output<P> }, req: express.Request, res: express.Response) => Promise<unknown> | unknown;
}

interface Recorded {
  method: Method;
  path: string;
  summary: string;
  tags: string[];
  auth?: 'company' | 'admin';
  body?: z.ZodType;
  query?: z.ZodType;
  params?: z.ZodType;
  responses: Record<number, { description: string; schema?: z.ZodType; contentType?: string }>;
}

export class ApiBuilder {
  readonly router: Router = express.Router();
  private readonly routes: Recorded[] = [];

  route<B extends z.ZodType = z.ZodUndefined, Q extends z.ZodType = z.ZodUndefined, P extends z.ZodType = z.ZodUndefined>(spec: RouteSpec<B, Q, P>): void {
    this.routes.push(spec);
    const validate: RequestHandler = async (req, res) => {
      const input = {
        params: spec.params ? parseInput(spec.params, req.params, 'The address is not valid.') : undefined,
        query: spec.query ? parseInput(spec.query, req.query ?? {}, 'Some query parameters are invalid.') : undefined,
        body: spec.body ? parseInput(spec.body, req.body ?? {}) : undefined,
      } as { body: z.output<B>; query: z.output<Q>; params: z.output<P> };
      const result = await spec.handler(input, req, res);
      if (!res.headersSent && result !== undefined) res.json(result);
    };
    this.router[spec.method](spec.path, ...(spec.middleware ?? []), validate);
  }

  openApi(info: { title: string; version: string; description?: string }): Record<string, unknown> {
    const paths: Record<string, Record<string, unknown>> = {};
    const schema = (s: z.ZodType, io: 'input' | 'output') => {
      const { $schema, ...rest } = z.toJSONSchema(s, { io, unrepresentable: 'any' }) as Record<string, unknown>;
      void $schema;
      return rest;
    };
    for (const r of this.routes) {
      const path = '/api/v1' + r.path.replace(/:([A-Za-z_]+)/g, '{$1}');
      const parameters: unknown[] = [];
      for (const [where, s] of [['path', r.params], ['query', r.query]] as const) {
        if (!s) continue;
        const js = schema(s, 'input') as { properties?: Record<string, unknown>; required?: string[] };
        for (const [name, p] of Object.entries(js.properties ?? {})) {
          parameters.push({ name, in: where, required: where === 'path' || (js.required ?? []).includes(name), schema: p });
        }
      }
      const op: Record<string, unknown> = { summary: r.summary, tags: r.tags, operationId: `${r.method}_${r.path.replace(/[^A-Za-z0-9]+/g, '_')}` };
      if (parameters.length) op.parameters = parameters;
      if (r.body) op.requestBody = { required: true, content: { 'application/json': { schema: schema(r.body, 'input') } } };
      op.responses = Object.fromEntries(
        Object.entries(r.responses).map(([status, resp]) => [
          status,
          { description: resp.description, ...(resp.schema ? { content: { [resp.contentType ?? 'application/json']: { schema: schema(resp.schema, 'output') } } } : {}) },
        ]),
      );
      const errors: Record<string, unknown> = { '400': problem('Invalid input (field-level `errors`)') };
      if (r.auth) Object.assign(errors, { '401': problem('Not signed in or the token is invalid/expired'), '403': problem('Signed in without the required role') });
      op.responses = { ...errors, ...(op.responses as object) };
      if (r.auth) op.security = [{ bearerAuth: [] }];
      (paths[path] ??= {})[r.method] = op;
    }
    return {
      openapi: '3.1.0',
      info,
      servers: [{ url: '/' }],
      paths,
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
        schemas: { Problem: PROBLEM_SCHEMA },
      },
    };
  }
}

const PROBLEM_SCHEMA = {
  type: 'object',
  description: 'RFC 9457 problem details',
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    errors: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } }, required: ['path', 'message'] } },
  },
  required: ['type', 'title', 'status'],
};

function problem(description: string): Record<string, unknown> {
  return { description, content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } };
}
