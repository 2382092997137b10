/**
 * No live secret leaves through the logs or lingers in the outbox: a full sign → confirm →
 * sign-in flow logged at `trace` shows no token, link, session, password or e-mail address; the
 * dev outbox says where the link is instead of logging it; a failed delivery logs a hash of the
 * address; and a sent (or dropped) mail keeps no usable link in the database.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { Outbox } from '../../models/outbox';
import { createLogger, type Logger } from '../../src/logger';
import {
  confirmationToken,
  loginLinkToken,
  sign,
  signAndConfirm,
  signBodyFor,
  uploadLetter,
} from '../helpers/pledges';
import { useRegistry, type RegistryHandle } from '../helpers/registry';
import { agent, csrfFrom, setCookies } from '../site/helpers';

/** A real pino logger at `trace` writing into memory. */
function capturedLog(): {
  logger: Logger;
  text(): string;
  lines(): Array<Record<string, unknown>>;
} {
  const chunks: string[] = [];
  const logger = createLogger({ level: 'trace' }, { write: (s: string) => void chunks.push(s) });
  return {
    logger,
    text: () => chunks.join(''),
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

function assertAbsent(log: string, secrets: Record<string, string>): void {
  for (const [what, value] of Object.entries(secrets)) {
    assert.ok(value.length >= 8, `${what} is a real value`);
    assert.ok(!log.includes(value), `the log contains the ${what}: ${value}`);
    assert.ok(
      !log.includes(encodeURIComponent(value)),
      `the log contains the ${what} (URL-encoded)`,
    );
  }
}

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** Every `token=` value in a stored outbox document. */
const storedTokens = (doc: unknown) =>
  [...JSON.stringify(doc).matchAll(/token=([A-Za-z0-9_%-]+)/g)].map((m) =>
    decodeURIComponent(m[1]),
  );

describe('secrets in logs and the outbox', () => {
  describe('with SMTP, everything logged at trace', () => {
    const log = capturedLog();
    const r = useRegistry({}, { logger: log.logger });

    it('when a company signs, confirms and signs in by link (API and site) and an admin signs in, then the log holds no token, link, session, password or address', async function () {
      this.timeout(30_000);
      const since = r.smtp.received.length;
      const p = await sign(r.app);
      const email = p.body.signatory.email;
      const confirm = await confirmationToken(r, email, since);
      await uploadLetter(r.app, p.id, confirm);
      await request(r.app).post('/api/v1/pledges/confirm').send({ token: confirm }).expect(200);
      // A used link again (logged as a 4xx at debug).
      assert.equal(
        (await request(r.app).post('/api/v1/pledges/confirm').send({ token: confirm })).status >=
          400,
        true,
      );

      const apiLogin = await loginLinkToken(r, email);
      const apiSession = (
        await request(r.app)
          .post('/api/v1/auth/login-link/verify')
          .send({ token: apiLogin })
          .expect(200)
      ).body.token as string;
      await request(r.app)
        .get('/api/v1/me/pledge')
        .set('Authorization', `Bearer ${apiSession}`)
        .expect(200);

      const siteLogin = await loginLinkToken(r, email);
      const a = agent(r.app);
      const landing = await a
        .get(`/login/verify?token=${encodeURIComponent(siteLogin)}`)
        .expect(200);
      const verified = await a
        .post('/login/verify')
        .type('form')
        .send({ _csrf: csrfFrom(landing.text), token: siteLogin })
        .expect(303);
      const cookie = /eqi_session=([^;]+)/.exec(setCookies(verified).join('\n'))![1];
      await a.get('/me').expect(200);

      const admin = await r.makeAdmin();
      const adminSession = (
        await request(r.app)
          .post('/api/v1/auth/login')
          .send({ email: admin.email, password: admin.password })
          .expect(200)
      ).body.token as string;
      await request(r.app)
        .post('/api/v1/auth/login')
        .send({ email: admin.email, password: 'a wrong password' })
        .expect(401);

      await waitFor('the mails to be marked sent', async () =>
        (await Outbox.countDocuments({ to: email, status: { $ne: 'sent' } })) === 0
          ? true
          : undefined,
      );
      const text = log.text();
      assert.ok(
        log.lines().some((l) => l.msg === 'request'),
        'the capture saw the request log',
      );
      assertAbsent(text, {
        'confirmation token': confirm,
        'API sign-in token': apiLogin,
        'site sign-in token': siteLogin,
        'API session': apiSession,
        'site session cookie': decodeURIComponent(cookie),
        'admin session': adminSession,
        'admin password': admin.password,
        'signatory address': email,
        'admin address': admin.email,
        'link prefix': `${r.config.publicUrl}/login/verify?token=`,
      });
      assert.doesNotMatch(text, /token=[A-Za-z0-9_-]{20,}/);
    });

    it('when a sign-in mail has been sent, then its outbox record keeps no usable link', async function () {
      this.timeout(20_000);
      const p = await sign(r.app);
      const email = p.body.signatory.email;
      const confirm = await confirmationToken(r, email);
      await uploadLetter(r.app, p.id, confirm);
      await request(r.app).post('/api/v1/pledges/confirm').send({ token: confirm }).expect(200);
      const token = await loginLinkToken(r, email);
      const docs = await waitFor('sent mail', async () => {
        const all = await Outbox.find({ to: email }).lean();
        return all.length === 2 && all.every((d) => d.status === 'sent') ? all : undefined;
      });
      const raw = JSON.stringify(docs);
      assert.ok(!raw.includes(token), 'the live token is not stored');
      for (const d of docs) {
        assert.ok(d.text.length > 0 && d.text.includes('[link removed after sending]'), d.text);
        assert.equal((d as Record<string, unknown>).link, undefined, 'no link field left');
      }
      // Whatever looks like a token in the stored mail does not sign anyone in.
      for (const t of storedTokens(docs))
        assert.equal(
          (await request(r.app).post('/api/v1/auth/login-link/verify').send({ token: t })).status,
          400,
        );
      // The mailed link itself still works: the mail was usable, only the stored copy is not.
      await request(r.app).post('/api/v1/auth/login-link/verify').send({ token }).expect(200);
    });

    it('when a signing is refused because a confirmed pledge holds the USCC, then no mail (and so no link) is queued for it', async function () {
      this.timeout(20_000);
      const body = await signBodyFor(r.app);
      await signAndConfirm(r, body);
      const again = {
        ...body,
        signatory: { ...body.signatory, email: `second-${body.signatory.email}` },
      };
      assert.equal((await request(r.app).post('/api/v1/pledges').send(again)).status, 409);
      const queued = await Outbox.find({ to: again.signatory.email }).lean();
      assert.deepEqual(storedTokens(queued), []);
      assert.equal(queued.length, 0);
    });
  });

  describe('without SMTP (dev outbox)', () => {
    const log = capturedLog();
    const r = useRegistry({ SMTP_URL: '' }, { logger: log.logger });

    it('when a mail is written to the dev outbox, then the log names the .eml file and says the link is there, without link or address', async function () {
      this.timeout(20_000);
      const p = await sign(r.app);
      const line = await waitFor('the dev outbox log line', () =>
        log.lines().find((l) => typeof l.file === 'string' && String(l.file).endsWith('.eml')),
      );
      assert.match(String(line.msg), /link.*\.eml|\.eml.*link/i);
      const eml = fs.readFileSync(String(line.file), 'utf8');
      const token = /confirm\?token=([A-Za-z0-9_-]+)/.exec(eml.replace(/=\r?\n/g, ''))?.[1];
      assert.ok(token, 'the .eml file holds the link');
      assertAbsent(log.text(), { token, address: p.body.signatory.email });
      assert.equal(line.toHash, sha(p.body.signatory.email).slice(0, 16));
    });
  });

  describe('when SMTP delivery fails', () => {
    const log = capturedLog();
    let closedPort = 0;
    before(async () => {
      const s = net.createServer();
      await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
      closedPort = (s.address() as net.AddressInfo).port;
      await new Promise<void>((resolve) => s.close(() => resolve()));
    });
    const env: Record<string, string> = {
      DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'eqi-smtp-fail-')),
    };
    Object.defineProperty(env, 'SMTP_URL', {
      enumerable: true,
      get: () => `smtp://127.0.0.1:${closedPort}`,
    });
    const r: RegistryHandle = useRegistry(env, { logger: log.logger });

    it('when a delivery fails, then the warning carries a hash of the address, never the address or the link', async function () {
      this.timeout(20_000);
      const p = await sign(r.app);
      const email = p.body.signatory.email;
      const line = await waitFor('the delivery failure', () =>
        log.lines().find((l) => String(l.msg).startsWith('mail delivery failed')),
      );
      assert.equal(line.toHash, sha(email).slice(0, 16));
      const stored = await Outbox.findOne({ to: email }).lean();
      assert.ok(
        stored && stored.status === 'pending',
        'the mail waits for a retry, link kept for it',
      );
      assertAbsent(log.text(), {
        address: email,
        'link prefix': `${r.config.publicUrl}/confirm?token=`,
      });
    });
  });
});
