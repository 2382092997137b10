/**
 * The indexes the models declare, as data: built by a migration step, fingerprinted so a
 * changed declaration gets built once more, and checked at start because some of them carry
 * invariants (one open pledge per USCC, gapless sequence and founding numbers, one current
 * certificate per pledge) that the code relies on instead of checking itself.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import mongoose from 'mongoose';

const MODELS_DIR = path.resolve(__dirname, '../../models');

/** Loads every model file (sources or dist/), so the declarations are complete whatever the caller imported. */
function loadAllModels(): void {
  for (const file of fs.readdirSync(MODELS_DIR)) {
    if (/\.(ts|js)$/.test(file) && !file.endsWith('.d.ts')) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require(path.join(MODELS_DIR, file));
    }
  }
}

export interface DeclaredIndex {
  readonly collection: string;
  readonly key: Readonly<Record<string, 1 | -1 | string>>;
  readonly unique: boolean;
  readonly sparse: boolean;
  readonly partialFilterExpression?: Readonly<Record<string, unknown>>;
  readonly expireAfterSeconds?: number;
}

/** Unique indexes are the invariant ones: without them the database accepts what must never be. */
export function isInvariant(index: DeclaredIndex): boolean {
  return index.unique;
}

export function declaredIndexes(): DeclaredIndex[] {
  loadAllModels();
  const out: DeclaredIndex[] = [];
  for (const name of [...mongoose.modelNames()].sort()) {
    const model = mongoose.model(name);
    for (const [key, options] of model.schema.indexes()) {
      const o = options as Record<string, unknown>;
      out.push({
        collection: model.collection.collectionName,
        key: key as DeclaredIndex['key'],
        unique: o.unique === true,
        sparse: o.sparse === true,
        ...(o.partialFilterExpression
          ? { partialFilterExpression: o.partialFilterExpression as Record<string, unknown> }
          : {}),
        ...(typeof o.expireAfterSeconds === 'number'
          ? { expireAfterSeconds: o.expireAfterSeconds }
          : {}),
      });
    }
  }
  return out;
}

export function describeIndex(index: DeclaredIndex): string {
  const flags = [
    index.unique && 'unique',
    index.sparse && 'sparse',
    index.partialFilterExpression && 'partial',
  ].filter(Boolean);
  return `${index.collection} ${JSON.stringify(index.key)}${flags.length ? ` (${flags.join(', ')})` : ''}`;
}

/** Changes whenever a declaration does, so the index step of the migrations runs again. */
export function indexFingerprint(indexes: readonly DeclaredIndex[] = declaredIndexes()): string {
  const canonical = indexes.map((i) =>
    JSON.stringify([
      i.collection,
      Object.entries(i.key),
      i.unique,
      i.sparse,
      i.partialFilterExpression ?? null,
      i.expireAfterSeconds ?? null,
    ]),
  );
  return createHash('sha256').update(canonical.sort().join('\n')).digest('hex').slice(0, 16);
}

/** Builds every declared index and waits for the builds (createIndexes is a no-op for existing ones). */
export async function buildDeclaredIndexes(): Promise<void> {
  loadAllModels();
  for (const name of [...mongoose.modelNames()].sort()) {
    await mongoose.model(name).createIndexes();
  }
}

interface ExistingIndex {
  key: Record<string, unknown>;
  unique?: boolean;
  sparse?: boolean;
  partialFilterExpression?: Record<string, unknown>;
}

/** Declared invariant indexes the database does not have (same key, unique, sparse and filter). */
export async function missingInvariantIndexes(db: mongoose.mongo.Db): Promise<DeclaredIndex[]> {
  const existing = new Map<string, ExistingIndex[]>();
  const missing: DeclaredIndex[] = [];
  for (const want of declaredIndexes().filter(isInvariant)) {
    let have = existing.get(want.collection);
    if (!have) {
      have = (await db
        .collection(want.collection)
        .listIndexes()
        .toArray()
        .catch((e: unknown) => {
          // No collection yet means no indexes yet.
          if ((e as { code?: number }).code === 26) return [];
          throw e;
        })) as ExistingIndex[];
      existing.set(want.collection, have);
    }
    const key = JSON.stringify(Object.entries(want.key));
    const found = have.some(
      (h) =>
        JSON.stringify(Object.entries(h.key)) === key &&
        h.unique === true &&
        (h.sparse === true) === want.sparse &&
        JSON.stringify(h.partialFilterExpression ?? null) ===
          JSON.stringify(want.partialFilterExpression ?? null),
    );
    if (!found) missing.push(want);
  }
  return missing;
}
