import { Redis } from 'ioredis';
import { maskSecret } from '../../../core/index.js';
import { causeText } from '../../database/failure.js';

/** The Redis server integration tests use; override with `KILN_TEST_REDIS_URL`. */
export const TEST_REDIS_URL = process.env.KILN_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * False when the test Redis answers, else why it does not. With `CI` set an unreachable Redis
 * throws instead, so a CI run cannot pass without having tested BullMQ.
 */
export async function redisUnavailable(): Promise<string | false> {
  const client = new Redis(TEST_REDIS_URL, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0 });
  client.on('error', () => undefined);
  let reason: string | false = false;
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    reason = `Redis at ${maskSecret(TEST_REDIS_URL)} is unreachable (${causeText(err)}); set KILN_TEST_REDIS_URL or start it`;
  } finally {
    client.disconnect();
  }
  if (reason !== false && process.env.CI) throw new Error(`${reason}; CI is set, so this is a failure`);
  return reason;
}

/** Deletes every key under `prefix:`, the namespace one test run gave its queues. */
export async function deleteKeys(prefix: string): Promise<void> {
  const client = new Redis(TEST_REDIS_URL, { lazyConnect: true });
  try {
    await client.connect();
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await client.del(...keys);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}
