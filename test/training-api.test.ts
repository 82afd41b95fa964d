import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createTestApp, type TestApp } from '../src/server/testing/app.js';

const data = fileURLToPath(new URL('../node_modules/vega-datasets/data/', import.meta.url));

/** A JSON answer; its shape is what the assertions check. */
// biome-ignore lint/suspicious/noExplicitAny: responses are untyped JSON whose fields the tests assert one by one
type Wire = Record<string, any>;

let t: TestApp;

async function call(method: 'GET' | 'POST', url: string, payload?: unknown): Promise<{ status: number; body: Wire }> {
  const res = await t.app.inject({ method, url, ...(payload === undefined ? {} : { payload: payload as object }) });
  return { status: res.statusCode, body: res.json() as Wire };
}

async function finished(id: string): Promise<Wire> {
  for (;;) {
    const { body } = await call('GET', `/api/v1/training-jobs/${id}`);
    if (body.job.state === 'completed' || body.job.state === 'failed') return body.job;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

before(async () => {
  t = await createTestApp();
  for (const [name, file] of [
    ['penguins', 'penguins.json'],
    ['seattle', 'seattle-weather.csv'],
  ]) {
    assert.equal((await call('POST', '/api/v1/datasets', { name })).status, 201);
    const ingest = await call('POST', `/api/v1/datasets/${name}/versions`, { path: `${data}${file}` });
    assert.equal(ingest.status, 201, JSON.stringify(ingest.body));
  }
});
after(() => t.close());

describe('POST /api/v1/training-jobs on the in-process worker', () => {
  it('answers 202 with the queued job, which the server trains and records', async () => {
    const submitted = await call('POST', '/api/v1/training-jobs', {
      data: 'penguins@1',
      target: 'Species',
      task: 'classification',
      model: 'logistic',
      params: { C: '2' },
      experiment: 'api',
      run_name: 'logistic-api',
      register: 'penguins-api',
    });
    assert.equal(submitted.status, 202, JSON.stringify(submitted.body));
    assert.equal(submitted.body.job.state, 'queued');
    assert.deepEqual(submitted.body.job.request.params, { C: 2 });
    const job = await finished(submitted.body.job.id);
    assert.equal(job.state, 'completed', job.error);
    assert.equal(job.model_uri, `runs:/${job.run_id}/model`);
    assert.deepEqual(job.model_version, { name: 'penguins-api', version: 1 });
    assert.ok(job.metrics.train_accuracy > 0.95);
    const run = await call('GET', `/api/2.0/mlflow/runs/get?run_id=${job.run_id}`);
    assert.equal(run.body.run.info.run_name, 'logistic-api');
    assert.equal(run.body.run.info.status, 'FINISHED');
    const listed = await call('GET', '/api/v1/training-jobs?max_results=10');
    assert.ok(listed.body.jobs.some((j: Wire) => j.id === job.id));
  });

  it('refuses bad requests with a 4xx naming the problem, queueing nothing', async () => {
    const base = { data: 'penguins', target: 'Species', task: 'classification', model: 'gbdt' };
    const cases: [Wire, number, RegExp][] = [
      [{ ...base, data: 'missing' }, 404, /missing/],
      [{ ...base, target: 'Wingspan' }, 400, /no column 'Wingspan'/],
      [
        { ...base, params: { max_dept: 3 } },
        400,
        /params\.max_dept: is not a gbdt parameter; valid parameters are n_estimators/,
      ],
      [{ ...base, model: 'svm' }, 400, /model/],
      [{ ...base, task: 'regression' }, 400, /numeric target/],
      [{ ...base, colour: 'red' }, 400, /colour/],
    ];
    for (const [payload, status, pattern] of cases) {
      const res = await call('POST', '/api/v1/training-jobs', payload);
      assert.equal(res.status, status, JSON.stringify(res.body));
      assert.match(res.body.message, pattern);
    }
    assert.equal((await call('GET', '/api/v1/training-jobs/train-nope')).status, 404);
  });

  it('keeps answering /health/live while a job trains', async () => {
    const submitted = await call('POST', '/api/v1/training-jobs', {
      data: 'seattle',
      target: 'temp_max',
      task: 'regression',
      model: 'gbdt',
      params: { n_estimators: 600, learning_rate: 0.01, max_depth: 6 },
    });
    assert.equal(submitted.status, 202);
    const id = submitted.body.job.id;
    let job: Wire;
    do {
      job = (await call('GET', `/api/v1/training-jobs/${id}`)).body.job;
      await new Promise((resolve) => setTimeout(resolve, 20));
    } while (job.state === 'queued');
    assert.equal(job.state, 'running');
    const live = await t.app.inject({ method: 'GET', url: '/health/live' });
    assert.equal(live.statusCode, 200);
    const during = (await call('GET', `/api/v1/training-jobs/${id}`)).body.job;
    assert.equal(during.state, 'running', 'the probe was answered while the job was still fitting');
    const done = await finished(id);
    assert.equal(done.state, 'completed', done.error);
    assert.equal(done.progress.step, 600);
  });
});
