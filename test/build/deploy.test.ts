/**
 * What can be checked of the deployment files without Docker: the Dockerfile runs the very
 * sequence the smoke test runs (scripts/smoke-build.cjs), as a non-root user with a readiness
 * health check; the compose file describes a keyfile-authenticated three-member replica set,
 * two app instances behind a proxy with TRUST_PROXY, and a mail catcher; the systemd unit
 * starts the built server; the production build holds no tests or benchmarks.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { ENV_VARS, loadConfig } from '../../src/config';

const ROOT = path.resolve(__dirname, '../..');
const read = (rel: string) => fs.readFileSync(path.join(ROOT, rel), 'utf8');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const smoke = require('../../scripts/smoke-build.cjs') as {
  BUILD: string[];
  RUNTIME_INSTALL: string[];
  START: string[];
  RUNTIME_FILES: string[];
};

interface Stage {
  name: string;
  from: string;
  lines: string[];
}

/** Dockerfile instructions by stage, continuation lines joined, comments dropped. */
function dockerStages(text: string): Stage[] {
  const instructions = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim().replace(/\s+/g, ' '))
    .filter((l) => l && !l.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of instructions) {
    const from = /^FROM (\S+) AS (\S+)$/i.exec(line);
    if (from) stages.push({ name: from[2], from: from[1], lines: [] });
    else stages.at(-1)!.lines.push(line);
  }
  return stages;
}

describe('deployment files', () => {
  const stages = dockerStages(read('deploy/Dockerfile'));
  const [build, runtime] = stages;

  it('when the Dockerfile is read, then it builds in one stage and runs node:20-slim with production dependencies only in the next', () => {
    assert.deepEqual(
      stages.map((s) => [s.name, s.from]),
      [
        ['build', 'node:20-slim'],
        ['runtime', 'node:20-slim'],
      ],
    );
    assert.ok(build.lines.includes('RUN npm ci --no-audit --no-fund'), build.lines.join('\n'));
  });

  it('when the Dockerfile is read, then its build, install and start commands are the ones the smoke test runs', () => {
    assert.ok(
      build.lines.includes(`RUN ${smoke.BUILD.join(' ')}`),
      `build stage runs ${smoke.BUILD.join(' ')}`,
    );
    assert.ok(
      runtime.lines.some((l) => l.startsWith(`RUN ${smoke.RUNTIME_INSTALL.join(' ')}`)),
      `runtime stage runs ${smoke.RUNTIME_INSTALL.join(' ')}`,
    );
    assert.ok(
      runtime.lines.includes(`CMD ${JSON.stringify(smoke.START).replace(/,/g, ', ')}`),
      runtime.lines.join('\n'),
    );
    // The runtime stage gets exactly what the smoke test's runtime copy has.
    const copied = runtime.lines
      .filter((l) => l.startsWith('COPY --from=build '))
      .flatMap((l) => l.split(' ').slice(2, -1))
      .map((p) => p.replace(/^\/app\//, ''));
    assert.deepEqual(copied.sort(), [...smoke.RUNTIME_FILES].sort());
    assert.ok(
      !runtime.lines.some((l) => /^COPY (?!--from)/.test(l)),
      'no sources copied into the runtime stage',
    );
  });

  it('when the image runs, then it is production, non-root, and checks /readyz', () => {
    assert.ok(runtime.lines.some((l) => /^ENV .*NODE_ENV=production/.test(l)));
    const user = runtime.lines.filter((l) => l.startsWith('USER '));
    assert.deepEqual(user, ['USER node']);
    const health = runtime.lines.find((l) => l.startsWith('HEALTHCHECK '));
    assert.ok(health && /\/readyz/.test(health), health);
  });

  it('when the compose file is parsed, then it has a keyfile-authenticated three-member MongoDB 7 replica set with an init job', () => {
    const compose = yaml.load(read('deploy/docker-compose.yml'), {
      schema: yaml.YAML11_SCHEMA,
    }) as {
      services: Record<
        string,
        {
          image?: string;
          command?: string[];
          environment?: Record<string, string>;
          depends_on?: unknown;
          volumes?: string[];
        }
      >;
    };
    const s = compose.services;
    const members = Object.keys(s).filter((n) => s[n].command?.[0] === 'mongod');
    assert.deepEqual(members, ['mongo1', 'mongo2', 'mongo3']);
    for (const m of members) {
      assert.equal(s[m].image, 'mongo:7');
      const cmd = s[m].command!.join(' ');
      assert.match(cmd, /--replSet rs0/);
      assert.match(cmd, /--keyFile \/keys\/keyfile/);
    }
    const init = read('deploy/mongo-init.js');
    for (const m of members) assert.ok(init.includes(`${m}:27017`), `init job adds ${m}`);
    assert.match(JSON.stringify(s['mongo-init']), /mongo-init\.js/);

    const apps = Object.keys(s).filter((n) => s[n].environment?.MONGODB_URI);
    assert.deepEqual(apps, ['app1', 'app2']);
    for (const a of apps) {
      const env = s[a].environment!;
      assert.match(env.MONGODB_URI, /mongo1:27017,mongo2:27017,mongo3:27017\/eqi\?replicaSet=rs0/);
      assert.equal(env.TRUST_PROXY, '1');
      assert.equal(env.SMTP_URL, 'smtp://mailpit:1025');
      // Every variable the app is given is one the config reads.
      for (const name of Object.keys(env))
        assert.ok(
          ENV_VARS.some((v) => v.name === name),
          `${name} is a config variable`,
        );
    }
    assert.match(s.proxy.image!, /^caddy/);
    assert.match(read('deploy/Caddyfile'), /reverse_proxy app1:3000 app2:3000/);
    assert.match(s.mailpit.image!, /mailpit/);
  });

  it('when the compose app environment is filled in, then the configuration accepts it', () => {
    const compose = yaml.load(read('deploy/docker-compose.yml'), {
      schema: yaml.YAML11_SCHEMA,
    }) as { services: Record<string, { environment: Record<string, string> }> };
    const example = Object.fromEntries(
      read('deploy/env.example')
        .split('\n')
        .filter((l) => /^[A-Z0-9_]+=/.test(l))
        .map((l) => l.split(/=(.*)/s).slice(0, 2)),
    );
    const env = Object.fromEntries(
      Object.entries(compose.services.app1.environment).map(([k, v]) => [
        k,
        v.replace(/\$\{(\w+)\}/g, (_, n: string) => example[n] ?? ''),
      ]),
    );
    // The signing files are compose secrets; stand-ins from the test key material.
    const dir = fs.mkdtempSync(path.join(ROOT, 'test-artifacts', 'deploy-'));
    try {
      const { generateKeyPairSync } = require('node:crypto') as typeof import('node:crypto'); // eslint-disable-line @typescript-eslint/no-require-imports
      fs.writeFileSync(
        path.join(dir, 'key.pem'),
        generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }),
      );
      fs.writeFileSync(path.join(dir, 'p12'), Buffer.alloc(96, 7));
      const config = loadConfig({
        ...env,
        NODE_ENV: 'production',
        SIGNING_KEY: path.join(dir, 'key.pem'),
        SIGNING_P12: path.join(dir, 'p12'),
      });
      assert.equal(config.trustProxy, 1);
      assert.equal(config.isProduction, true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('when the systemd unit is read, then it runs the built server as an unprivileged user in production', () => {
    const unit = read('deploy/eqi-registry.service');
    assert.match(unit, /^ExecStart=\/usr\/bin\/node dist\/src\/server\.js$/m);
    assert.match(unit, /^User=eqi$/m);
    assert.match(unit, /^Environment=NODE_ENV=production$/m);
    assert.match(unit, /^ReadWritePaths=\/var\/lib\/eqi$/m);
  });

  it('when the production build is configured, then it leaves out tests and benchmarks', () => {
    const config = JSON.parse(read('tsconfig.build.json').replace(/^\s*\/\/.*$/gm, '')) as {
      include: string[];
      compilerOptions: { types: string[] };
    };
    assert.ok(!config.include.some((p) => /^(test|bench)\b/.test(p)), config.include.join());
    assert.deepEqual(config.compilerOptions.types, ['node']);
  });
});
