import { KilnError } from '../core/index.js';
import { sleep } from './retry.js';

/** How a caller follows a queued job until it finishes. */
export interface JobWaitOptions<J> {
  /** Called with the job after every poll while it is queued or running. */
  onProgress?: (job: J) => void;
  /** Between polls; default 1000 ms. */
  pollMs?: number;
  /** Give up after this long with DEADLINE_EXCEEDED; default no limit. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** What {@link waitForJob} polls: a job the server reports by id, and the states it ends in. */
export interface PolledJob<J> {
  /** Names the job in errors: `training job`, `scoring job`. */
  kind: string;
  id: string;
  get: () => Promise<J>;
  finished: ReadonlySet<string>;
}

/**
 * Polls a server-side job until it reaches a finished state and answers it in that state (a failed
 * job too, so the caller decides what a failure means). Every job API's `wait` is this loop:
 * DEADLINE_EXCEEDED naming the state once `timeoutMs` has passed, CANCELLED when `signal` aborts.
 *
 * @example
 * return waitForJob({ kind: 'training job', id, get: () => this.get(id), finished: FINISHED }, options);
 */
export async function waitForJob<J extends { state: string }>(
  job: PolledJob<J>,
  options: JobWaitOptions<J> = {},
): Promise<J> {
  const { kind, id } = job;
  const deadline = options.timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + options.timeoutMs;
  for (;;) {
    const current = await job.get();
    if (job.finished.has(current.state)) return current;
    options.onProgress?.(current);
    if (Date.now() >= deadline) {
      throw new KilnError('DEADLINE_EXCEEDED', `${kind} ${id} is still ${current.state}`, { id, state: current.state });
    }
    const pause = Math.min(options.pollMs ?? 1000, Math.max(0, deadline - Date.now()));
    await sleep(pause, options.signal).catch(() => {
      throw new KilnError('CANCELLED', `waiting for the ${kind} was cancelled`);
    });
  }
}
