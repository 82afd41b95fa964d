export type { Database, FoundationTables, Migration, MigrationReport, SqlDialect } from './database/database.js';
export { openDatabase, type OpenDatabaseOptions } from './database/open.js';
export { migrate } from './database/migrate.js';
export { STORE_MIGRATIONS } from './database/migrations.js';
export { isUniqueViolation, nowIso } from './database/sql.js';
export type {
  BlobBody,
  BlobListOptions,
  BlobListPage,
  BlobPutResult,
  BlobRange,
  BlobStat,
  BlobStore,
} from './blob/blob-store.js';
export { openBlobStore, type OpenBlobStoreOptions } from './blob/open.js';
export { canonicalKey } from './paths.js';
export type {
  EnqueueOptions,
  JobContext,
  JobInfo,
  JobProcessor,
  JobState,
  Queue,
  QueueEvent,
  Worker,
} from './queue/queue.js';
export { openQueue, type OpenQueueOptions } from './queue/open.js';
