import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KilnError } from '../core/index.js';
import { PENGUINS_JSON, SEATTLE_CSV } from '../data/testing/fixtures.js';
import type { Frame } from '../learn/index.js';
import { evaluateModel, readModelPackage } from '../learn/index.js';
import type { Worker } from '../store/index.js';
import { TRAINING_QUEUE } from './service.js';
import { openTrainingHarness, type TrainingHarness } from './testing/harness.js';

async function readArtifact(h: TrainingHarness, runId: string, path: string): Promise<Uint8Array> {
  const download = await h.artifacts.open(h.ctx, runId, path);
  const chunks: Buffer[] = [];
  for await (const chunk of download.stream) chunks.push(chunk as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
}

async function modelFiles(h: TrainingHarness, runId: string): Promise<Map<string, Uint8Array>> {
  const listing = await h.artifacts.list(h.ctx, runId, 'model');
  const files = new Map<string, Uint8Array>();
  for (const file of listing.files)
    files.set(file.path.slice('model/'.length), await readArtifact(h, runId, file.path));
  return files;
}

async function rejects(
  promise: Promise<unknown>,
  code: string,
  field: string | undefined,
  pattern: RegExp,
): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof KilnError, String(err));
    assert.equal(err.code, code, err.message);
    if (field !== undefined) assert.equal(err.details?.field, field, err.message);
    assert.match(err.message, pattern);
    return true;
  });
}

describe('training service (SQLite, file artifacts, local queue)', () => {
  let h: TrainingHarness;
  let worker: Worker;
  before(async () => {
    h = await openTrainingHarness();
    await h.datasets.create(h.ctx, { name: 'penguins' });
    await h.datasets.ingestVersion(h.ctx, 'penguins', { path: PENGUINS_JSON });
    await h.datasets.create(h.ctx, { name: 'seattle' });
    await h.datasets.ingestVersion(h.ctx, 'seattle', { path: SEATTLE_CSV });
    worker = h.training.process({ concurrency: 1 });
  });
  after(async () => {
    await worker.close();
    await h.close();
  });

  it('trains a queued gbdt job into a tracked run, stores a loadable package and registers it', async () => {
    const job = await h.training.submit(h.ctx, {
      data: 'penguins',
      evalData: 'penguins@1',
      validationFraction: 0.25,
      target: 'Species',
      task: 'classification',
      model: 'gbdt',
      params: { n_estimators: '15', eta: 0.3, max_depth: 3 },
      experiment: 'penguins',
      register: 'penguin-species',
    });
    assert.equal(job.state, 'queued');
    const finished = await h.queue.waitFor(TRAINING_QUEUE, job.id, 120_000);
    assert.equal(finished.state, 'completed', finished.error);
    const done = await h.training.get(h.ctx, job.id);
    assert.equal(done.state, 'completed');
    assert.ok(done.runId !== undefined && done.metrics !== undefined);
    assert.equal(done.modelUri, `runs:/${done.runId}/model`);
    assert.deepEqual(done.modelVersion, { name: 'penguin-species', version: 1 });
    assert.equal(done.progress?.step, 15);

    const run = await h.tracking.runs.get(h.ctx, done.runId);
    assert.equal(run.info.status, 'FINISHED');
    const params = Object.fromEntries(run.data.params.map((p) => [p.key, p.value]));
    assert.equal(params.n_estimators, '15');
    assert.equal(params.learning_rate, '0.3');
    assert.equal(params.max_depth, '3');
    assert.equal(params.lambda, '1', 'defaults are recorded too');
    assert.equal(params.data, 'penguins@1');
    assert.equal(params.eval_data, 'penguins@1');
    const tags = Object.fromEntries(run.data.tags.map((t) => [t.key, t.value]));
    assert.equal(tags['kiln.learner'], 'gbdt');
    assert.equal(tags['kiln.job_id'], job.id);
    assert.equal(tags['kiln.train.dropped_rows'], '0');

    const history = await h.tracking.runData.getMetricHistory(h.ctx, done.runId, 'validation_mlogloss');
    assert.deepEqual(
      history.metrics.map((m) => m.step),
      Array.from({ length: 15 }, (_, i) => i),
    );
    const values = history.metrics.map((m) => m.value);
    assert.ok((values[14] as number) < (values[0] as number), 'the validation loss falls');
    const latest = Object.fromEntries(run.data.metrics.map((m) => [m.key, m.value]));
    for (const key of ['train_accuracy', 'validation_accuracy', 'eval_accuracy', 'eval_auc_ovr', 'eval_log_loss']) {
      assert.equal(latest[key], done.metrics[key], key);
    }
    assert.ok((done.metrics.eval_accuracy as number) > 0.9);

    const version = await h.datasets.getVersion(h.ctx, 'penguins', 1);
    assert.deepEqual(
      run.inputs.datasetInputs.map((i) => [i.dataset.name, i.dataset.digest, i.tags[0]?.value]),
      [['penguins', version.digest, 'training']],
      'the eval data is the same version, recorded once',
    );
    const users = await h.tracking.runs.usingDataset(h.ctx, version.digest);
    assert.ok(
      users.some((u) => u.runId === done.runId),
      'data lineage finds the run',
    );

    const loaded = readModelPackage(await modelFiles(h, done.runId));
    const frame: Frame = await h.datasets.readColumns(h.ctx, 'penguins', 1);
    const recomputed = evaluateModel(loaded, frame);
    for (const [key, value] of Object.entries(recomputed)) assert.equal(done.metrics[`eval_${key}`], value, key);
    const importance = JSON.parse(Buffer.from(await readArtifact(h, done.runId, 'feature_importance.json')).toString());
    assert.ok(Object.keys(importance.gain).length > 0);

    const registered = await h.registry.getModelVersion(h.ctx, 'penguin-species', 1);
    assert.equal(registered.source, `runs:/${done.runId}/model`);
    assert.equal(registered.runId, done.runId);
  });

  it('runs a nested run that the caller stops early through onIteration', async () => {
    const parent = await h.tracking.runs.create(h.ctx, { experimentId: '0' });
    const steps: number[] = [];
    const outcome = await h.training.run(
      h.ctx,
      { data: 'seattle', target: 'temp_max', task: 'regression', model: 'gbdt', params: { n_estimators: 50 } },
      {
        parentRunId: parent.info.runId,
        onIteration(step) {
          steps.push(step);
          return step >= 4;
        },
      },
    );
    assert.deepEqual(steps, [0, 1, 2, 3, 4]);
    const run = await h.tracking.runs.get(h.ctx, outcome.runId);
    assert.equal(run.data.tags.find((t) => t.key === 'mlflow.parentRunId')?.value, parent.info.runId);
    const loaded = readModelPackage(await modelFiles(h, outcome.runId));
    assert.equal(loaded.learner.kind === 'gbdt' ? loaded.learner.trees.length : 0, 5);
    assert.ok(outcome.metrics.validation_rmse !== undefined && outcome.metrics.train_r2 !== undefined);
  });

  it('trains logistic and linear models without a validation set', async () => {
    const logistic = await h.training.run(h.ctx, {
      data: 'penguins',
      target: 'Species',
      task: 'multiclass',
      model: 'logistic',
      params: { C: 0.5 },
    });
    assert.ok((logistic.metrics.train_accuracy as number) > 0.95);
    assert.equal(logistic.metrics.validation_accuracy, undefined);
    const linear = await h.training.run(h.ctx, {
      data: 'seattle',
      evalData: 'seattle',
      target: 'temp_max',
      task: 'regression',
      model: 'linear',
    });
    assert.ok((linear.metrics.train_r2 as number) > 0.7);
    assert.equal(linear.metrics.eval_r2, linear.metrics.train_r2, 'the same rows score the same');
  });

  it('marks the job and the run failed with the error when training fails', async () => {
    const job = await h.training.submit(h.ctx, {
      data: 'penguins',
      target: 'Species',
      task: 'classification',
      model: 'gbdt',
      params: { early_stopping_rounds: 3 },
      validationFraction: 0,
    });
    const finished = await h.queue.waitFor(TRAINING_QUEUE, job.id, 120_000);
    assert.equal(finished.state, 'failed');
    const failed = await h.training.get(h.ctx, job.id);
    assert.equal(failed.state, 'failed');
    assert.match(failed.error ?? '', /early_stopping_rounds: needs a validation set/);
    assert.ok(failed.runId !== undefined);
    const run = await h.tracking.runs.get(h.ctx, failed.runId);
    assert.equal(run.info.status, 'FAILED');
    assert.match(run.data.tags.find((t) => t.key === 'kiln.error')?.value ?? '', /early_stopping_rounds/);
  });

  it('refuses bad requests before queueing anything', async () => {
    const before = await h.queue.counts(TRAINING_QUEUE);
    const base = { data: 'penguins', target: 'Species', task: 'classification', model: 'gbdt' };
    await rejects(h.training.submit(h.ctx, { ...base, data: 'nope' }), 'RESOURCE_DOES_NOT_EXIST', undefined, /nope/);
    await rejects(
      h.training.submit(h.ctx, { ...base, data: 'penguins@7' }),
      'RESOURCE_DOES_NOT_EXIST',
      'version',
      /version 7/,
    );
    await rejects(
      h.training.submit(h.ctx, { ...base, target: 'Colour' }),
      'INVALID_PARAMETER_VALUE',
      'target',
      /no column 'Colour'/,
    );
    await rejects(
      h.training.submit(h.ctx, { ...base, params: { depth: 3 } }),
      'INVALID_PARAMETER_VALUE',
      'params.depth',
      /not a gbdt parameter; valid parameters are n_estimators/,
    );
    await rejects(
      h.training.submit(h.ctx, { ...base, task: 'regression' }),
      'INVALID_PARAMETER_VALUE',
      'task',
      /numeric target/,
    );
    await rejects(
      h.training.submit(h.ctx, { ...base, task: 'binary' }),
      'INVALID_PARAMETER_VALUE',
      'task',
      /2 classes/,
    );
    await rejects(
      h.training.submit(h.ctx, { ...base, data: 'penguins@x' }),
      'INVALID_PARAMETER_VALUE',
      'data',
      /name@version/,
    );
    assert.deepEqual(await h.queue.counts(TRAINING_QUEUE), before);
    await rejects(h.training.get(h.ctx, 'train-missing'), 'RESOURCE_DOES_NOT_EXIST', undefined, /train-missing/);
  });

  it('lists jobs newest first, a page at a time, per workspace', async () => {
    const all = await h.training.list(h.ctx);
    assert.equal(all.jobs.length, 2);
    const first = await h.training.list(h.ctx, { maxResults: 1 });
    assert.equal(first.jobs.length, 1);
    assert.ok(first.nextPageToken !== undefined);
    const second = await h.training.list(h.ctx, { maxResults: 1, pageToken: first.nextPageToken });
    assert.deepEqual(
      [...first.jobs, ...second.jobs].map((j) => j.id),
      all.jobs.map((j) => j.id),
    );
    assert.equal(second.nextPageToken, undefined);
    const elsewhere = await h.training.list({ ...h.ctx, workspace: 'other' });
    assert.equal(elsewhere.jobs.length, 0);
  });
});
