/**
 * The registry as it runs in production, for the fuzz and fault tests: a standalone embedded
 * store (`npm run db`) in its own process, the app (`npm start`) in another, and a real SMTP
 * server in this process. Either process can be killed and started again on the same port and
 * data, as a supervisor would.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Account, Role } from '../../models/account';
import { hashPassword } from '../../src/auth/passwords';
import { uploadLetterOverHttp } from '../helpers/pledges';
import { unlimitedRateLimits } from '../helpers/rate-limits';
import { connectDatabase, disconnectDatabase } from '../../src/db';
import { spawnEmbeddedMongo, type SpawnedMongo } from '../../src/embedded-mongo/spawn';
import { silentLogger } from '../../src/logger';
import { fixtureCompany, type FixtureCompany } from '../fixtures/companies';
import { httpJson, startAppProcess, type AppProcess } from '../helpers/app-process';
import { decodeMail, startTestSmtp, tokenFromMail, type TestSmtp } from '../helpers/smtp';

export interface ClusterOptions {
  /** Keep the store's data on disk (needed to survive killing it); in memory otherwise. */
  persistent?: boolean;
  /** Extra app variables. */
  env?: Record<string, string>;
}

export interface Cluster {
  readonly app: AppProcess;
  readonly store: SpawnedMongo;
  readonly smtp: TestSmtp;
  readonly env: Record<string, string>;
  readonly dbName: string;
  /** Store URI without database (this process's mongoose is connected to it). */
  readonly storeUri: string;
  readonly secret: string;
  /** The app's base URL (the port changes on every restart). */
  url(): string;
  startApp(): Promise<void>;
  /** kill -9 of the app process (waits until it is gone). */
  killApp(): Promise<void>;
  /** kill -9 of the store process; the app keeps running. */
  killStore(): Promise<void>;
  /** Starts the store again on the same port and data. */
  startStore(): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'eqi-cluster-'));
  const storePort = await freePort();
  const spawnStore = async (): Promise<SpawnedMongo> => {
    // A store just killed may still be releasing its port or lock: retry for a while, as a
    // supervisor with a short back-off would.
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        return await spawnEmbeddedMongo(
          opts.persistent
            ? { dataDir: path.join(dataDir, 'db'), port: storePort }
            : { memory: true, port: storePort },
        );
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  };
  const smtp = await startTestSmtp();
  let store = await spawnStore();
  const dbName = `cluster_${process.pid}_${randomBytes(4).toString('hex')}`;
  const secret = randomBytes(32).toString('base64url');
  const env: Record<string, string> = {
    MONGODB_URI: `${store.uri}/${dbName}`,
    PORT: '0',
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    JWT_SECRET: secret,
    REVIEW_MODE: 'manual',
    DATA_DIR: path.join(dataDir, 'app'),
    SMTP_URL: smtp.url,
    PUBLIC_URL: 'https://registry.test',
    ...unlimitedRateLimits(),
    ...opts.env,
  };
  let app: AppProcess;
  try {
    await connectDatabase(store.uri, silentLogger(), { dbName });
    app = await startAppProcess(env, 60_000);
  } catch (e) {
    // Leave nothing behind that would keep the caller's process alive.
    await disconnectDatabase().catch(() => undefined);
    await store.stop().catch(() => undefined);
    await smtp.close();
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
  const cluster: Cluster = {
    get app() {
      return app;
    },
    get store() {
      return store;
    },
    smtp,
    env,
    dbName,
    storeUri: store.uri,
    secret,
    url: () => app.url,
    async startApp() {
      app = await startAppProcess(env, 60_000);
    },
    async killApp() {
      if (app.child.exitCode === null && app.child.signalCode === null) {
        const gone = new Promise<void>((r) => app.child.once('exit', () => r()));
        app.child.kill('SIGKILL');
        await gone;
      }
    },
    killStore: () => store.kill(),
    async startStore() {
      store = await spawnStore();
    },
    async stop() {
      await app.stop().catch(() => undefined);
      await disconnectDatabase().catch(() => undefined);
      await store.stop().catch(() => undefined);
      await smtp.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return cluster;
}

/** Creates an administrator in the database and signs in through the API. */
export async function adminSession(c: Cluster): Promise<{ id: string; token: string }> {
  const email = `fault-admin-${randomBytes(4).toString('hex')}@caq.test`;
  const password = 'a long admin password for the test';
  const a = await Account.create({
    email,
    role: Role.Admin,
    passwordHash: await hashPassword(password),
  });
  const login = await httpJson(c.url(), 'POST', '/api/v1/auth/login', {
    body: { email, password },
  });
  assert.equal(login.status, 200, JSON.stringify(login.body));
  return { id: String(a._id), token: login.body.token as string };
}

/** The newest mail to `email` received after index `since` with a `path?token=` link; its token. */
export async function mailedToken(
  c: Cluster,
  email: string,
  linkPath: string,
  since = 0,
  timeoutMs = 30_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  const pattern = new RegExp(`${linkPath.replace(/[/?]/g, '\\$&')}\\?token=`);
  for (;;) {
    const m = c.smtp.received
      .slice(since)
      .find((x) => x.to.includes(email) && pattern.test(decodeMail(x.raw)));
    if (m) return tokenFromMail(m, linkPath);
    if (Date.now() > deadline)
      throw new Error(`no ${linkPath} mail to ${email} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function currentInitiative(c: Cluster): Promise<{ version: number; sha256: string }> {
  const r = await httpJson(c.url(), 'GET', '/api/v1/initiative');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return { version: r.body.version as number, sha256: r.body.sha256 as string };
}

export function signBody(
  co: FixtureCompany,
  init: { version: number; sha256: string },
  signatory = '陈静',
): unknown {
  return {
    company: { uscc: co.uscc, name: co.name, nameEn: co.nameEn, industry: co.industry },
    signatory: { name: signatory, title: '董事长', email: co.email },
    initiative: init,
    agree: true,
  };
}

/** Signs, confirms and approves a new company through the API; returns its pledge id. */
export async function activeCompany(
  c: Cluster,
  adminToken: string,
  i: number,
  tag: number,
): Promise<{ id: string; company: FixtureCompany }> {
  const co = fixtureCompany(i, tag);
  const since = c.smtp.received.length;
  const signed = await httpJson(c.url(), 'POST', '/api/v1/pledges', {
    body: signBody(co, await currentInitiative(c)),
  });
  assert.equal(signed.status, 201, JSON.stringify(signed.body));
  const token = await mailedToken(c, co.email, '/confirm', since);
  assert.equal(
    await uploadLetterOverHttp(c.url(), signed.body.id as string, token),
    201,
    'the letter is stored',
  );
  const confirmed = await httpJson(c.url(), 'POST', '/api/v1/pledges/confirm', { body: { token } });
  assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));
  const approved = await httpJson(
    c.url(),
    'POST',
    `/api/v1/admin/pledges/${signed.body.id}/approve`,
    { token: adminToken, body: { evidenceChecked: true } },
  );
  assert.equal(approved.status, 200, JSON.stringify(approved.body));
  return { id: signed.body.id as string, company: co };
}

/** A company session token through the e-mailed sign-in link. */
export async function companySession(c: Cluster, email: string): Promise<string> {
  const since = c.smtp.received.length;
  const asked = await httpJson(c.url(), 'POST', '/api/v1/auth/login-link', { body: { email } });
  assert.equal(asked.status, 202, JSON.stringify(asked.body));
  const token = await mailedToken(c, email, '/login/verify', since);
  const r = await httpJson(c.url(), 'POST', '/api/v1/auth/login-link/verify', { body: { token } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.token as string;
}
