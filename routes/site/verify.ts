/**
 * Certificate verification: a serial box, and `/verify/<serial>` (the QR code's target) with a
 * large verdict. The lookup is pluggable (SiteKit.verify); certificates wire theirs in later.
 */
import express, { type Router } from 'express';
import type { I18n } from '../../src/i18n';
import { SERIAL_INPUT_MAX, type Verdict } from '../../src/site/verdict';
import { firstQueryValue } from '../../src/site/view';
import type { SiteKit } from './kit';

function verdictView(v: Verdict, l: I18n) {
  const d = v.details;
  return {
    kind: v.kind,
    serial: v.serial,
    details: d
      ? {
          companyName: d.companyName,
          companyNameEn: d.companyNameEn ?? null,
          uscc: d.uscc,
          province: d.province ? l.province(d.province) : null,
          industry: d.industry ? l.industry(d.industry) : null,
          issuedAt: d.issuedAt ? l.date(d.issuedAt) : null,
          foundingNumber: d.foundingNumber ?? null,
          initiativeVersion: d.initiativeVersion ?? null,
          endedAt: d.endedAt ? l.date(d.endedAt) : null,
          reason: d.reason ?? null,
          supersededBy: d.supersededBy ?? null,
        }
      : null,
  };
}

export function verifyPages(kit: SiteKit): Router {
  const router = express.Router();

  router.get('/verify', (req, res) => {
    const serial = firstQueryValue(req, 'serial');
    if (serial !== undefined && serial.trim() !== '') {
      // The form is a GET so that the result has its own address (the same one the QR code uses).
      res.redirect(303, `/verify/${encodeURIComponent(serial.trim().slice(0, SERIAL_INPUT_MAX))}`);
      return;
    }
    kit.page(req, res, 'verify', { empty: serial !== undefined });
  });

  router.get('/verify/:serial', async (req, res) => {
    const raw = String(req.params.serial ?? '').trim();
    // Anything that cannot be a serial is simply unknown: no lookup, same verdict page.
    const plausible =
      raw.length > 0 && raw.length <= SERIAL_INPUT_MAX && /^[\x21-\x7e]+$/.test(raw);
    const verdict: Verdict = plausible
      ? await kit.verify(raw)
      : { kind: 'not_found', serial: raw.slice(0, SERIAL_INPUT_MAX) };
    kit.page(
      req,
      res,
      'verdict',
      { verdict: verdictView(verdict, kit.l(res)) },
      { status: verdict.kind === 'not_found' ? 404 : 200, section: '/verify' },
    );
  });

  return router;
}
