import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from '../src/server/testing/app.js';
import { type TestDatabase, testDatabases } from '../src/store/testing/databases.js';
import { EXPERIMENT, METRIC, mlflowWire, ok, okEmpty, RUN_INFO, shapeOf, TAGS } from './support/mlflow-wire.js';

// Replays, request by request, what the stock MLflow 2.7.1 Python client sent in the capture of
// mlflow-client-wire.md (set_experiment … search_experiments; the registry steps are in mlflow-wire-registry.test.ts), on SQLite and on PostgreSQL,
// and checks each answer's status, error code and exact shape.

const START = 1795784734181;

for (const target of await testDatabases()) {
  describe(`the MLflow client's requests on ${target.name}`, { skip: target.skip }, () => {
    let db: TestDatabase;
    let t: TestApp;
    let mlflow: ReturnType<typeof mlflowWire>;
    let experimentId: string;
    let runId: string;

    before(async () => {
      db = await target.create();
      t = await createTestApp({ KILN_DATABASE_URL: db.url });
      mlflow = mlflowWire(t.app);
    });
    after(async () => {
      await t?.close();
      await db?.cleanup();
    });

    it('set_experiment: get-by-name answers 404 RESOURCE_DOES_NOT_EXIST, then create and get', async () => {
      const missing = await mlflow('GET', '/experiments/get-by-name', { experiment_name: 'client-demo' });
      assert.equal(missing.status, 404);
      assert.equal(missing.json().error_code, 'RESOURCE_DOES_NOT_EXIST');
      assert.equal(missing.json().message, "Could not find experiment with name 'client-demo'");

      const created = await mlflow('POST', '/experiments/create', { name: 'client-demo' });
      ok(created);
      assert.deepEqual(shapeOf(created.json()), { experiment_id: 'string' });
      experimentId = created.json().experiment_id;

      const got = await mlflow('GET', '/experiments/get', { experiment_id: experimentId });
      ok(got);
      assert.deepEqual(shapeOf(got.json()), { experiment: EXPERIMENT });
      const experiment = got.json().experiment;
      assert.equal(experiment.name, 'client-demo');
      assert.equal(experiment.artifact_location, `mlflow-artifacts:/${experimentId}`);
      assert.equal(experiment.lifecycle_stage, 'active');

      const again = await mlflow('GET', '/experiments/get-by-name', { experiment_name: 'client-demo' });
      ok(again);
      assert.deepEqual(again.json(), got.json());
    });

    it('set_experiment_tag', async () => {
      okEmpty(
        await mlflow('POST', '/experiments/set-experiment-tag', {
          experiment_id: experimentId,
          key: 'team',
          value: 'anchors',
        }),
      );
    });

    it('start_run: runs/create answers the run with its tags and no inputs', async () => {
      const tags = [
        { key: 'mlflow.user', value: 'root' },
        { key: 'mlflow.source.name', value: 'client_demo.py' },
        { key: 'mlflow.source.type', value: 'LOCAL' },
        { key: 'mlflow.source.git.commit', value: '0123abcd' },
        { key: 'mlflow.runName', value: 'demo-run' },
      ];
      const res = await mlflow('POST', '/runs/create', {
        experiment_id: experimentId,
        user_id: 'root',
        run_name: 'demo-run',
        start_time: START,
        tags,
      });
      ok(res);
      assert.deepEqual(shapeOf(res.json()), { run: { info: RUN_INFO, data: { tags: TAGS } } });
      const { info, data } = res.json().run;
      runId = info.run_id;
      assert.match(runId, /^[0-9a-f]{32}$/);
      assert.equal(info.run_uuid, runId);
      assert.equal(info.experiment_id, experimentId);
      assert.equal(info.status, 'RUNNING');
      assert.equal(info.start_time, START);
      assert.equal(info.run_name, 'demo-run');
      assert.equal(info.user_id, 'root');
      assert.equal(info.artifact_uri, `mlflow-artifacts:/${experimentId}/${runId}/artifacts`);
      assert.equal(data.tags.length, 5);
    });

    it('log_param, log_params and set_tags: log-parameter with run_uuid and run_id, then log-batch', async () => {
      okEmpty(
        await mlflow('POST', '/runs/log-parameter', {
          run_uuid: runId,
          key: 'learning_rate',
          value: '0.01',
          run_id: runId,
        }),
      );
      const params = [
        { key: 'n_estimators', value: '10' },
        { key: 'max_depth', value: '3' },
        { key: 'optimizer', value: 'adam' },
      ];
      okEmpty(await mlflow('POST', '/runs/log-batch', { run_id: runId, params }));
      const tags = [
        { key: 'owner', value: 'anchors' },
        { key: 'framework', value: 'sklearn' },
      ];
      okEmpty(await mlflow('POST', '/runs/log-batch', { run_id: runId, tags }));
      okEmpty(await mlflow('POST', '/runs/set-tag', { run_uuid: runId, key: 'stage', value: 'demo', run_id: runId }));
    });

    it('log_metric in a loop, log_metrics and a 1000-metric log_batch', async () => {
      for (let step = 0; step < 20; step++) {
        const res = await mlflow('POST', '/runs/log-metric', {
          run_uuid: runId,
          key: 'loss',
          value: 1 / (step + 1),
          timestamp: START + 1000 + step,
          step,
          run_id: runId,
        });
        okEmpty(res);
      }
      const finals = [
        { key: 'loss', value: 0.001, timestamp: START + 5000, step: 999 },
        { key: 'final_acc', value: 0.99, timestamp: START + 5000, step: 1000 },
      ];
      okEmpty(await mlflow('POST', '/runs/log-batch', { run_id: runId, metrics: finals }));
      const acc = Array.from({ length: 1000 }, (_, step) => ({
        key: 'acc',
        value: step / 1000,
        timestamp: START + 6000 + step,
        step,
      }));
      okEmpty(await mlflow('POST', '/runs/log-batch', { run_id: runId, metrics: acc }));
    });

    it('NaN and ±Infinity: accepted as bare Python tokens and as strings, answered as strings', async () => {
      const bare = `{"run_id": "${runId}", "key": "odd", "value": NaN, "timestamp": ${START}, "step": 0}`;
      okEmpty(await mlflow('POST', '/runs/log-metric', {}, { raw: bare }));
      const batch =
        `{"run_id": "${runId}", "metrics": [{"key": "odd", "value": Infinity, "timestamp": ${START}, "step": 1},` +
        ` {"key": "odd", "value": "-Infinity", "timestamp": "${START}", "step": "2"}]}`;
      okEmpty(await mlflow('POST', '/runs/log-batch', {}, { raw: batch }));
      const history = await mlflow('GET', '/metrics/get-history', { run_id: runId, metric_key: 'odd' });
      ok(history);
      assert.deepEqual(
        history.json().metrics.map((m: { value: unknown }) => m.value),
        ['NaN', 'Infinity', '-Infinity'],
      );
      assert.equal(history.json().metrics[2].timestamp, START);
    });

    it('get_metric_history: max_results=25000 answers every point; smaller pages carry next_page_token', async () => {
      const all = await mlflow('GET', '/metrics/get-history', {
        run_uuid: runId,
        metric_key: 'acc',
        run_id: runId,
        max_results: 25000,
      });
      ok(all);
      assert.deepEqual(shapeOf(all.json()), { metrics: [METRIC] });
      assert.equal(all.json().metrics.length, 1000);
      assert.deepEqual(all.json().metrics[1], { key: 'acc', value: 0.001, timestamp: START + 6001, step: 1 });

      const steps: number[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const fields = { run_id: runId, metric_key: 'acc', max_results: 400, ...(token ? { page_token: token } : {}) };
        const page = await mlflow('GET', '/metrics/get-history', fields);
        ok(page);
        steps.push(...page.json().metrics.map((m: { step: number }) => m.step));
        token = page.json().next_page_token;
        pages++;
      } while (token !== undefined);
      assert.equal(pages, 3);
      assert.deepEqual(
        steps,
        Array.from({ length: 1000 }, (_, i) => i),
      );
    });

    it('log_input: log-inputs, and runs/get shows the dataset input', async () => {
      const dataset = {
        name: 'iris',
        digest: '8f9eb48c',
        source_type: 'code',
        source: '{"tags": {"mlflow.user": "root"}}',
        schema: '{"mlflow_colspec": [{"type": "double", "name": "sepal length (cm)"}]}',
        profile: '{"num_rows": 150, "num_elements": 750}',
      };
      const datasets = [{ tags: [{ key: 'mlflow.data.context', value: 'training' }], dataset }];
      okEmpty(await mlflow('POST', '/runs/log-inputs', { run_id: runId, datasets }));
      const got = await mlflow('GET', '/runs/get', { run_uuid: runId, run_id: runId });
      ok(got);
      assert.deepEqual(got.json().run.inputs, { dataset_inputs: datasets });
    });

    it('log_model: log-model appends to the mlflow.log-model.history tag', async () => {
      const model = (path: string) => ({
        run_id: runId,
        artifact_path: path,
        utc_time_created: '2026-11-27 10:00:00.000000',
        flavors: { sklearn: { pickled_model: 'model.pkl', sklearn_version: '1.3.0', config: { big: true } } },
        signature: { inputs: '[...]' },
      });
      for (const path of ['model', 'model-2']) {
        okEmpty(await mlflow('POST', '/runs/log-model', { run_id: runId, model_json: JSON.stringify(model(path)) }));
      }
      const got = (await mlflow('GET', '/runs/get', { run_id: runId })).json().run;
      const tag = got.data.tags.find((x: { key: string }) => x.key === 'mlflow.log-model.history');
      const history = JSON.parse(tag.value);
      assert.deepEqual(
        history.map((m: { artifact_path: string }) => m.artifact_path),
        ['model', 'model-2'],
      );
      assert.deepEqual(history[0], {
        run_id: runId,
        utc_time_created: '2026-11-27 10:00:00.000000',
        artifact_path: 'model',
        flavors: { sklearn: { pickled_model: 'model.pkl', sklearn_version: '1.3.0' } },
      });
    });

    it('end_run: runs/update answers run_info with end_time; runs/get shows the whole run', async () => {
      const end = START + 64036;
      const res = await mlflow('POST', '/runs/update', {
        run_uuid: runId,
        status: 'FINISHED',
        end_time: end,
        run_id: runId,
      });
      ok(res);
      assert.deepEqual(shapeOf(res.json()), { run_info: { ...RUN_INFO, end_time: 'number' } });
      assert.equal(res.json().run_info.status, 'FINISHED');
      assert.equal(res.json().run_info.end_time, end);

      const got = await mlflow('GET', '/runs/get', { run_uuid: runId, run_id: runId });
      ok(got);
      const run = got.json().run;
      assert.deepEqual(Object.keys(run).sort(), ['data', 'info', 'inputs']);
      assert.deepEqual(Object.keys(run.data).sort(), ['metrics', 'params', 'tags']);
      assert.deepEqual(shapeOf(run.data.params), TAGS);
      const latest = Object.fromEntries(run.data.metrics.map((m: { key: string; value: unknown }) => [m.key, m.value]));
      assert.deepEqual(latest, { acc: 0.999, final_acc: 0.99, loss: 0.001, odd: '-Infinity' });
      const params = Object.fromEntries(run.data.params.map((p: { key: string; value: string }) => [p.key, p.value]));
      assert.deepEqual(params, { learning_rate: '0.01', n_estimators: '10', max_depth: '3', optimizer: 'adam' });
    });

    it('search_runs: a filter with order_by, and a status filter with max_results', async () => {
      const res = await mlflow('POST', '/runs/search', {
        experiment_ids: [experimentId],
        run_view_type: 'ACTIVE_ONLY',
        filter: "params.optimizer = 'adam' and metrics.loss < 0.01 and tags.stage = 'demo'",
        max_results: 10000,
        order_by: ['metrics.loss ASC'],
      });
      ok(res);
      assert.deepEqual(Object.keys(res.json()), ['runs']);
      assert.deepEqual(
        res.json().runs.map((r: { info: { run_id: string } }) => r.info.run_id),
        [runId],
      );
      assert.deepEqual(shapeOf(res.json().runs[0].info), { ...RUN_INFO, end_time: 'number' });
      assert.deepEqual(Object.keys(res.json().runs[0].inputs), ['dataset_inputs']);

      const finished = await mlflow('POST', '/runs/search', {
        experiment_ids: [experimentId],
        run_view_type: 'ACTIVE_ONLY',
        filter: "attributes.status = 'FINISHED'",
        max_results: 5,
      });
      ok(finished);
      assert.equal(finished.json().runs.length, 1);
      const none = await mlflow('POST', '/runs/search', {
        experiment_ids: [experimentId],
        filter: "attributes.status = 'FAILED'",
      });
      ok(none);
      assert.deepEqual(none.json(), {});
    });

    it('search_experiments: ours with its tags, and Default without', async () => {
      const res = await mlflow('POST', '/experiments/search', { max_results: 1000, view_type: 'ACTIVE_ONLY' });
      ok(res);
      const byName = Object.fromEntries(res.json().experiments.map((e: { name: string }) => [e.name, e]));
      assert.deepEqual(shapeOf(byName['client-demo']), { ...EXPERIMENT, tags: TAGS });
      assert.deepEqual(byName['client-demo'].tags, [{ key: 'team', value: 'anchors' }]);
      assert.deepEqual(shapeOf(byName.Default), EXPERIMENT);
      assert.equal(byName.Default.experiment_id, '0');
      assert.equal(res.json().next_page_token, undefined);
    });
  });
}
