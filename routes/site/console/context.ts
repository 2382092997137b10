/** What every console section gets from the index: the site kit, the admin session gate and `show`. */
import type { Request, Response } from 'express';
import type { CertificateService } from '../../../src/certificates/service';
import type { MessageKey } from '../../../src/i18n';
import type { SiteKit } from '../kit';
import { sessionGate, type SessionGate } from '../session';

export interface ConsoleDeps {
  certificates: CertificateService;
}

export interface ConsoleContext {
  kit: SiteKit;
  deps: ConsoleDeps;
  gate: SessionGate;
  /** Renders a console page (never cached: it shows personal data and carries CSRF tokens). */
  show(
    req: Request,
    res: Response,
    name: string,
    context: Record<string, unknown>,
    status?: number,
  ): void;
}

const CONSOLE_NAV: ReadonlyArray<{ href: string; key: MessageKey }> = [
  { href: '/admin/pledges', key: 'console.nav.queue' },
  { href: '/admin/initiatives', key: 'console.nav.initiatives' },
  { href: '/admin/exports', key: 'console.nav.exports' },
  { href: '/admin/accounts', key: 'console.nav.accounts' },
  { href: '/admin/audit', key: 'console.nav.audit' },
];

export function consoleContext(kit: SiteKit, deps: ConsoleDeps): ConsoleContext {
  const { config } = kit;
  const gate = sessionGate({
    secret: config.jwtSecret,
    secure: config.isProduction,
    role: 'admin',
    loginPath: '/admin/login',
  });
  const show: ConsoleContext['show'] = (req, res, name, context, status = 200) => {
    const l = kit.l(res);
    const section = CONSOLE_NAV.find((n) => req.path.startsWith(n.href))?.href ?? '';
    kit.page(
      req,
      res,
      `console/${name}`,
      {
        ...context,
        console: true,
        nav: CONSOLE_NAV.map((n) => ({ ...n, current: n.href === section })),
        navLabel: l.t('console.nav.label'),
        csrf: gate.csrfToken(req),
      },
      { policy: 'no-store', status },
    );
  };
  return { kit, deps, gate, show };
}
