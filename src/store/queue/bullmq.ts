import { randomUUID } from 'node:crypto';
import { Queue as BullQueue, type Job, QueueEvents, type QueueEventsListener, QueueEventsProducer } from 'bullmq';
import type { Redis } from 'ioredis';
import { invalidParameter, KilnError, type Logger, maskSecret, silentLogger } from '../../core/index.js';
import { BullMQWorker, RETRY_EVENT } from './bullmq-worker.js';
import { EventHub } from './events.js';
import type { EnqueueOptions, JobInfo, JobProcessor, JobState, Queue, QueueEvent, Worker } from './queue.js';
import { connectRedis, createRedisClient, redisCall, throttledWarning, withinDeadline } from './redis.js';
import {
  checkConcurrency,
  checkEnqueue,
  checkQueueName,
  checkTimeout,
  failureMessage,
  isPossibleJobId,
} from './validate.js';
import { waitUntilFinished } from './wait.js';

/** Settings of {@link BullMQQueue.open}. */
export interface BullMQQueueOptions {
  /** `redis://…` or `rediss://…`. */
  url: string;
  logger?: Logger;
  /** Namespace of every Redis key; default `kiln`. Tests use a random one to stay apart. */
  prefix?: string;
  /** How long a job's lock lasts without renewal, and how often expired locks are looked for; default 30 s. */
  leaseMs?: number;
  /** Bound on connecting and on `ping`; default 5 s. */
  connectTimeoutMs?: number;
}

/** Completed jobs stay readable through getJob and waitFor for a day (at most 10 000 per queue). */
const KEEP_COMPLETED = { age: 24 * 3600, count: 10_000 };
/** Failed jobs are kept a week so their error can be read. */
const KEEP_FAILED = { age: 7 * 24 * 3600, count: 10_000 };
/** waitFor re-reads the job this often in case an event was lost in a reconnect. */
const POLL_MS = 1000;
const PREFIX = /^[A-Za-z0-9._:-]{1,100}$/;

interface KilnEventListeners extends QueueEventsListener {
  [RETRY_EVENT]: (args: { jobId: string; failedReason: string }, id: string) => void;
}

/** The event reader and writer of one queue. */
interface Channel {
  events: QueueEvents;
  producer: QueueEventsProducer;
}

function stateOf(state: string): JobState | undefined {
  switch (state) {
    case 'waiting':
    case 'wait':
    case 'prioritized':
    case 'waiting-children':
      return 'waiting';
    case 'delayed':
    case 'active':
    case 'completed':
    case 'failed':
      return state;
    default:
      return undefined;
  }
}

function progressOf(progress: unknown): number | Record<string, unknown> {
  if (typeof progress === 'number') return progress;
  if (typeof progress === 'object' && progress !== null) return progress as Record<string, unknown>;
  return 0;
}

function infoOf(queue: string, job: Job, state: JobState): JobInfo {
  const info: JobInfo = {
    id: job.id ?? '',
    queue,
    name: job.name,
    data: job.data,
    state,
    attemptsMade: Math.max(job.attemptsStarted, job.attemptsMade),
    maxAttempts: job.opts.attempts ?? 1,
    progress: progressOf(job.progress),
    createdAt: new Date(job.timestamp),
  };
  if (state === 'completed') info.result = job.returnvalue ?? null;
  if (job.failedReason) info.error = job.failedReason;
  if (job.finishedOn !== undefined && (state === 'completed' || state === 'failed')) {
    info.finishedAt = new Date(job.finishedOn);
  }
  return info;
}

/**
 * The scale-out queue: jobs live in Redis and any number of `kiln worker` processes share them
 * through BullMQ. Events travel on each queue's Redis event stream, so `on` and `waitFor` see jobs
 * finish in other processes. Retries use BullMQ's exponential backoff (`backoffMs * 2^(n-1)`).
 * A worker that dies mid-job loses its lock; within about two `leaseMs` another worker's stall
 * check moves the job back to waiting, and the lost attempt counts, as in the local queue.
 *
 * @example
 * const queue = await BullMQQueue.open({ url: 'redis://127.0.0.1:6379', logger });
 * queue.process('score', async (job) => score(job.data), { concurrency: 4 });
 */
export class BullMQQueue implements Queue {
  readonly kind = 'bullmq' as const;
  readonly #url: string;
  readonly #prefix: string;
  readonly #leaseMs: number;
  readonly #timeoutMs: number;
  readonly #logger: Logger;
  readonly #commands: Redis;
  readonly #workerConnection: Redis;
  readonly #hub: EventHub;
  readonly #queues = new Map<string, BullQueue>();
  readonly #channels = new Map<string, Promise<Channel>>();
  readonly #workers = new Set<BullMQWorker>();
  #closed = false;

  private constructor(options: Required<BullMQQueueOptions>, commands: Redis) {
    this.#url = options.url;
    this.#prefix = options.prefix;
    this.#leaseMs = options.leaseMs;
    this.#timeoutMs = options.connectTimeoutMs;
    this.#logger = options.logger;
    this.#commands = commands;
    this.#workerConnection = createRedisClient(options.url, 'workers', options.logger, options.connectTimeoutMs);
    this.#hub = new EventHub(options.logger);
  }

  /** Connects to Redis; TEMPORARILY_UNAVAILABLE when it does not answer within `connectTimeoutMs`. */
  static async open(options: BullMQQueueOptions): Promise<BullMQQueue> {
    const settings: Required<BullMQQueueOptions> = {
      url: options.url,
      logger: options.logger ?? silentLogger(),
      prefix: options.prefix ?? 'kiln',
      leaseMs: options.leaseMs ?? 30_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 5000,
    };
    if (!PREFIX.test(settings.prefix)) {
      throw invalidParameter('prefix', 'must be 1-100 characters of letters, digits, dot, underscore, colon or dash');
    }
    if (!Number.isInteger(settings.leaseMs) || settings.leaseMs < 100) {
      throw invalidParameter('leaseMs', 'must be an integer of at least 100', settings.leaseMs);
    }
    checkTimeout('connectTimeoutMs', settings.connectTimeoutMs);
    const commands = createRedisClient(settings.url, 'commands', settings.logger, settings.connectTimeoutMs);
    await connectRedis(commands, settings.url, settings.connectTimeoutMs);
    return new BullMQQueue(settings, commands);
  }

  /** The BullMQ producer of one queue, created on first use; it shares the commands connection. */
  #queue(queue: string): BullQueue {
    let bullQueue = this.#queues.get(queue);
    if (bullQueue === undefined) {
      bullQueue = new BullQueue(queue, { connection: this.#commands, prefix: this.#prefix });
      bullQueue.on('error', throttledWarning(this.#logger.child({ queue }), 'bullmq queue error'));
      this.#queues.set(queue, bullQueue);
    }
    return bullQueue;
  }

  /**
   * The event reader and writer of one queue, created on first use. The event reader starts from the
   * stream's current last entry, so every event after this call is delivered even if the reader's
   * first blocking read starts later.
   */
  #channel(queue: string): Promise<Channel> {
    let channel = this.#channels.get(queue);
    if (channel === undefined) {
      channel = this.#openChannel(queue);
      channel.catch(() => this.#channels.delete(queue));
      this.#channels.set(queue, channel);
    }
    return channel;
  }

  /** The channel, retried every second while Redis is away, so a worker started during an outage starts later. */
  async #channelEventually(queue: string): Promise<Channel> {
    for (;;) {
      try {
        return await this.#channel(queue);
      } catch (err) {
        if (this.#closed) throw err;
        this.#logger.warn({ queue, err: failureMessage(err) }, 'cannot start the worker yet; retrying');
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  async #openChannel(queue: string): Promise<Channel> {
    const streamKey = `${this.#prefix}:${queue}:events`;
    const last = await redisCall(this.#url, 'Opening the event stream', () =>
      this.#commands.xrevrange(streamKey, '+', '-', 'COUNT', 1),
    );
    const logger = this.#logger.child({ queue });
    const producer = new QueueEventsProducer(queue, { connection: this.#commands, prefix: this.#prefix });
    producer.on('error', throttledWarning(logger, 'bullmq event producer error'));
    const events = new QueueEvents(queue, {
      connection: this.#workerConnection,
      prefix: this.#prefix,
      lastEventId: last[0]?.[0] ?? '0-0',
    });
    events.on('error', throttledWarning(logger, 'bullmq event reader error'));
    const emit = (event: QueueEvent) => this.#hub.emit(event);
    events.on('completed', ({ jobId, returnvalue }) => emit({ type: 'completed', queue, jobId, result: returnvalue }));
    events.on('failed', ({ jobId, failedReason }) =>
      emit({ type: 'failed', queue, jobId, error: failedReason, willRetry: false }),
    );
    events.on<KilnEventListeners, typeof RETRY_EVENT>(RETRY_EVENT, ({ jobId, failedReason }) =>
      emit({ type: 'failed', queue, jobId, error: failedReason, willRetry: true }),
    );
    events.on('progress', ({ jobId, data }) => emit({ type: 'progress', queue, jobId, progress: progressOf(data) }));
    return { events, producer };
  }

  async enqueue<D>(queue: string, name: string, data: D, options: EnqueueOptions = {}): Promise<JobInfo<D>> {
    this.#assertOpen();
    const checked = checkEnqueue(queue, name, data, options);
    await this.#channel(checked.queue);
    const job = await redisCall(this.#url, `Enqueueing '${checked.name}'`, () =>
      this.#queue(checked.queue).add(checked.name, JSON.parse(checked.dataJson), {
        jobId: checked.jobId ?? randomUUID(),
        attempts: checked.attempts,
        backoff: { type: 'exponential', delay: checked.backoffMs },
        delay: checked.delayMs,
        removeOnComplete: KEEP_COMPLETED,
        removeOnFail: KEEP_FAILED,
      }),
    );
    if (checked.jobId !== undefined) {
      // BullMQ ignores an add whose id exists but answers with the new arguments; read the stored job.
      const stored = await this.getJob(checked.queue, checked.jobId);
      if (stored !== undefined) return stored as JobInfo<D>;
    }
    return infoOf(checked.queue, job, checked.delayMs > 0 ? 'delayed' : 'waiting') as JobInfo<D>;
  }

  async getJob(queue: string, id: string): Promise<JobInfo | undefined> {
    checkQueueName(queue);
    if (!isPossibleJobId(id)) return undefined;
    return redisCall(this.#url, `Reading job '${id}'`, async () => {
      // State first: a job read as finished stays finished, so the fields read next match it.
      const state = stateOf(await this.#queue(queue).getJobState(id));
      if (state === undefined) return undefined;
      const job = await this.#queue(queue).getJob(id);
      return job === undefined ? undefined : infoOf(queue, job, state);
    });
  }

  process<D, R>(queue: string, processor: JobProcessor<D, R>, options: { concurrency?: number } = {}): Worker {
    this.#assertOpen();
    checkQueueName(queue);
    if (typeof processor !== 'function') throw invalidParameter('processor', 'must be a function');
    const worker = new BullMQWorker(processor as JobProcessor<unknown, unknown>, {
      queue,
      prefix: this.#prefix,
      connection: this.#workerConnection,
      concurrency: checkConcurrency(options.concurrency),
      leaseMs: this.#leaseMs,
      logger: this.#logger,
      ready: this.#channelEventually(queue).then((channel) => channel.producer),
    });
    this.#workers.add(worker);
    return {
      close: async (timeoutMs?: number) => {
        await worker.close(timeoutMs);
        this.#workers.delete(worker);
      },
    };
  }

  async waitFor(queue: string, id: string, timeoutMs: number): Promise<JobInfo> {
    checkQueueName(queue);
    checkTimeout('timeoutMs', timeoutMs);
    await this.#channel(queue);
    return waitUntilFinished({
      queue,
      id,
      timeoutMs,
      pollMs: POLL_MS,
      read: () => this.getJob(queue, id),
      subscribe: (changed) => this.#hub.onJob(queue, id, changed),
    });
  }

  on(listener: (event: QueueEvent) => void): () => void {
    return this.#hub.on(listener);
  }

  async counts(queue: string): Promise<Record<JobState, number>> {
    checkQueueName(queue);
    const raw = await redisCall(this.#url, `Counting jobs of '${queue}'`, () =>
      this.#queue(queue).getJobCounts(
        'waiting',
        'prioritized',
        'waiting-children',
        'delayed',
        'active',
        'completed',
        'failed',
      ),
    );
    const count = (key: string) => raw[key] ?? 0;
    return {
      waiting: count('waiting') + count('prioritized') + count('waiting-children'),
      delayed: count('delayed'),
      active: count('active'),
      completed: count('completed'),
      failed: count('failed'),
    };
  }

  async ping(): Promise<void> {
    await withinDeadline(
      redisCall(this.#url, 'Redis PING', () => this.#commands.ping()),
      this.#timeoutMs,
      `Redis at ${maskSecret(this.#url)}`,
    );
  }

  /** Closes the workers (waiting for their jobs), the event readers and the Redis connections. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#workers].map((worker) => worker.close()));
    const channels = await Promise.allSettled(this.#channels.values());
    for (const settled of channels) {
      if (settled.status === 'fulfilled')
        await Promise.allSettled([settled.value.events.close(), settled.value.producer.close()]);
    }
    await Promise.allSettled([...this.#queues.values()].map((bullQueue) => bullQueue.close()));
    this.#channels.clear();
    this.#queues.clear();
    this.#workerConnection.disconnect();
    await this.#commands.quit().catch(() => this.#commands.disconnect());
  }

  #assertOpen(): void {
    if (this.#closed) throw new KilnError('INVALID_STATE', 'The queue is closed');
  }
}
