import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  ConfigError,
  ENV_VARS,
  envSchema,
  envVarDefaultCell,
  loadConfig,
  readSecret,
} from '../../src/config';

const pem = generateKeyPairSync('ed25519')
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();
const p12Base64 = Buffer.alloc(96, 7).toString('base64');

const production = {
  NODE_ENV: 'production',
  PUBLIC_URL: 'https://registry.example.org/',
  JWT_SECRET: 'x'.repeat(32),
  SIGNING_KEY: pem,
  SIGNING_P12: p12Base64,
  SIGNING_P12_PASSWORD: 'p12 password',
  SMTP_URL: 'smtps://mailer:secret@smtp.example.org:465',
  MONGODB_URI: 'mongodb://db.example.org:27017/eqi',
  ASSOCIATION_NAME_ZH: '某某质量协会',
  ASSOCIATION_NAME_EN: 'Some Quality Association',
};

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected loadConfig to throw');
}

describe('config', () => {
  it('when nothing is set, then the documented defaults apply', () => {
    const config = loadConfig({});
    assert.equal(config.env, 'development');
    assert.equal(config.isProduction, false);
    assert.equal(config.port, 3000);
    assert.equal(config.publicUrl, 'http://localhost:3000');
    assert.equal(config.mongodbUri, undefined);
    assert.equal(config.dataDir, path.resolve('data'));
    assert.equal(config.logLevel, 'info');
    assert.equal(config.trustProxy, false);
    assert.equal(config.reviewMode, 'manual');
    assert.deepEqual(config.rateLimit, {
      signingPerMin: 10,
      signingPerCodePerDay: 5,
      signingPerDomainPerDay: 100,
      loginPerMin: 10,
      verifyPerMin: 30,
    });
    assert.equal(config.smtpUrl, undefined);
    assert.deepEqual(config.signing, { key: undefined, p12: undefined, p12Password: undefined });
  });

  it('when JWT_SECRET is unset outside production, then a random secret is used and marked ephemeral', () => {
    const a = loadConfig({ NODE_ENV: 'test' });
    const b = loadConfig({ NODE_ENV: 'development' });
    assert.equal(a.jwtSecretEphemeral, true);
    assert.ok(a.jwtSecret.length >= 32);
    assert.equal(a.jwtSecret, b.jwtSecret, 'one secret per process');
  });

  it('when loaded, then the config is frozen all the way down', () => {
    const config = loadConfig({});
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.rateLimit));
    assert.ok(Object.isFrozen(config.signing));
    assert.throws(() => {
      (config as { port: number }).port = 1;
    }, TypeError);
  });

  it('when PORT is set, then PUBLIC_URL defaults to it', () => {
    assert.equal(loadConfig({ PORT: '8080' }).publicUrl, 'http://localhost:8080');
  });

  it('when a variable is empty, then it counts as unset', () => {
    const config = loadConfig({ PORT: '', MONGODB_URI: ' ', JWT_SECRET: '' });
    assert.equal(config.port, 3000);
    assert.equal(config.mongodbUri, undefined);
    assert.equal(config.jwtSecretEphemeral, true);
  });

  for (const bad of ['abc', '70000', '-1', '3.5', '80 80']) {
    it(`when PORT is ${JSON.stringify(bad)}, then loading fails naming PORT`, () => {
      const err = configError(() => loadConfig({ PORT: bad }));
      assert.equal(err.problems.length, 1);
      assert.match(err.problems[0], /^PORT: /);
    });
  }

  it('when NODE_ENV=production and secrets are missing, then it refuses to start naming each of them', () => {
    const err = configError(() => loadConfig({ NODE_ENV: 'production' }));
    for (const name of [
      'JWT_SECRET',
      'SIGNING_KEY',
      'SIGNING_P12',
      'SIGNING_P12_PASSWORD',
      'PUBLIC_URL',
      'ASSOCIATION_NAME_ZH',
      'ASSOCIATION_NAME_EN',
    ]) {
      assert.ok(
        err.problems.some((p) => p.startsWith(`${name}: required when NODE_ENV=production`)),
        `${name} should be named in:\n${err.message}`,
      );
      assert.match(err.message, new RegExp(name));
    }
  });

  it('when the association is not configured outside production, then the fictional 示例质量协会 / Example Quality Association is used; in production the configured names are', () => {
    assert.deepEqual(loadConfig({ NODE_ENV: 'development' }).association, {
      zh: '示例质量协会',
      en: 'Example Quality Association',
    });
    assert.deepEqual(loadConfig(production).association, {
      zh: '某某质量协会',
      en: 'Some Quality Association',
    });
    const err = configError(() => loadConfig({ ...production, ASSOCIATION_NAME_EN: undefined }));
    assert.deepEqual(err.problems, ['ASSOCIATION_NAME_EN: required when NODE_ENV=production']);
  });

  it('when an association name holds a control character or is too long, then it is refused naming the variable', () => {
    assert.match(
      configError(() => loadConfig({ ASSOCIATION_NAME_ZH: '质量\u0007协会' })).problems.join(),
      /^ASSOCIATION_NAME_ZH: must not hold control/,
    );
    assert.match(
      configError(() => loadConfig({ ASSOCIATION_NAME_EN: 'x'.repeat(41) })).problems.join(),
      /^ASSOCIATION_NAME_EN: must be at most 40/,
    );
  });

  it('when NODE_ENV=production lacks only JWT_SECRET, then exactly that is reported', () => {
    const err = configError(() => loadConfig({ ...production, JWT_SECRET: undefined }));
    assert.deepEqual(err.problems, ['JWT_SECRET: required when NODE_ENV=production']);
  });

  it('when NODE_ENV=production has every secret, then it loads and nothing is ephemeral', () => {
    const config = loadConfig(production);
    assert.equal(config.isProduction, true);
    assert.equal(config.jwtSecret, 'x'.repeat(32));
    assert.equal(config.jwtSecretEphemeral, false);
    assert.equal(config.publicUrl, 'https://registry.example.org', 'trailing slash removed');
    assert.equal(config.signing.key?.kind, 'pem');
    assert.equal(config.signing.p12?.kind, 'base64');
    assert.deepEqual(readSecret(config.signing.p12!), Buffer.alloc(96, 7));
    assert.equal(config.signing.p12Password, 'p12 password');
  });

  it('when NODE_ENV=production has no SMTP_URL, then it refuses to start (mail would go to disk, links to the log)', () => {
    const err = configError(() => loadConfig({ ...production, SMTP_URL: undefined }));
    assert.deepEqual(err.problems, ['SMTP_URL: required when NODE_ENV=production']);
  });

  it('when NODE_ENV=production has no MONGODB_URI, then it refuses to start unless ALLOW_EMBEDDED_STORE=1', () => {
    const err = configError(() => loadConfig({ ...production, MONGODB_URI: undefined }));
    assert.equal(err.problems.length, 1, err.message);
    assert.match(err.problems[0], /^MONGODB_URI: required when NODE_ENV=production/);
    assert.match(err.problems[0], /ALLOW_EMBEDDED_STORE=1/, 'the message names the way out');
    const allowed = loadConfig({
      ...production,
      MONGODB_URI: undefined,
      ALLOW_EMBEDDED_STORE: '1',
    });
    assert.equal(allowed.mongodbUri, undefined);
    assert.equal(allowed.allowEmbeddedStore, true);
    // Anything but an explicit 1 (or 0) is a mistake worth naming, not a silent "no".
    for (const bad of ['yes', 'true', '2']) {
      const e = configError(() =>
        loadConfig({ ...production, MONGODB_URI: undefined, ALLOW_EMBEDDED_STORE: bad }),
      );
      assert.ok(
        e.problems.some((p) => p.startsWith('ALLOW_EMBEDDED_STORE: ')),
        e.message,
      );
    }
    assert.ok(
      configError(() =>
        loadConfig({ ...production, MONGODB_URI: undefined, ALLOW_EMBEDDED_STORE: '0' }),
      ),
    );
  });

  it('when outside production neither SMTP_URL nor MONGODB_URI is set, then it loads (dev outbox, embedded store)', () => {
    const config = loadConfig({ NODE_ENV: 'development' });
    assert.equal(config.smtpUrl, undefined);
    assert.equal(config.mongodbUri, undefined);
    assert.equal(config.allowEmbeddedStore, false);
  });

  it('when JWT_SECRET is shorter than 32 characters, then it is rejected even outside production', () => {
    const err = configError(() => loadConfig({ JWT_SECRET: 'short' }));
    assert.match(err.message, /JWT_SECRET: must be at least 32 characters/);
    assert.doesNotMatch(err.message, /short/, 'the secret itself is never echoed');
  });

  it('when SIGNING_KEY is neither PEM nor a file, then it is rejected', () => {
    const err = configError(() => loadConfig({ SIGNING_KEY: '/nonexistent/key.pem' }));
    assert.match(err.message, /SIGNING_KEY: not PEM text and no such file/);
    const garbage = configError(() =>
      loadConfig({ SIGNING_KEY: '-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----' }),
    );
    assert.match(garbage.message, /SIGNING_KEY: is not a readable PEM private key/);
  });

  it('when SIGNING_KEY is PEM with literal \\n escapes, then it is unescaped', () => {
    const config = loadConfig({ SIGNING_KEY: pem.replace(/\n/g, '\\n') });
    assert.deepEqual(config.signing.key, { kind: 'pem', pem });
  });

  it('when several variables are bad, then every one is listed at once', () => {
    const err = configError(() =>
      loadConfig({
        PORT: 'abc',
        LOG_LEVEL: 'loud',
        REVIEW_MODE: 'sometimes',
        PUBLIC_URL: 'ftp://x',
        MONGODB_URI: 'postgres://x',
        RATE_LIMIT_SIGNING_PER_MIN: '0',
        TRUST_PROXY: 'nonsense',
      }),
    );
    const names = err.problems.map((p) => p.split(':')[0]).sort();
    assert.deepEqual(names, [
      'LOG_LEVEL',
      'MONGODB_URI',
      'PORT',
      'PUBLIC_URL',
      'RATE_LIMIT_SIGNING_PER_MIN',
      'REVIEW_MODE',
      'TRUST_PROXY',
    ]);
  });

  it('when LOG_LEVEL is silent, then it is accepted', () => {
    assert.equal(loadConfig({ LOG_LEVEL: 'silent' }).logLevel, 'silent');
  });

  it('when TRUST_PROXY is a hop count or subnets, then it is passed on as such', () => {
    assert.equal(loadConfig({ TRUST_PROXY: 'true' }).trustProxy, true);
    assert.equal(loadConfig({ TRUST_PROXY: '2' }).trustProxy, 2);
    assert.equal(
      loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8' }).trustProxy,
      'loopback, 10.0.0.0/8',
    );
  });

  it('when the variables are documented, then ENV_VARS and the schema list the same names', () => {
    assert.deepEqual(ENV_VARS.map((v) => v.name).sort(), Object.keys(envSchema.shape).sort());
  });

  it('when README.md documents configuration, then its table matches ENV_VARS', function () {
    const readme = path.resolve('README.md');
    if (!existsSync(readme)) this.skip();
    // Rows look like "| `NAME` | default | required in production | description |".
    const rows = new Map<string, string[]>();
    for (const line of readFileSync(readme, 'utf8').split('\n')) {
      const m = /^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|(.*)\|\s*$/.exec(line);
      if (m)
        rows.set(
          m[1],
          m[2].split('|').map((c) => c.trim()),
        );
    }
    for (const v of ENV_VARS) {
      const row = rows.get(v.name);
      assert.ok(row, `README.md has no table row for ${v.name}: run \`npm run docs:env\``);
      assert.equal(
        row[0],
        envVarDefaultCell(v),
        `README default of ${v.name} is stale: run \`npm run docs:env\``,
      );
    }
    const known = new Set(ENV_VARS.map((v) => v.name));
    const stale = [...rows.keys()].filter((name) => !known.has(name));
    assert.deepEqual(
      stale,
      [],
      'README documents variables the config does not read: run `npm run docs:env`',
    );
  });
});
