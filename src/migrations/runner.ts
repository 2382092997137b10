/**
 * A small migration runner: ordered steps, each applied once and recorded in the `migrations`
 * collection (`{ _id: step id, description, appliedAt, ms }`). Chosen over migrate-mongo because
 * the steps must run inside the app's own mongoose connection at start (and against the embedded
 * store), must be awaited before the app serves, and must be safe when several instances start
 * at once; that is a lease and a loop, smaller than adapting a tool with its own config and
 * connection handling.
 */
import { randomUUID } from 'node:crypto';
import mongoose from 'mongoose';
import type { Logger } from '../logger';
import { releaseLease, takeLease } from '../db/lease';

export interface Migration {
  /** Stable and sortable, e.g. `0002-backfill-province`; never renamed once released. */
  readonly id: string;
  readonly description: string;
  /** Must be safe to run again after a crash half-way (the record is written after it). */
  up(db: mongoose.mongo.Db): Promise<void>;
}

export interface MigrationRecord {
  _id: string;
  description: string;
  appliedAt: Date;
  ms: number;
}

export const MIGRATIONS_COLLECTION = 'migrations';
const LEASE_ID = 'migrations';

export interface RunOptions {
  logger: Logger;
  /** How long one runner may hold the lease without renewing it. */
  leaseMs?: number;
  /** How long to wait for another instance's run before giving up. */
  waitMs?: number;
}

export interface RunResult {
  applied: string[];
  skipped: string[];
}

/** Applies the steps not yet recorded, in order, holding a lease so instances take turns. */
export async function runMigrations(
  db: mongoose.mongo.Db,
  steps: readonly Migration[],
  options: RunOptions,
): Promise<RunResult> {
  const ids = steps.map((s) => s.id);
  if (new Set(ids).size !== ids.length)
    throw new Error(`duplicate migration ids: ${ids.join(', ')}`);
  const { logger, leaseMs = 60_000, waitMs = 5 * 60_000 } = options;
  const owner = randomUUID();
  const records = db.collection<MigrationRecord>(MIGRATIONS_COLLECTION);

  const take = () => takeLease(LEASE_ID, owner, leaseMs, db);

  const giveUpAt = Date.now() + waitMs;
  while (!(await take())) {
    if (Date.now() > giveUpAt)
      throw new Error(`another instance held the migrations lease for over ${waitMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
  const renew = setInterval(() => void take().catch(() => undefined), Math.max(1000, leaseMs / 3));
  renew.unref();
  try {
    const done = new Set(
      (await records.find({}, { projection: { _id: 1 } }).toArray()).map((r) => r._id),
    );
    const result: RunResult = { applied: [], skipped: [] };
    for (const step of steps) {
      if (done.has(step.id)) {
        result.skipped.push(step.id);
        continue;
      }
      const started = performance.now();
      logger.info({ migration: step.id }, `migrating: ${step.description}`);
      await step.up(db);
      const ms = Math.round(performance.now() - started);
      await records.insertOne({
        _id: step.id,
        description: step.description,
        appliedAt: new Date(),
        ms,
      });
      logger.info({ migration: step.id, ms }, 'migration applied');
      result.applied.push(step.id);
    }
    return result;
  } finally {
    clearInterval(renew);
    await releaseLease(LEASE_ID, owner, db).catch(() => undefined);
  }
}
