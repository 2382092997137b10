/**
 * `npm run migrate`: applies the pending migrations (src/migrations) to the configured database
 * and lists what it did; safe to run while instances are up and safe to run twice. Exit 1 if a
 * step fails or an invariant index is still missing afterwards.
 */
import mongoose from 'mongoose';
import { ConfigError, loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { migrate, missingInvariantIndexes } from '../src/migrations';
import { withToolDatabase } from './tool-db';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    process.stderr.write(`${err instanceof ConfigError ? err.message : String(err)}\n`);
    process.exit(1);
  }
  const logger = createLogger({ level: config.logLevel === 'info' ? 'warn' : config.logLevel });
  await withToolDatabase(config, logger, async () => {
    const { applied, skipped } = await migrate(logger);
    for (const id of skipped) process.stdout.write(`already applied  ${id}\n`);
    for (const id of applied) process.stdout.write(`applied          ${id}\n`);
    const missing = await missingInvariantIndexes(mongoose.connection.db!);
    if (missing.length > 0)
      throw new Error(
        `invariant indexes still missing: ${missing.map((m) => m.collection).join(', ')}`,
      );
    process.stdout.write(
      applied.length ? `${applied.length} migration(s) applied\n` : 'nothing to migrate\n',
    );
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`migrate failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
