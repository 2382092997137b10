import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Document } from 'bson';
import { openDurableStorage, type FileStorageOptions } from '../../../src/embedded-mongo/storage';
import type { RecoveryStats } from '../../../src/embedded-mongo/storage';

/** A fresh temp dir per test, removed afterwards (register inside a describe). */
export function useTempDirs(): () => string {
  const made: string[] = [];
  afterEach(() => {
    for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'emb-storage-'));
    made.push(dir);
    return dir;
  };
}

/** Opens, recovers everything, closes: what a restarted server would see. */
export async function reopen(
  dir: string,
  opts?: FileStorageOptions,
): Promise<{ records: Document[]; stats: RecoveryStats }> {
  const storage = await openDurableStorage(dir, opts);
  const records: Document[] = [];
  try {
    const stats = storage.recover((r) => records.push(r));
    return { records, stats };
  } finally {
    await storage.close();
  }
}

/** Appends each record in order (concurrently, as an engine would) and closes. */
export async function writeRecords(dir: string, records: Document[]): Promise<void> {
  const storage = await openDurableStorage(dir);
  storage.recover(() => undefined);
  await Promise.all(records.map((r) => storage.append(r)));
  await storage.close();
}

export const journalPath = (dir: string, gen = 0): string =>
  path.join(dir, `journal-${String(gen).padStart(6, '0')}.log`);
