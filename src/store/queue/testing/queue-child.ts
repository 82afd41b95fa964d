/**
 * The process the crash tests kill, started as `node --import tsx queue-child.ts <mode> ...`:
 *
 * - `local-enqueue <databaseUrl> <queue>`: enqueues jobs one after another forever, printing
 *   `ack <id>` once each enqueue has resolved, until the parent kills it.
 * - `local-work <databaseUrl> <queue> <leaseMs>`: runs the local queue's worker with a short lease;
 *   its processor prints `started <id> <attempt>` and never finishes.
 * - `bullmq-work <redisUrl> <prefix> <queue> <leaseMs>`: the same over BullMQ.
 */
import { openDatabase } from '../../database/open.js';
import { BullMQQueue } from '../bullmq.js';
import { openQueue } from '../open.js';
import type { JobProcessor, Queue } from '../queue.js';

const [mode, url, ...rest] = process.argv.slice(2);

const hang: JobProcessor = async (job) => {
  process.stdout.write(`started ${job.id} ${job.attempt}\n`);
  await new Promise(() => undefined);
};

async function localQueue(leaseMs?: number): Promise<Queue> {
  if (url === undefined) throw new Error('database URL missing');
  const database = await openDatabase(url);
  return openQueue({ url: 'local', database, leaseMs });
}

if (mode === 'local-enqueue') {
  const [name = ''] = rest;
  const queue = await localQueue();
  for (let i = 0; ; i++) {
    const job = await queue.enqueue(name, 'acknowledged', { i });
    process.stdout.write(`ack ${job.id}\n`);
  }
} else if (mode === 'local-work') {
  const [name = '', leaseMs = '1000'] = rest;
  const queue = await localQueue(Number(leaseMs));
  queue.process(name, hang);
} else if (mode === 'bullmq-work') {
  const [prefix, name = '', leaseMs = '1000'] = rest;
  if (url === undefined) throw new Error('Redis URL missing');
  const queue = await BullMQQueue.open({ url, prefix, leaseMs: Number(leaseMs) });
  queue.process(name, hang);
} else {
  throw new Error(`unknown mode '${mode}'`);
}
