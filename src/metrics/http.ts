/**
 * Per-request observation: the access log line (info) and the duration histogram, both keyed
 * by the route pattern (`/api/v1/pledges/:id`), never the raw path or query, which can carry
 * tokens from e-mailed links; and `GET /metrics` behind a bearer token.
 */
import { Router, type Request, type RequestHandler, type Response } from 'express';
import type { Config } from '../config';
import { sameSecret } from '../auth/compare';
import { forbidden, unauthorized } from '../errors';
import type { Logger } from '../logger';
import { getMetrics } from './index';

const ROUTE = Symbol('route');
const BASE_URL = Symbol('baseUrl');
const ROUTE_PATH = Symbol('routePath');
const STARTED = Symbol('started');
/**
 * What observation keeps per request lives in `res.locals` (a plain map): adding a property to
 * the request or response objects themselves, whose prototype express swaps, costs microseconds.
 */
type Kept = {
  [ROUTE]?: unknown;
  [BASE_URL]?: string;
  [ROUTE_PATH]?: unknown;
  [STARTED]?: number;
};
const kept = (res: { locals: object } | undefined): Kept | undefined => res?.locals as Kept;

/**
 * Express sets `req.route` when a route matches, while `req.baseUrl` is still the mount path;
 * recording both at that moment gives the full pattern even when an error handler further out
 * answers after the routers have restored their `baseUrl`. The accessor sits on the app's
 * request prototype (once per app, not once per request), where express's assignment finds it;
 * the pattern is put together only when the response is observed.
 */
function captureRoutePatterns(requestPrototype: object): void {
  if (Object.prototype.hasOwnProperty.call(requestPrototype, BASE_URL)) return;
  Object.defineProperty(requestPrototype, BASE_URL, { value: true });
  Object.defineProperty(requestPrototype, 'route', {
    configurable: true,
    enumerable: true,
    get(this: Request) {
      return kept(this.res)?.[ROUTE];
    },
    set(this: Request, value: { path?: unknown } | undefined) {
      const k = kept(this.res);
      if (!k) return;
      k[ROUTE] = value;
      if (value && value.path !== undefined) {
        k[BASE_URL] = this.baseUrl;
        k[ROUTE_PATH] = value.path;
      }
    },
  });
}

export function routeLabel(req: Request, status: number): string {
  const k = kept(req.res);
  if (k?.[BASE_URL] !== undefined) return `${k[BASE_URL]}${String(k[ROUTE_PATH])}`;
  return status === 404 ? '(unmatched)' : '(no route)';
}

export function observeRequests(logger: Logger): RequestHandler {
  const { httpDuration, rateLimitRejections } = getMetrics();
  // The access line holds five values made here (no object, none named like a secret), which
  // the redaction paths cannot match; walking them for every request is only cost.
  const accessLog = logger.child({}, { redact: [] });
  // One listener for every response (`this` is the response), not a closure per request.
  function onFinish(this: Response): void {
    const req = this.req;
    const seconds = (performance.now() - kept(this)![STARTED]!) / 1e3;
    const route = routeLabel(req, this.statusCode);
    httpDuration.observe({ method: req.method, route, status: String(this.statusCode) }, seconds);
    if (this.statusCode === 429) rateLimitRejections.inc({ route });
    accessLog.info(
      {
        requestId: this.locals.requestId,
        method: req.method,
        route,
        status: this.statusCode,
        ms: Math.round(seconds * 1e4) / 10,
      },
      'request',
    );
  }
  return (req, res, next) => {
    kept(res)![STARTED] = performance.now();
    captureRoutePatterns(Object.getPrototypeOf(req) as object);
    res.on('finish', onFinish);
    next();
  };
}

/**
 * GET /metrics. With METRICS_TOKEN: `Authorization: Bearer <token>` or 401. Without it: refused
 * in production (403; set the token), open elsewhere.
 */
export function metricsRouter(config: Config): Router {
  const router = Router();
  router.get('/metrics', async (req, res) => {
    if (config.metricsToken === undefined) {
      if (config.isProduction) throw forbidden('Metrics are disabled: set METRICS_TOKEN.');
    } else {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
      if (!m || !sameSecret(m[1], config.metricsToken)) {
        res.set('WWW-Authenticate', 'Bearer realm="metrics"');
        throw unauthorized('A valid metrics token is required.');
      }
    }
    const { registry } = getMetrics();
    res
      .set('Cache-Control', 'no-store')
      .type(registry.contentType)
      .send(await registry.metrics());
  });
  return router;
}
