/**
 * The offline verification CLI (scripts/verify.ts) run as a child process, the way a person who
 * was handed a certificate runs it: `npm run verify -- cert.pdf --jwks jwks.json`.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  generateSigningKey,
  issueCertificate,
  signCredential,
  toJwks,
  type SigningKey,
} from '../../certificates';
import { StatusList } from '../../src/tlog';
import { issuer, memoryLog, PUBLIC_URL, sampleData } from '../certificates/helpers';
import { runScript, type ScriptRun as Run } from '../helpers/run-script';

const verifyCli = (args: string[]): Promise<Run> =>
  runScript('scripts/verify.ts', args, { env: { ...process.env, NODE_ENV: 'test' } });

/** What every run must look like: each stream empty or ending in a newline, and no stack trace. */
function assertTidy(r: Run, what: string): void {
  for (const [name, text] of [
    ['stdout', r.stdout],
    ['stderr', r.stderr],
  ] as const) {
    if (text)
      assert.ok(
        text.endsWith('\n'),
        `${what}: ${name} ends with a newline: ${JSON.stringify(text)}`,
      );
    assert.doesNotMatch(text, /^\s+at .+[(:]\d+/m, `${what}: ${name} has no stack trace`);
  }
}

const INDEX = 4242;
const listUrl = (purpose: string) => `${PUBLIC_URL}/api/v1/status/${purpose}`;
const STATUS = ['revocation', 'suspension'].map((purpose) => ({
  id: `${listUrl(purpose)}#${INDEX}`,
  type: 'BitstringStatusListEntry',
  statusPurpose: purpose,
  statusListIndex: String(INDEX),
  statusListCredential: listUrl(purpose),
}));

/** A BitstringStatusListCredential JWS as GET /api/v1/status/<purpose> serves it. */
function statusListJws(
  key: SigningKey,
  o: { purpose?: string; set?: number[]; url?: string } = {},
): string {
  const purpose = o.purpose ?? 'revocation';
  const list = new StatusList();
  for (const i of o.set ?? []) list.set(i, true);
  const id = o.url ?? listUrl(purpose);
  return signCredential(
    {
      '@context': ['https://www.w3.org/ns/credentials/v2'],
      id,
      type: ['VerifiableCredential', 'BitstringStatusListCredential'],
      issuer: PUBLIC_URL,
      validFrom: '2026-03-06T00:00:00.000Z',
      credentialSubject: {
        id: `${id}#list`,
        type: 'BitstringStatusList',
        statusPurpose: purpose,
        encodedList: list.encode(),
      },
    },
    key,
  );
}

describe('offline verification CLI as a child process (scripts/verify.ts)', function () {
  this.timeout(60_000);
  let dir = '';
  let pdf = '';
  let jwks = '';
  let otherJwks = '';
  let vkey = '';
  const file = (name: string) => path.join(dir, name);

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verify-cli-'));
    const o = issuer();
    const log = memoryLog(o.signingKey);
    vkey = log.vkey;
    const logged = {
      ...o,
      credentialStatus: STATUS,
      logVerifierKey: log.vkey,
      logProof: (jws: string) => log.logProof(jws),
    };
    const issued = await issueCertificate(sampleData(), logged);
    pdf = path.join(dir, 'cert.pdf');
    fs.writeFileSync(pdf, issued.pdf);
    // The same certificate without a log proof, and with proofs tampered in two ways.
    fs.writeFileSync(
      file('no-proof.pdf'),
      (
        await issueCertificate(sampleData(), {
          ...o,
          credentialStatus: STATUS,
          logVerifierKey: log.vkey,
        })
      ).pdf,
    );
    const flipped = async (jws: string) => {
      const b = await log.logProof(jws);
      const h = Buffer.from(b.inclusionProof[0]!, 'base64');
      h[0]! ^= 1;
      return { ...b, inclusionProof: [h.toString('base64'), ...b.inclusionProof.slice(1)] };
    };
    // Two earlier entries, so the proof has hashes to flip.
    await issueCertificate(sampleData({}, 200), logged);
    await issueCertificate(sampleData({}, 201), logged);
    fs.writeFileSync(
      file('flipped-proof.pdf'),
      (await issueCertificate(sampleData({}, 124), { ...logged, logProof: flipped })).pdf,
    );
    const otherCredential = async () =>
      log.logProof(
        (await issueCertificate(sampleData({}, 125), { ...o, credentialStatus: STATUS })).jws,
      );
    fs.writeFileSync(
      file('other-entry.pdf'),
      (await issueCertificate(sampleData({}, 125), { ...logged, logProof: otherCredential })).pdf,
    );
    fs.writeFileSync(file('vkey.txt'), `${vkey}\n`);
    fs.writeFileSync(file('other-vkey.txt'), `${memoryLog(generateSigningKey()).vkey}\n`);
    fs.writeFileSync(
      file('clear.jws'),
      statusListJws(o.signingKey, { set: [INDEX + 1, INDEX - 1] }),
    );
    fs.writeFileSync(file('revoked.jws'), statusListJws(o.signingKey, { set: [INDEX] }));
    fs.writeFileSync(
      file('suspended.jws'),
      statusListJws(o.signingKey, { purpose: 'suspension', set: [INDEX] }),
    );
    fs.writeFileSync(file('forged.jws'), statusListJws(generateSigningKey(), {}));
    fs.writeFileSync(
      file('elsewhere.jws'),
      statusListJws(o.signingKey, { url: 'https://other.example/api/v1/status/revocation' }),
    );
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
      [
        [pdf, '--jwks', path.join(dir, 'missing.json')],
        /cannot read .*missing\.json.*no such file/i,
      ],
      [
        [pdf, '--jwks', path.join(dir, 'not-json.json')],
        /not-json\.json is not a JSON Web Key Set/,
      ],
      [
        [pdf, '--jwks', path.join(dir, 'not-jwks.json')],
        /not-jwks\.json is not a JSON Web Key Set/,
      ],
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

  const LOG = [
    'log-proof-present',
    'log-checkpoint-signature',
    'log-inclusion',
    'log-entry-matches-credential',
  ];

  it('when given a certificate and the key set it was signed with, then every check passes and says in words what it found, VALID, exit code 0', async () => {
    const r = await verifyCli([pdf, '--jwks', jwks]);
    assertTidy(r, 'valid');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.at(-1), 'VALID');
    for (const name of [
      'credential-present',
      'credential-signature',
      'credential-matches-document',
      'pdf-signature',
      ...LOG,
    ])
      assert.ok(
        lines.some((l) => new RegExp(`^PASS  ${name}: [a-z].{20,}$`).test(l)),
        `${name} in words in ${r.stdout}`,
      );
    assert.match(
      r.stdout,
      /^PASS {2}log-checkpoint-signature: .*signed by the log key eqi\.example\.org\/log \(from the signed credential\)$/m,
    );
    assert.match(r.stdout, /^PASS {2}log-inclusion: the entry is leaf 0 of the tree of size 1 /m);
  });

  it('when the log verifier key is given with --vkey (text or file), then the checkpoint is checked with it; another log key fails the log checks, exit code 1', async () => {
    for (const v of [vkey, file('vkey.txt')]) {
      const r = await verifyCli([pdf, '--jwks', jwks, '--vkey', v]);
      assertTidy(r, `--vkey ${v}`);
      assert.equal(r.code, 0, r.stdout);
      assert.match(r.stdout, /^PASS {2}log-checkpoint-signature: .*\(from --vkey\)$/m);
    }
    const other = await verifyCli([pdf, '--jwks', jwks, '--vkey', file('other-vkey.txt')]);
    assertTidy(other, 'other vkey');
    assert.equal(other.code, 1);
    assert.match(
      other.stdout,
      /^FAIL {2}log-checkpoint-signature: the embedded checkpoint is not signed by eqi\.example\.org\/log .*$/m,
    );
    assert.match(other.stdout, /^FAIL {2}log-inclusion: /m);
    assert.ok(other.stdout.endsWith('NOT VALID\n'));
    const bad = await verifyCli([pdf, '--jwks', jwks, '--vkey', 'not-a-key']);
    assertTidy(bad, 'bad vkey');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^verify: --vkey is neither a verifier key/);
  });

  it('when the log proof is missing, its inclusion proof altered or its entry names another credential, then that log check fails, NOT VALID, exit code 1', async () => {
    for (const [name, failing] of [
      ['no-proof.pdf', /^FAIL {2}log-proof-present: the PDF carries no log-proof\.json$/m],
      [
        'flipped-proof.pdf',
        /^FAIL {2}log-inclusion: the inclusion proof does not lead from entry 3 to the checkpoint's root$/m,
      ],
      [
        'other-entry.pdf',
        /^FAIL {2}log-entry-matches-credential: the log recorded another credential for this serial/m,
      ],
    ] as const) {
      const r = await verifyCli([file(name), '--jwks', jwks]);
      assertTidy(r, name);
      assert.equal(r.code, 1, `${name}: ${r.stdout}`);
      assert.match(r.stdout, failing, name);
      // The credential and PDF are genuine: only the log says no.
      assert.match(r.stdout, /^PASS {2}credential-signature: /m, name);
      assert.match(r.stdout, /^PASS {2}pdf-signature: /m, name);
      assert.ok(r.stdout.endsWith('NOT VALID\n'), name);
    }
  });

  it('when a saved status list is given with --status-list, then a clear bit passes, a set bit says revoked (or suspended), and a forged or foreign list fails, exit code 1', async () => {
    const clear = await verifyCli([pdf, '--jwks', jwks, '--status-list', file('clear.jws')]);
    assertTidy(clear, 'clear');
    assert.equal(clear.code, 0, clear.stdout);
    assert.match(
      clear.stdout,
      new RegExp(
        `^PASS  status-list: not revoked: bit ${INDEX} of the revocation list is clear as of 2026-03-06T00:00:00.000Z$`,
        'm',
      ),
    );
    for (const [name, failing] of [
      [
        'revoked.jws',
        new RegExp(
          `^FAIL  status-list: the certificate is revoked: bit ${INDEX} of the revocation list is set`,
          'm',
        ),
      ],
      [
        'suspended.jws',
        /^FAIL {2}status-list: the certificate is suspended \(withdrawn or superseded\)/m,
      ],
      [
        'forged.jws',
        /^FAIL {2}status-list: the status list from .*forged\.jws does not verify with the registry's keys: /m,
      ],
      [
        'elsewhere.jws',
        /^FAIL {2}status-list: the status list from .*elsewhere\.jws is https:\/\/other\.example\/api\/v1\/status\/revocation, not the credential's/m,
      ],
    ] as const) {
      const r = await verifyCli([pdf, '--jwks', jwks, '--status-list', file(name)]);
      assertTidy(r, name);
      assert.equal(r.code, 1, `${name}: ${r.stdout}`);
      assert.match(r.stdout, failing, name);
      assert.ok(r.stdout.endsWith('NOT VALID\n'), name);
    }
    const missing = await verifyCli([pdf, '--jwks', jwks, '--status-list', file('missing.jws')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read .*missing\.jws.*no such file/);
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
