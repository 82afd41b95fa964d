import { randomUUID } from 'node:crypto';
import { invalidParameter, KilnError, type Logger, silentLogger } from '../../core/index.js';
import type { Database } from '../database/database.js';
import { causeText } from '../database/failure.js';
import { EventHub } from './events.js';
import { JobTable, toJobInfo } from './local-jobs.js';
import { LocalWorker } from './local-worker.js';
import type { QueueTables } from './migrations.js';
import type { EnqueueOptions, JobInfo, JobProcessor, JobState, Queue, QueueEvent, Worker } from './queue.js';
import { checkConcurrency, checkEnqueue, checkQueueName, checkTimeout, isPossibleJobId } from './validate.js';
import { waitUntilFinished } from './wait.js';

/** Settings of {@link LocalQueue.open}. */
export interface LocalQueueOptions {
  /** The metadata database, migrated with STORE_MIGRATIONS; the caller owns and closes it. */
  database: Database;
  logger?: Logger;
  /** How long a claimed job stays with its worker without a heartbeat; default 30 s. */
  leaseMs?: number;
  /** How often an idle worker looks for due jobs it was not woken for; default 250 ms. */
  pollMs?: number;
  /** Completed and failed jobs are deleted this long after finishing; default 7 days. */
  retentionMs?: number;
}

const PRUNE_EVERY_MS = 3600 * 1000;

function checkPositive(field: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min)
    throw invalidParameter(field, `must be an integer of at least ${min}`, value);
  return value;
}

/**
 * The embedded queue: jobs are rows of `kiln_jobs` in the metadata database and run in this
 * process. An enqueue is acknowledged only after its row is committed, so it survives a crash;
 * a job whose process died mid-run is reclaimed once its lease expires and retried (counting as
 * an attempt). Several processes may share one database: claims are transactional. Events
 * reach `on` listeners of this process only; `waitFor` also polls, so it sees jobs other
 * processes run.
 *
 * @example
 * await migrate(database, STORE_MIGRATIONS, logger);
 * const queue = await LocalQueue.open({ database, logger });
 * queue.process('train', async (job) => train(job.data), { concurrency: 2 });
 * const job = await queue.enqueue('train', 'gbdt', { datasetId: 'd1' });
 */
export class LocalQueue implements Queue {
  readonly kind = 'local' as const;
  readonly #database: Database;
  readonly #jobs: JobTable;
  readonly #logger: Logger;
  readonly #hub: EventHub;
  readonly #leaseMs: number;
  readonly #pollMs: number;
  readonly #retentionMs: number;
  readonly #workers = new Map<string, Set<LocalWorker>>();
  #lastPrune = 0;
  #closed = false;

  private constructor(options: LocalQueueOptions) {
    this.#database = options.database;
    this.#jobs = new JobTable(options.database);
    this.#logger = options.logger ?? silentLogger();
    this.#hub = new EventHub(this.#logger);
    this.#leaseMs = checkPositive('leaseMs', options.leaseMs ?? 30_000, 100);
    this.#pollMs = checkPositive('pollMs', options.pollMs ?? 250, 10);
    this.#retentionMs = checkPositive('retentionMs', options.retentionMs ?? 7 * 24 * 3600 * 1000, 0);
  }

  /** Opens the queue after checking that the database answers and holds `kiln_jobs`. */
  static async open(options: LocalQueueOptions): Promise<LocalQueue> {
    const queue = new LocalQueue(options);
    await options.database.ping();
    try {
      await options.database.kysely.withTables<QueueTables>().selectFrom('kiln_jobs').select('id').limit(1).execute();
    } catch (err) {
      throw new KilnError(
        'INVALID_STATE',
        `Database ${options.database.displayUrl} has no kiln_jobs table (${causeText(err)}): run migrate(database, STORE_MIGRATIONS) first`,
        { url: options.database.displayUrl },
        { cause: err },
      );
    }
    return queue;
  }

  async enqueue<D>(queue: string, name: string, data: D, options: EnqueueOptions = {}): Promise<JobInfo<D>> {
    this.#assertOpen();
    const checked = checkEnqueue(queue, name, data, options);
    const { row, created } = await this.#jobs.insert(checked, checked.jobId ?? randomUUID());
    if (created) {
      for (const worker of this.#workers.get(checked.queue) ?? []) worker.wakeIn(checked.delayMs);
    }
    return toJobInfo(row) as JobInfo<D>;
  }

  async getJob(queue: string, id: string): Promise<JobInfo | undefined> {
    checkQueueName(queue);
    if (!isPossibleJobId(id)) return undefined;
    const row = await this.#jobs.find(queue, id);
    return row === undefined ? undefined : toJobInfo(row);
  }

  process<D, R>(queue: string, processor: JobProcessor<D, R>, options: { concurrency?: number } = {}): Worker {
    this.#assertOpen();
    checkQueueName(queue);
    if (typeof processor !== 'function') throw invalidParameter('processor', 'must be a function');
    const worker = new LocalWorker(processor as JobProcessor<unknown, unknown>, {
      queue,
      jobs: this.#jobs,
      hub: this.#hub,
      logger: this.#logger,
      concurrency: checkConcurrency(options.concurrency),
      leaseMs: this.#leaseMs,
      pollMs: this.#pollMs,
      onIdle: () => this.#pruneNowAndThen(),
    });
    let workers = this.#workers.get(queue);
    if (workers === undefined) {
      workers = new Set();
      this.#workers.set(queue, workers);
    }
    workers.add(worker);
    return {
      close: async (timeoutMs?: number) => {
        await worker.close(timeoutMs);
        this.#workers.get(queue)?.delete(worker);
      },
    };
  }

  async waitFor(queue: string, id: string, timeoutMs: number): Promise<JobInfo> {
    checkQueueName(queue);
    checkTimeout('timeoutMs', timeoutMs);
    return waitUntilFinished({
      queue,
      id,
      timeoutMs,
      pollMs: this.#pollMs,
      read: () => this.getJob(queue, id),
      subscribe: (changed) => this.#hub.onJob(queue, id, changed),
    });
  }

  on(listener: (event: QueueEvent) => void): () => void {
    return this.#hub.on(listener);
  }

  counts(queue: string): Promise<Record<JobState, number>> {
    checkQueueName(queue);
    return this.#jobs.counts(queue);
  }

  ping(): Promise<void> {
    return this.#database.ping();
  }

  /** Closes every worker, waiting for its jobs; the database stays open (its owner closes it). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const workers = [...this.#workers.values()].flatMap((set) => [...set]);
    await Promise.all(workers.map((worker) => worker.close()));
    this.#workers.clear();
  }

  #pruneNowAndThen(): void {
    const now = Date.now();
    if (now - this.#lastPrune < PRUNE_EVERY_MS) return;
    this.#lastPrune = now;
    this.#jobs
      .prune(new Date(now - this.#retentionMs).toISOString())
      .then((deleted) => {
        if (deleted > 0) this.#logger.info({ deleted }, 'deleted finished jobs past retention');
      })
      .catch((err: unknown) => this.#logger.warn({ err: causeText(err) }, 'pruning finished jobs failed'));
  }

  #assertOpen(): void {
    if (this.#closed) throw new KilnError('INVALID_STATE', 'The queue is closed');
  }
}
