/** Statuses that mean "try again later" rather than "you asked for something wrong". */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 502, 503, 504]);

/** Methods a retry cannot turn into a second, different effect. */
export const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);

/** The longest wait a `Retry-After` header can impose before the client gives up waiting. */
export const MAX_RETRY_AFTER_MS = 30_000;

const MAX_BACKOFF_MS = 10_000;

/**
 * Delay before retry number `retry` (0 for the first): exponential from `baseMs`, with the upper
 * half jittered so that many clients failing together do not retry together.
 *
 * @example
 * backoffMs(0, 200); // between 100 and 200
 * backoffMs(3, 200); // between 800 and 1600
 */
export function backoffMs(retry: number, baseMs: number): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** retry);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/**
 * Milliseconds a `Retry-After` header asks for (delta-seconds or an HTTP date), capped at
 * {@link MAX_RETRY_AFTER_MS}; undefined when absent or unreadable.
 *
 * @example
 * retryAfterMs('2'); // 2000
 * retryAfterMs(new Date(Date.now() + 5000).toUTCString()); // about 5000
 */
export function retryAfterMs(header: string | null, now: number = Date.now()): number | undefined {
  if (header === null) return undefined;
  const trimmed = header.trim();
  let ms: number;
  if (/^\d+$/.test(trimmed)) ms = Number(trimmed) * 1000;
  else {
    const date = Date.parse(trimmed);
    if (Number.isNaN(date)) return undefined;
    ms = Math.max(0, date - now);
  }
  return Math.min(ms, MAX_RETRY_AFTER_MS);
}

/** Resolves after `ms`, or rejects early when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
