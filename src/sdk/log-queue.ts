import type { Tag } from './types.js';

/** A metric point as `log-batch` takes it: non-finite values as their names. */
export interface MetricPoint {
  key: string;
  value: number | 'NaN' | 'Infinity' | '-Infinity';
  timestamp: number;
  step: number;
}

/** The body of one `log-batch` call. */
export interface LogBatch {
  metrics: MetricPoint[];
  params: Tag[];
  tags: Tag[];
}

/** The server's limits for one `log-batch` call (the MLflow limits). */
export const BATCH_LIMITS = { metrics: 1000, params: 100, tags: 100 } as const;

/** How long queued entries may wait for more before they are sent anyway. */
export const DEFAULT_FLUSH_INTERVAL_MS = 250;

/**
 * Buffers metrics, params and tags in memory and sends them in `log-batch` calls in the
 * background: a batch goes as soon as one kind fills its limit, and whatever is queued goes after
 * `intervalMs`. Calls are sent one at a time, in queue order, so the server sees points in the
 * order they were logged. Retrying is the sender's business (log-batch is safe to replay); a call
 * that still fails is dropped and its error kept for the next {@link flush}.
 *
 * @example
 * const queue = new LogQueue((batch) => client.request('POST', `/api/v1/runs/${id}/log-batch`, { body: batch }));
 * queue.add({ metrics: [{ key: 'loss', value: 0.3, timestamp: Date.now(), step: 0 }] });
 * await queue.flush();
 */
export class LogQueue {
  private metrics: MetricPoint[] = [];
  private params: Tag[] = [];
  private tags: Tag[] = [];
  private sending: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private failure: { error: unknown } | undefined;

  constructor(
    private readonly send: (batch: LogBatch) => Promise<unknown>,
    private readonly intervalMs: number = DEFAULT_FLUSH_INTERVAL_MS,
  ) {}

  /** Queues entries; full batches are dispatched at once, the rest after the interval. */
  add(entries: Partial<LogBatch>): void {
    if (entries.metrics) this.metrics.push(...entries.metrics);
    if (entries.params) this.params.push(...entries.params);
    if (entries.tags) this.tags.push(...entries.tags);
    while (this.hasFullBatch()) this.dispatch();
    if (this.isEmpty()) this.cancelTimer();
    else this.timer ??= setTimeout(() => this.dispatchAll(), this.intervalMs);
  }

  /**
   * Sends everything queued so far and resolves when the server has acknowledged it; rejects with
   * the first error of any call since the last flush (reported once).
   */
  async flush(): Promise<void> {
    this.dispatchAll();
    await this.sending;
    const failure = this.failure;
    this.failure = undefined;
    if (failure !== undefined) throw failure.error;
  }

  private dispatchAll(): void {
    this.cancelTimer();
    while (!this.isEmpty()) this.dispatch();
  }

  private dispatch(): void {
    const batch: LogBatch = {
      metrics: this.metrics.splice(0, BATCH_LIMITS.metrics),
      params: this.params.splice(0, BATCH_LIMITS.params),
      tags: this.tags.splice(0, BATCH_LIMITS.tags),
    };
    this.sending = this.sending.then(async () => {
      try {
        await this.send(batch);
      } catch (error) {
        this.failure ??= { error };
      }
    });
  }

  private hasFullBatch(): boolean {
    return (
      this.metrics.length >= BATCH_LIMITS.metrics ||
      this.params.length >= BATCH_LIMITS.params ||
      this.tags.length >= BATCH_LIMITS.tags
    );
  }

  private isEmpty(): boolean {
    return this.metrics.length === 0 && this.params.length === 0 && this.tags.length === 0;
  }

  private cancelTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
