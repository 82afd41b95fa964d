export type {
  BlobBody,
  BlobListOptions,
  BlobListPage,
  BlobPutResult,
  BlobRange,
  BlobStat,
  BlobStore,
} from './blob/blob-store.js';
export { type OpenBlobStoreOptions, openBlobStore } from './blob/open.js';
export type { S3Credentials } from './blob/s3.js';
export type { Database, FoundationTables, Migration, MigrationReport, SqlDialect } from './database/database.js';
export { migrate } from './database/migrate.js';
export { STORE_MIGRATIONS } from './database/migrations.js';
export { type OpenDatabaseOptions, openDatabase } from './database/open.js';
export { isUniqueViolation, nowIso } from './database/sql.js';
export {
  DEFAULT_JOB_PAGE,
  type GivenUpChanges,
  type JobPageRequest,
  type JobRecordKey,
  MAX_JOB_PAGE,
  newestJobRecords,
  pageJobRecords,
  settleGivenUpJob,
} from './job-records.js';
export { decodeKeysetToken, encodeKeysetToken } from './keyset-token.js';
export { canonicalKey, canonicalPrefix } from './paths.js';
export { type OpenQueueOptions, openQueue } from './queue/open.js';
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
