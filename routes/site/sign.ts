/**
 * Signing: the form (validated by the same schema as the API, messages in the visitor's
 * language), "check your e-mail", and the confirmation link's landing page, which changes
 * nothing until its button is pressed (mail scanners follow links; only people press buttons).
 */
import express, { type Request, type Response, type Router } from 'express';
import { INDUSTRIES } from '../../src/domain/industries';
import { PROVINCES, provinceFromUscc } from '../../src/domain/provinces';
import { validateUscc } from '../../src/domain/uscc';
import { isAppError } from '../../src/errors';
import type { I18n } from '../../src/i18n';
import { currentInitiative } from '../../src/initiative/service';
import { confirmPledge, signPledge } from '../../src/pledges/lifecycle';
import { SignPledgeBody } from '../../src/pledges/schemas';
import { rateLimit } from '../../src/rate-limit';
import {
  FormErrorBuilder,
  formInt,
  formText,
  noErrors,
  optionalText,
  type FieldSpec,
  type FormErrors,
} from '../../src/site/forms';
import { postedToken, tokenFailurePage, tokenLandingPage, type SiteKit } from './kit';
import { initiativeView } from './public';

export const SIGN_FIELDS: readonly FieldSpec[] = [
  { name: 'uscc', path: 'company.uscc', label: 'sign.uscc.label' },
  { name: 'name', path: 'company.name', label: 'sign.name.label' },
  { name: 'nameEn', path: 'company.nameEn', label: 'sign.nameEn.label' },
  { name: 'industry', path: 'company.industry', label: 'sign.industry.label', kind: 'select' },
  { name: 'address', path: 'company.address', label: 'sign.address.label' },
  { name: 'website', path: 'company.website', label: 'sign.website.label' },
  { name: 'signatoryName', path: 'signatory.name', label: 'sign.signatoryName.label' },
  { name: 'title', path: 'signatory.title', label: 'sign.title.label' },
  { name: 'email', path: 'signatory.email', label: 'sign.email.label' },
  {
    name: 'phone',
    path: 'signatory.phone',
    label: 'sign.phone.label',
    formatMessage: 'form.phone',
  },
  { name: 'agree', path: 'agree', label: 'sign.agree.short', kind: 'checkbox' },
];

type SignValues = Record<string, string> & { agree?: string };

function formValues(body: unknown): SignValues {
  const v: SignValues = {};
  for (const f of SIGN_FIELDS) v[f.name] = formText(body, f.name);
  return v;
}

/** The form as the API's signing input (same schema, same use case). */
function toInput(body: unknown) {
  return {
    company: {
      uscc: formText(body, 'uscc'),
      name: formText(body, 'name'),
      nameEn: optionalText(body, 'nameEn'),
      industry: formText(body, 'industry'),
      address: optionalText(body, 'address'),
      website: optionalText(body, 'website'),
    },
    signatory: {
      name: formText(body, 'signatoryName'),
      title: formText(body, 'title'),
      email: formText(body, 'email'),
      phone: optionalText(body, 'phone'),
    },
    initiative: { version: formInt(body, 'version'), sha256: formText(body, 'sha256') },
    agree: formText(body, 'agree') === 'yes' ? true : undefined,
  };
}

function usccClientMessages(l: I18n) {
  // Templates for the in-browser check (public/js/site.js fills in the numbers).
  return {
    length: l.t('uscc.length', { expected: 18, n: '{n}' }),
    charset: l.t('uscc.charset', { pos: '{pos}', ch: '{ch}' }),
    checksum: l.t('uscc.checksum'),
    province: l.t('uscc.province', { code: '{code}' }),
    ok: l.t('uscc.ok', { province: '{province}' }),
    provinces: JSON.stringify(
      Object.fromEntries(PROVINCES.map((p) => [p.code, l.province(p.code)])),
    ),
  };
}

export function signPages(kit: SiteKit): Router {
  const router = express.Router();
  const { config } = kit;
  const signingLimit = rateLimit({ bucket: 'sign', perMinute: config.rateLimit.signingPerMin });

  const renderForm = async (
    req: Request,
    res: Response,
    values: SignValues,
    errors: FormErrors,
    status = 200,
  ) => {
    const l = kit.l(res);
    const initiative = await currentInitiative();
    const uscc = values.uscc?.trim() ?? '';
    const province = uscc && validateUscc(uscc).ok ? provinceFromUscc(uscc) : undefined;
    kit.page(
      req,
      res,
      'sign',
      {
        initiative: initiativeView(initiative, l),
        values,
        errors,
        province: province ? l.t('uscc.ok', { province: l.province(province.code) }) : '',
        industries: INDUSTRIES.map((i) => ({ code: i.code, name: l.industry(i.code) })),
        csrf: kit.csrf.token(req, res),
        uscc: usccClientMessages(l),
      },
      { policy: 'no-store', status },
    );
  };

  router.get('/sign', async (req, res) => {
    await renderForm(req, res, {}, noErrors());
  });

  router.post('/sign', kit.csrf.verify, signingLimit, async (req, res) => {
    const l = kit.l(res);
    const input = toInput(req.body);
    const values = formValues(req.body);
    const errors = new FormErrorBuilder(SIGN_FIELDS, l);
    let status = 400;
    let stale = false;
    const parsed = SignPledgeBody.safeParse(input);
    if (parsed.success) {
      try {
        await signPledge(parsed.data, kit.pledge);
        res.redirect(303, '/sign/sent');
        return;
      } catch (e) {
        if (isAppError(e) && e.status === 409) {
          errors.add('uscc', l.t('sign.uscc.taken'));
          status = 409;
        } else if (
          isAppError(e) &&
          e.status === 400 &&
          e.errors?.some((x) => x.path.startsWith('initiative.'))
        ) {
          stale = true;
        } else {
          throw e;
        }
      }
    } else {
      const unplaced = errors.addZodIssues(parsed.error.issues, input);
      stale = unplaced.some((i) => i.path[0] === 'initiative');
    }
    if (stale) {
      // The text changed while the form was open: consent must be given again to the new text.
      const current = await currentInitiative();
      errors.add('agree', l.t('sign.stale', { version: current.version }));
      values.agree = '';
    }
    await renderForm(req, res, values, errors.build(), status);
  });

  router.get('/sign/sent', (req, res) => {
    kit.page(req, res, 'sign-sent', {}, { section: '/sign' });
  });

  router.get('/confirm', tokenLandingPage(kit, 'confirm', '/sign'));

  router.post('/confirm', kit.csrf.verify, async (req, res) => {
    const token = postedToken(kit, req, res, 'confirm', '/sign');
    if (token === undefined) return;
    try {
      const result = await confirmPledge(token, kit.pledge);
      kit.page(
        req,
        res,
        'confirmed',
        { status: result.status },
        { policy: 'no-store', section: '/sign' },
      );
    } catch (e) {
      tokenFailurePage(kit, req, res, e, 'confirm', '/sign');
    }
  });

  return router;
}
