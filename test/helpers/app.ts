/** Builds the real app with a test configuration and a silent logger. */
import type { Express } from 'express';
import { createApp, type Mount } from '../../src/app';
import { loadConfig, type Config } from '../../src/config';
import { silentLogger } from '../../src/logger';

/** A test config: NODE_ENV=test, silent logs, port 0; `overrides` are raw env variables. */
export function testConfig(overrides: Record<string, string | undefined> = {}): Config {
  return loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', PORT: '0', ...overrides });
}

export function testApp(options: { routes?: Mount[]; config?: Config } = {}): Express {
  return createApp({
    config: options.config ?? testConfig(),
    logger: silentLogger(),
    routes: options.routes,
  });
}
