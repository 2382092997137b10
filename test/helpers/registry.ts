/**
 * The whole registry for API tests: real app, real embedded store (in memory), real SMTP server
 * in-process. `useRegistry()` registers mocha hooks and returns handles filled in before tests run.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Express } from 'express';
import mongoose from 'mongoose';
import { createApp } from '../../src/app';
import { Account, Role } from '../../models/account';
import { hashPassword } from '../../src/auth/passwords';
import { signSession } from '../../src/auth/jwt';
import type { Config } from '../../src/config';
import { silentLogger, type Logger } from '../../src/logger';
import { createRegistry, type Registry } from '../../src/registry';
import { unlimitedRateLimits } from './rate-limits';
import { useEmbeddedMongo } from './db';
import { startTestSmtp, type TestSmtp } from './smtp';
import { testConfig } from './app';

export interface RegistryHandle {
  app: Express;
  config: Config;
  registry: Registry;
  smtp: TestSmtp;
  /** Creates an admin (password known) and returns its id and a valid token. */
  makeAdmin(
    email?: string,
  ): Promise<{ id: string; email: string; password: string; token: string }>;
}

/** `opts.logger` replaces the silent logger (tests that read what the registry logs). */
export function useRegistry(
  env: Record<string, string> = {},
  opts: { logger?: Logger; monitorCommands?: boolean } = {},
): RegistryHandle {
  const handle = {} as RegistryHandle;
  // Registered first so it runs before the database hook's `after` (mocha keeps definition order).
  after(async function () {
    this.timeout(30_000);
    await handle.registry?.stop();
    await handle.smtp?.close();
  });
  useEmbeddedMongo({ monitorCommands: opts.monitorCommands });
  before(async function () {
    this.timeout(30_000);
    handle.smtp = await startTestSmtp();
    handle.config = testConfig({
      DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'eqi-test-')),
      SMTP_URL: handle.smtp.url,
      PUBLIC_URL: 'https://registry.test',
      ...unlimitedRateLimits(),
      ...env,
    });
    handle.registry = createRegistry(handle.config, opts.logger ?? silentLogger(), {
      mailPollMs: 200,
      sealEveryMs: 200,
      certificatePollMs: 200,
    });
    await handle.registry.start();
    handle.app = createApp({
      config: handle.config,
      logger: opts.logger ?? silentLogger(),
      routes: handle.registry.routes,
    });
    handle.makeAdmin = async (
      email = `admin-${new mongoose.Types.ObjectId().toHexString()}@caq.test`,
    ) => {
      const password = 'correct horse battery staple';
      const a = await Account.create({
        email,
        role: Role.Admin,
        passwordHash: await hashPassword(password),
      });
      return {
        id: String(a._id),
        email,
        password,
        token: signSession({ sub: String(a._id), role: 'admin' }, handle.config.jwtSecret),
      };
    };
  });
  return handle;
}
