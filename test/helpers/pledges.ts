/**
 * API-level steps shared by the pledge tests: build a valid signing body, sign, confirm through
 * the e-mailed link, approve, sign in as a company through the login link, and check problems.
 */
import assert from 'node:assert/strict';
import type { Express } from 'express';
import mongoose from 'mongoose';
import { PDFDocument } from 'pdf-lib';
import request, { type Response } from 'supertest';
import { fixtureCompany, type FixtureCompany } from '../fixtures/companies';
import type { RegistryHandle } from './registry';
import { decodeMail, tokenFromMail, type ReceivedMail } from './smtp';
import { settleCarriedEvents } from '../../src/audit/carried';
import { moveCarriedMail } from '../../src/mail/outbox';
import { flushReleases } from '../../src/pledges/activation';

let counter = 0;
/** A fresh fixture company per call (unique across suites in one run). */
export function nextCompany(): FixtureCompany {
  counter += 1;
  return fixtureCompany(counter, 7000 + (process.pid % 1000));
}

export interface SignBody {
  company: {
    uscc: string;
    name: string;
    nameEn?: string;
    industry: string;
    address?: string;
    website?: string;
  };
  signatory: { name: string; title: string; email: string; phone?: string };
  initiative: { version: number; sha256: string };
  agree: true;
}

export async function currentInitiative(
  app: Express,
): Promise<{ version: number; sha256: string }> {
  const res = await request(app).get('/api/v1/initiative').expect(200);
  return { version: res.body.version, sha256: res.body.sha256 };
}

/** A valid body for POST /api/v1/pledges (a new company unless `company` is given). */
export async function signBodyFor(
  app: Express,
  over: { company?: Partial<SignBody['company']>; signatory?: Partial<SignBody['signatory']> } = {},
): Promise<SignBody> {
  const c = nextCompany();
  return {
    company: {
      uscc: c.uscc,
      name: c.name,
      nameEn: c.nameEn,
      industry: c.industry,
      ...over.company,
    },
    signatory: { name: '李明', title: '总经理', email: c.email, ...over.signatory },
    initiative: await currentInitiative(app),
    agree: true,
  };
}

export interface SignedPledge {
  id: string;
  body: SignBody;
}

export async function sign(app: Express, body?: SignBody): Promise<SignedPledge> {
  const b = body ?? (await signBodyFor(app));
  const res = await request(app).post('/api/v1/pledges').send(b);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return { id: res.body.id, body: b };
}

/** Waits for a mail to `email` matching `pattern` among those received after index `since`. */
export async function waitForMailSince(
  r: RegistryHandle,
  email: string,
  pattern: RegExp,
  since: number,
  timeoutMs = 10_000,
): Promise<ReceivedMail> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const mail = r.smtp.received
      .slice(since)
      .find((m) => m.to.includes(email) && pattern.test(decodeMail(m.raw)));
    if (mail) return mail;
    if (Date.now() > deadline)
      throw new Error(`no mail to ${email} matching ${pattern} within ${timeoutMs} ms`);
    await new Promise((res) => setTimeout(res, 25));
  }
}

/** The confirmation token from a mail to this signatory received after index `since` (default: any). */
export async function confirmationToken(
  r: RegistryHandle,
  email: string,
  since = 0,
): Promise<string> {
  return tokenFromMail(await waitForMailSince(r, email, /confirm\?token=/, since), '/confirm');
}

/** Signs and confirms; the pledge is then pending_review (or active in auto review mode). */
export async function signAndConfirm(
  r: RegistryHandle,
  body?: SignBody,
): Promise<SignedPledge & { status: string }> {
  const since = r.smtp.received.length;
  const p = await sign(r.app, body);
  const token = await confirmationToken(r, p.body.signatory.email, since);
  await uploadLetter(r.app, p.id, token);
  const res = await request(r.app).post('/api/v1/pledges/confirm').send({ token });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return { ...p, status: res.body.status };
}

/** Signs and confirms a pledge whose body differs from signBodyFor's by `over`. */
export async function signAndConfirmWith(
  r: RegistryHandle,
  over: Parameters<typeof signBodyFor>[1],
): Promise<SignedPledge & { status: string }> {
  return signAndConfirm(r, await signBodyFor(r.app, over));
}

let letter: Buffer | undefined;
/** A small valid one-page PDF, standing in for a scanned authorisation letter. */
export async function letterPdf(): Promise<Buffer> {
  if (!letter) {
    const doc = await PDFDocument.create();
    doc.addPage([595, 842]).drawText('Authorisation letter', { x: 50, y: 780 });
    letter = Buffer.from(await doc.save());
  }
  return letter;
}

/** Gives the pledge its authorisation letter (required before confirming) with the e-mailed token. */
export async function uploadLetter(
  app: Express,
  id: string,
  token: string,
  files: { letter?: Buffer; licence?: Buffer } = {},
): Promise<Response> {
  const req = request(app)
    .post(`/api/v1/pledges/${id}/evidence`)
    .field('token', token)
    .attach('letter', files.letter ?? (await letterPdf()), 'letter.pdf');
  if (files.licence) req.attach('licence', files.licence, 'licence.png');
  const res = await req;
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res;
}

/**
 * After a resent confirmation: the earlier link is refused (problem 400), and the new one, with
 * the letter stored, confirms the pledge into review.
 */
export async function assertOnlyNewLinkConfirms(
  app: Express,
  id: string,
  earlier: string,
  fresh: string,
): Promise<void> {
  assert.notEqual(fresh, earlier);
  assertProblem(await request(app).post('/api/v1/pledges/confirm').send({ token: earlier }), 400);
  await uploadLetter(app, id, fresh);
  const ok = await request(app).post('/api/v1/pledges/confirm').send({ token: fresh }).expect(200);
  assert.equal(ok.body.status, 'pending_review');
}

/**
 * The body of POST /api/v1/pledges/:id/evidence with the token and the small PDF letter, for
 * clients of a separate app process that send raw HTTP (no supertest).
 */
export async function letterUploadBody(
  token: string,
): Promise<{ contentType: string; body: Buffer }> {
  const boundary = `----letter${Date.now().toString(36)}`;
  const body = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="token"\r\n\r\n${token}\r\n`,
    ),
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="letter"; filename="letter.pdf"\r\nContent-Type: application/pdf\r\n\r\n`,
    ),
    await letterPdf(),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { contentType: `multipart/form-data; boundary=${boundary}`, body };
}

export async function approve(app: Express, adminToken: string, id: string): Promise<Response> {
  const res = await request(app)
    .post(`/api/v1/admin/pledges/${id}/approve`)
    .set('Authorization', `Bearer ${adminToken}`)
    .send({ evidenceChecked: true });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res;
}

/** An active pledge: signed, confirmed and approved. */
export async function activePledge(
  r: RegistryHandle,
  adminToken: string,
  body?: SignBody,
): Promise<SignedPledge & { sequence: number; foundingNumber: number | null }> {
  const p = await signAndConfirm(r, body);
  const res = await approve(r.app, adminToken, p.id);
  return { ...p, sequence: res.body.sequence, foundingNumber: res.body.foundingNumber };
}

/** An admin from `r.makeAdmin()`: its id, e-mail, password and session token. */
export type TestAdmin = Awaited<ReturnType<RegistryHandle['makeAdmin']>>;

/**
 * An active pledge (signed, confirmed, approved by `opts.admin` or a new admin) whose certificate
 * is issued before this returns, whether or not the background issuer runs: issued here, or, if
 * the background issuer has already claimed it, waited for. Returns the serial and the PDF too.
 */
export async function activePledgeWithCertificate(
  r: RegistryHandle,
  opts: { admin?: TestAdmin; body?: SignBody } = {},
): Promise<
  Awaited<ReturnType<typeof activePledge>> & { admin: TestAdmin; serial: string; pdf: Buffer }
> {
  const admin = opts.admin ?? (await r.makeAdmin());
  const p = await activePledge(r, admin.token, opts.body);
  await r.registry.certificates.issuePending();
  await r.registry.certificateIssuer.idle();
  const serial = (await pledgeDoc(p.id))?.certificateSerial;
  assert.ok(typeof serial === 'string', 'a certificate was issued for the pledge');
  const { pdf } = await r.registry.certificates.pdf(serial);
  return { ...p, admin, serial, pdf };
}

/**
 * For files whose tests decide when a certificate exists: registers a `before` that stops the
 * background issuer (certificates are then issued by `activePledgeWithCertificate` or
 * `r.registry.certificates.issuePending()`) and makes the admin who approves. Call it after
 * `useRegistry()`; `admin` is set once the hook has run.
 */
export function useManualCertificates(r: RegistryHandle): { readonly admin: TestAdmin } {
  let admin: TestAdmin | undefined;
  before(async function () {
    this.timeout(30_000);
    await r.registry.certificateIssuer.stop();
    admin = await r.makeAdmin();
  });
  return {
    get admin() {
      assert.ok(admin, 'the admin is made in before()');
      return admin;
    },
  };
}

/** Requests a login link for `email`, returns the token from the mail (waits for a new one). */
export async function loginLinkToken(r: RegistryHandle, email: string): Promise<string> {
  const since = r.smtp.received.length;
  await request(r.app).post('/api/v1/auth/login-link').send({ email }).expect(202);
  return tokenFromMail(
    await waitForMailSince(r, email, /login\/verify\?token=/, since),
    '/login/verify',
  );
}

/** Signs a company contact in through the e-mailed link; returns the session JWT. */
export async function companySession(r: RegistryHandle, email: string): Promise<string> {
  const token = await loginLinkToken(r, email);
  const res = await request(r.app).post('/api/v1/auth/login-link/verify').send({ token });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.token as string;
}

/** POST /api/v1/me/pledge/withdraw with a company session as the bearer. */
export function withdrawAs(app: Express, session: string, body: object) {
  return request(app)
    .post('/api/v1/me/pledge/withdraw')
    .set('Authorization', `Bearer ${session}`)
    .send(body);
}

/** Asserts an RFC 9457 answer with this status (and, if given, these field paths named). */
export function assertProblem(res: Response, status: number, fields: string[] = []): void {
  assert.equal(
    res.status,
    status,
    `expected ${status}, got ${res.status}: ${res.text.slice(0, 500)}`,
  );
  assert.equal(String(res.headers['content-type']).split(';')[0], 'application/problem+json');
  assert.equal(res.body.status, status);
  assert.equal(typeof res.body.type, 'string');
  assert.equal(typeof res.body.title, 'string');
  const named = ((res.body.errors ?? []) as Array<{ path: string }>).map((e) => e.path);
  for (const f of fields)
    assert.ok(named.includes(f), `expected an error naming ${f}, got ${JSON.stringify(named)}`);
}

// Fields that background work (mail delivery, audit sealing) changes on its own schedule.
const BACKGROUND_FIELDS: Record<string, string[]> = {
  outboxes: [
    'status',
    'attempts',
    'nextAttemptAt',
    'lockedUntil',
    'lastError',
    'sentAt',
    'messageId',
    'updatedAt',
    // The sender cuts the single-use link out of the stored copy once it is sent.
    'text',
    'html',
    'link',
  ],
  events: ['seq', 'prevHash', 'hash', 'unsealed'],
  // Cleared by the log's recovery pass once it has seen the activation's intent.
  pledges: ['logPending'],
};

/**
 * Finishes now what the signing path leaves to background passes in this process: the audit
 * events and mail carried on pledges are moved to the log and the outbox, and the sequence
 * numbers of finished activations are released. For tests that compare state before and after.
 */
export async function settleCarriedWork(): Promise<void> {
  while ((await settleCarriedEvents()) > 0);
  while ((await moveCarriedMail()) > 0);
  await flushReleases();
}

/**
 * Every document of the registry's collections, to show that a request changed nothing.
 * Work carried for background passes is moved first (settleCarriedWork), and fields written by
 * background work (mail sender, audit sealer) are left out.
 */
export async function dbSnapshot(
  collections = ['pledges', 'companies', 'accounts', 'tokens', 'outboxes', 'events', 'counters'],
): Promise<Record<string, unknown[]>> {
  await settleCarriedWork();
  const db = mongoose.connection.db!;
  const out: Record<string, unknown[]> = {};
  for (const c of collections) {
    const docs = await db.collection(c).find({}).sort({ _id: 1 }).toArray();
    out[c] = docs.map((d) => {
      const copy: Record<string, unknown> = { ...d };
      for (const f of BACKGROUND_FIELDS[c] ?? []) delete copy[f];
      return copy;
    });
  }
  return out;
}

export async function pledgeDoc(id: string): Promise<Record<string, unknown> | null> {
  return mongoose.connection
    .db!.collection('pledges')
    .findOne({ _id: new mongoose.Types.ObjectId(id) });
}

/**
 * Gives a pledge its authorisation letter over plain HTTP (for tests that drive a separate app
 * process): confirming is refused until a letter is stored. Returns the status.
 */
export async function uploadLetterOverHttp(
  baseUrl: string,
  pledgeId: string,
  token: string,
): Promise<number> {
  const { contentType, body } = await letterUploadBody(token);
  const res = await fetch(`${baseUrl}/api/v1/pledges/${pledgeId}/evidence`, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body,
  });
  await res.arrayBuffer();
  return res.status;
}
