/**
 * Composes the registry's features for an app instance: the routers to mount and the
 * background work each instance runs (mail delivery, sealing the audit chain, finishing
 * interrupted activations). Everything here is safe to run on several instances at once.
 */
import path from 'node:path';
import { apiRouter } from '../routes/api';
import type { Mount } from './app';
import { sealPendingEvents } from './audit/chain';
import type { Config } from './config';
import { ensureInitialInitiative } from './initiative/service';
import type { Logger } from './logger';
import { createMailQueue, type MailQueue } from './mail/outbox';
import { MailSender } from './mail/sender';
import { ensureSequenceCounter, recoverActivations } from './pledges/activation';

export interface Registry {
  routes: Mount[];
  mail: MailQueue;
  mailSender: MailSender;
  openApi: () => Record<string, unknown>;
  /** Prepares the database (first initiative, counters, interrupted activations) and starts background work. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createRegistry(config: Config, logger: Logger, opts: { mailPollMs?: number; sealEveryMs?: number } = {}): Registry {
  const mailSender = new MailSender({ smtpUrl: config.smtpUrl, outboxDir: path.join(config.dataDir, 'outbox'), logger, pollMs: opts.mailPollMs });
  const mail = createMailQueue(() => mailSender.poke());
  const api = apiRouter({ config, mail });
  const timers: NodeJS.Timeout[] = [];
  let sealing: Promise<unknown> = Promise.resolve();

  const every = (ms: number, task: () => Promise<unknown>, what: string): void => {
    const t = setInterval(() => {
      sealing = task().catch((err) => logger.error({ err }, `${what} failed`));
    }, ms);
    t.unref();
    timers.push(t);
  };

  return {
    routes: [{ path: '/api/v1', router: api.router }],
    mail,
    mailSender,
    openApi: api.openApi,
    async start() {
      await ensureInitialInitiative();
      await ensureSequenceCounter();
      const recovered = await recoverActivations(0);
      if (recovered) logger.warn({ recovered }, 'finished activations interrupted by a previous crash');
      mailSender.start();
      every(opts.sealEveryMs ?? 1000, () => sealPendingEvents(), 'sealing the audit chain');
      every(60_000, () => recoverActivations(), 'recovering activations');
    },
    async stop() {
      for (const t of timers) clearInterval(t);
      await sealing;
      await mailSender.stop();
    },
  };
}
