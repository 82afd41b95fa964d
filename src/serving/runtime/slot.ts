import type { Logger } from '../../core/index.js';
import type { Frame } from '../../learn/index.js';
import type { BatchingOptions, LoadedModel, PredictorOutput } from '../types.js';
import { MicroBatcher } from './batcher.js';
import type { HistogramSeries, ServingMetrics, VersionLabels } from './metrics.js';
import { LatencyReservoir } from './reservoir.js';

/**
 * One loaded model version behind a deployment, with its live counters. A slot outlives a routing
 * table when a change keeps its version (a weight change, a promotion), so its model is not loaded
 * twice and its figures carry on. Requests `enter` before they touch it and `leave` when its
 * predictor is done with them, whatever their caller saw (a 504 leaves only when the predict
 * returns), so {@link TargetSlot.drain} can wait until closing is safe.
 *
 * @example
 * const slot = new TargetSlot('models:/churn/3', loaded, metrics, { workspace: 'default', deployment: 'churn', version: '3' });
 * slot.enter();
 * try { await slot.predict(frame, performance.now() + 10_000); } finally { slot.leave(); }
 */
export class TargetSlot {
  /** Requests answered successfully / failed (model error or timeout) by this slot. */
  requests = 0;
  errors = 0;
  /** True once the model is loaded and warmed. */
  ready = false;
  readonly latency = new LatencyReservoir();
  readonly labels: VersionLabels;
  readonly duration: HistogramSeries;
  readonly #batchSizes: HistogramSeries;
  #active = 0;
  #batcher: MicroBatcher | undefined;
  #batching: BatchingOptions | undefined;
  #idle: (() => void)[] = [];
  #closed = false;

  constructor(
    /** The resolved model reference, e.g. `models:/churn/3`: equal keys are the same model. */
    readonly key: string,
    readonly model: LoadedModel,
    metrics: ServingMetrics,
    labels: VersionLabels,
  ) {
    this.labels = labels;
    this.duration = metrics.duration(labels);
    this.#batchSizes = metrics.batchSize(labels);
  }

  /** Turns micro-batching on (or changes its limits) or, with undefined, off; queued requests still run. */
  configureBatching(options: BatchingOptions | undefined): void {
    this.#batching = options;
    if (options === undefined) {
      this.#batcher?.flush();
      return;
    }
    if (this.#batcher === undefined) {
      this.#batcher = new MicroBatcher(
        (frame) => this.model.predictor.predict(frame),
        options,
        (rows) => this.#batchSizes.observe(rows),
      );
    } else {
      this.#batcher.configure(options);
    }
  }

  /**
   * Predicts `frame`, through the micro-batcher when batching is on. `deadline` is a
   * `performance.now()` time (a batched request still waiting then is dropped). May throw
   * synchronously if the predictor does; callers guard.
   */
  predict(frame: Frame, deadline: number): Promise<PredictorOutput> {
    if (this.#batching !== undefined && this.#batcher !== undefined) return this.#batcher.submit(frame, deadline);
    this.#batchSizes.observe(frame.rows);
    return this.model.predictor.predict(frame);
  }

  /** Requests being predicted now (entered and not waiting for a batch). */
  get inFlight(): number {
    return this.#active - this.queueDepth;
  }

  /** Requests waiting for a micro-batch. */
  get queueDepth(): number {
    return this.#batcher?.queued ?? 0;
  }

  /** Requests that have entered and not yet left. */
  get active(): number {
    return this.#active;
  }

  get closed(): boolean {
    return this.#closed;
  }

  enter(): void {
    this.#active++;
  }

  leave(): void {
    this.#active--;
    if (this.#active === 0 && this.#idle.length > 0) {
      const waiting = this.#idle;
      this.#idle = [];
      for (const resolve of waiting) resolve();
    }
  }

  /**
   * Resolves true once no request is using the slot, or false when `limitMs` passes first (a
   * predictor that never returns must not hold a deployment change forever).
   */
  drain(limitMs: number): Promise<boolean> {
    this.#batcher?.flush();
    if (this.#active === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), limitMs);
      timer.unref();
      this.#idle.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** Frees the predictor; idempotent. Errors are logged, not thrown: the slot is gone either way. */
  async close(logger?: Logger): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.ready = false;
    try {
      await this.model.predictor.close();
    } catch (err) {
      logger?.warn({ err, model: this.key }, 'closing a served model failed');
    }
  }
}
