#!/usr/bin/env node
/**
 * Build-then-run smoke test of the production artifact, the same sequence as deploy/Dockerfile:
 *
 *   build stage:   (dependencies installed) → `npm run build`
 *   runtime stage: package.json + package-lock.json + dist/ only → `npm ci --omit=dev`
 *                  → `node dist/src/server.js` with NODE_ENV=production
 *
 * then checks that /readyz answers 200 and that one pledge can be signed over the API. It works
 * on copies in a temporary directory, so the checkout is left as it was. Plain JavaScript: it
 * must run where nothing has been compiled. The build stage reuses this checkout's
 * node_modules (CI has just run `npm ci`); the runtime stage installs its own from the lockfile.
 *
 * Usage: `npm run smoke` (exit 0 on success). `--keep` leaves the temporary directory; `--head`
 * builds the last commit rather than the working tree.
 */
'use strict';
const { execFileSync, spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');

/** The commands deploy/Dockerfile runs (test/build/deploy.test.ts checks it does). */
const BUILD = ['npm', 'run', 'build'];
const RUNTIME_INSTALL = ['npm', 'ci', '--omit=dev', '--no-audit', '--no-fund'];
const START = ['node', 'dist/src/server.js'];
/** What the runtime stage copies from the build stage. */
const RUNTIME_FILES = ['package.json', 'package-lock.json', 'dist'];

module.exports = { BUILD, RUNTIME_INSTALL, START, RUNTIME_FILES };

function log(msg) {
  process.stdout.write(`smoke: ${msg}\n`);
}

function run(cmd, cwd) {
  const started = Date.now();
  execFileSync(cmd[0], cmd.slice(1), { cwd, stdio: ['ignore', 'inherit', 'inherit'] });
  log(`${cmd.join(' ')} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

/**
 * The checkout's files as git sees them (tracked and new, not ignored): what a clone has.
 * `--head` takes the last commit instead, leaving out uncommitted edits.
 */
function copySources(dest, fromHead) {
  if (fromHead) {
    fs.mkdirSync(dest, { recursive: true });
    const tar = execFileSync('git', ['archive', '--format=tar', 'HEAD'], {
      cwd: ROOT,
      maxBuffer: 1 << 30,
    });
    execFileSync('tar', ['-x', '-C', dest], { input: tar });
    return;
  }
  const list = execFileSync(
    'git',
    ['ls-files', '-z', '--cached', '--others', '--exclude-standard'],
    {
      cwd: ROOT,
    },
  )
    .toString()
    .split('\0')
    .filter(Boolean);
  for (const rel of list) {
    const from = path.join(ROOT, rel);
    if (!fs.existsSync(from)) continue; // deleted in the working tree
    fs.mkdirSync(path.dirname(path.join(dest, rel)), { recursive: true });
    fs.copyFileSync(from, path.join(dest, rel));
  }
}

function request(base, method, urlPath, body) {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const headers = { accept: 'application/json' };
  if (payload)
    Object.assign(headers, {
      'content-type': 'application/json',
      'content-length': payload.length,
    });
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(urlPath, base), { method, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode, text, json });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** Production secrets made with the artifact's own certificate code (no devDependencies). */
function productionEnv(runtime, dataDir) {
  const certs = require(path.join(runtime, 'dist/certificates'));
  const keyFile = path.join(dataDir, 'signing-key.pem');
  fs.writeFileSync(keyFile, certs.exportSigningKeyPem(certs.generateSigningKey()), { mode: 0o600 });
  const passphrase = crypto.randomBytes(12).toString('hex');
  const p12 = certs.createDevP12({ commonName: 'EQI Registry (smoke test)', passphrase });
  const p12File = path.join(dataDir, 'pdf-signing.p12');
  fs.writeFileSync(p12File, Buffer.from(p12.p12), { mode: 0o600 });
  return {
    NODE_ENV: 'production',
    PORT: '0',
    PUBLIC_URL: 'https://registry.smoke.test',
    ASSOCIATION_NAME_ZH: '冒烟测试质量协会',
    ASSOCIATION_NAME_EN: 'Smoke Test Quality Association',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'info',
    JWT_SECRET: crypto.randomBytes(32).toString('base64url'),
    SIGNING_KEY: keyFile,
    SIGNING_P12: p12File,
    SIGNING_P12_PASSWORD: p12.passphrase,
    // No mail goes out in the smoke test: a closed port, retried in the background.
    SMTP_URL: 'smtp://127.0.0.1:9',
    // The embedded store is refused in production unless allowed explicitly.
    ALLOW_EMBEDDED_STORE: '1',
    METRICS_TOKEN: crypto.randomBytes(16).toString('hex'),
  };
}

/** Starts the server and resolves with its URL from the `listening` log line. */
function start(runtime, env) {
  const child = spawn(START[0] === 'node' ? process.execPath : START[0], START.slice(1), {
    cwd: runtime,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stderr.on('data', (c) => (out += c));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not listen within 60 s:\n${out}`));
    }, 60_000);
    child.stdout.on('data', (c) => {
      out += c;
      const m = /"url":"(http:\/\/[^"]+)"[^\n]*"msg":"listening"/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1], child, output: () => out });
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code ?? signal}) before listening:\n${out}`));
    });
  });
}

async function main() {
  const keep = process.argv.includes('--keep');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'eqi-smoke-'));
  const build = path.join(tmp, 'build');
  const runtime = path.join(tmp, 'runtime');
  let server;
  try {
    log(`working in ${tmp}`);
    copySources(build, process.argv.includes('--head'));
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(build, 'node_modules'), 'dir');
    run(BUILD, build);

    for (const rel of RUNTIME_FILES)
      fs.cpSync(path.join(build, rel), path.join(runtime, rel), { recursive: true });
    run(RUNTIME_INSTALL, runtime);
    for (const dev of ['tsx', 'typescript', 'mocha']) {
      if (fs.existsSync(path.join(runtime, 'node_modules', dev)))
        throw new Error(`${dev} was installed with --omit=dev`);
    }
    const stray = fs
      .readdirSync(path.join(runtime, 'dist'))
      .filter((d) => ['test', 'bench'].includes(d));
    if (stray.length > 0) throw new Error(`dist/ contains ${stray.join(', ')}`);

    const dataDir = path.join(tmp, 'data');
    fs.mkdirSync(dataDir);
    server = await start(runtime, productionEnv(runtime, dataDir));
    log(`listening on ${server.url}`);

    const ready = await request(server.url, 'GET', '/readyz');
    if (ready.status !== 200) throw new Error(`/readyz answered ${ready.status}: ${ready.text}`);
    log('/readyz 200');

    const { makeUscc } = require(path.join(runtime, 'dist/src/domain/uscc'));
    const initiative = await request(server.url, 'GET', '/api/v1/initiative');
    if (initiative.status !== 200)
      throw new Error(`/api/v1/initiative answered ${initiative.status}`);
    const signed = await request(server.url, 'POST', '/api/v1/pledges', {
      company: { uscc: makeUscc(), name: '烟测精密制造有限公司', industry: 'C' },
      signatory: { name: '李明', title: '总经理', email: 'smoke@example.test' },
      initiative: { version: initiative.json.version, sha256: initiative.json.sha256 },
      agree: true,
    });
    if (signed.status !== 201) throw new Error(`signing answered ${signed.status}: ${signed.text}`);
    log(`signed pledge ${signed.json.id}`);
    log('passed');
  } finally {
    if (server) {
      const exited = new Promise((resolve) => server.child.once('exit', resolve));
      server.child.kill('SIGTERM');
      await exited;
    }
    if (!keep) fs.rmSync(tmp, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`smoke: FAILED: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
