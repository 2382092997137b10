/**
 * Checks a certificate PDF without the registry's database:
 *   npm run verify -- cert.pdf --jwks jwks.json [--vkey VKEY] [--status-list revocation.jws] [--online https://registry.example]
 * With --jwks it works fully offline: the credential and its signature, the PDF's signature, and
 * the transparency-log proof (log-proof.json) against the log's verifier key (--vkey, else the one
 * the signed credential carries). --status-list adds the revocation bit from a saved status list;
 * --online fetches the published keys (unless --jwks is given), the status list, the log's newest
 * checkpoint with a consistency proof, and the registry's current status. Exit code 0 only when
 * every check passes, 1 when one fails, 2 when the command could not run (its message says why).
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import {
  extractAttachment,
  LOG_PROOF_FILENAME,
  verifyCertificatePdf,
  type Jwks,
  type VerificationCheck,
} from '../certificates';
import {
  checkConsistency,
  checkLogProof,
  checkStatusList,
  verifierOf,
} from '../src/transparency/offline';

export const USAGE = `Usage: npm run verify -- cert.pdf --jwks jwks.json [--vkey VKEY] [--status-list FILE] [--online URL]
       npm run verify -- cert.pdf --online https://registry.example

Checks a certificate PDF issued by the registry: the signed credential attached to it, its
Ed25519 signature against the registry's public keys, that it describes this very page, the
PDF's own signature, and the proof (log-proof.json) that the registry's public transparency log
recorded this very credential.

  --jwks FILE         the registry's public keys, saved from GET /.well-known/jwks.json, e.g.
                      curl -o jwks.json https://registry.example/.well-known/jwks.json
                      (with it the check needs no network)
  --vkey VKEY         the log's verifier key, as GET /log/vkey prints it (or a file holding it);
                      without it the key carried in the signed credential is used
  --status-list FILE  a status list saved from GET /api/v1/status/revocation (signed, checked
                      with the keys): says whether the certificate was revoked, offline
  --online URL        the registry's address: fetch the keys from it (unless --jwks is given),
                      its revocation list, its newest log checkpoint (which must extend the one
                      in the certificate), and ask whether the certificate is still valid (not
                      revoked or withdrawn)
  -h, --help          show this text

Exit codes: 0 every check passed (VALID); 1 a check failed (NOT VALID); 2 the command could not
run (a wrong option, an unreadable file, an unreachable registry).
`;

/** A problem with how the command was run or what it was given: reported as one line, exit 2. */
export class VerifyCliError extends Error {
  constructor(
    message: string,
    readonly usage = false,
  ) {
    super(message);
    this.name = 'VerifyCliError';
  }
}

const ERRNO: Record<string, string> = {
  ENOENT: 'no such file',
  EISDIR: 'it is a directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
};

function readFile(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    throw new VerifyCliError(`cannot read ${file}: ${ERRNO[code] ?? (e as Error).message}`);
  }
}

// Only the shape the checks rely on; which keys are usable is the verifier's business.
const JwksShape = z.object({ keys: z.array(z.object({ kty: z.string() }).loose()) }).loose();

function parseJwks(text: string, source: string): Jwks {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON at all: reported below with the shape
  }
  const parsed = JwksShape.safeParse(json);
  if (!parsed.success)
    throw new VerifyCliError(
      `${source} is not a JSON Web Key Set (expected {"keys": [...]}, as GET /.well-known/jwks.json returns)`,
    );
  return parsed.data as Jwks;
}

async function fetchJson(url: string): Promise<{ status: number; body: unknown; text: string }> {
  let res: Response;
  try {
    res = await fetch(url, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(20_000),
    });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new VerifyCliError(
      `cannot reach ${url}: ${cause?.code ?? cause?.message ?? (e as Error).message}`,
    );
  }
  const text = await res.text().catch(() => '');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = null;
  }
  return { status: res.status, body, text };
}

/** A verifier key given on the command line, or the file holding one. */
function vkeyOption(value: string): string {
  if (typeof verifierOf(value) !== 'string') return value.trim();
  if (!fs.existsSync(value))
    throw new VerifyCliError(
      `--vkey is neither a verifier key (<name>+<key ID>+<key>, as GET /log/vkey prints) nor a file: ${verifierOf(value) as string}`,
      true,
    );
  const text = readFile(value).toString('utf8').trim();
  const bad = verifierOf(text);
  if (typeof bad === 'string')
    throw new VerifyCliError(`${value} does not hold a verifier key: ${bad}`);
  return text;
}

async function fetchText(url: string, what: string): Promise<string> {
  const r = await fetchJson(url);
  if (r.status !== 200) throw new VerifyCliError(`${url} answered ${r.status}, not ${what}`);
  return r.text;
}

export async function verifyFile(
  file: string,
  opts: { jwks?: string; online?: string; vkey?: string; 'status-list'?: string },
): Promise<{ valid: boolean; checks: VerificationCheck[] }> {
  const bytes = new Uint8Array(readFile(file));
  const online = opts.online?.replace(/\/+$/, '');
  let jwks: Jwks;
  if (opts.jwks) jwks = parseJwks(readFile(opts.jwks).toString('utf8'), opts.jwks);
  else if (online) {
    const url = `${online}/.well-known/jwks.json`;
    const r = await fetchJson(url);
    if (r.status !== 200)
      throw new VerifyCliError(`${url} answered ${r.status}, not the registry's keys`);
    jwks = parseJwks(r.text, url);
  } else
    throw new VerifyCliError(
      'give --jwks FILE (offline) or --online URL (to fetch the published keys)',
      true,
    );
  const givenVkey = opts.vkey === undefined ? undefined : vkeyOption(opts.vkey);
  const statusListFile = opts['status-list'];
  const statusList =
    statusListFile === undefined ? undefined : readFile(statusListFile).toString('utf8');
  const result = await verifyCertificatePdf(bytes, jwks);
  const checks = [...result.checks];

  // The log proof: against --vkey, else the key the (verified) credential carries.
  let proofText: string | undefined;
  try {
    proofText = result.jws ? await extractAttachment(bytes, LOG_PROOF_FILENAME) : undefined;
  } catch {
    proofText = undefined; // the PDF checks above already say why it cannot be read
  }
  const carried = result.credential?.logVerifierKey;
  const log = checkLogProof({
    proofText,
    jws: result.jws,
    credential: result.credential,
    vkey: givenVkey ?? carried,
    vkeySource: givenVkey ? '--vkey' : 'the signed credential',
  });
  checks.push(...log.checks);

  if (statusList !== undefined)
    checks.push(checkStatusList(statusList, jwks, result.credential, statusListFile!));
  if (online) {
    checks.push(
      checkStatusList(
        await fetchText(`${online}/api/v1/status/revocation`, 'a status list'),
        jwks,
        result.credential,
        `${online}/api/v1/status/revocation`,
      ),
    );
    if (log.checkpoint && log.verifier) {
      const newest = await fetchText(`${online}/log/checkpoint`, "the log's checkpoint");
      const size = /^[^\n]*\n(\d+)\n/.exec(newest)?.[1];
      let proof: string[] | null = null;
      if (size && Number(size) > log.checkpoint.size) {
        const r = await fetchJson(
          `${online}/api/v1/log/consistency?from=${log.checkpoint.size}&to=${size}`,
        );
        const body = r.body as { proof?: unknown } | null;
        proof =
          r.status === 200 && Array.isArray(body?.proof)
            ? body.proof.filter((h): h is string => typeof h === 'string')
            : null;
      }
      checks.push(checkConsistency(log.checkpoint, log.verifier, newest, proof));
    } else
      checks.push({
        name: 'log-consistency',
        ok: false,
        code: 'no-checkpoint',
        reason: "no verified checkpoint in the certificate to compare the log's newest with",
      });

    const serial = result.credential?.serialNumber;
    if (!serial)
      checks.push({
        name: 'status',
        ok: false,
        reason: 'no verified credential to read a serial from',
      });
    else {
      const r = await fetchJson(`${online}/api/v1/certificates/${encodeURIComponent(serial)}`);
      const status = (r.body as { status?: string } | null)?.status;
      checks.push(
        r.status === 200 && status === 'valid'
          ? { name: 'status', ok: true, detail: `the registry says ${serial} is valid` }
          : {
              name: 'status',
              ok: false,
              reason:
                r.status === 200
                  ? `the certificate is ${status}`
                  : `the registry answered ${r.status}`,
            },
      );
    }
  }
  return { valid: checks.every((c) => c.ok), checks };
}

const OPTIONS = {
  jwks: { type: 'string' },
  online: { type: 'string' },
  vkey: { type: 'string' },
  'status-list': { type: 'string' },
} as const;

/** What each passing check of the certificate library established, in words. */
const PASSED: Record<string, string> = {
  'credential-present': 'the PDF carries a signed credential (credential.jws)',
  'credential-signature':
    "the credential's Ed25519 signature verifies with a key of the registry's key set",
  'credential-matches-document': 'the credential was issued for exactly this page (text and fonts)',
  'pdf-signature': "the PDF's own signature covers the whole file and verifies",
  'pdf-signer-trusted': 'the PDF was signed with a registry certificate',
};

/** The command line, with node:util's parse errors in the words of this command. */
function parseCommandLine(argv: string[]) {
  try {
    return parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
  } catch (e) {
    const { code, message } = e as { code?: string; message: string };
    const option = /'(-[^' ]+)/.exec(message)?.[1] ?? '';
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION')
      throw new VerifyCliError(`unknown option '${option}'`, true);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE')
      throw new VerifyCliError(`option ${option} needs a value`, true);
    throw new VerifyCliError(message.charAt(0).toLowerCase() + message.slice(1), true);
  }
}

export async function main(
  argv: string[],
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  const end = argv.indexOf('--');
  const options = end < 0 ? argv : argv.slice(0, end);
  if (options.includes('--help') || options.includes('-h')) {
    out.write(USAGE);
    return 0;
  }
  try {
    const parsed = parseCommandLine(argv);
    const { values, positionals } = parsed;
    if (positionals.length !== 1)
      throw new VerifyCliError(
        positionals.length
          ? `one certificate at a time (got ${positionals.length} files)`
          : 'which certificate? give the PDF file',
        true,
      );
    const { valid, checks } = await verifyFile(positionals[0]!, values);
    for (const c of checks) {
      const words = c.ok ? (c.detail ?? PASSED[c.name]) : c.reason;
      out.write(`${c.ok ? 'PASS' : 'FAIL'}  ${c.name}${words ? `: ${words}` : ''}\n`);
    }
    out.write(valid ? 'VALID\n' : 'NOT VALID\n');
    return valid ? 0 : 1;
  } catch (e) {
    // One line, ending in a newline, and no stack: the reader is someone checking a certificate.
    const message = (e as Error).message.replace(/\s+$/, '');
    err.write(`verify: ${message}\n`);
    if (e instanceof VerifyCliError && e.usage)
      err.write('Run "npm run verify -- --help" for the usage.\n');
    return 2;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2), process.stdout, process.stderr).then((code) => {
    // Exit once the output is written (an idle keep-alive socket from --online must not hold the process).
    process.stdout.write('', () => process.exit(code));
  });
}
