/**
 * A real browser for the site tests: Debian's chromium driven by playwright-core, with a fresh
 * profile per run. Collects console errors and uncaught page errors, runs axe-core, and saves
 * screenshots to test-artifacts/browser/.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { seed } from '../../scripts/seed';
import type { RegistryHandle } from '../helpers/registry';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ARTIFACTS = path.resolve(__dirname, '../../test-artifacts/browser');
const AXE_SOURCE_PATH = require.resolve('axe-core/axe.min.js');

export interface Browser {
  context: BrowserContext;
  /** A new tab whose console errors and page errors are recorded. */
  newPage(viewport?: { width: number; height: number }): Promise<Page>;
  /** Console errors seen so far, minus those matching `allowed` (e.g. an expected 404 load). */
  problems(): string[];
  /** Forgets recorded errors that match (after a page that is expected to answer 404). */
  allow(pattern: RegExp): void;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<Browser> {
  // A missing browser is a failed test, not a skipped one: CI must install it.
  assert.ok(
    existsSync(CHROMIUM),
    `chromium not found at ${CHROMIUM}: the browser tests need Debian's chromium (apt-get install -y chromium; scripts/install-test-deps.sh installs it)`,
  );
  const userDataDir = mkdtempSync(path.join(tmpdir(), 'eqi-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
    viewport: { width: 1280, height: 900 },
    locale: 'zh-CN',
  });
  // The persistent context opens with one blank tab; tests open their own.
  for (const p of context.pages()) await p.close();
  mkdirSync(ARTIFACTS, { recursive: true });
  let errors: string[] = [];
  return {
    context,
    async newPage(viewport) {
      const page = await context.newPage();
      if (viewport) await page.setViewportSize(viewport);
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(`${page.url()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => errors.push(`${page.url()}: uncaught ${e.message}`));
      return page;
    },
    problems: () => [...errors],
    allow(pattern) {
      errors = errors.filter((e) => !pattern.test(e));
    },
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: unknown[] }>;
}

/**
 * Runs axe-core on the page and fails on serious or critical violations. The page's CSP allows
 * no inline script, so axe is evaluated through the DevTools protocol (not a <script> tag).
 */
export async function assertAccessible(page: Page, label: string): Promise<void> {
  // The callbacks run in the page, where globalThis is the window (this file has no DOM types).
  const hasAxe = await page.evaluate(
    () => typeof (globalThis as unknown as { axe?: unknown }).axe !== 'undefined',
  );
  if (!hasAxe) await page.evaluate(readFileSync(AXE_SOURCE_PATH, 'utf8'));
  const violations = await page.evaluate(async () => {
    const page = globalThis as unknown as {
      document: unknown;
      axe: { run(ctx: unknown, opts: unknown): Promise<{ violations: AxeViolation[] }> };
    };
    const result = await page.axe.run(page.document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => ({ target: n.target })),
    }));
  });
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(
    bad,
    [],
    `${label}: axe found serious/critical violations:\n${JSON.stringify(bad, null, 2)}`,
  );
}

export async function screenshot(page: Page, name: string, fullPage = true): Promise<string> {
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage });
  return file;
}

export interface BrowserSite {
  /** The browser, launched in `before`. */
  readonly browser: Browser;
  /** The app's address, e.g. http://127.0.0.1:41234 (set in `before`). */
  readonly base: string;
}

/**
 * Registers the hooks every browser test file needs: before, a browser, `seed` fictional
 * signatories, the file's own `setup`, and the app listening on a free port; after, both closed;
 * after each test, no console problem (minus `expectedProblems`, e.g. a page that answers 400 on
 * purpose). Call it inside `describe`, after `useRegistry()`.
 */
export function useBrowserSite(
  r: Pick<RegistryHandle, 'app'>,
  opts: { seed?: number; setup?: () => Promise<void>; expectedProblems?: RegExp } = {},
): BrowserSite {
  let browser: Browser | undefined;
  let server: Server | undefined;
  let base = '';

  before(async function () {
    // Launching chromium and seeding are slow on a loaded machine; never shorten a longer suite timeout.
    if (this.timeout() < 90_000) this.timeout(90_000);
    browser = await launchBrowser();
    if (opts.seed) await seed(opts.seed);
    await opts.setup?.();
    const listening = r.app.listen(0, '127.0.0.1');
    server = listening;
    await new Promise((resolve) => listening.once('listening', resolve));
    base = `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;
  });

  after(async function () {
    this.timeout(30_000);
    await browser?.close();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  });

  afterEach(() => {
    const b = started(browser);
    if (opts.expectedProblems) b.allow(opts.expectedProblems);
    assert.deepEqual(b.problems(), [], 'console errors');
  });

  return {
    get browser() {
      return started(browser);
    },
    get base() {
      return base;
    },
  };
}

/** A new tab signed in to the console as `admin` through the sign-in form; ends on the review queue. */
export async function signedInAsAdmin(
  site: BrowserSite,
  admin: { email: string; password: string },
  viewport?: { width: number; height: number },
): Promise<Page> {
  const page = await site.browser.newPage(viewport);
  await page.goto(`${site.base}/admin/login`);
  await page.getByLabel('电子邮箱').fill(admin.email);
  await page.getByLabel('密码').fill(admin.password);
  await page.getByRole('button', { name: '登录' }).click();
  await page.waitForURL(/\/admin\/pledges/);
  return page;
}

function started(browser: Browser | undefined): Browser {
  assert.ok(browser, 'the browser is launched in before()');
  return browser;
}
