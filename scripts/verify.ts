/**
 * Checks a certificate PDF without the registry's database:
 *   npm run verify -- cert.pdf [--jwks jwks.json] [--online https://registry.example]
 * With --jwks it works fully offline; --online fetches the published keys (unless --jwks is
 * given) and adds the registry's current status. Exit code 0 only when every check passes.
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { verifyCertificatePdf, type Jwks, type VerificationCheck } from '../certificates';

async function fetchJson(url: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { headers: { accept: 'application/json' } });
  return { status: res.status, body: await res.json().catch(() => null) };
}

export async function verifyFile(file: string, opts: { jwks?: string; online?: string }): Promise<{ valid: boolean; checks: VerificationCheck[] }> {
  const bytes = new Uint8Array(fs.readFileSync(file));
  const online = opts.online?.replace(/\/+$/, '');
  let jwks: Jwks;
  if (opts.jwks) jwks = JSON.parse(fs.readFileSync(opts.jwks, 'utf8')) as Jwks;
  else if (online) jwks = (await fetchJson(`${online}/.well-known/jwks.json`)).body as Jwks;
  else throw new Error('give --jwks FILE (offline) or --online URL (to fetch the published keys)');
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

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { jwks: { type: 'string' }, online: { type: 'string' } } });
  if (positionals.length !== 1) {
    process.stderr.write('usage: npm run verify -- cert.pdf [--jwks jwks.json] [--online URL]\n');
    return 2;
  }
  const { valid, checks } = await verifyFile(positionals[0], values);
  for (const c of checks) process.stdout.write(`${c.ok ? 'PASS' : 'FAIL'}  ${c.name}${c.reason ? `: ${c.reason}` : ''}\n`);
  process.stdout.write(valid ? 'VALID\n' : 'NOT VALID\n');
  return valid ? 0 : 1;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`${(e as Error).message}\n`);
      process.exit(2);
    },
  );
}
