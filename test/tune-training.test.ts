import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type KilnConfig, KilnError, systemContext } from '../src/core/index.js';
import type { DatasetService } from '../src/data/index.js';
import type { RegistryService } from '../src/registry/index.js';
import type { Stores } from '../src/server/index.js';
import { testConfig } from '../src/server/testing/app.js';
import type { Worker } from '../src/store/index.js';
import type { TrackingServices } from '../src/tracking/index.js';
import type { StudyService } from '../src/training/study-service.js';
import { startTuneWorker } from '../src/training/tune-worker.js';
import { openTuningStores, trainingStudies } from './tune-training-fixtures.js';

const PENGUINS = fileURLToPath(new URL('../node_modules/vega-datasets/data/penguins.json', import.meta.url));
const ctx = systemContext('tune-training');

describe('a study of real GBDT training trials on penguins', () => {
  let config: KilnConfig;
  let stores: Stores;
  let tracking: TrackingServices;
  let registry: RegistryService;
  let studies: StudyService;
  let worker: Worker;

  before(async () => {
    config = await testConfig();
    stores = await openTuningStores(config);
    let datasets: DatasetService;
    ({ studies, tracking, registry, datasets } = trainingStudies(config, stores));
    worker = startTuneWorker(stores.queue, studies.trialJobs(), { concurrency: 2 });
    await datasets.create(ctx, { name: 'penguins' });
    await datasets.ingestVersion(ctx, 'penguins', { path: PENGUINS });
  });
  after(async () => {
    await worker?.close();
    await stores?.close();
    if (config !== undefined) await rm(config.home, { recursive: true, force: true });
  });

  it('refuses a study whose template cannot train, naming the field', async () => {
    await assert.rejects(
      studies.create(ctx, {
        data: 'penguins@1',
        target: 'species',
        task: 'classification',
        model: 'gbdt',
        space: { max_depth: { type: 'int', low: 1, high: 5 } },
      }),
      (err: unknown) =>
        err instanceof KilnError && err.code === 'INVALID_PARAMETER_VALUE' && err.details?.field === 'target',
    );
  });

  it('refuses unknown learner parameters in the base params before creating anything', async () => {
    await assert.rejects(
      studies.create(ctx, {
        data: 'penguins@1',
        target: 'Species',
        task: 'classification',
        model: 'gbdt',
        params: { depth: 3 },
        space: { max_depth: { type: 'int', low: 1, high: 5 } },
      }),
      (err: unknown) => err instanceof KilnError && err.code === 'INVALID_PARAMETER_VALUE' && /depth/.test(err.message),
    );
    assert.equal((await studies.list(ctx)).studies.length, 0);
  });

  it('tunes depth and learning rate: nested trial runs, pruning on per-round log loss, best model registered', async () => {
    const created = await studies.create(ctx, {
      name: 'penguins-gbdt',
      experiment: 'penguins-tuning',
      data: 'penguins@1',
      target: 'Species',
      task: 'classification',
      model: 'gbdt',
      params: { n_estimators: 25 },
      space: {
        max_depth: { type: 'int', low: 1, high: 5 },
        learning_rate: { type: 'float', low: 0.02, high: 0.5, log: true },
      },
      sampler: { type: 'tpe', seed: 2, nStartupTrials: 3 },
      pruner: { type: 'median', nStartupTrials: 2 },
      n_trials: 6,
      parallelism: 2,
      register_best: 'penguins-tuned',
    });
    assert.equal(created.study.spec.metric, 'validation_log_loss');
    assert.equal(created.study.spec.direction, 'minimize');
    const id = created.study.id;
    const deadline = Date.now() + 240_000;
    while ((await studies.get(ctx, id)).study.state === 'running') {
      assert.ok(Date.now() < deadline, 'the study finished in time');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const view = await studies.get(ctx, id);
    assert.equal(view.study.state, 'complete', view.study.error);
    const { trials } = await studies.trials(ctx, id);
    assert.deepEqual(
      trials.map((t) => t.number),
      [...Array(6).keys()],
    );
    assert.equal(view.counts.failed, 0, trials.map((t) => t.error).join('; '));

    for (const trial of trials) {
      assert.ok(trial.runId !== undefined);
      const run = await tracking.runs.get(ctx, trial.runId as string);
      const tags = Object.fromEntries(run.data.tags.map((t) => [t.key, t.value]));
      const params = Object.fromEntries(run.data.params.map((p) => [p.key, p.value]));
      const metrics = Object.fromEntries(run.data.metrics.map((m) => [m.key, m.value]));
      assert.equal(tags['mlflow.parentRunId'], view.study.parentRunId, 'a nested run of the study');
      assert.equal(tags['kiln.trial'], String(trial.number));
      assert.equal(run.info.status, 'FINISHED');
      assert.equal(Number(params.max_depth), trial.params.max_depth, 'the run trained with the sampled depth');
      assert.equal(Number(params.learning_rate), trial.params.learning_rate);
      assert.equal(params.n_estimators, '25', 'with the base params');
      assert.ok(trial.intermediate.length > 0, 'per-round validation log loss reached the pruner');
      if (trial.state === 'complete') {
        assert.equal(trial.value, metrics.validation_log_loss, "the trial's value is its run's final metric");
        assert.equal(trial.intermediate.length, 25, 'a complete trial reported every round');
      } else {
        assert.equal(trial.state, 'pruned');
        assert.ok(trial.intermediate.length < 25, 'a pruned trial stopped early');
      }
    }
    const complete = trials.filter((t) => t.state === 'complete');
    const bestValue = Math.min(...complete.map((t) => t.value as number));
    assert.equal(view.best?.value, bestValue);
    assert.deepEqual(view.study.registered, { name: 'penguins-tuned', version: '1' });
    const version = await registry.getModelVersion(ctx, 'penguins-tuned', 1);
    assert.equal(version.runId, view.best?.runId);
    assert.equal(version.source, `runs:/${view.best?.runId}/model`);
    const parent = await tracking.runs.get(ctx, view.study.parentRunId);
    const best = parent.data.metrics.find((m) => m.key === 'best_validation_log_loss');
    assert.equal(best?.value, bestValue);
    assert.equal(parent.info.status, 'FINISHED');
  });
});
