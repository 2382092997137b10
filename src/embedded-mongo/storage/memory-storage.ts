/** Storage for a purely in-memory server (tests, `--inMemory`): nothing is written, appends resolve at once. */
import type { Document } from 'bson';
import type { DurableStorage, RecoveryStats } from './types';

export function openMemoryStorage(): DurableStorage {
  let closed = false;
  const whenOpen = (): Promise<void> =>
    closed ? Promise.reject(new Error('storage is closed')) : Promise.resolve();
  return {
    recover(): RecoveryStats {
      return { snapshotRecords: 0, journalRecords: 0, truncatedBytes: 0, millis: 0 };
    },
    append: (_record: Document) => whenOpen(),
    journalBytes: 0,
    compact: (_dump: () => Iterable<Document>) => whenOpen(),
    close(): Promise<void> {
      closed = true;
      return Promise.resolve();
    },
  };
}
