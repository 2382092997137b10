/**
 * Builds the express app. Importing this file starts nothing: no listen, no database; the
 * server (src/server.ts) and tests call createApp with their own config and logger.
 */
import { randomUUID } from 'node:crypto';
import express, { type Express, type RequestHandler, type Router } from 'express';
import helmet from 'helmet';
import { healthRouter } from '../routes/health';
import type { Config } from './config';
import { createErrorHandler, notFoundHandler, type ErrorHandlerOptions } from './errors';
import type { Logger } from './logger';

/** A router and the path it is mounted on ('/' when omitted). */
export interface Mount {
  path?: string;
  router: Router | RequestHandler;
  /** Error pages for browsers, brought by a feature (the site); `AppDeps.renderErrorPage` wins. */
  renderErrorPage?: ErrorHandlerOptions['renderHtml'];
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
  app.use(helmet());
  app.use(
    express.json({ limit: JSON_BODY_LIMIT, type: ['application/json', 'application/*+json'] }),
  );
  app.use(express.urlencoded({ extended: false, limit: JSON_BODY_LIMIT }));

  app.use(healthRouter({ logger }));
  for (const mount of deps.routes ?? []) {
    app.use(mount.path ?? '/', mount.router);
  }

  app.use(notFoundHandler);
  const renderHtml = deps.renderErrorPage ?? deps.routes?.find((m) => m.renderErrorPage)?.renderErrorPage;
  app.use(createErrorHandler({ logger, renderHtml }));
  return app;
}

/** Gives each request an id (echoed as X-Request-Id, shown on 500 pages) and logs it at debug. */
function requestLogger(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const requestId = randomUUID();
    res.locals.requestId = requestId;
    res.set('X-Request-Id', requestId);
    if (!logger.isLevelEnabled('debug')) {
      next();
      return;
    }
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      logger.debug(
        {
          requestId,
          method: req.method,
          // Path only: query strings can carry single-use tokens from e-mailed links.
          path: req.originalUrl.split('?')[0],
          status: res.statusCode,
          ms: Number(process.hrtime.bigint() - started) / 1e6,
        },
        'request',
      );
    });
    next();
  };
}
