import { KilnError } from '../../core/index.js';

/** A request waiting for its answer, linked into a {@link DeadlineSweeper}'s list. */
export interface Deadline {
  /** `performance.now()` time after which the request is answered 504. */
  readonly deadline: number;
  readonly reject: (err: KilnError) => void;
  prev: Deadline | undefined;
  next: Deadline | undefined;
  linked: boolean;
}

/**
 * Per-request timeouts without a timer per request. Every request of one routing table has the
 * same time limit and arrives later than the one before, so deadlines come in order: they are kept
 * in a linked list (O(1) to add and to remove when the answer comes) and one interval timer,
 * ticking at a quarter of the limit (at most every 100 ms), answers the expired ones at the head
 * with a 504. A 504 therefore comes between `timeoutMs` and `timeoutMs` plus one tick. The timer
 * keeps the process alive only while a request is waiting. On the one-row hot path this replaces a
 * setTimeout / clearTimeout pair per request, which cost more than the rest of the bookkeeping.
 *
 * @example
 * const sweeper = new DeadlineSweeper(10_000, 'churn');
 * const entry = sweeper.add(performance.now() + 10_000, reject);
 * // when the answer comes:
 * sweeper.remove(entry);
 */
export class DeadlineSweeper {
  #head: Deadline | undefined;
  #tail: Deadline | undefined;
  #size = 0;
  #closing = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    readonly timeoutMs: number,
    private readonly deployment: string,
  ) {
    this.#timer = this.#start();
    this.#timer.unref();
  }

  #start(): NodeJS.Timeout {
    return setInterval(() => this.#sweep(), Math.min(100, Math.max(1, Math.floor(this.timeoutMs / 4))));
  }

  /** Requests waiting now. */
  get size(): number {
    return this.#size;
  }

  /** Starts watching a request; `reject` is called with a 504 KilnError if it is still linked at `deadline`. */
  add(deadline: number, reject: (err: KilnError) => void): Deadline {
    const entry: Deadline = { deadline, reject, prev: this.#tail, next: undefined, linked: true };
    if (this.#tail === undefined) this.#head = entry;
    else this.#tail.next = entry;
    this.#tail = entry;
    // A request of a replaced table can still arrive (a shadow scheduled just before the swap).
    this.#timer ??= this.#start();
    if (this.#size++ === 0) this.#timer.ref();
    return entry;
  }

  /** Stops watching a request (answered, or already timed out); idempotent. */
  remove(entry: Deadline): void {
    if (!entry.linked) return;
    entry.linked = false;
    if (entry.prev === undefined) this.#head = entry.next;
    else entry.prev.next = entry.next;
    if (entry.next === undefined) this.#tail = entry.prev;
    else entry.next.prev = entry.prev;
    entry.prev = undefined;
    entry.next = undefined;
    if (--this.#size === 0) {
      this.#timer?.unref();
      if (this.#closing) this.#stop();
    }
  }

  /** No more requests will be added: the timer stops once the waiting ones are answered. */
  close(): void {
    this.#closing = true;
    if (this.#size === 0) this.#stop();
  }

  #stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #sweep(): void {
    const now = performance.now();
    while (this.#head !== undefined && this.#head.deadline <= now) {
      const entry = this.#head;
      this.remove(entry);
      entry.reject(
        new KilnError(
          'DEADLINE_EXCEEDED',
          `Deployment '${this.deployment}' did not answer within ${this.timeoutMs} ms`,
          {
            deployment: this.deployment,
            timeoutMs: this.timeoutMs,
          },
        ),
      );
    }
  }
}
