import type { Logger } from '../../core/index.js';
import type { QueueEvent } from './queue.js';

/**
 * The error a job's `failed` event (and the job) carries when the worker running it died: its
 * lease or lock expired without renewal, and the job was retried or, if that was its last
 * attempt, failed.
 */
export const LEASE_EXPIRED = 'the worker running this job stopped responding (its lease expired)';

/**
 * The listener list behind `Queue.on`. A listener that throws is logged and the others still run,
 * so one faulty subscriber cannot stop a worker from recording its jobs.
 *
 * @example
 * const hub = new EventHub(logger);
 * const off = hub.on((event) => console.log(event.type));
 * hub.emit({ type: 'completed', queue: 'train', jobId, result });
 */
export class EventHub {
  readonly #listeners = new Set<(event: QueueEvent) => void>();

  constructor(private readonly logger: Logger) {}

  on(listener: (event: QueueEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  emit(event: QueueEvent): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch (err) {
        this.logger.error({ err, queue: event.queue, jobId: event.jobId, event: event.type }, 'queue listener threw');
      }
    }
  }

  /** Subscribes to the events of one job only; `waitFor` uses it. */
  onJob(queue: string, jobId: string, listener: () => void): () => void {
    return this.on((event) => {
      if (event.queue === queue && event.jobId === jobId) listener();
    });
  }
}
