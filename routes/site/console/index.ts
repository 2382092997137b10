/**
 * The association's console under /admin: one file per section, mounted here. Pages call the
 * same use cases as the admin API; every form carries the session-bound CSRF token, and every
 * page checks that the admin account is still enabled (the gate in ./context).
 */
import { Router } from 'express';
import type { SiteKit } from '../kit';
import { accountPages } from './accounts';
import { auditPages } from './audit';
import { consoleContext, type ConsoleDeps } from './context';
import { exportPages } from './exports';
import { initiativePages } from './initiatives';
import { pledgePages } from './pledge';
import { queuePages } from './queue';
import { signInPages } from './sign-in';

export type { ConsoleDeps } from './context';

export function consolePages(kit: SiteKit, deps: ConsoleDeps): Router {
  const ctx = consoleContext(kit, deps);
  const router = Router();
  for (const section of [
    signInPages,
    queuePages,
    pledgePages,
    initiativePages,
    exportPages,
    accountPages,
    auditPages,
  ])
    router.use(section(ctx));
  return router;
}
