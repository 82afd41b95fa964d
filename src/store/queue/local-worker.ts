import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { KilnError, type Logger } from '../../core/index.js';
import { type EventHub, LEASE_EXPIRED } from './events.js';
import type { JobRow, JobTable } from './local-jobs.js';
import type { JobContext, JobProcessor, Worker } from './queue.js';
import { checkTimeout, failureMessage, MAX_RESULT_BYTES, progressJson, toJson } from './validate.js';
import { Wakeup } from './wait.js';

/** Everything a {@link LocalWorker} needs from the queue that created it. */
export interface LocalWorkerSettings {
  queue: string;
  jobs: JobTable;
  hub: EventHub;
  logger: Logger;
  concurrency: number;
  leaseMs: number;
  pollMs: number;
  /** Called once per loop turn, for housekeeping such as pruning old jobs. */
  onIdle(): void;
}

interface Running {
  controller: AbortController;
  done: Promise<void>;
  /** Set once the processor returned, so a lease check racing the final write does not abort it. */
  settled: boolean;
}

const DEFAULT_CLOSE_TIMEOUT_MS = 30_000;
const MAX_ALARM_MS = 3600 * 1000;

/**
 * Runs one queue's jobs in this process. It claims due jobs in a transaction, keeps their leases
 * alive every third of `leaseMs` while they run, and sleeps between claims until an enqueue rings
 * its bell, a job of its own finishes or `pollMs` passes (jobs enqueued by other processes and
 * delayed jobs are found by the poll). A job whose lease it loses is aborted, since another worker
 * may already be running it.
 *
 * @example
 * const worker = new LocalWorker(processor, settings);
 * worker.wakeIn(0); // a job was just enqueued
 * await worker.close(10_000);
 */
export class LocalWorker implements Worker {
  readonly #id = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  readonly #bell = new Wakeup();
  readonly #active = new Map<string, Running>();
  readonly #settings: LocalWorkerSettings;
  readonly #processor: JobProcessor<unknown, unknown>;
  readonly #logger: Logger;
  readonly #heartbeat: NodeJS.Timeout;
  readonly #loop: Promise<void>;
  readonly #alarms = new Set<NodeJS.Timeout>();
  #renewing = false;
  #stopping = false;
  #closing: Promise<void> | undefined;

  constructor(processor: JobProcessor<unknown, unknown>, settings: LocalWorkerSettings) {
    this.#processor = processor;
    this.#settings = settings;
    this.#logger = settings.logger.child({ queue: settings.queue, worker: this.#id });
    this.#heartbeat = setInterval(() => void this.#renew(), Math.max(Math.floor(settings.leaseMs / 3), 20));
    this.#loop = this.#run();
  }

  /**
   * Makes the worker look for jobs in `ms`, when a job it knows of falls due, so a retry or a
   * delayed job starts on time rather than at the next poll. Far-off jobs are left to the poll.
   */
  wakeIn(ms: number): void {
    if (this.#stopping || ms > MAX_ALARM_MS) return;
    const alarm = setTimeout(() => {
      this.#alarms.delete(alarm);
      this.#bell.notify();
    }, ms);
    this.#alarms.add(alarm);
  }

  close(timeoutMs: number = DEFAULT_CLOSE_TIMEOUT_MS): Promise<void> {
    checkTimeout('timeoutMs', timeoutMs);
    this.#stopping = true;
    this.#bell.notify();
    this.#closing ??= this.#shutDown(timeoutMs);
    return this.#closing;
  }

  async #shutDown(timeoutMs: number): Promise<void> {
    for (const alarm of this.#alarms) clearTimeout(alarm);
    this.#alarms.clear();
    await this.#loop;
    const settled = () => Promise.allSettled([...this.#active.values()].map((running) => running.done));
    let timer: NodeJS.Timeout | undefined;
    const outlasted = await Promise.race([
      settled().then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (outlasted) {
      this.#logger.warn(
        { timeoutMs, jobs: [...this.#active.keys()] },
        'active jobs outlasted the close timeout; aborting them',
      );
      const reason = new KilnError('CANCELLED', 'the worker is shutting down');
      for (const running of this.#active.values()) running.controller.abort(reason);
      await settled();
    }
    clearInterval(this.#heartbeat);
  }

  async #run(): Promise<void> {
    const { queue, jobs, hub, concurrency, leaseMs, pollMs } = this.#settings;
    while (!this.#stopping) {
      const free = concurrency - this.#active.size;
      let claimed = 0;
      if (free > 0) {
        try {
          const claim = await jobs.claim(queue, this.#id, free, leaseMs);
          for (const row of claim.lost) {
            hub.emit({ type: 'failed', queue, jobId: row.id, error: LEASE_EXPIRED, willRetry: false });
          }
          for (const row of claim.reclaimed) {
            hub.emit({ type: 'failed', queue, jobId: row.id, error: LEASE_EXPIRED, willRetry: true });
          }
          for (const row of claim.claimed) this.#start(row);
          claimed = claim.claimed.length;
        } catch (err) {
          this.#logger.warn({ err: failureMessage(err) }, 'claiming jobs failed; retrying at the next poll');
        }
      }
      this.#settings.onIdle();
      if (this.#stopping) break;
      if (free > 0 && claimed === free) continue;
      await this.#bell.wait(pollMs);
    }
  }

  #start(row: JobRow): void {
    const { queue, jobs, hub } = this.#settings;
    const controller = new AbortController();
    const workerId = this.#id;
    const context: JobContext = {
      id: row.id,
      name: row.name,
      data: JSON.parse(row.data),
      attempt: row.attempts_made,
      signal: controller.signal,
      async updateProgress(progress) {
        const json = progressJson(progress);
        if (await jobs.progress(row, workerId, json)) {
          hub.emit({ type: 'progress', queue, jobId: row.id, progress: JSON.parse(json) });
        }
      },
    };
    const running: Running = { controller, done: Promise.resolve(), settled: false };
    running.done = this.#execute(row, context, running).finally(() => {
      this.#active.delete(row.id);
      this.#bell.notify();
    });
    this.#active.set(row.id, running);
  }

  async #execute(row: JobRow, context: JobContext, running: Running): Promise<void> {
    const { queue, jobs, hub } = this.#settings;
    let resultJson: string | undefined;
    let error: string | undefined;
    try {
      resultJson = toJson('result', (await this.#processor(context)) ?? null, MAX_RESULT_BYTES);
    } catch (err) {
      error = failureMessage(err);
    }
    running.settled = true;
    try {
      if (resultJson !== undefined) {
        if (await jobs.complete(row, this.#id, resultJson)) {
          hub.emit({ type: 'completed', queue, jobId: row.id, result: JSON.parse(resultJson) });
          return;
        }
      } else {
        const message = error ?? 'unknown failure';
        const outcome = await jobs.fail(row, this.#id, message);
        if (outcome !== undefined) {
          if (outcome.willRetry) this.wakeIn(outcome.retryInMs);
          hub.emit({ type: 'failed', queue, jobId: row.id, error: message, willRetry: outcome.willRetry });
          return;
        }
      }
      this.#logger.warn({ jobId: row.id }, 'job finished after its lease was lost; its outcome is discarded');
    } catch (err) {
      // The lease runs out and another worker retries the job.
      this.#logger.error({ jobId: row.id, err: failureMessage(err) }, 'recording the job outcome failed');
    }
  }

  async #renew(): Promise<void> {
    if (this.#renewing || this.#active.size === 0) return;
    this.#renewing = true;
    const { queue, jobs, leaseMs } = this.#settings;
    try {
      const ids = [...this.#active.keys()];
      const held = await jobs.renew(queue, this.#id, ids, leaseMs);
      for (const id of ids) {
        const running = this.#active.get(id);
        if (held.has(id) || running === undefined || running.settled) continue;
        this.#logger.warn({ jobId: id }, 'lease lost; aborting the job, another worker may run it');
        running.controller.abort(new KilnError('CANCELLED', 'the lease on this job was lost'));
      }
    } catch (err) {
      this.#logger.warn({ err: failureMessage(err) }, 'renewing leases failed; retrying');
    } finally {
      this.#renewing = false;
    }
  }
}
