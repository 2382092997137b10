/**
 * Liveness and readiness for load balancers and orchestrators.
 * /healthz: the process serves HTTP (never touches the database, so a database outage does not
 * get healthy processes restarted). /readyz: it can also do useful work, i.e. the database answers.
 */
import { Router } from 'express';
import { pingDatabase } from '../src/db';
import { serviceUnavailable } from '../src/errors';
import type { Logger } from '../src/logger';

export interface HealthRouterOptions {
  logger: Logger;
  /** How long the database may take to answer a ping before we report not ready. */
  pingTimeoutMs?: number;
}

export function healthRouter(options: HealthRouterOptions): Router {
  const router = Router();
  const noStore = { 'Cache-Control': 'no-store' };

  router.get('/healthz', (_req, res) => {
    res.set(noStore).json({ status: 'ok' });
  });

  router.get('/readyz', async (_req, res) => {
    const result = await pingDatabase(options.pingTimeoutMs ?? 1000);
    if (!result.ok) {
      options.logger.warn({ err: result.error }, `not ready: ${result.reason}`);
      throw serviceUnavailable(`Not ready: ${result.reason}.`, 5, { code: 'not-ready' });
    }
    res.set(noStore).json({ status: 'ready' });
  });

  return router;
}
