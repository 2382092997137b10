/**
 * Administration from the command line:
 *   npm run cli -- admin:create --email E      (password from stdin, or prompted)
 *   npm run cli -- admin:disable --email E
 *   npm run cli -- audit:verify                (exit 1 when the audit hash chain is broken)
 */
import { parseArgs } from 'node:util';
import { createAdmin, disableAdmin } from '../src/admin/accounts';
import { verifyChain } from '../src/audit/chain';
import { MIN_PASSWORD_LENGTH } from '../src/auth/passwords';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { Email } from '../src/pledges/schemas';
import { isAppError } from '../src/errors';
import { withToolDatabase } from './tool-db';

async function readPassword(): Promise<string> {
  if (!process.stdin.isTTY) {
    let data = '';
    for await (const chunk of process.stdin) data += chunk;
    return data.replace(/\r?\n$/, '');
  }
  process.stdout.write('Password: ');
  process.stdin.setRawMode(true);
  return new Promise((resolve) => {
    let pw = '';
    process.stdin.on('data', (buf: Buffer) => {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          process.stdin.setRawMode(false);
          process.stdin.pause();
          process.stdout.write('\n');
          resolve(pw);
          return;
        }
        if (ch === '\u0003') process.exit(130);
        if (ch === '\u007f') pw = pw.slice(0, -1);
        else pw += ch;
      }
    });
  });
}

const USAGE =
  'usage: npm run cli -- admin:create --email E   (password on stdin or prompted)\n' +
  '       npm run cli -- admin:disable --email E\n' +
  '       npm run cli -- audit:verify\n';

function usage(): number {
  process.stderr.write(USAGE);
  return 2;
}

/** Re-computes the audit hash chain from the first sealed event; a break is exit 1. */
async function auditVerify(): Promise<number> {
  const r = await verifyChain();
  if (r.ok) {
    process.stdout.write(`audit chain intact: ${r.length} sealed events\n`);
    return 0;
  }
  process.stderr.write(
    `audit chain broken at seq ${r.brokenAt}: an event from there on was changed, removed or inserted\n`,
  );
  return 1;
}

async function main(): Promise<number> {
  const [command, ...rest] = process.argv.slice(2);
  if (command === 'audit:verify') {
    if (rest.length) return usage();
    return withToolDatabase(loadConfig(), createLogger({ level: 'warn' }), auditVerify);
  }
  let given: string | undefined;
  try {
    given = parseArgs({ args: rest, options: { email: { type: 'string' } } }).values.email;
  } catch {
    given = undefined; // an unknown option or a missing value is a usage error, like a bad e-mail
  }
  const email = Email.safeParse(given ?? '');
  if (!command || !['admin:create', 'admin:disable'].includes(command) || !email.success) {
    return usage();
  }
  const config = loadConfig();
  const logger = createLogger({ level: 'warn' });
  return withToolDatabase(config, logger, async () => {
    if (command === 'admin:disable') {
      try {
        await disableAdmin({ email: email.data }, 'cli');
      } catch (e) {
        if (!isAppError(e) || e.status >= 500) throw e;
        process.stderr.write(`${e.detail ?? e.title}\n`);
        return 1;
      }
      process.stdout.write(`disabled admin ${email.data}\n`);
      return 0;
    }
    const password = await readPassword();
    if (password.length < MIN_PASSWORD_LENGTH) {
      process.stderr.write(`the password must have at least ${MIN_PASSWORD_LENGTH} characters\n`);
      return 1;
    }
    // The CLI is the way in (also when every admin is locked out): it creates or resets.
    await createAdmin(email.data, password, 'cli', { reset: true });
    process.stdout.write(`admin ${email.data} is ready\n`);
    return 0;
  });
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(1);
  },
);
