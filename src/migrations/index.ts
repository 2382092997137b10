/**
 * The registry's migrations and what start-up does with them: run them (unless
 * MIGRATE_ON_START=false), then check the invariant indexes; production refuses to start
 * without them, since the code relies on them instead of checking the invariants itself.
 */
import mongoose from 'mongoose';
import type { Logger } from '../logger';
import { certificateCodes } from './certificate-codes';
import {
  buildDeclaredIndexes,
  describeIndex,
  indexFingerprint,
  missingInvariantIndexes,
} from './indexes';
import { runMigrations, type Migration, type RunResult } from './runner';
import { reviewKeysStep } from './review-keys';
import { unconfirmedHoldNoCode } from './unconfirmed-hold-no-code';

export { MIGRATIONS_COLLECTION, runMigrations, type Migration, type RunResult } from './runner';
export { declaredIndexes, missingInvariantIndexes } from './indexes';

/** Data steps, in order. Add new ones at the end; never edit or remove a released one. */
const DATA_STEPS: readonly Migration[] = [certificateCodes, unconfirmedHoldNoCode, reviewKeysStep];

/**
 * The ordered steps: the data steps, then building the indexes the models declare. The index
 * step's id carries a fingerprint of the declarations, so changing or adding an index in a
 * model builds it once more on the next migrate (indexes are never dropped here: an older
 * instance still running during a rolling deploy may need them; dropping is a data step).
 */
export function migrationSteps(): Migration[] {
  return [
    ...DATA_STEPS,
    {
      id: `indexes-${indexFingerprint()}`,
      description: 'build the indexes the models declare',
      up: () => buildDeclaredIndexes(),
    },
  ];
}

/**
 * Runs the pending steps; then, if an invariant index is missing even so (dropped by hand after
 * its step was recorded), builds the declared indexes again rather than trusting the record.
 */
export async function migrate(logger: Logger): Promise<RunResult> {
  const db = mongoose.connection.db!;
  const result = await runMigrations(db, migrationSteps(), { logger });
  const missing = await missingInvariantIndexes(db);
  if (missing.length > 0) {
    logger.warn(
      { missing: missing.map(describeIndex) },
      'invariant indexes missing although recorded as built: building them again',
    );
    await buildDeclaredIndexes();
  }
  return result;
}

export class MissingIndexError extends Error {
  constructor(readonly missing: readonly string[]) {
    super(`invariant indexes are missing (run \`npm run migrate\`): ${missing.join('; ')}`);
    this.name = 'MissingIndexError';
  }
}

export interface PrepareOptions {
  migrateOnStart: boolean;
  isProduction: boolean;
  logger: Logger;
}

/** Start-up: migrate if configured to, then refuse (production) or warn when an invariant index is missing. */
export async function prepareDatabase(options: PrepareOptions): Promise<void> {
  const { logger } = options;
  if (options.migrateOnStart) {
    const { applied } = await migrate(logger);
    if (applied.length > 0) logger.info({ applied }, 'migrations applied');
  }
  const missing = (await missingInvariantIndexes(mongoose.connection.db!)).map(describeIndex);
  if (missing.length === 0) return;
  if (options.isProduction) throw new MissingIndexError(missing);
  logger.warn(
    { missing },
    'invariant indexes are missing; autoIndex is building them (production would refuse to start)',
  );
}
