/** Where a job is in its life. */
export type JobState = 'waiting' | 'delayed' | 'active' | 'completed' | 'failed';

/**
 * How a job is run. Queue names are 1–200 characters of `[A-Za-z0-9._-]` (BullMQ reserves `:` as
 * its key separator); job names may also contain `:`.
 */
export interface EnqueueOptions {
  /**
   * Supplying an id makes enqueue idempotent within its queue: a second enqueue with the same id
   * returns the first job, whatever its state. 1–200 characters of `[A-Za-z0-9._-]` and not an
   * integer such as `42`, because BullMQ numbers its own ids and rejects `:`; the same rule holds
   * for every backend, so an id valid locally stays valid on Redis.
   */
  jobId?: string;
  /** Total tries including the first, 1–100; default 3. */
  attempts?: number;
  /** First retry delay; doubles on each further retry. Default 1000 ms. */
  backoffMs?: number;
  /** Run no earlier than this many ms from now (at most one year). */
  delayMs?: number;
}

/** A snapshot of one job. */
export interface JobInfo<D = unknown, R = unknown> {
  id: string;
  queue: string;
  name: string;
  data: D;
  state: JobState;
  /** Tries started so far. */
  attemptsMade: number;
  maxAttempts: number;
  progress: number | Record<string, unknown>;
  result?: R;
  /** Message of the last failure. */
  error?: string;
  createdAt: Date;
  finishedAt?: Date;
}

/** What a processor sees of the job it runs. */
export interface JobContext<D = unknown> {
  readonly id: string;
  readonly name: string;
  readonly data: D;
  /** 1 on the first try. */
  readonly attempt: number;
  /** Aborted when the worker shuts down or the job is cancelled; long work should check it. */
  readonly signal: AbortSignal;
  updateProgress(progress: number | Record<string, unknown>): Promise<void>;
}

export type JobProcessor<D = unknown, R = unknown> = (job: JobContext<D>) => Promise<R>;

/** Emitted on every transition a caller may wait on. */
export type QueueEvent =
  | { type: 'completed'; queue: string; jobId: string; result: unknown }
  | { type: 'failed'; queue: string; jobId: string; error: string; willRetry: boolean }
  | { type: 'progress'; queue: string; jobId: string; progress: number | Record<string, unknown> };

/** A running consumer of one queue. */
export interface Worker {
  /**
   * Stops taking jobs and waits for the active ones. When they outlast `timeoutMs` (default 30 s)
   * their `signal` is aborted and close waits for them to settle; a job that then throws counts as
   * a failed attempt and is retried if it has attempts left.
   */
  close(timeoutMs?: number): Promise<void>;
}

/**
 * Background work: training, tuning, batch scoring and pipeline steps. The default `local`
 * implementation keeps jobs in the metadata database and runs them in this process, so an
 * acknowledged enqueue survives a crash; `redis://…` switches to BullMQ so that `kiln worker`
 * processes on many machines share the work.
 *
 * @example
 * const queue = await openQueue({ url: config.queueUrl, database, logger });
 * const worker = queue.process('train', async (job) => train(job.data), { concurrency: 2 });
 * const job = await queue.enqueue('train', 'gbdt', { datasetId: 'd1' });
 * const done = await queue.waitFor('train', job.id, 60_000);
 */
export interface Queue {
  readonly kind: 'local' | 'bullmq';
  enqueue<D>(queue: string, name: string, data: D, options?: EnqueueOptions): Promise<JobInfo<D>>;
  getJob(queue: string, id: string): Promise<JobInfo | undefined>;
  /** Starts consuming `queue` in this process, running up to `concurrency` (default 1) jobs at once. */
  process<D, R>(queue: string, processor: JobProcessor<D, R>, options?: { concurrency?: number }): Worker;
  /** Resolves with the job once it completes or fails for good; throws DEADLINE_EXCEEDED on timeout. */
  waitFor(queue: string, id: string, timeoutMs: number): Promise<JobInfo>;
  /** Subscribes to job events of every queue; returns the unsubscribe function. */
  on(listener: (event: QueueEvent) => void): () => void;
  counts(queue: string): Promise<Record<JobState, number>>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
