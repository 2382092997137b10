/**
 * Production refuses unsafe states at start instead of warning: the real server process, started
 * as `npm start` does, exits non-zero with a message naming what to set.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { appEnv } from '../helpers/app-process';
import { runScript, type ScriptRun } from '../helpers/run-script';

/** The server as `npm start` runs it; one that wrongly starts is killed after 30 s, failing the test. */
const runServer = (env: Record<string, string>): Promise<ScriptRun> =>
  runScript('src/server.ts', [], { env: appEnv(env) });

describe('production configuration (process)', () => {
  it('when NODE_ENV=production has every secret but no SMTP_URL and no MONGODB_URI, then the server exits 1 naming both and listens nowhere', async function () {
    this.timeout(60_000);
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'eqi-prod-'));
    const pem = generateKeyPairSync('ed25519')
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    const { code, stdout, stderr } = await runServer({
      NODE_ENV: 'production',
      PORT: '0',
      DATA_DIR: dataDir,
      PUBLIC_URL: 'https://registry.example.org',
      JWT_SECRET: 'p'.repeat(40),
      SIGNING_KEY: pem,
      SIGNING_P12: Buffer.alloc(96, 7).toString('base64'),
      SIGNING_P12_PASSWORD: 'pw',
    });
    assert.equal(code, 1, `exit code; stdout:\n${stdout}\nstderr:\n${stderr}`);
    assert.match(stderr, /Invalid configuration/);
    assert.match(stderr, /SMTP_URL: required when NODE_ENV=production/);
    assert.match(stderr, /MONGODB_URI: required when NODE_ENV=production .*ALLOW_EMBEDDED_STORE=1/);
    assert.doesNotMatch(stdout, /"msg":"listening"/);
    // Refused before anything was created: no embedded store files, no dev outbox.
    assert.deepEqual(fs.readdirSync(dataDir), []);
  });
});
