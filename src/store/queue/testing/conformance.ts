import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Queue } from '../queue.js';
import { badInput } from './bad-input.js';
import { gate, hasCode, recordEvents, sleep, uniqueName, until, WAIT_MS } from './helpers.js';

/** A backend the conformance suite runs against. */
export interface QueueTarget {
  name: string;
  /** Why the suite is skipped here (service unreachable on a developer machine), or false. */
  skip: string | false;
  /** A fresh queue over a fresh backend, and how to remove that backend's data afterwards. */
  open(): Promise<{ queue: Queue; cleanup(): Promise<void> }>;
}

/**
 * The behaviour every Queue implementation must show. Tests share one queue instance and keep
 * apart by queue name; each closes the workers it starts.
 */
export function queueConformance(target: QueueTarget): void {
  describe(`queue conformance: ${target.name}`, { skip: target.skip }, () => {
    let queue: Queue;
    let cleanup: () => Promise<void> = async () => undefined;
    before(async () => {
      ({ queue, cleanup } = await target.open());
    });
    after(async () => {
      await queue?.close();
      await cleanup();
    });

    it('runs an enqueued job and records its result', async () => {
      const name = uniqueName();
      const worker = queue.process<{ n: number }, unknown>(name, async (job) => ({
        doubled: job.data.n * 2,
        attempt: job.attempt,
        name: job.name,
      }));
      try {
        const job = await queue.enqueue(name, 'double', { n: 21 });
        assert.equal(job.queue, name);
        assert.equal(job.name, 'double');
        assert.deepEqual(job.data, { n: 21 });
        assert.equal(job.state, 'waiting');
        assert.equal(job.maxAttempts, 3);
        const done = await queue.waitFor(name, job.id, WAIT_MS);
        assert.equal(done.state, 'completed');
        assert.deepEqual(done.result, { doubled: 42, attempt: 1, name: 'double' });
        assert.equal(done.attemptsMade, 1);
        assert.ok(done.finishedAt instanceof Date && done.finishedAt >= done.createdAt);
      } finally {
        await worker.close();
      }
    });

    it('reports waiting, delayed, active, completed and failed states', async () => {
      const name = uniqueName();
      const later = await queue.enqueue(name, 'later', {}, { delayMs: 600_000 });
      assert.equal((await queue.getJob(name, later.id))?.state, 'delayed');
      const first = await queue.enqueue(name, 'first', { fail: false });
      assert.equal((await queue.getJob(name, first.id))?.state, 'waiting');
      assert.equal(await queue.getJob(name, 'no-such-job'), undefined);

      const started = gate();
      const release = gate();
      const worker = queue.process<{ fail: boolean }, string>(name, async (job) => {
        if (job.data.fail) throw new Error('refused');
        started.resolve();
        await release.promise;
        return 'ok';
      });
      try {
        await started.promise;
        assert.equal((await queue.getJob(name, first.id))?.state, 'active');
        release.resolve();
        await queue.waitFor(name, first.id, WAIT_MS);
        assert.equal((await queue.getJob(name, first.id))?.state, 'completed');
        const bad = await queue.enqueue(name, 'bad', { fail: true }, { attempts: 1 });
        const failed = await queue.waitFor(name, bad.id, WAIT_MS);
        assert.equal(failed.state, 'failed');
        assert.equal(failed.error, 'refused');
        assert.equal(failed.result, undefined);
        assert.equal((await queue.getJob(name, bad.id))?.state, 'failed');
      } finally {
        await worker.close();
      }
    });

    it('runs up to `concurrency` jobs at once and no more', async () => {
      const name = uniqueName();
      const limit = 3;
      let running = 0;
      let peak = 0;
      const full = gate();
      const worker = queue.process(
        name,
        async () => {
          running++;
          peak = Math.max(peak, running);
          if (running === limit) full.resolve();
          await full.promise;
          await sleep(5);
          running--;
          return peak;
        },
        { concurrency: limit },
      );
      try {
        const jobs = await Promise.all(Array.from({ length: 8 }, (_, i) => queue.enqueue(name, `job-${i}`, { i })));
        for (const job of jobs) assert.equal((await queue.waitFor(name, job.id, WAIT_MS)).state, 'completed');
        assert.equal(peak, limit);
      } finally {
        await worker.close();
      }
    });

    it('retries a failing job with exponential backoff until it succeeds', async () => {
      const name = uniqueName();
      const recorded = recordEvents(queue, name);
      const starts: number[] = [];
      const failures: number[] = [];
      const worker = queue.process(name, async (job) => {
        starts.push(Date.now());
        if (job.attempt < 3) {
          failures.push(Date.now());
          throw new Error(`attempt ${job.attempt} failed`);
        }
        return job.attempt;
      });
      try {
        const job = await queue.enqueue(name, 'flaky', {}, { attempts: 3, backoffMs: 300 });
        const done = await queue.waitFor(name, job.id, WAIT_MS);
        assert.equal(done.state, 'completed');
        assert.equal(done.result, 3);
        assert.equal(done.attemptsMade, 3);
        await until(() => recorded.events.length >= 3, 'two failed events and one completed');
        const summary = recorded.events.map((e) => (e.type === 'failed' ? [e.type, e.error, e.willRetry] : [e.type]));
        assert.deepEqual(summary, [
          ['failed', 'attempt 1 failed', true],
          ['failed', 'attempt 2 failed', true],
          ['completed'],
        ]);
        const [f1 = 0, f2 = 0] = failures;
        const [, s2 = 0, s3 = 0] = starts;
        assert.ok(s2 - f1 >= 300 - 5, `second attempt ${s2 - f1} ms after the first failure`);
        assert.ok(s3 - f2 >= 600 - 5, `third attempt ${s3 - f2} ms after the second failure`);
      } finally {
        recorded.stop();
        await worker.close();
      }
    });

    it('fails a job for good after maxAttempts, keeping the last error', async () => {
      const name = uniqueName();
      const recorded = recordEvents(queue, name);
      const worker = queue.process(name, async (job) => {
        throw new Error(`boom ${job.attempt}`);
      });
      try {
        const job = await queue.enqueue(name, 'doomed', {}, { attempts: 2, backoffMs: 200 });
        const done = await queue.waitFor(name, job.id, WAIT_MS);
        assert.equal(done.state, 'failed');
        assert.equal(done.error, 'boom 2');
        assert.equal(done.attemptsMade, 2);
        assert.equal(done.maxAttempts, 2);
        assert.ok(done.finishedAt instanceof Date);
        await until(() => recorded.events.length >= 2, 'two failed events');
        assert.deepEqual(
          recorded.events.map((e) => (e.type === 'failed' ? [e.jobId, e.error, e.willRetry] : [e.type])),
          [
            [job.id, 'boom 1', true],
            [job.id, 'boom 2', false],
          ],
        );
      } finally {
        recorded.stop();
        await worker.close();
      }
    });

    it('reports progress through events and getJob', async () => {
      const name = uniqueName();
      const recorded = recordEvents(queue, name);
      let refused: unknown;
      const worker = queue.process(name, async (job) => {
        await job.updateProgress(50);
        await job.updateProgress({ step: 'fit', done: 3 });
        await job.updateProgress('half' as never).catch((err: unknown) => {
          refused = err;
        });
        return 'ok';
      });
      try {
        const job = await queue.enqueue(name, 'report', {});
        await queue.waitFor(name, job.id, WAIT_MS);
        await until(() => recorded.events.some((e) => e.type === 'completed'), 'the completed event');
        const progress = recorded.events.flatMap((e) => (e.type === 'progress' ? [e.progress] : []));
        assert.deepEqual(progress, [50, { step: 'fit', done: 3 }]);
        assert.deepEqual((await queue.getJob(name, job.id))?.progress, { step: 'fit', done: 3 });
        assert.ok(hasCode('INVALID_PARAMETER_VALUE', 'progress')(refused));
      } finally {
        recorded.stop();
        await worker.close();
      }
    });

    it('treats a repeated jobId as the same job, whatever its state', async () => {
      const name = uniqueName();
      const first = await queue.enqueue(name, 'once', { v: 1 }, { jobId: 'model-7.train' });
      const again = await queue.enqueue(name, 'once', { v: 2 }, { jobId: 'model-7.train' });
      assert.equal(first.id, 'model-7.train');
      assert.equal(again.id, first.id);
      assert.deepEqual(again.data, { v: 1 });
      assert.equal((await queue.counts(name)).waiting, 1);
      let runs = 0;
      const worker = queue.process(name, async () => ++runs);
      try {
        assert.equal((await queue.waitFor(name, first.id, WAIT_MS)).state, 'completed');
        const late = await queue.enqueue(name, 'once', { v: 3 }, { jobId: 'model-7.train' });
        assert.equal(late.state, 'completed');
        assert.deepEqual(late.data, { v: 1 });
        const elsewhere = uniqueName();
        const other = await queue.enqueue(elsewhere, 'once', { v: 4 }, { jobId: 'model-7.train' });
        assert.deepEqual(other.data, { v: 4 });
        assert.equal(runs, 1);
      } finally {
        await worker.close();
      }
    });

    it('does not run a delayed job before its delay', async () => {
      const name = uniqueName();
      const order: string[] = [];
      const worker = queue.process(
        name,
        async (job) => {
          order.push(job.name);
          return Date.now();
        },
        { concurrency: 1 },
      );
      try {
        const enqueuedAt = Date.now();
        const late = await queue.enqueue(name, 'late', {}, { delayMs: 1000 });
        const early = await queue.enqueue(name, 'early', {});
        await queue.waitFor(name, early.id, WAIT_MS);
        const lateDone = await queue.waitFor(name, late.id, WAIT_MS);
        assert.deepEqual(order, ['early', 'late']);
        assert.ok((lateDone.result as number) >= enqueuedAt + 1000 - 5);
      } finally {
        await worker.close();
      }
    });

    it('gives up waiting with DEADLINE_EXCEEDED and knows unknown ids', async () => {
      const name = uniqueName();
      const job = await queue.enqueue(name, 'never-run', {});
      await assert.rejects(queue.waitFor(name, job.id, 200), hasCode('DEADLINE_EXCEEDED'));
      await assert.rejects(queue.waitFor(name, 'missing-job', 1000), hasCode('RESOURCE_DOES_NOT_EXIST'));
    });

    it('closes a worker only after its active job finishes', async () => {
      const name = uniqueName();
      const started = gate();
      const release = gate();
      const order: string[] = [];
      const worker = queue.process(name, async () => {
        started.resolve();
        await release.promise;
        order.push('job finished');
        return 'done';
      });
      const job = await queue.enqueue(name, 'slow', {});
      await started.promise;
      const closing = worker.close(WAIT_MS).then(() => order.push('worker closed'));
      await sleep(100);
      order.push('released');
      release.resolve();
      await closing;
      assert.deepEqual(order, ['released', 'job finished', 'worker closed']);
      assert.equal((await queue.waitFor(name, job.id, WAIT_MS)).state, 'completed');
    });

    it('aborts jobs that outlast the close timeout', async () => {
      const name = uniqueName();
      const started = gate();
      let aborted = false;
      const worker = queue.process(name, async (job) => {
        started.resolve();
        await new Promise((resolve) => job.signal.addEventListener('abort', resolve));
        aborted = true;
        throw new Error('stopped by shutdown');
      });
      const job = await queue.enqueue(name, 'stuck', {}, { attempts: 1 });
      await started.promise;
      await worker.close(100);
      assert.ok(aborted);
      const done = await queue.waitFor(name, job.id, WAIT_MS);
      assert.equal(done.state, 'failed');
      assert.equal(done.error, 'stopped by shutdown');
    });

    it('counts jobs per state', async () => {
      const name = uniqueName();
      const zero = { waiting: 0, delayed: 0, active: 0, completed: 0, failed: 0 };
      assert.deepEqual(await queue.counts(name), zero);
      const jobs = [await queue.enqueue(name, 'good', {}), await queue.enqueue(name, 'good', {})];
      await queue.enqueue(name, 'later', {}, { delayMs: 600_000 });
      assert.deepEqual(await queue.counts(name), { ...zero, waiting: 2, delayed: 1 });
      const worker = queue.process(name, async (job) => {
        if (job.name === 'bad') throw new Error('bad job');
        return 1;
      });
      try {
        jobs.push(await queue.enqueue(name, 'bad', {}, { attempts: 1 }));
        for (const job of jobs) await queue.waitFor(name, job.id, WAIT_MS);
      } finally {
        await worker.close();
      }
      assert.deepEqual(await queue.counts(name), { ...zero, delayed: 1, completed: 2, failed: 1 });
    });

    it('delivers events to every listener until it unsubscribes, even when one throws', async () => {
      const name = uniqueName();
      const kept = recordEvents(queue, name);
      const dropped = recordEvents(queue, name);
      dropped.stop();
      const stopThrowing = queue.on(() => {
        throw new Error('listener bug');
      });
      const worker = queue.process(name, async () => 'fine');
      try {
        const job = await queue.enqueue(name, 'observed', {});
        await until(() => kept.events.some((e) => e.type === 'completed' && e.jobId === job.id), 'the completed event');
        assert.deepEqual(kept.events, [{ type: 'completed', queue: name, jobId: job.id, result: 'fine' }]);
        assert.deepEqual(dropped.events, []);
      } finally {
        kept.stop();
        stopThrowing();
        await worker.close();
      }
    });

    it('refuses bad input with INVALID_PARAMETER_VALUE naming the field', async () => {
      const name = uniqueName();
      const cases = badInput(queue, name);
      for (const [field, call] of cases) await assert.rejects(call(), hasCode('INVALID_PARAMETER_VALUE', field));
      assert.deepEqual(await queue.counts(name), { waiting: 0, delayed: 0, active: 0, completed: 0, failed: 0 });
    });

    it('answers ping', async () => {
      await queue.ping();
    });

    it('refuses new work once closed', async () => {
      const other = await target.open();
      try {
        await other.queue.close();
        await assert.rejects(other.queue.enqueue(uniqueName(), 'late', {}), hasCode('INVALID_STATE'));
        assert.throws(() => other.queue.process(uniqueName(), async () => 1), hasCode('INVALID_STATE'));
        await other.queue.close();
      } finally {
        await other.cleanup();
      }
    });
  });
}
