/**
 * Composes the registry's features for an app instance: the routers to mount and the
 * background work each instance runs (mail delivery, certificate issuing, sealing the audit
 * chain, finishing interrupted activations). All of it is safe on several instances at once.
 */
import path from 'node:path';
import express from 'express';
import { apiRouter } from '../routes/api';
import { apiDocsRouter } from '../routes/site/api-docs';
import { logRouter } from '../routes/log';
import { nsRouter } from '../routes/ns';
import { siteMount } from '../routes/site';
import type { Mount } from './app';
import { sealPendingEvents } from './audit/chain';
import { BackgroundTask } from './background';
import { purgeExpiredEvidence } from './pledges/retention';
import { createKeyRing, type KeyRing } from './certificates/keys';
import { CertificateService } from './certificates/service';
import { siteCertificates } from './certificates/site';
import type { Config } from './config';
import { ensureInitialInitiative } from './initiative/service';
import type { Logger } from './logger';
import { createMailQueue, type MailQueue } from './mail/outbox';
import { MailSender } from './mail/sender';
import { signCredential } from '../certificates';
import { ensureSequenceCounter, recoverActivations } from './pledges/activation';
import { completeInterruptedRevocations } from './certificates/status';
import type { PledgeDeps } from './pledges/lifecycle';
import { TransparencyLog } from './transparency/log';

export interface Registry {
  routes: Mount[];
  mail: MailQueue;
  mailSender: MailSender;
  keys: KeyRing;
  certificates: CertificateService;
  /** Issues pending certificates; `idle()` waits for a pass in progress. */
  certificateIssuer: BackgroundTask;
  /** The transparency log (issue #13): sequencer, checkpoints, proofs. */
  log: TransparencyLog;
  openApi: () => Record<string, unknown>;
  /** Prepares the database (first initiative, counters, interrupted activations) and starts background work. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface RegistryOptions {
  mailPollMs?: number;
  sealEveryMs?: number;
  certificatePollMs?: number;
  /** Transparency log: batching delay after an append, and the sequencer's polling interval. */
  logBatchMs?: number;
  logPollMs?: number;
  /**
   * false: start() prepares the database only; no background work runs (mail, certificate
   * issuing, sealing, recovery passes, the transparency log). For benchmarks of one feature
   * (bench/exports.ts), whose figures must not measure the others' passes over the seeded data.
   */
  background?: boolean;
}

export function createRegistry(
  config: Config,
  logger: Logger,
  opts: RegistryOptions = {},
): Registry {
  const mailSender = new MailSender({
    smtpUrl: config.smtpUrl,
    outboxDir: path.join(config.dataDir, 'outbox'),
    logger,
    pollMs: opts.mailPollMs,
  });
  const mail = createMailQueue(() => mailSender.poke());
  const keys = createKeyRing(config, logger);
  const certificates = new CertificateService(
    keys,
    config.publicUrl,
    undefined,
    config.association,
  );
  const log = new TransparencyLog({
    publicUrl: config.publicUrl,
    privateKey: keys.signingKey.privateKey,
    logger,
    batchMs: opts.logBatchMs,
    pollMs: opts.logPollMs,
  });
  certificates.useLog(log);
  const certificateIssuer = new BackgroundTask(
    'certificate issuing',
    () => certificates.issuePending(),
    opts.certificatePollMs ?? 2000,
    logger,
  );
  const tasks = [
    certificateIssuer,
    new BackgroundTask(
      'sealing the audit chain',
      () => sealPendingEvents(),
      opts.sealEveryMs ?? 1000,
      logger,
    ),
    // Evidence of authority is deleted 3 years after its pledge ended (src/pledges/retention.ts).
    new BackgroundTask(
      'deleting evidence past retention',
      () => purgeExpiredEvidence(),
      6 * 3600_000,
      logger,
    ),
    new BackgroundTask(
      'recovering interrupted work',
      async () => (await recoverActivations()) + (await completeInterruptedRevocations()),
      60_000,
      logger,
    ),
  ];
  const signer = {
    keyId: keys.signingKey.kid,
    sign: (payload: object) =>
      signCredential(payload, keys.signingKey, { publicUrl: config.publicUrl }),
  };
  // The pledge use cases' hooks, wired once for the API and the site alike: an activated pledge
  // gets its certificate in the background, a withdrawn one's certificate shows as withdrawn.
  const pledge: PledgeDeps = {
    config,
    mail,
    onActivated: () => certificateIssuer.poke(),
    onWithdrawn: (id, reason, actor) => certificates.markWithdrawn(id, reason, actor),
  };
  const api = apiRouter({ config, mail, certificates, signer, pledge, log });
  const wellKnown = express.Router();
  wellKnown.get('/.well-known/jwks.json', async (_req, res) => {
    res.set('Cache-Control', 'public, max-age=300');
    res.json(await keys.jwks());
  });

  return {
    routes: [
      { router: api.publicReads, beforeBodyParsers: true },
      { path: '/api/v1', router: api.router },
      { router: wellKnown },
      { router: logRouter(log) },
      { router: nsRouter(config.publicUrl) },
      { router: apiDocsRouter({ production: config.isProduction }) },
      siteMount({
        config,
        mail,
        pledge,
        verify: certificates.verdicts(),
        certificates: siteCertificates(certificates),
        console: { certificates },
        logVerifierKey: log.vkey,
      }),
    ],
    mail,
    mailSender,
    keys,
    certificates,
    certificateIssuer,
    log,
    openApi: api.openApi,
    async start() {
      await ensureInitialInitiative();
      await ensureSequenceCounter();
      await keys.publish();
      // Not 0: other instances may be activating right now, and their claims are not crashes.
      const recovered = await recoverActivations();
      if (recovered)
        logger.warn({ recovered }, 'finished activations interrupted by a previous crash');
      const revocations = await completeInterruptedRevocations();
      if (revocations)
        logger.warn({ revocations }, 'finished revocations interrupted by a previous crash');
      if (opts.background === false) return;
      mailSender.start();
      for (const t of tasks) t.start();
      log.start();
    },
    async stop() {
      await Promise.all(tasks.map((t) => t.stop()));
      await log.stop();
      await mailSender.stop();
      await certificates.close();
    },
  };
}
