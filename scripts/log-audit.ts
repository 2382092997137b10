/**
 * Audits a registry's transparency log from the outside (src/transparency/monitor.ts):
 *   npm run log:audit -- --url https://registry.example [--vkey VKEY] [--state FILE]
 * Exit code 0 when everything the log says matches the registry, 1 when there are differences
 * (each one printed), 2 when the audit could not run.
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { auditLog, type MonitorState } from '../src/transparency/monitor';

export const USAGE = `Usage: npm run log:audit -- --url URL [--vkey VKEY] [--state FILE]

Fetches the registry's checkpoint and every tile and entry of its transparency log, recomputes
the root, checks the log only grew since the last run, and recomputes from the log alone the
founders (1-100), the valid certificates and the revoked serials, comparing them with the
registry's public API.

  --url URL      the registry's address (PUBLIC_URL)
  --vkey VKEY    the log's verifier key (from README or /log/vkey); default: the one remembered
                 in the state file, or on the first run the one the log serves
  --state FILE   where the last checkpoint seen is kept (default .log-audit-state.json)
  -h, --help     show this text

Exit codes: 0 no differences; 1 differences found (listed); 2 the audit could not run.
`;

export async function main(
  argv: string[],
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        url: { type: 'string' },
        vkey: { type: 'string' },
        state: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (e) {
    err.write(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (args.values.help) {
    out.write(USAGE);
    return 0;
  }
  if (!args.values.url) {
    err.write(`--url is required\n\n${USAGE}`);
    return 2;
  }
  const stateFile = args.values.state ?? '.log-audit-state.json';
  let state: MonitorState | null = null;
  if (fs.existsSync(stateFile)) {
    try {
      state = JSON.parse(fs.readFileSync(stateFile, 'utf8')) as MonitorState;
    } catch (e) {
      err.write(`cannot read the state file ${stateFile}: ${(e as Error).message}\n`);
      return 2;
    }
  }
  try {
    const r = await auditLog({ url: args.values.url, vkey: args.values.vkey, state });
    out.write(`log ${r.origin}: ${r.size} entries, root ${r.root}\n`);
    out.write(
      `${state ? `last seen: ${state.size} entries` : 'first run: no earlier checkpoint to compare'}\n`,
    );
    out.write(
      `from the log alone: ${r.founders.length} founders, ${r.activeCertificates} valid certificates, ${r.revoked.length} revoked\n`,
    );
    if (r.state) fs.writeFileSync(stateFile, JSON.stringify(r.state, null, 2) + '\n');
    if (r.differences.length === 0) {
      out.write('OK: the log and the registry agree\n');
      return 0;
    }
    out.write(`DIFFERENCES (${r.differences.length}):\n`);
    for (const d of r.differences) out.write(`  - ${d}\n`);
    return 1;
  } catch (e) {
    err.write(`the audit could not run: ${(e as Error).message}\n`);
    return 2;
  }
}

if (require.main === module) {
  // Exit once the output is written (idle keep-alive sockets must not hold the process).
  void main(process.argv.slice(2)).then((code) =>
    process.stdout.write('', () => process.exit(code)),
  );
}
