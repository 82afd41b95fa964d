import { type KilnConfig, KilnError, type Logger } from '../core/index.js';
import {
  type BlobStore,
  type Database,
  migrate,
  openBlobStore,
  openDatabase,
  openQueue,
  type Queue,
} from '../store/index.js';
import { ALL_MIGRATIONS } from './migrations.js';

/**
 * The three stateful resources one Kiln process holds. Opened once at start-up and handed to
 * every context, so no context keeps a connection of its own.
 *
 * @example
 * const stores = await openStores(config, logger);
 * try { … } finally { await stores.close(); }
 */
export interface Stores {
  readonly database: Database;
  readonly blobs: BlobStore;
  readonly queue: Queue;
  /** Closes the queue, then the blob store, then the database (the queue may use the database). */
  close(): Promise<void>;
}

/** Options of {@link openStores}. */
export interface OpenStoresOptions {
  /**
   * Apply {@link ALL_MIGRATIONS} right after opening the database, before the queue (the local
   * queue keeps its jobs in tables that migrations create). Without it the database must already
   * be migrated, or opening the local queue fails with INVALID_STATE saying so.
   * @default false
   */
  migrate?: boolean;
}

/**
 * Opens the database (pool sized by `databasePoolSize`), the blob store and the queue named by
 * `config`, migrating in between when asked. When a step fails, what is already open is closed
 * before the error is rethrown, so a failed start leaks no connection. A failed migration is
 * INVALID_STATE naming the migration.
 *
 * @example
 * const stores = await openStores(config, logger, { migrate: true });
 */
export async function openStores(config: KilnConfig, logger: Logger, options: OpenStoresOptions = {}): Promise<Stores> {
  const database = await openDatabase(config.databaseUrl, {
    poolSize: config.databasePoolSize,
    logger,
    checkTransactions: config.checkTransactions,
  });
  let blobs: BlobStore | undefined;
  try {
    if (options.migrate === true) await migrateOrFail(database, logger);
    blobs = openBlobStore({ url: config.artifactsUrl, s3Endpoint: config.s3Endpoint, s3Region: config.s3Region });
    const queue = await openQueue({ url: config.queueUrl, database, logger, prefix: config.queuePrefix });
    let closing: Promise<void> | undefined;
    const opened = blobs;
    return {
      database,
      blobs: opened,
      queue,
      close() {
        closing ??= (async () => {
          try {
            await queue.close();
          } finally {
            try {
              await opened.close();
            } finally {
              await database.close();
            }
          }
        })();
        return closing;
      },
    };
  } catch (err) {
    await blobs?.close().catch((closeErr: unknown) => logger.warn({ err: closeErr }, 'closing the blob store failed'));
    await database.close().catch((closeErr: unknown) => logger.warn({ err: closeErr }, 'closing the database failed'));
    throw err;
  }
}

async function migrateOrFail(database: Database, logger: Logger): Promise<void> {
  const report = await migrate(database, ALL_MIGRATIONS, logger);
  if (report.error !== undefined) {
    throw new KilnError(
      'INVALID_STATE',
      `Database migration ${report.error.id} failed: ${report.error.message}; nothing was started`,
      { migration: report.error.id, applied: report.applied },
    );
  }
}
