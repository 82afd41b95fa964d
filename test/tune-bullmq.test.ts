import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { systemContext } from '../src/core/index.js';
import { type Database, openQueue, type Queue, type Worker } from '../src/store/index.js';
import { deleteKeys, redisUnavailable, TEST_REDIS_URL } from '../src/store/queue/testing/redis.js';
import { type TestDatabase, testDatabases } from '../src/store/testing/databases.js';
import type { StudyService } from '../src/training/study-service.js';
import { startTuneWorker } from '../src/training/tune-worker.js';
import {
  migrateForStudies,
  OBJECTIVE_TEMPLATE,
  ObjectiveRunner,
  sphere,
  sphereSpace,
  studyServices,
} from './tune-fixtures.js';

const ctx = systemContext('tune-bullmq');
const skip = await redisUnavailable();
const [sqlite, postgres] = await testDatabases();
// PostgreSQL when it answers (the scale-out pairing), else SQLite.
const target = postgres !== undefined && postgres.skip === false ? postgres : sqlite;

describe(`trials spread over two BullMQ workers (Redis + ${target?.name})`, { skip }, () => {
  const prefix = `kiln-tune-${randomBytes(5).toString('hex')}`;
  let db: TestDatabase;
  let database: Database;
  const queues: Queue[] = [];
  const workers: Worker[] = [];
  const ranBy = new Map<number, string>();
  let studies: StudyService;

  before(async () => {
    if (target === undefined) throw new Error('no test database');
    db = await target.create();
    database = await db.open();
    await migrateForStudies(database);
    // Two workers, as two machines would be: each its own queue connection and its own study service.
    for (const name of ['worker-a', 'worker-b']) {
      const queue = await openQueue({ url: TEST_REDIS_URL, database, prefix });
      queues.push(queue);
      const services = studyServices(
        database,
        queue,
        (tracking) =>
          new ObjectiveRunner(tracking, sphere, {
            steps: 5,
            stepDelayMs: 40,
            onStep: (trial) => {
              ranBy.set(trial.number, name);
            },
          }),
      );
      studies ??= services.studies;
      workers.push(startTuneWorker(queue, services.studies.trialJobs(), { concurrency: 1 }));
    }
  });
  after(async () => {
    await Promise.all(workers.map((worker) => worker.close()));
    await Promise.all(queues.map((queue) => queue.close()));
    await deleteKeys(prefix);
    await db?.cleanup();
  });

  it('runs a parallel study to n_trials with trials on both workers and every number once', async () => {
    const { study } = await studies.create(ctx, {
      ...OBJECTIVE_TEMPLATE,
      name: 'bullmq',
      space: sphereSpace(2),
      metric: 'sphere',
      direction: 'minimize',
      sampler: { type: 'tpe', seed: 1, nStartupTrials: 4, constantLiar: true },
      pruner: { type: 'none' },
      n_trials: 8,
      parallelism: 2,
    });
    const deadline = Date.now() + 120_000;
    while ((await studies.get(ctx, study.id)).study.state === 'running') {
      assert.ok(Date.now() < deadline, 'the study finished in time');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const view = await studies.get(ctx, study.id);
    assert.equal(view.study.state, 'complete');
    const { trials } = await studies.trials(ctx, study.id);
    assert.deepEqual(
      trials.map((t) => t.number),
      [...Array(8).keys()],
    );
    assert.ok(trials.every((t) => t.state === 'complete' && t.value === sphere(t.params)));
    const byWorker = new Set(ranBy.values());
    assert.deepEqual([...byWorker].sort(), ['worker-a', 'worker-b'], 'both workers ran trials');
  });
});
