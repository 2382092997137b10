/**
 * `npm run docs:env`: rewrites README.md's configuration table from ENV_VARS (src/config.ts), so
 * the variables are described in one place. The table runs from its header row to the next blank
 * line; everything around it is left as it is.
 *
 *   npm run docs:env             rewrite README.md (prints whether it changed)
 *   npm run docs:env -- --check  exit 1 when README.md's table is out of date, writing nothing
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { envVarsMarkdownTable } from '../src/config';

const HEADER = envVarsMarkdownTable().split('\n')[0]!;

/** `readme` with its configuration table replaced by `table`; throws when it has no such table. */
export function rewriteEnvTable(readme: string, table = envVarsMarkdownTable()): string {
  const lines = readme.split('\n');
  const start = lines.findIndex((l) => l.trim() === HEADER);
  if (start < 0) throw new Error(`README has no configuration table (a line "${HEADER}")`);
  let end = start;
  while (end < lines.length && lines[end]!.trim() !== '') end++;
  return [...lines.slice(0, start), ...table.split('\n'), ...lines.slice(end)].join('\n');
}

function main(args: string[]): number {
  const file = path.resolve(__dirname, '..', 'README.md');
  const before = readFileSync(file, 'utf8');
  const after = rewriteEnvTable(before);
  if (after === before) {
    process.stdout.write('README.md: configuration table is up to date\n');
    return 0;
  }
  if (args.includes('--check')) {
    process.stderr.write('README.md: configuration table is out of date; run `npm run docs:env`\n');
    return 1;
  }
  writeFileSync(file, after);
  process.stdout.write('README.md: configuration table rewritten from ENV_VARS\n');
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
