import { KilnError, type Logger, maskSecret, silentLogger } from '../../core/index.js';
import type { Database } from '../database/database.js';
import { BullMQQueue } from './bullmq.js';
import { LocalQueue } from './local.js';
import type { Queue } from './queue.js';

/** What {@link openQueue} needs. */
export interface OpenQueueOptions {
  /** `KILN_QUEUE_URL`: `local` (the default) or `redis://…` / `rediss://…`. */
  url?: string;
  /** The metadata database; the local queue keeps its jobs there. The caller owns and closes it. */
  database: Database;
  logger?: Logger;
  /** Redis key namespace for BullMQ; default `kiln`. Lets several installs (or tests) share one Redis. */
  prefix?: string;
  /**
   * How long a running job stays with its worker without a heartbeat before another worker may
   * take it over; default 30 s. A CPU-bound processor must yield to the event loop more often
   * than this, or its job is presumed dead.
   */
  leaseMs?: number;
}

/**
 * Opens the job queue named by `url`: the durable in-process queue over the metadata database for
 * `local`, BullMQ for `redis://`. Both check their backend before returning: an unreachable Redis
 * is TEMPORARILY_UNAVAILABLE within a few seconds, an unmigrated database INVALID_STATE.
 *
 * @example
 * const database = await openDatabase(config.databaseUrl, { logger });
 * await migrate(database, STORE_MIGRATIONS, logger);
 * const queue = await openQueue({ url: config.queueUrl, database, logger });
 */
export async function openQueue(options: OpenQueueOptions): Promise<Queue> {
  const url = options.url ?? 'local';
  const logger = options.logger ?? silentLogger();
  if (url === 'local') {
    return LocalQueue.open({ database: options.database, logger, leaseMs: options.leaseMs });
  }
  if (/^rediss?:\/\//.test(url)) {
    return BullMQQueue.open({ url, logger, prefix: options.prefix, leaseMs: options.leaseMs });
  }
  throw new KilnError(
    'INVALID_CONFIGURATION',
    `Queue URL '${maskSecret(url)}' is not supported: use local or redis://host:6379`,
    {
      url: maskSecret(url),
    },
  );
}
