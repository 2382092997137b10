/**
 * Checks a certificate PDF without the registry's database:
 *   npm run verify -- cert.pdf --jwks jwks.json [--online https://registry.example]
 * With --jwks it works fully offline; --online fetches the published keys (unless --jwks is
 * given) and adds the registry's current status. Exit code 0 only when every check passes,
 * 1 when one fails, 2 when the command could not run (its message says why).
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { verifyCertificatePdf, type Jwks, type VerificationCheck } from '../certificates';

export const USAGE = `Usage: npm run verify -- cert.pdf --jwks jwks.json [--online URL]
       npm run verify -- cert.pdf --online https://registry.example

Checks a certificate PDF issued by the registry: the signed credential attached to it, its
Ed25519 signature against the registry's public keys, that it describes this very page, and the
PDF's own signature.

  --jwks FILE    the registry's public keys, saved from GET /.well-known/jwks.json, e.g.
                 curl -o jwks.json https://registry.example/.well-known/jwks.json
                 (with it the check needs no network)
  --online URL   the registry's address: fetch the keys from it (unless --jwks is given) and
                 ask whether the certificate is still valid (not revoked or withdrawn)
  -h, --help     show this text

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

const ERRNO: Record<string, string> = { ENOENT: 'no such file', EISDIR: 'it is a directory', EACCES: 'permission denied', EPERM: 'permission denied' };

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
  if (!parsed.success) throw new VerifyCliError(`${source} is not a JSON Web Key Set (expected {"keys": [...]}, as GET /.well-known/jwks.json returns)`);
  return parsed.data as Jwks;
}

async function fetchJson(url: string): Promise<{ status: number; body: unknown; text: string }> {
  let res: Response;
  try {
    res = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(20_000) });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new VerifyCliError(`cannot reach ${url}: ${cause?.code ?? cause?.message ?? (e as Error).message}`);
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

export async function verifyFile(file: string, opts: { jwks?: string; online?: string }): Promise<{ valid: boolean; checks: VerificationCheck[] }> {
  const bytes = new Uint8Array(readFile(file));
  const online = opts.online?.replace(/\/+$/, '');
  let jwks: Jwks;
  if (opts.jwks) jwks = parseJwks(readFile(opts.jwks).toString('utf8'), opts.jwks);
  else if (online) {
    const url = `${online}/.well-known/jwks.json`;
    const r = await fetchJson(url);
    if (r.status !== 200) throw new VerifyCliError(`${url} answered ${r.status}, not the registry's keys`);
    jwks = parseJwks(r.text, url);
  } else throw new VerifyCliError('give --jwks FILE (offline) or --online URL (to fetch the published keys)', true);
  const result = await verifyCertificatePdf(bytes, jwks);
  const checks = [...result.checks];
  if (online) {
    const serial = result.credential?.serialNumber;
    if (!serial) checks.push({ name: 'status', ok: false, reason: 'no verified credential to read a serial from' });
    else {
      const r = await fetchJson(`${online}/api/v1/certificates/${encodeURIComponent(serial)}`);
      const status = (r.body as { status?: string } | null)?.status;
      checks.push(r.status === 200 && status === 'valid' ? { name: 'status', ok: true } : { name: 'status', ok: false, reason: r.status === 200 ? `the certificate is ${status}` : `the registry answered ${r.status}` });
    }
  }
  return { valid: checks.every((c) => c.ok), checks };
}

const OPTIONS = { jwks: { type: 'string' }, online: { type: 'string' } } as const;

/** The command line, with node:util's parse errors in the words of this command. */
function parseCommandLine(argv: string[]) {
  try {
    return parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
  } catch (e) {
    const { code, message } = e as { code?: string; message: string };
    const option = /'(-[^' ]+)/.exec(message)?.[1] ?? '';
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new VerifyCliError(`unknown option '${option}'`, true);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') throw new VerifyCliError(`option ${option} needs a value`, true);
    throw new VerifyCliError(message.charAt(0).toLowerCase() + message.slice(1), true);
  }
}

export async function main(argv: string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const end = argv.indexOf('--');
  const options = end < 0 ? argv : argv.slice(0, end);
  if (options.includes('--help') || options.includes('-h')) {
    out.write(USAGE);
    return 0;
  }
  try {
    const parsed = parseCommandLine(argv);
    const { values, positionals } = parsed;
    if (positionals.length !== 1) throw new VerifyCliError(positionals.length ? `one certificate at a time (got ${positionals.length} files)` : 'which certificate? give the PDF file', true);
    const { valid, checks } = await verifyFile(positionals[0]!, values);
    for (const c of checks) out.write(`${c.ok ? 'PASS' : 'FAIL'}  ${c.name}${c.reason ? `: ${c.reason}` : ''}\n`);
    out.write(valid ? 'VALID\n' : 'NOT VALID\n');
    return valid ? 0 : 1;
  } catch (e) {
    // One line, ending in a newline, and no stack: the reader is someone checking a certificate.
    const message = (e as Error).message.replace(/\s+$/, '');
    err.write(`verify: ${message}\n`);
    if (e instanceof VerifyCliError && e.usage) err.write('Run "npm run verify -- --help" for the usage.\n');
    return 2;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2), process.stdout, process.stderr).then((code) => {
    // Exit once the output is written (an idle keep-alive socket from --online must not hold the process).
    process.stdout.write('', () => process.exit(code));
  });
}
