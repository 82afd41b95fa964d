import { KilnError } from '../../core/index.js';
import type { JobInfo } from './queue.js';
import { isFinished, unknownJob } from './validate.js';

/**
 * A doorbell for one sleeper: `wait` resolves when `notify` is called or the time runs out,
 * and a `notify` that comes while nobody waits is kept for the next `wait`, so a wake-up that
 * races the sleeper is never lost. Worker loops sleep on it between polls.
 *
 * @example
 * const bell = new Wakeup();
 * onEnqueue(() => bell.notify());
 * await bell.wait(250);
 */
export class Wakeup {
  #pending = false;
  #ring: (() => void) | undefined;

  notify(): void {
    const ring = this.#ring;
    if (ring === undefined) this.#pending = true;
    else ring();
  }

  wait(ms: number): Promise<void> {
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#ring = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#ring = done;
    });
  }
}

/** What {@link waitUntilFinished} needs from a backend. */
export interface FinishWatch {
  queue: string;
  id: string;
  timeoutMs: number;
  /** Re-read interval when no event arrives (events can be missed across processes). */
  pollMs: number;
  read(): Promise<JobInfo | undefined>;
  /** Calls `changed` whenever an event about this job arrives; returns the unsubscribe function. */
  subscribe(changed: () => void): () => void;
}

/**
 * Shared body of `Queue.waitFor`: re-reads the job whenever an event about it arrives or the poll
 * interval passes, and returns it once completed or failed for good.
 */
export async function waitUntilFinished(watch: FinishWatch): Promise<JobInfo> {
  const bell = new Wakeup();
  const unsubscribe = watch.subscribe(() => bell.notify());
  try {
    const deadline = Date.now() + watch.timeoutMs;
    for (;;) {
      const job = await watch.read();
      if (job === undefined) throw unknownJob(watch.queue, watch.id);
      if (isFinished(job)) return job;
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        throw new KilnError(
          'DEADLINE_EXCEEDED',
          `Job '${watch.id}' in queue '${watch.queue}' did not finish within ${watch.timeoutMs} ms (it is ${job.state})`,
          { queue: watch.queue, id: watch.id, state: job.state, timeoutMs: watch.timeoutMs },
        );
      }
      await bell.wait(Math.min(watch.pollMs, remaining));
    }
  } finally {
    unsubscribe();
  }
}
