export type { DurableStorage, RecoveryStats } from './types';
export {
  openDurableStorage,
  type FileStorage,
  type FileStorageOptions,
  type StorageStats,
} from './file-storage';
export { openMemoryStorage } from './memory-storage';
