import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KilnError } from '../../core/index.js';
import { BullMQQueue } from './bullmq.js';
import { LEASE_EXPIRED } from './events.js';
import { queueConformance } from './testing/conformance.js';
import { recordEvents, startChild, uniqueName, until, WAIT_MS } from './testing/helpers.js';
import { deleteKeys, redisUnavailable, TEST_REDIS_URL } from './testing/redis.js';

const skip = await redisUnavailable();

queueConformance({
  name: 'bullmq',
  skip,
  async open() {
    const prefix = uniqueName('kiln-test');
    const queue = await BullMQQueue.open({ url: TEST_REDIS_URL, prefix });
    return { queue, cleanup: () => deleteKeys(prefix) };
  },
});

describe('bullmq queue', { skip }, () => {
  const prefix = uniqueName('kiln-test');
  const opened: BullMQQueue[] = [];
  const open = async (leaseMs?: number) => {
    const queue = await BullMQQueue.open({ url: TEST_REDIS_URL, prefix, leaseMs });
    opened.push(queue);
    return queue;
  };
  after(async () => {
    await Promise.all(opened.map((queue) => queue.close()));
    await deleteKeys(prefix);
  });

  it('fails fast with TEMPORARILY_UNAVAILABLE when Redis does not answer', async () => {
    await assert.rejects(BullMQQueue.open({ url: 'redis://127.0.0.1:1', connectTimeoutMs: 2000 }), (err) => {
      assert.ok(err instanceof KilnError);
      assert.equal(err.code, 'TEMPORARILY_UNAVAILABLE');
      assert.match(err.message, /127\.0\.0\.1:1.*unreachable/);
      return true;
    });
  });

  it('lets one process wait for a job another process runs', async () => {
    const producer = await open();
    const consumer = await open();
    const name = uniqueName();
    const seen: string[] = [];
    const stop = producer.on((event) => {
      if (event.queue === name) seen.push(event.type);
    });
    const worker = consumer.process(name, async (job) => `ran ${job.name}`);
    try {
      const job = await producer.enqueue(name, 'remote', {});
      const done = await producer.waitFor(name, job.id, WAIT_MS);
      assert.equal(done.result, 'ran remote');
      await until(() => seen.includes('completed'), 'the completed event in the other instance');
    } finally {
      stop();
      await worker.close();
    }
  });

  describe('a worker killed with SIGKILL mid-job', () => {
    let queue: BullMQQueue;
    before(async () => {
      queue = await open(1000);
    });

    /** Lets a child worker with a one-second lock start the job, then kills it. */
    async function killedMidJob(name: string, jobId: string): Promise<void> {
      const child = startChild('./queue-child.ts', ['bullmq-work', TEST_REDIS_URL, prefix, name, '1000']);
      try {
        await child.line((line) => line === `started ${jobId} 1`);
        child.process.kill('SIGKILL');
        assert.equal(await child.exited, 'SIGKILL');
      } finally {
        child.process.kill('SIGKILL');
      }
      assert.equal((await queue.getJob(name, jobId))?.state, 'active');
    }

    it('has its job taken over by another worker once the lock expires', async () => {
      const name = uniqueName();
      const recorded = recordEvents(queue, name);
      const job = await queue.enqueue(name, 'survivor', { n: 1 }, { attempts: 3 });
      await killedMidJob(name, job.id);
      const worker = queue.process(name, async (running) => `finished on attempt ${running.attempt}`);
      try {
        const done = await queue.waitFor(name, job.id, WAIT_MS);
        assert.equal(done.state, 'completed');
        assert.equal(done.result, 'finished on attempt 2');
        assert.equal(done.attemptsMade, 2);
        await until(() => recorded.events.some((e) => e.type === 'completed'), 'the completed event');
        assert.deepEqual(recorded.events[0], {
          type: 'failed',
          queue: name,
          jobId: job.id,
          error: LEASE_EXPIRED,
          willRetry: true,
        });
      } finally {
        recorded.stop();
        await worker.close();
      }
    });

    it('fails the job if that was its last attempt', async () => {
      const name = uniqueName();
      const job = await queue.enqueue(name, 'last-chance', {}, { attempts: 1 });
      await killedMidJob(name, job.id);
      let ran = false;
      const worker = queue.process(name, async () => {
        ran = true;
      });
      try {
        const done = await queue.waitFor(name, job.id, WAIT_MS);
        assert.equal(done.state, 'failed');
        assert.equal(done.error, LEASE_EXPIRED);
        assert.equal(ran, false);
      } finally {
        await worker.close();
      }
    });
  });
});
