/**
 * Builds the express app. Importing this file starts nothing: no listen, no database; the
 * server (src/server.ts) and tests call createApp with their own config and logger.
 */
import { randomUUID } from 'node:crypto';
import express, { type Express, type RequestHandler, type Router } from 'express';
import { healthRouter } from '../routes/health';
import type { Config } from './config';
import { requireUtf8Url, verifyUtf8Form, verifyUtf8Json } from './http/encoding';
import { securityHeaders } from './http/security-headers';
import { createErrorHandler, notFoundHandler, type ErrorHandlerOptions } from './errors';
import { plainErrorPage } from './site/error-page';
import type { Logger } from './logger';
import { withRequestContext } from './request-context';
import { metricsRouter, observeRequests } from './metrics/http';

/** A router and the path it is mounted on ('/' when omitted). */
export interface Mount {
  path?: string;
  router: Router | RequestHandler;
  /** Error pages for browsers, brought by a feature (the site); `AppDeps.renderErrorPage` wins. */
  renderErrorPage?: ErrorHandlerOptions['renderHtml'];
  /**
   * Mounted before the body parsers, the request context and the health and metrics routes
   * (after the request id, the access log and metrics, the security headers and the URL check):
   * public reads that need none of them (ApiBuilder.publicReads).
   */
  beforeBodyParsers?: boolean;
}

export interface AppDeps {
  config: Config;
  logger: Logger;
  /**
   * Feature routers (API, pages), mounted in order after the health checks and before the 404
   * catch-all. This is where later features plug in.
   */
  routes?: readonly Mount[];
  /** Replaces the built-in HTML error page (e.g. with the site's templates). */
  renderErrorPage?: ErrorHandlerOptions['renderHtml'];
}

export const JSON_BODY_LIMIT = '100kb';

export function createApp(deps: AppDeps): Express {
  const { config, logger } = deps;
  const app = express();

  app.disable('x-powered-by');
  // Client IPs (rate limits, logs) are only right if we know how many proxies to believe.
  app.set('trust proxy', config.trustProxy);
  // Flat query values only: no nested objects that could smuggle `$` operators into filters.
  app.set('query parser', 'simple');

  app.use(requestLogger(logger));
  app.use(observeRequests(logger));
  app.use(securityHeaders());
  app.use(requireUtf8Url);
  for (const mount of deps.routes ?? []) {
    if (mount.beforeBodyParsers) app.use(mount.path ?? '/', mount.router);
  }
  app.use(
    express.json({
      limit: JSON_BODY_LIMIT,
      type: ['application/json', 'application/*+json'],
      verify: verifyUtf8Json,
    }),
  );
  app.use(express.urlencoded({ extended: false, limit: JSON_BODY_LIMIT, verify: verifyUtf8Form }));
  app.use(withRequestContext);

  app.use(healthRouter({ logger }));
  app.use(metricsRouter(config));
  for (const mount of deps.routes ?? []) {
    if (!mount.beforeBodyParsers) app.use(mount.path ?? '/', mount.router);
  }

  app.use(notFoundHandler);
  const renderHtml =
    deps.renderErrorPage ??
    deps.routes?.find((m) => m.renderErrorPage)?.renderErrorPage ??
    plainErrorPage;
  app.use(createErrorHandler({ logger, renderHtml }));
  return app;
}

/** Gives each request an id (echoed as X-Request-Id, shown on 500 pages, in the access log). */
function requestLogger(_logger: Logger): RequestHandler {
  return (_req, res, next) => {
    const requestId = randomUUID();
    res.locals.requestId = requestId;
    res.setHeader('X-Request-Id', requestId);
    next();
  };
}
