/**
 * Signing: the form (validated by the same schema as the API, messages in the visitor's
 * language), "check your e-mail", and the confirmation link's landing page, which changes
 * nothing until its button is pressed (mail scanners follow links; only people press buttons).
 */
import express, { type Request, type Response, type Router } from 'express';
import { INDUSTRIES } from '../../src/domain/industries';
import { PROVINCES, provinceFromUscc } from '../../src/domain/provinces';
import { USCC_AUTHORITY_TYPES, validateUscc } from '../../src/domain/uscc';
import { isAppError } from '../../src/errors';
import { Types } from 'mongoose';
import type { I18n } from '../../src/i18n';
import { currentInitiative } from '../../src/initiative/service';
import { confirmPledge, resendConfirmation, signPledge } from '../../src/pledges/lifecycle';
import { LoginLinkBody, SignPledgeBody } from '../../src/pledges/schemas';
import {
  checkEvidence,
  EVIDENCE_MAX_BYTES,
  replaceEvidence,
  type EvidenceProblem,
} from '../../src/pledges/evidence';
import { readUploads, UPLOAD_STATUS, type UploadProblem } from '../../src/http/upload';
import type { MessageKey } from '../../src/i18n';
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
  { name: 'letter', path: 'letter', label: 'sign.letter.label' },
  { name: 'licence', path: 'licence', label: 'sign.licence.label' },
  { name: 'agree', path: 'agree', label: 'sign.agree.short', kind: 'checkbox' },
];

/** The form's text controls read from its multipart body (the files are read apart). */
const SIGN_TEXT_FIELDS = [
  ...SIGN_FIELDS.filter((f) => f.name !== 'letter' && f.name !== 'licence').map((f) => f.name),
  'version',
  'sha256',
];

const EVIDENCE_MESSAGE: Record<EvidenceProblem | UploadProblem, MessageKey> = {
  empty: 'evidence.empty',
  'too-large': 'evidence.tooLarge',
  'wrong-type': 'evidence.wrongType',
  truncated: 'evidence.truncated',
  'too-many-pixels': 'evidence.tooManyPixels',
  'no-file': 'evidence.required',
  'not-multipart': 'evidence.required',
  malformed: 'evidence.malformed',
  'extra-parts': 'evidence.malformed',
};

const RESEND_FIELDS: readonly FieldSpec[] = [
  { name: 'email', path: 'email', label: 'resend.email.label' },
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
    authority: l.t('uscc.authority', { ch: '{ch}' }),
    type: l.t('uscc.type', { ch: '{ch}', authority: '{authority}' }),
    region: l.t('uscc.region', { code: '{code}' }),
    orgCheck: l.t('uscc.orgCheck'),
    checksum: l.t('uscc.checksum'),
    ok: l.t('uscc.ok', { province: '{province}' }),
    // The rule's tables from src/domain, so the browser's check uses the server's own data.
    provinces: JSON.stringify(
      Object.fromEntries(PROVINCES.map((p) => [p.code, l.province(p.code)])),
    ),
    authorities: JSON.stringify(USCC_AUTHORITY_TYPES),
  };
}

export function signPages(kit: SiteKit): Router {
  const router = express.Router();
  const { config } = kit;
  const signingLimit = rateLimit({ bucket: 'sign', perMinute: config.rateLimit.signingPerMin });
  // The same bucket as the API's resend and sign-in link calls: one budget per client for both doors.
  const loginLimit = rateLimit({ bucket: 'login', perMinute: config.rateLimit.loginPerMin });

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

  // The form is multipart (it carries the evidence files); CSRF is then read from the stream
  // before any file is kept. A urlencoded post (no files) is checked as every other form.
  const csrfUnlessMultipart: express.RequestHandler = (req, res, next) =>
    req.is('multipart/form-data') ? next() : kit.csrf.verify(req, res, next);

  router.post('/sign', csrfUnlessMultipart, signingLimit, async (req, res) => {
    const l = kit.l(res);
    const errors = new FormErrorBuilder(SIGN_FIELDS, l);
    const evidenceError = (field: 'letter' | 'licence', p: EvidenceProblem | UploadProblem) =>
      errors.add(field, l.t(EVIDENCE_MESSAGE[p], { label: l.t(`sign.${field}.label`) }));
    let body: unknown = req.body;
    let files: { letter?: Buffer; licence?: Buffer } = {};
    let status = 400;
    if (req.is('multipart/form-data')) {
      const up = await readUploads(req, {
        files: [{ field: 'letter' }, { field: 'licence' }],
        textFields: SIGN_TEXT_FIELDS,
        maxBytes: EVIDENCE_MAX_BYTES,
        csrfMatches: (sent) => kit.csrf.matches(req, sent),
      });
      if (!up.ok) {
        // The body was not read to its end: the values are not all there, so the form comes back empty.
        evidenceError(up.field === 'licence' ? 'licence' : 'letter', up.problem);
        await renderForm(req, res, {}, errors.build(), UPLOAD_STATUS[up.problem]);
        return;
      }
      body = up.fields;
      files = { letter: up.files.letter?.bytes, licence: up.files.licence?.bytes };
    }
    const input = toInput(body);
    const values = formValues(body);
    let stale = false;
    if (!files.letter) evidenceError('letter', 'no-file');
    const checked = checkEvidence(files);
    if (!checked.ok) {
      evidenceError(checked.field, checked.problem);
      status = checked.problem === 'too-large' ? 413 : 400;
    }
    const parsed = SignPledgeBody.safeParse(input);
    if (parsed.success && files.letter && checked.ok) {
      try {
        const signed = await signPledge(parsed.data, kit.pledge);
        await replaceEvidence(new Types.ObjectId(signed.id), checked.files);
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
    } else if (!parsed.success) {
      const unplaced = errors.addZodIssues(parsed.error.issues, input);
      stale = unplaced.some((i) => i.path[0] === 'initiative');
    } else {
      // Only the evidence is wrong: still say so now if the text changed, not on the next try.
      const current = await currentInitiative();
      stale =
        parsed.data.initiative.version !== current.version ||
        parsed.data.initiative.sha256 !== current.sha256;
    }
    if (stale) {
      // The text changed while the form was open: consent must be given again to the new text.
      const current = await currentInitiative();
      errors.add('agree', l.t('sign.stale', { version: current.version }));
      values.agree = '';
    }
    await renderForm(req, res, values, errors.build(), status);
  });

  router.get('/sign/letter-template', (req, res) => {
    // Only shown back, escaped by the template; cut to the form's lengths.
    const q = (name: string, max: number) => {
      const v = req.query[name];
      return typeof v === 'string' ? v.trim().slice(0, max) : '';
    };
    const v = {
      name: q('name', 100),
      uscc: q('uscc', 18).toUpperCase(),
      signatory: q('signatory', 60),
      title: q('title', 60),
    };
    kit.page(
      req,
      res,
      'letter-template',
      { v, association: config.association.zh },
      { policy: 'no-store', section: '/sign' },
    );
  });

  router.get('/sign/sent', (req, res) => {
    kit.page(req, res, 'sign-sent', {}, { section: '/sign' });
  });

  router.get('/confirm', tokenLandingPage(kit, 'confirm', '/sign'));

  const renderResend = (
    req: Request,
    res: Response,
    email: string,
    errors: FormErrors,
    status = 200,
  ) =>
    kit.page(
      req,
      res,
      'confirm-resend',
      { email, errors, csrf: kit.csrf.token(req, res) },
      { policy: 'no-store', status, section: '/sign' },
    );

  router.get('/confirm/resend', (req, res) => {
    renderResend(req, res, '', noErrors());
  });

  // Whether or not the address has a pledge awaiting confirmation, the answer is the same
  // redirect to the same page (the use case also keeps its daily cap silent): no oracle.
  router.post('/confirm/resend', kit.csrf.verify, loginLimit, async (req, res) => {
    const input = { email: formText(req.body, 'email') };
    const parsed = LoginLinkBody.safeParse(input);
    if (!parsed.success) {
      const errors = new FormErrorBuilder(RESEND_FIELDS, kit.l(res));
      errors.addZodIssues(parsed.error.issues, input);
      renderResend(req, res, input.email, errors.build(), 400);
      return;
    }
    await resendConfirmation(parsed.data.email, kit.pledge);
    res.redirect(303, '/confirm/resend/sent');
  });

  router.get('/confirm/resend/sent', (req, res) => {
    kit.page(req, res, 'confirm-resend-sent', {}, { section: '/sign' });
  });

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
