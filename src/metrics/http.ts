/**
 * Per-request observation: the access log line (info) and the duration histogram, both keyed
 * by the route pattern (`/api/v1/pledges/:id`), never the raw path or query, which can carry
 * tokens from e-mailed links; and `GET /metrics` behind a bearer token.
 */
import { Router, type Request, type RequestHandler } from 'express';
import type { Config } from '../config';
import { sameSecret } from '../auth/compare';
import { forbidden, unauthorized } from '../errors';
import type { Logger } from '../logger';
import { getMetrics } from './index';

const ROUTE_PATTERN = Symbol('routePattern');
type Observed = Request & { [ROUTE_PATTERN]?: string };

/**
 * Express sets `req.route` when a route matches, while `req.baseUrl` is still the mount path;
 * recording both at that moment gives the full pattern even when an error handler further out
 * answers after the routers have restored their `baseUrl`.
 */
function captureRoutePattern(req: Observed): void {
  let route: unknown;
  Object.defineProperty(req, 'route', {
    configurable: true,
    enumerable: true,
    get: () => route,
    set(value: { path?: unknown } | undefined) {
      route = value;
      if (value && value.path !== undefined)
        req[ROUTE_PATTERN] = `${req.baseUrl}${String(value.path)}`;
    },
  });
}

export function routeLabel(req: Request, status: number): string {
  return (req as Observed)[ROUTE_PATTERN] ?? (status === 404 ? '(unmatched)' : '(no route)');
}

export function observeRequests(logger: Logger): RequestHandler {
  const { httpDuration, rateLimitRejections } = getMetrics();
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    captureRoutePattern(req);
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = routeLabel(req, res.statusCode);
      const status = String(res.statusCode);
      httpDuration.observe({ method: req.method, route, status }, seconds);
      if (res.statusCode === 429) rateLimitRejections.inc({ route });
      logger.info(
        {
          requestId: res.locals.requestId,
          method: req.method,
          route,
          status: res.statusCode,
          ms: Math.round(seconds * 1e4) / 10,
        },
        'request',
      );
    });
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
