/**
 * Backups of the embedded store (MongoDB deployments use mongodump or their provider's snapshots):
 *   npm run db:backup -- --out FILE [--data DIR]    consistent copy while the store runs
 *   npm run db:restore -- --in FILE [--data DIR]    into an empty data directory only
 * DIR defaults to $DATA_DIR/db, where the server keeps the embedded store.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { backupDataDir, restoreDataDir } from '../src/embedded-mongo/backup';

function main(): void {
  const [command, ...rest] = process.argv.slice(2);
  const { values } = parseArgs({
    args: rest,
    options: { out: { type: 'string' }, in: { type: 'string' }, data: { type: 'string' } },
  });
  const dataDir = path.resolve(values.data ?? path.join(process.env.DATA_DIR || './data', 'db'));
  if (command === 'backup' && values.out) {
    const started = performance.now();
    const r = backupDataDir(dataDir, path.resolve(values.out));
    process.stdout.write(
      `backed up ${dataDir} to ${r.file}: ${r.files.map((f) => f.name).join(', ')} (${r.bytes} bytes, ${Math.round(performance.now() - started)} ms)\n`,
    );
  } else if (command === 'restore' && values.in) {
    const files = restoreDataDir(path.resolve(values.in), dataDir);
    process.stdout.write(
      `restored ${files.length} files into ${dataDir}; start the server (or npm run db) on it\n`,
    );
  } else {
    process.stderr.write(
      'usage: npm run db:backup -- --out FILE [--data DIR] | npm run db:restore -- --in FILE [--data DIR]\n',
    );
    process.exit(2);
  }
}

try {
  main();
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
