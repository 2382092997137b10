/**
 * Writes the service's OpenAPI document to a file (or stdout) without starting a server or a
 * database: the document comes from the route declarations alone. `npm run lint:openapi` lints
 * what this writes.
 *
 *   node scripts/run.cjs scripts/openapi-dump [--out FILE]
 *   node scripts/run.cjs scripts/openapi-dump --lint   (a temp file, then `redocly lint`; exits with its status)
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config';
import { silentLogger } from '../src/logger';
import { createRegistry } from '../src/registry';

export async function dumpOpenApi(): Promise<Record<string, unknown>> {
  // The registry's key ring writes development keys into DATA_DIR: a throwaway one here.
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'eqi-openapi-'));
  const registry = createRegistry(
    loadConfig({ NODE_ENV: 'development', LOG_LEVEL: 'silent', DATA_DIR: dataDir }),
    silentLogger(),
  );
  try {
    return registry.openApi();
  } finally {
    await registry.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Lints the document with Redocly's CLI (a devDependency) and redocly.yaml; returns its exit status. */
function lint(doc: Record<string, unknown>): number {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eqi-openapi-lint-'));
  const file = path.join(dir, 'openapi.json');
  fs.writeFileSync(file, JSON.stringify(doc, null, 2));
  try {
    const root = path.resolve(__dirname, '..');
    const cli = require.resolve('@redocly/cli/bin/cli.js', { paths: [root] });
    const run = spawnSync(
      process.execPath,
      [cli, 'lint', '--config', path.join(root, 'redocly.yaml'), file],
      {
        stdio: 'inherit',
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
      },
    );
    return run.status ?? 1;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(argv: string[]): Promise<void> {
  const doc = await dumpOpenApi();
  if (argv.includes('--lint')) {
    process.exitCode = lint(doc);
    return;
  }
  const i = argv.indexOf('--out');
  const out = i >= 0 ? argv[i + 1] : undefined;
  if (i >= 0 && !out) throw new Error('usage: openapi-dump [--out FILE | --lint]');
  const text = JSON.stringify(doc, null, 2) + '\n';
  if (out) fs.writeFileSync(out, text);
  else process.stdout.write(text);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
