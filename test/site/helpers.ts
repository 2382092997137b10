/** Steps shared by the site's page tests: read a form's CSRF token, fill and post forms like a browser. */
import assert from 'node:assert/strict';
import type { Express } from 'express';
import request from 'supertest';
import { makeUscc } from '../../src/domain/uscc';
import type { ProvinceCode } from '../../src/domain/provinces';
import { letterPdf, signAndConfirm, waitForMailSince, type TestAdmin } from '../helpers/pledges';
import type { RegistryHandle } from '../helpers/registry';
import { tokenFromMail } from '../helpers/smtp';

export type Agent = ReturnType<typeof request.agent>;

/** Browsers send this; without it the error handler answers problem+json. */
export const HTML = 'text/html,application/xhtml+xml';

export function agent(app: Express): Agent {
  return request.agent(app).set('Accept', HTML);
}

/** A text as nunjucks autoescapes it into a page (the tests' own copy, not the app's escaper). */
export const escaped = (s: string) =>
  s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');

/**
 * The checks an upload reports, in order, as the tests expect them: their own copy, kept apart
 * from UPLOAD_CHECKS (src/certificates/verification.ts) on purpose, because the pages list what
 * that constant holds and a check dropped there must fail these tests rather than follow it.
 */
export const EXPECTED_UPLOAD_CHECKS = [
  'credential-present',
  'credential-signature',
  'credential-matches-document',
  'pdf-signature',
  'pdf-signer-trusted',
  'log-proof',
  'serial-known',
  'registry-match',
  'status',
] as const;

/** The Set-Cookie lines of a response (none, one or several). */
export function setCookies(res: request.Response): string[] {
  return ([] as string[]).concat(res.headers['set-cookie'] ?? []);
}

export function csrfFrom(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  assert.ok(m, 'the page has a CSRF field');
  return m[1];
}

export function hiddenValue(html: string, name: string): string {
  const m = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  assert.ok(m, `the page has a hidden ${name}`);
  return m[1];
}

let serial = 0;
/** Valid sign-form fields for a new fictional company (province 35 unless given). */
export function signFields(
  over: Record<string, string> = {},
  provinceCode: ProvinceCode = '35',
): Record<string, string> {
  serial += 1;
  const n = serial + 4000 + (process.pid % 1000) * 10;
  return {
    uscc: makeUscc({ provinceCode, serial: n }),
    name: `页面测试示例${n}精密制造有限公司`,
    nameEn: `Page Test Example ${n} Precision Co., Ltd.`,
    industry: 'C',
    address: '福建省福州市示例路 1 号',
    website: 'https://example.cn',
    signatoryName: '林示例',
    title: '总经理',
    email: `site-${n}@example.cn`,
    phone: '+86 591 1234 5678',
    agree: 'yes',
    ...over,
  };
}

/**
 * Opens /sign, then posts the fields with the page's token and initiative version as the form
 * does (multipart, token first, with a small PDF letter unless `files.letter` is null); checks the status.
 */
export async function postSignForm(
  a: Agent,
  fields: Record<string, string>,
  status: number,
  files: { letter?: Buffer | null; licence?: Buffer } = {},
): Promise<request.Response> {
  const page = await a.get('/sign').expect(200);
  const req = a.post('/sign').field('_csrf', csrfFrom(page.text));
  const all: Record<string, string> = {
    version: hiddenValue(page.text, 'version'),
    sha256: hiddenValue(page.text, 'sha256'),
    ...fields,
  };
  for (const [k, v] of Object.entries(all)) req.field(k, v);
  const letter = files.letter === undefined ? await letterPdf() : files.letter;
  if (letter) req.attach('letter', letter, 'letter.pdf');
  if (files.licence) req.attach('licence', files.licence, 'licence.png');
  const res = await req;
  assert.equal(res.status, status, res.text.slice(0, 2000));
  return res;
}

/**
 * Signs an admin in through the console's form (303, and to `landing` when given): the agent keeps
 * the session cookie. Answers the sign-in response, whose cookie some tests read.
 */
export async function consoleSignIn(
  a: Agent,
  admin: { email: string; password: string },
  landing?: string,
): Promise<request.Response> {
  const form = await a.get('/admin/login').expect(200);
  const res = a
    .post('/admin/login')
    .type('form')
    .send({ _csrf: csrfFrom(form.text), email: admin.email, password: admin.password })
    .expect(303);
  return landing === undefined ? res : res.expect('Location', landing);
}

/** A new admin signed in to the console, and the agent that holds its session. */
export async function adminConsole(r: RegistryHandle): Promise<{ admin: TestAdmin; a: Agent }> {
  const admin = await r.makeAdmin();
  const a = agent(r.app);
  await consoleSignIn(a, admin);
  return { admin, a };
}

/** A pledge awaiting review (signed and confirmed) and a new admin's console session. */
export async function pledgeInConsole(
  r: RegistryHandle,
): Promise<{ p: Awaited<ReturnType<typeof signAndConfirm>>; admin: TestAdmin; a: Agent }> {
  const p = await signAndConfirm(r);
  return { p, ...(await adminConsole(r)) };
}

/**
 * Signs a company contact in through the site (form, e-mailed link, button): the agent keeps the
 * session cookie. Answers the link's landing page and the button's response, for tests that
 * look at the cookies each sets.
 */
export async function signInOnSite(
  r: RegistryHandle,
  a: Agent,
  email: string,
): Promise<{ landing: request.Response; done: request.Response }> {
  const since = r.smtp.received.length;
  const form = await a.get('/login').expect(200);
  await a
    .post('/login')
    .type('form')
    .send({ _csrf: csrfFrom(form.text), email })
    .expect(303)
    .expect('Location', '/login/sent');
  const token = tokenFromMail(
    await waitForMailSince(r, email, /login\/verify\?token=/, since),
    '/login/verify',
  );
  const landing = await a.get(`/login/verify?token=${encodeURIComponent(token)}`).expect(200);
  const done = await a
    .post('/login/verify')
    .type('form')
    .send({ _csrf: csrfFrom(landing.text), token })
    .expect(303)
    .expect('Location', '/me');
  return { landing, done };
}

/**
 * Uploads `file` through the /verify page's form, in `lang`, with a fresh agent and the form's
 * CSRF token; checks the status when given. Answers the result page.
 */
export async function uploadOnSite(
  app: Express,
  file: Buffer,
  lang: string,
  status?: number,
): Promise<request.Response> {
  const a = agent(app);
  const form = await a.get(`/verify?lang=${lang}`).expect(200);
  const { type, body } = multipart([
    { name: '_csrf', value: csrfFrom(form.text) },
    { name: 'file', value: file, filename: 'certificate.pdf' },
  ]);
  const res = a.post(`/verify/upload?lang=${lang}`).set('Content-Type', type).send(body);
  return status === undefined ? res : res.expect(status);
}

/** The checks as the upload result page lists them: name, whether it says passed, its text. */
export function checksOf(html: string): Array<{ name: string; ok: boolean; text: string }> {
  return [
    ...html.matchAll(
      /<li class="checklist-item checklist-(pass|fail)" data-check="([^"]+)">([^]*?)<\/li>/g,
    ),
  ].map((m) => ({ name: m[2]!, ok: m[1] === 'pass', text: m[3]! }));
}

export interface Part {
  name: string;
  value: string | Buffer;
  /** Makes the part a file (the empty string is what a browser sends when no file was chosen). */
  filename?: string;
  type?: string;
}

/** A multipart/form-data body built by hand, so the tests control every part and its order. */
export function multipart(parts: Part[]): { type: string; body: Buffer } {
  const boundary = `----eqi-test-${Math.random().toString(36).slice(2)}`;
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const file = p.filename !== undefined ? `; filename="${p.filename}"` : '';
    const type = p.filename !== undefined ? `\r\nContent-Type: ${p.type ?? 'application/pdf'}` : '';
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"${file}${type}\r\n\r\n`,
      ),
      Buffer.isBuffer(p.value) ? p.value : Buffer.from(p.value),
      Buffer.from('\r\n'),
    );
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { type: `multipart/form-data; boundary=${boundary}`, body: Buffer.concat(chunks) };
}
