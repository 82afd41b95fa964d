import { Worker as BullWorker, type Job, type QueueEventsProducer, UnrecoverableError } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../../core/index.js';
import { LEASE_EXPIRED } from './events.js';
import type { JobContext, JobProcessor, Worker } from './queue.js';
import { throttledWarning } from './redis.js';
import { checkTimeout, failureMessage, MAX_ATTEMPTS, MAX_RESULT_BYTES, progressJson, toJson } from './validate.js';

/** Name of the event a worker publishes on the queue's event stream when an attempt fails and will be retried. */
export const RETRY_EVENT = 'kiln-retrying';

/** BullMQ trims a queue's event stream to about this many entries. */
export const MAX_STREAM_EVENTS = 10_000;

const DEFAULT_CLOSE_TIMEOUT_MS = 30_000;

/** Everything a {@link BullMQWorker} needs from the queue that created it. */
export interface BullMQWorkerSettings {
  queue: string;
  prefix: string;
  connection: Redis;
  concurrency: number;
  leaseMs: number;
  logger: Logger;
  /** Resolves once the queue's event reader runs; the worker starts only then, so no event is missed. */
  ready: Promise<QueueEventsProducer>;
}

const neverAborted = new AbortController().signal;

/**
 * One BullMQ worker running a Kiln processor. Locks last `leaseMs` and are renewed at half of it;
 * every `leaseMs` the worker looks for jobs whose lock expired (their worker died) and moves them
 * back to waiting, which is how a job survives a crashed `kiln worker`.
 *
 * @example
 * const worker = new BullMQWorker(processor, settings);
 * await worker.close(10_000);
 */
export class BullMQWorker implements Worker {
  readonly #worker: BullWorker;
  readonly #started: Promise<void>;
  readonly #logger: Logger;
  #producer: QueueEventsProducer | undefined;
  #stopping = false;
  #closing: Promise<void> | undefined;

  constructor(processor: JobProcessor<unknown, unknown>, settings: BullMQWorkerSettings) {
    this.#logger = settings.logger.child({ queue: settings.queue });
    const run = async (job: Job, _token?: string, signal?: AbortSignal): Promise<unknown> => {
      const attempt = Math.max(job.attemptsStarted, job.attemptsMade + 1);
      if (attempt > job.attemptsMade + 1) await this.#onLostAttempt(job, attempt);
      const context: JobContext = {
        id: job.id ?? '',
        name: job.name,
        data: job.data,
        attempt,
        signal: signal ?? neverAborted,
        async updateProgress(progress) {
          progressJson(progress);
          await job.updateProgress(progress);
        },
      };
      let result: unknown;
      try {
        result = await processor(context);
      } catch (err) {
        if (err instanceof Error) throw err;
        throw new Error(failureMessage(err));
      }
      return JSON.parse(toJson('result', result ?? null, MAX_RESULT_BYTES));
    };
    this.#worker = new BullWorker(settings.queue, run, {
      connection: settings.connection,
      prefix: settings.prefix,
      concurrency: settings.concurrency,
      autorun: false,
      lockDuration: settings.leaseMs,
      stalledInterval: settings.leaseMs,
      // Kiln, not BullMQ's stall counter, decides when a job whose workers keep dying has failed.
      maxStalledCount: MAX_ATTEMPTS,
    });
    this.#worker.on('error', throttledWarning(this.#logger, 'bullmq worker error'));
    this.#started = settings.ready.then(
      (producer) => {
        this.#producer = producer;
        this.#worker.on('failed', (job, err) => {
          // A final failure reaches listeners as BullMQ's own 'failed' event; a retried one has no
          // event of its own, so the worker publishes one for listeners in every process.
          if (job?.id === undefined || job.finishedOn !== undefined) return;
          producer
            .publishEvent({ eventName: RETRY_EVENT, jobId: job.id, failedReason: err.message }, MAX_STREAM_EVENTS)
            .catch((cause: unknown) => this.#logger.warn({ err: failureMessage(cause) }, 'retry event not published'));
        });
        if (this.#stopping) return;
        this.#worker.run().catch((err: unknown) => this.#logger.error({ err }, 'bullmq worker stopped'));
      },
      (err: unknown) => this.#logger.error({ err: failureMessage(err) }, 'bullmq worker did not start'),
    );
  }

  /**
   * A job started more often than it finished lost a worker mid-attempt (BullMQ moved it back from
   * stalled). As in the local queue, that attempt counts: listeners hear of it as a retried
   * failure, and a job with no attempts left fails instead of running again.
   */
  async #onLostAttempt(job: Job, attempt: number): Promise<void> {
    const maxAttempts = job.opts.attempts ?? 1;
    if (attempt > maxAttempts) throw new UnrecoverableError(LEASE_EXPIRED);
    await this.#producer
      ?.publishEvent({ eventName: RETRY_EVENT, jobId: job.id, failedReason: LEASE_EXPIRED }, MAX_STREAM_EVENTS)
      .catch((err: unknown) => this.#logger.warn({ err: failureMessage(err) }, 'retry event not published'));
  }

  close(timeoutMs: number = DEFAULT_CLOSE_TIMEOUT_MS): Promise<void> {
    checkTimeout('timeoutMs', timeoutMs);
    this.#stopping = true;
    this.#closing ??= this.#shutDown(timeoutMs);
    return this.#closing;
  }

  async #shutDown(timeoutMs: number): Promise<void> {
    await this.#started;
    const closed = this.#worker.close();
    let timer: NodeJS.Timeout | undefined;
    const outlasted = await Promise.race([
      closed.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (outlasted) {
      this.#logger.warn({ timeoutMs }, 'active jobs outlasted the close timeout; aborting them');
      this.#worker.cancelAllJobs('the worker is shutting down');
    }
    await closed;
  }
}
