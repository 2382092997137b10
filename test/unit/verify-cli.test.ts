/**
 * The offline verification CLI (scripts/verify.ts) run as a child process, the way a person who
 * was handed a certificate runs it: `npm run verify -- cert.pdf --jwks jwks.json`.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateSigningKey, issueCertificate, toJwks } from '../../certificates';
import { issuer, sampleData } from '../certificates/helpers';

const ROOT = path.resolve(__dirname, '../..');
const SCRIPT = path.join(ROOT, 'scripts', 'verify.ts');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function verifyCli(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--require', 'tsx/cjs', SCRIPT, ...args], { cwd: ROOT, env: { ...process.env, NODE_ENV: 'test' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** What every run must look like: each stream empty or ending in a newline, and no stack trace. */
function assertTidy(r: Run, what: string): void {
  for (const [name, text] of [['stdout', r.stdout], ['stderr', r.stderr]] as const) {
    if (text) assert.ok(text.endsWith('\n'), `${what}: ${name} ends with a newline: ${JSON.stringify(text)}`);
    assert.doesNotMatch(text, /^\s+at .+[(:]\d+/m, `${what}: ${name} has no stack trace`);
  }
}

describe('offline verification CLI as a child process (scripts/verify.ts)', function () {
  this.timeout(60_000);
  let dir = '';
  let pdf = '';
  let jwks = '';
  let otherJwks = '';

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verify-cli-'));
    const o = issuer();
    const issued = await issueCertificate(sampleData(), o);
    pdf = path.join(dir, 'cert.pdf');
    fs.writeFileSync(pdf, issued.pdf);
    jwks = path.join(dir, 'jwks.json');
    fs.writeFileSync(jwks, JSON.stringify(toJwks([o.signingKey])));
    otherJwks = path.join(dir, 'other.json');
    fs.writeFileSync(otherJwks, JSON.stringify(toJwks([generateSigningKey()])));
    fs.writeFileSync(path.join(dir, 'not-json.json'), 'this is not json');
    fs.writeFileSync(path.join(dir, 'not-jwks.json'), '{"hello": 1}');
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'not a pdf');
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('when --help or -h is given, then the usage goes to stdout, says where jwks.json comes from, and the exit code is 0', async () => {
    for (const flag of ['--help', '-h']) {
      const r = await verifyCli([flag]);
      assertTidy(r, flag);
      assert.equal(r.code, 0, flag);
      assert.equal(r.stderr, '');
      assert.match(r.stdout, /npm run verify -- cert\.pdf --jwks jwks\.json/);
      assert.match(r.stdout, /GET \/\.well-known\/jwks\.json/);
      assert.match(r.stdout, /--online/);
      assert.match(r.stdout, /exit codes?/i);
    }
    // --help wins over anything else on the line.
    const r = await verifyCli([pdf, '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /GET \/\.well-known\/jwks\.json/);
  });

  it('when the command line is wrong, then the exit code is 2 and stderr names the problem and points at --help', async () => {
    for (const args of [[], [pdf, pdf, '--jwks', jwks], ['--bogus', pdf], [pdf, '--jwks'], [pdf]]) {
      const r = await verifyCli(args);
      assertTidy(r, args.join(' '));
      assert.equal(r.code, 2, args.join(' '));
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^verify: /, args.join(' '));
      assert.match(r.stderr, /--help/, args.join(' '));
    }
    assert.match((await verifyCli(['--bogus', pdf])).stderr, /unknown option '--bogus'/i);
    assert.match((await verifyCli([pdf])).stderr, /--jwks/);
  });

  it('when a file cannot be read or the key set is not a JWKS, then the exit code is 2 and the message names the file', async () => {
    const missing = path.join(dir, 'missing.pdf');
    for (const [args, expected] of [
      [[missing, '--jwks', jwks], /cannot read .*missing\.pdf.*no such file/i],
      [[pdf, '--jwks', path.join(dir, 'missing.json')], /cannot read .*missing\.json.*no such file/i],
      [[pdf, '--jwks', path.join(dir, 'not-json.json')], /not-json\.json is not a JSON Web Key Set/],
      [[pdf, '--jwks', path.join(dir, 'not-jwks.json')], /not-jwks\.json is not a JSON Web Key Set/],
      [[pdf, '--jwks', dir], /cannot read/i],
    ] as Array<[string[], RegExp]>) {
      const r = await verifyCli(args);
      assertTidy(r, args.join(' '));
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, expected, args.join(' '));
      assert.equal(r.stdout, '');
    }
  });

  it('when the registry given to --online cannot be reached, then the exit code is 2 and the message says so', async () => {
    const r = await verifyCli([pdf, '--online', 'http://127.0.0.1:9']);
    assertTidy(r, '--online');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^verify: cannot reach http:\/\/127\.0\.0\.1:9/);
  });

  it('when given a certificate and the key set it was signed with, then every check passes, VALID, exit code 0', async () => {
    const r = await verifyCli([pdf, '--jwks', jwks]);
    assertTidy(r, 'valid');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.at(-1), 'VALID');
    for (const name of ['credential-present', 'credential-signature', 'credential-matches-document', 'pdf-signature']) assert.ok(lines.includes(`PASS  ${name}`), `${name} in ${r.stdout}`);
  });

  it('when the key set is another one or the file is not a PDF, then the failing checks say why, NOT VALID, exit code 1', async () => {
    const other = await verifyCli([pdf, '--jwks', otherJwks]);
    assertTidy(other, 'other key set');
    assert.equal(other.code, 1);
    assert.match(other.stdout, /^FAIL {2}credential-signature: .+$/m);
    assert.ok(other.stdout.endsWith('NOT VALID\n'));
    const notPdf = await verifyCli([path.join(dir, 'notes.txt'), '--jwks', jwks]);
    assertTidy(notPdf, 'not a pdf');
    assert.equal(notPdf.code, 1);
    assert.match(notPdf.stdout, /^FAIL {2}pdf-signature: not a PDF file$/m);
    assert.ok(notPdf.stdout.endsWith('NOT VALID\n'));
  });
});
