import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KilnError } from '../../core/index.js';
import type { Database } from '../database/database.js';
import { migrate } from '../database/migrate.js';
import { type TestDatabase, testDatabases } from '../testing/databases.js';
import { LEASE_EXPIRED } from './events.js';
import { LocalQueue } from './local.js';
import { QUEUE_MIGRATIONS } from './migrations.js';
import { queueConformance } from './testing/conformance.js';
import { gate, recordEvents, sleep, startChild, uniqueName, until, WAIT_MS } from './testing/helpers.js';

async function migrated(db: TestDatabase): Promise<Database> {
  const database = await db.open();
  const report = await migrate(database, QUEUE_MIGRATIONS);
  assert.equal(report.error, undefined, report.error?.message);
  return database;
}

for (const target of await testDatabases()) {
  queueConformance({
    name: `local on ${target.name}`,
    skip: target.skip,
    async open() {
      const db = await target.create();
      const queue = await LocalQueue.open({ database: await migrated(db) });
      return { queue, cleanup: () => db.cleanup() };
    },
  });

  describe(`local queue on ${target.name}`, { skip: target.skip }, () => {
    let db: TestDatabase;
    let database: Database;
    before(async () => {
      db = await target.create();
      database = await migrated(db);
    });
    after(() => db?.cleanup());

    it('refuses to open on a database without kiln_jobs', async () => {
      const bare = await target.create();
      try {
        await assert.rejects(LocalQueue.open({ database: await bare.open() }), (err) => {
          assert.ok(err instanceof KilnError);
          assert.equal(err.code, 'INVALID_STATE');
          assert.match(err.message, /kiln_jobs.*STORE_MIGRATIONS/);
          return true;
        });
      } finally {
        await bare.cleanup();
      }
    });

    it('runs each job exactly once when two processes share the database', async () => {
      const first = await LocalQueue.open({ database });
      const second = await LocalQueue.open({ database: await db.open(), pollMs: 20 });
      const name = uniqueName();
      const runs = new Map<string, number>();
      const count = async (job: { id: string }) => {
        runs.set(job.id, (runs.get(job.id) ?? 0) + 1);
        return job.id;
      };
      const workers = [first.process(name, count, { concurrency: 3 }), second.process(name, count, { concurrency: 3 })];
      try {
        const jobs = await Promise.all(Array.from({ length: 40 }, (_, i) => first.enqueue(name, 'once', { i })));
        for (const job of jobs) assert.equal((await second.waitFor(name, job.id, WAIT_MS)).state, 'completed');
        assert.equal(runs.size, 40);
        assert.ok([...runs.values()].every((n) => n === 1));
      } finally {
        await Promise.all(workers.map((worker) => worker.close()));
        await Promise.all([first.close(), second.close()]);
      }
    });

    it('keeps a job with its worker past leaseMs while the worker heartbeats', async () => {
      const owner = await LocalQueue.open({ database, leaseMs: 300, pollMs: 20 });
      const rival = await LocalQueue.open({ database: await db.open(), leaseMs: 300, pollMs: 20 });
      const name = uniqueName();
      const attempts: string[] = [];
      const started = gate();
      const release = gate();
      const workers = [
        owner.process(name, async (job) => {
          attempts.push(`owner ${job.attempt}`);
          started.resolve();
          await release.promise;
          return 'owner';
        }),
      ];
      try {
        const job = await owner.enqueue(name, 'long', {});
        await started.promise;
        workers.push(rival.process(name, async (job) => attempts.push(`rival ${job.attempt}`)));
        await sleep(1500);
        release.resolve();
        const done = await owner.waitFor(name, job.id, WAIT_MS);
        assert.equal(done.result, 'owner');
        assert.deepEqual(attempts, ['owner 1']);
      } finally {
        release.resolve();
        await Promise.all(workers.map((worker) => worker.close()));
        await Promise.all([owner.close(), rival.close()]);
      }
    });

    it('keeps every acknowledged enqueue when the process is killed with SIGKILL', async () => {
      const name = uniqueName();
      const child = startChild('./queue-child.ts', ['local-enqueue', db.url, name]);
      try {
        await child.line((line) => line.startsWith('ack '));
        await until(() => child.lines.length >= 50, '50 acknowledged enqueues');
        child.process.kill('SIGKILL');
        assert.equal(await child.exited, 'SIGKILL');
      } finally {
        child.process.kill('SIGKILL');
      }
      const acknowledged = child.lines.filter((line) => line.startsWith('ack ')).map((line) => line.slice(4));
      assert.ok(acknowledged.length >= 50);
      const fresh = await LocalQueue.open({ database: await db.open() });
      try {
        for (const id of acknowledged) assert.equal((await fresh.getJob(name, id))?.state, 'waiting', id);
        assert.ok((await fresh.counts(name)).waiting >= acknowledged.length);
      } finally {
        await fresh.close();
      }
    });

    it('reclaims and reruns a job whose worker was killed mid-job once its lease expires', async () => {
      const queue = await LocalQueue.open({ database, pollMs: 50 });
      const name = uniqueName();
      const recorded = recordEvents(queue, name);
      const job = await queue.enqueue(name, 'survivor', { n: 1 }, { attempts: 3 });
      const child = startChild('./queue-child.ts', ['local-work', db.url, name, '600']);
      try {
        await child.line((line) => line === `started ${job.id} 1`);
        child.process.kill('SIGKILL');
        assert.equal(await child.exited, 'SIGKILL');
      } finally {
        child.process.kill('SIGKILL');
      }
      assert.equal((await queue.getJob(name, job.id))?.state, 'active');
      const worker = queue.process(name, async (running) => `finished on attempt ${running.attempt}`);
      try {
        const done = await queue.waitFor(name, job.id, WAIT_MS);
        assert.equal(done.state, 'completed');
        assert.equal(done.result, 'finished on attempt 2');
        assert.equal(done.attemptsMade, 2);
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
        await queue.close();
      }
    });

    it('fails a job whose worker died during its last attempt', async () => {
      const queue = await LocalQueue.open({ database, pollMs: 50 });
      const name = uniqueName();
      const job = await queue.enqueue(name, 'last-chance', {}, { attempts: 1 });
      const child = startChild('./queue-child.ts', ['local-work', db.url, name, '600']);
      try {
        await child.line((line) => line === `started ${job.id} 1`);
      } finally {
        child.process.kill('SIGKILL');
        await child.exited;
      }
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
        await queue.close();
      }
    });
  });
}
