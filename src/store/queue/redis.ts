import { Redis } from 'ioredis';
import { KilnError, type Logger, maskSecret } from '../../core/index.js';
import { causeText } from '../database/failure.js';

/** What a Redis connection is for; it decides how commands behave while Redis is away. */
export type RedisRole = 'commands' | 'workers';

/**
 * Creates an ioredis client (not yet connected) for the BullMQ queue.
 *
 * - `commands` serves enqueue, getJob, counts and ping. Its offline queue is off, so while Redis
 *   is unreachable a call fails at once (and becomes TEMPORARILY_UNAVAILABLE) instead of hanging
 *   an HTTP request until Redis returns.
 * - `workers` is handed to BullMQ workers and event readers, which duplicate it for their blocking
 *   reads; BullMQ requires `maxRetriesPerRequest: null` there so a worker survives a Redis restart
 *   by waiting rather than crashing.
 *
 * Connection errors are logged once per outage, not once per reconnect attempt.
 *
 * @example
 * const client = createRedisClient('redis://127.0.0.1:6379', 'commands', logger, 5000);
 * await connectRedis(client, 'redis://127.0.0.1:6379', 5000);
 */
export function createRedisClient(url: string, role: RedisRole, logger: Logger, connectTimeoutMs: number): Redis {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: connectTimeoutMs,
    maxRetriesPerRequest: role === 'workers' ? null : 1,
    enableOfflineQueue: role === 'workers',
    connectionName: `kiln-${role}`,
  });
  let reported = false;
  client.on('error', (err: unknown) => {
    if (reported) return;
    reported = true;
    logger.warn({ url: maskSecret(url), role, err: causeText(err) }, 'redis connection error; reconnecting');
  });
  client.on('ready', () => {
    if (reported) logger.info({ url: maskSecret(url), role }, 'redis connection restored');
    reported = false;
  });
  return client;
}

/** Rejects with TEMPORARILY_UNAVAILABLE when `promise` has not settled within `timeoutMs`, or rejects. */
export async function withinDeadline<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new KilnError('TEMPORARILY_UNAVAILABLE', `${what}: no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Connects `client`, failing with TEMPORARILY_UNAVAILABLE (and stopping its reconnect loop) when
 * Redis does not answer within `timeoutMs`, so a wrong `KILN_QUEUE_URL` fails at start-up.
 */
export async function connectRedis(client: Redis, url: string, timeoutMs: number): Promise<void> {
  let lastError: unknown;
  const remember = (err: unknown) => {
    lastError = err;
  };
  client.on('error', remember);
  try {
    await withinDeadline(client.connect(), timeoutMs, `Redis at ${maskSecret(url)}`);
  } catch (err) {
    client.disconnect();
    const reason = causeText(lastError ?? err);
    throw new KilnError(
      'TEMPORARILY_UNAVAILABLE',
      `Redis at ${maskSecret(url)} is unreachable (${reason}); check KILN_QUEUE_URL and that Redis is running`,
      { url: maskSecret(url) },
      { cause: err },
    );
  } finally {
    client.off('error', remember);
  }
}

const UNAVAILABLE =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EHOSTUNREACH|EPIPE|Connection is closed|Stream isn't writeable|max retries|MaxRetriesPerRequest/i;

/**
 * Runs one Redis-backed operation, turning connection failures into TEMPORARILY_UNAVAILABLE so the
 * server answers 503 rather than 500 while Redis is away. Other errors pass through unchanged.
 */
export async function redisCall<T>(url: string, what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof KilnError || !UNAVAILABLE.test(causeText(err))) throw err;
    throw new KilnError(
      'TEMPORARILY_UNAVAILABLE',
      `${what} failed: Redis at ${maskSecret(url)} is unavailable (${causeText(err)})`,
      { url: maskSecret(url) },
      { cause: err },
    );
  }
}

/**
 * A handler for the `error` events of BullMQ objects, which repeat on every reconnect attempt
 * while Redis is away: each distinct message is logged at most once a minute.
 */
export function throttledWarning(logger: Logger, what: string): (err: unknown) => void {
  const lastLogged = new Map<string, number>();
  return (err) => {
    const message = causeText(err);
    const now = Date.now();
    if (now - (lastLogged.get(message) ?? 0) < 60_000) return;
    lastLogged.set(message, now);
    logger.warn({ err: message }, what);
  };
}
