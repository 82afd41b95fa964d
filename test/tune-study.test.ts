import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KilnError, systemContext } from '../src/core/index.js';
import { bestTrial, shouldPrune } from '../src/learn/tune/index.js';
import type { RegistryService } from '../src/registry/index.js';
import type { Database, Queue, Worker } from '../src/store/index.js';
import { openQueue } from '../src/store/index.js';
import { type TestDatabase, testDatabases } from '../src/store/testing/databases.js';
import type { TrackingServices } from '../src/tracking/index.js';
import type { StudyService } from '../src/training/study-service.js';
import { StudyStore } from '../src/training/study-store.js';
import { startTuneWorker } from '../src/training/tune-worker.js';
import {
  migrateForStudies,
  OBJECTIVE_TEMPLATE,
  type ObjectiveOptions,
  ObjectiveRunner,
  sphere,
  sphereSpace,
  studyServices,
} from './tune-fixtures.js';

const ctx = systemContext('tune-study');
const WAIT_MS = 90_000;

async function until(what: string, condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A runner that also records how many trials ran at once. */
class CountingRunner extends ObjectiveRunner {
  inFlight = 0;
  maxInFlight = 0;
  override async run(...args: Parameters<ObjectiveRunner['run']>) {
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      return await super.run(...args);
    } finally {
      this.inFlight -= 1;
    }
  }
}

for (const target of await testDatabases()) {
  describe(`studies on the queue (${target.name})`, { skip: target.skip }, () => {
    let db: TestDatabase;
    let database: Database;
    let queue: Queue;
    let worker: Worker;
    let studies: StudyService;
    let tracking: TrackingServices;
    let registry: RegistryService;
    let runner: CountingRunner;
    const options: ObjectiveOptions = { steps: 8 };
    let diverging = false;
    const objective = (params: Record<string, unknown>) => {
      if (diverging) throw new Error('the objective diverged');
      return sphere(params);
    };

    before(async () => {
      db = await target.create();
      database = await db.open();
      await migrateForStudies(database);
      queue = await openQueue({ url: 'local', database });
      ({ studies, tracking, registry } = studyServices(database, queue, (t) => {
        runner = new CountingRunner(t, objective, options);
        return runner;
      }));
      worker = studies.process({ concurrency: 2 });
    });
    after(async () => {
      await worker?.close();
      await queue?.close();
      await db?.cleanup();
    });

    async function runStudy(body: Record<string, unknown>) {
      const created = await studies.create(ctx, {
        ...OBJECTIVE_TEMPLATE,
        metric: 'sphere',
        direction: 'minimize',
        ...body,
      });
      await until(
        'the study to finish',
        async () => (await studies.get(ctx, created.study.id)).study.state !== 'running',
      );
      const view = await studies.get(ctx, created.study.id);
      const { trials } = await studies.trials(ctx, created.study.id, { maxResults: 1000 });
      return { view, trials };
    }

    it('runs n_trials sequential TPE trials with median pruning, nested runs and the best on the parent run', async () => {
      const { view, trials } = await runStudy({
        name: 'sphere-median',
        space: sphereSpace(2),
        sampler: { type: 'tpe', seed: 11, nStartupTrials: 5 },
        pruner: { type: 'median', nStartupTrials: 3 },
        n_trials: 16,
      });
      assert.equal(view.study.state, 'complete');
      assert.deepEqual(
        trials.map((t) => t.number),
        [...Array(16).keys()],
      );
      const pruned = trials.filter((t) => t.state === 'pruned');
      assert.ok(pruned.length > 0, 'the median pruner stopped some trials');
      for (const trial of pruned) {
        assert.ok(trial.intermediate.length < 8, `pruned trial ${trial.number} stopped before its last step`);
        const [step] = trial.intermediate[trial.intermediate.length - 1] ?? [0];
        const earlier = trials.filter((t) => t.number < trial.number);
        assert.ok(
          shouldPrune(
            { type: 'median', nStartupTrials: 3 },
            'minimize',
            [...earlier, { ...trial, state: 'running' }],
            { ...trial, state: 'running' },
            step,
          ),
          `the pruner's decision for trial ${trial.number} replays from the stored history`,
        );
      }
      for (const trial of trials.filter((t) => t.state === 'complete')) assert.equal(trial.value, sphere(trial.params));
      assert.equal(view.counts.complete + view.counts.pruned, 16);
      const best = bestTrial(trials, 'minimize');
      assert.equal(view.best?.number, best?.number);
      assert.equal(view.study.bestValue, best?.value);

      const parent = await tracking.runs.get(ctx, view.study.parentRunId);
      assert.equal(parent.info.status, 'FINISHED');
      const tags = Object.fromEntries(parent.data.tags.map((t) => [t.key, t.value]));
      assert.equal(tags['kiln.study'], view.study.id);
      assert.equal(tags['kiln.best_trial'], String(best?.number));
      assert.deepEqual(JSON.parse(tags['kiln.best_params'] ?? '{}'), best?.params);
      const history = await tracking.runData.getMetricHistory(ctx, view.study.parentRunId, 'best_sphere');
      const values = history.metrics.map((m) => m.value);
      assert.ok(
        values.every((v, i) => i === 0 || v < (values[i - 1] as number)),
        'best_sphere only improves',
      );
      assert.equal(values[values.length - 1], best?.value);
      for (const trial of trials) {
        assert.ok(trial.runId !== undefined, `trial ${trial.number} has a run`);
        const run = await tracking.runs.get(ctx, trial.runId as string);
        const runTags = Object.fromEntries(run.data.tags.map((t) => [t.key, t.value]));
        assert.equal(runTags['mlflow.parentRunId'], view.study.parentRunId, 'nested under the parent run');
        assert.equal(runTags['kiln.trial'], String(trial.number));
      }
    });

    it('is deterministic: the same spec samples the same params in the same order', async () => {
      const body = {
        space: sphereSpace(3),
        sampler: { type: 'tpe', seed: 5, nStartupTrials: 3 },
        pruner: { type: 'none' },
        n_trials: 8,
      };
      const one = await runStudy({ ...body, name: 'again-1' });
      const two = await runStudy({ ...body, name: 'again-2' });
      assert.deepEqual(
        two.trials.map((t) => t.params),
        one.trials.map((t) => t.params),
      );
    });

    it('runs parallel trials, never more than parallelism at once, with every number once', async () => {
      options.stepDelayMs = 15;
      runner.maxInFlight = 0;
      // A second consumer of the queue: room for four trials at once, more than the study's parallelism.
      const second = startTuneWorker(queue, studies.trialJobs(), { concurrency: 2 });
      try {
        const { view, trials } = await runStudy({
          name: 'parallel',
          space: sphereSpace(2),
          sampler: { type: 'random', seed: 1 },
          pruner: { type: 'asha', minResource: 1, reductionFactor: 2 },
          n_trials: 12,
          parallelism: 3,
        });
        assert.equal(view.study.state, 'complete');
        assert.deepEqual(
          trials.map((t) => t.number),
          [...Array(12).keys()],
        );
        assert.ok(runner.maxInFlight <= 3, `at most parallelism trials at once, saw ${runner.maxInFlight}`);
        assert.ok(runner.maxInFlight >= 2, 'trials did run side by side');
        assert.ok(trials.every((t) => t.state === 'complete' || t.state === 'pruned'));
      } finally {
        delete options.stepDelayMs;
        await second.close();
      }
    });

    it('grid studies stop at the grid size and visit each point once', async () => {
      const { view, trials } = await runStudy({
        name: 'grid',
        space: { x0: { type: 'int', low: -1, high: 1 }, x1: { type: 'categorical', choices: [0, 2] } },
        sampler: { type: 'grid' },
        pruner: { type: 'none' },
        n_trials: 50,
      });
      assert.equal(view.study.nTrials, 6);
      assert.equal(trials.length, 6);
      assert.equal(new Set(trials.map((t) => JSON.stringify(t.params))).size, 6);
    });

    it('stop cancels the trials in flight and starts no more; resume carries on to n_trials', async () => {
      // Eight steps of 250 ms: long enough that the stop (seen within a second) finds a trial in flight.
      options.stepDelayMs = 250;
      try {
        const { study } = await studies.create(ctx, {
          ...OBJECTIVE_TEMPLATE,
          name: 'stop-resume',
          metric: 'sphere',
          direction: 'minimize',
          space: sphereSpace(2),
          pruner: { type: 'none' },
          n_trials: 4,
        });
        const store = new StudyStore(database);
        await until('a trial in flight after one finished', async () => {
          const trials = await store.allTrials(study.id);
          return trials.some((t) => t.state === 'complete') && trials.some((t) => t.state === 'running');
        });
        const stopped = await studies.stop(ctx, study.id);
        assert.equal(stopped.study.state, 'stopped');
        await assert.rejects(
          studies.stop(ctx, study.id),
          (err: unknown) => err instanceof KilnError && err.code === 'INVALID_STATE',
        );
        await until('the trial in flight to be cancelled', async () =>
          (await store.allTrials(study.id)).every((t) => t.state !== 'running'),
        );
        const atStop = await store.allTrials(study.id);
        const cancelled = atStop.filter((t) => t.state === 'failed');
        assert.ok(cancelled.length >= 1);
        assert.ok(cancelled.every((t) => t.error === 'the study was stopped'));
        assert.equal((await tracking.runs.get(ctx, study.parentRunId)).info.status, 'KILLED');
        await new Promise((resolve) => setTimeout(resolve, 300));
        assert.equal((await store.allTrials(study.id)).length, atStop.length, 'no trial started after the stop');

        await studies.resume(ctx, study.id);
        await until(
          'the resumed study to complete',
          async () => (await studies.get(ctx, study.id)).study.state === 'complete',
        );
        const trials = await store.allTrials(study.id);
        assert.deepEqual(
          trials.map((t) => t.number),
          [...Array(4).keys()],
        );
        for (const kept of atStop)
          assert.deepEqual(trials[kept.number], kept, `trial ${kept.number} is as the stop left it`);
        assert.equal((await tracking.runs.get(ctx, study.parentRunId)).info.status, 'FINISHED');
      } finally {
        delete options.stepDelayMs;
      }
    });

    it('registers the best trial model as a version when the study completes', async () => {
      const { view } = await runStudy({
        name: 'register',
        space: sphereSpace(2),
        sampler: { type: 'random', seed: 4 },
        pruner: { type: 'none' },
        n_trials: 5,
        register_best: 'sphere-best',
      });
      assert.deepEqual(view.study.registered, { name: 'sphere-best', version: '1' });
      const version = await registry.getModelVersion(ctx, 'sphere-best', 1);
      assert.equal(version.runId, view.best?.runId);
      assert.equal(version.source, `runs:/${view.best?.runId}/model`);
    });

    it('a timeout stops starting trials; the study completes with those that ran', async () => {
      options.stepDelayMs = 150;
      try {
        const { view, trials } = await runStudy({
          name: 'timeout',
          space: sphereSpace(2),
          pruner: { type: 'none' },
          n_trials: 40,
          timeout_seconds: 1,
        });
        assert.equal(view.study.state, 'complete');
        assert.ok(trials.length < 40, `only ${trials.length} trials started before the deadline`);
        assert.ok(trials.every((t) => t.state === 'complete'));
      } finally {
        delete options.stepDelayMs;
      }
    });

    it('gives a study up when its first three trials all fail', async () => {
      diverging = true;
      try {
        const { view, trials } = await runStudy({
          name: 'hopeless',
          space: sphereSpace(1),
          pruner: { type: 'none' },
          n_trials: 10,
        });
        assert.equal(view.study.state, 'failed');
        assert.equal(trials.length, 3);
        assert.ok(trials.every((t) => t.state === 'failed' && t.error === 'the objective diverged'));
        assert.match(view.study.error ?? '', /first 3 trials failed; the last error: the objective diverged/);
        assert.equal((await tracking.runs.get(ctx, view.study.parentRunId)).info.status, 'FAILED');
      } finally {
        diverging = false;
      }
    });

    it('rejects a bad spec naming the field, and unknown ids', async () => {
      const base = { ...OBJECTIVE_TEMPLATE, space: sphereSpace(1) };
      const field = (name: string) => (err: unknown) =>
        err instanceof KilnError && err.code === 'INVALID_PARAMETER_VALUE' && err.details?.field === name;
      await assert.rejects(studies.create(ctx, { ...base, n_trials: 0 }), field('n_trials'));
      await assert.rejects(studies.create(ctx, { ...base, metric: 'sphere' }), field('direction'));
      await assert.rejects(studies.create(ctx, { ...base, model: 'svm' }), field('model'));
      await assert.rejects(studies.get(ctx, 'nope'), field('id'));
      await assert.rejects(
        studies.get(ctx, 'a'.repeat(32)),
        (err: unknown) => err instanceof KilnError && err.code === 'RESOURCE_DOES_NOT_EXIST',
      );
    });
  });
}
