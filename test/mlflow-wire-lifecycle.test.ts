import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from '../src/server/testing/app.js';
import { EXPERIMENT, MODEL_VERSION, mlflowWire, RUN_INFO, shapeOf, type WireAnswer } from './support/mlflow-wire.js';

// The MLflow endpoints the client capture did not exercise: lifecycle (update, delete, restore),
// tag deletion, enum numbers, pagination, the registry's PATCH / DELETE endpoints and stages.

const NOW = 1795784734181;

function ok(res: WireAnswer) {
  assert.equal(res.status, 200, res.body);
  return res.json();
}

function fails(res: WireAnswer, status: number, errorCode: string, message?: RegExp): void {
  assert.equal(res.status, status, res.body);
  assert.equal(res.json().error_code, errorCode, res.body);
  if (message !== undefined) assert.match(res.json().message, message);
}

describe('the rest of the MLflow tracking API', () => {
  let t: TestApp;
  let mlflow: ReturnType<typeof mlflowWire>;
  let experimentId: string;

  before(async () => {
    t = await createTestApp();
    mlflow = mlflowWire(t.app);
    experimentId = ok(await mlflow('POST', '/experiments/create', { name: 'lifecycle' })).experiment_id;
  });
  after(() => t.close());

  it('renames, deletes, restores and untags an experiment; list is the 1.x search', async () => {
    const id = ok(
      await mlflow('POST', '/experiments/create', { name: 'old-name', tags: [{ key: 'a', value: '1' }] }),
    ).experiment_id;
    assert.deepEqual(ok(await mlflow('POST', '/experiments/update', { experiment_id: id, new_name: 'new-name' })), {});
    assert.equal(ok(await mlflow('GET', '/experiments/get', { experiment_id: id })).experiment.name, 'new-name');
    assert.deepEqual(
      ok(await mlflow('POST', '/experiments/delete-experiment-tag', { experiment_id: id, key: 'a' })),
      {},
    );
    assert.deepEqual(shapeOf(ok(await mlflow('GET', '/experiments/get', { experiment_id: id }))), {
      experiment: EXPERIMENT,
    });

    assert.deepEqual(ok(await mlflow('POST', '/experiments/delete', { experiment_id: id })), {});
    const deleted = ok(await mlflow('GET', '/experiments/get', { experiment_id: id })).experiment;
    assert.equal(deleted.lifecycle_stage, 'deleted');
    const names = async (fields: Record<string, unknown>) =>
      (ok(await mlflow('GET', '/experiments/search', fields)).experiments ?? []).map((e: { name: string }) => e.name);
    assert.ok(!(await names({})).includes('new-name'));
    assert.deepEqual(await names({ view_type: 'DELETED_ONLY' }), ['new-name']);
    assert.deepEqual(await names({ view_type: 2 }), ['new-name']);

    assert.deepEqual(ok(await mlflow('POST', '/experiments/restore', { experiment_id: id })), {});
    assert.ok((await names({ view_type: 'ACTIVE_ONLY' })).includes('new-name'));
    const listed = ok(await mlflow('GET', '/experiments/list', {})).experiments.map((e: { name: string }) => e.name);
    assert.ok(listed.includes('new-name') && listed.includes('Default'));
    fails(await mlflow('POST', '/experiments/create', { name: 'new-name' }), 400, 'RESOURCE_ALREADY_EXISTS');
  });

  it('pages experiment search with repeated order_by keys and next_page_token', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const fields = {
        max_results: 1,
        order_by: ['name ASC', 'experiment_id DESC'],
        ...(token ? { page_token: token } : {}),
      };
      const page = ok(await mlflow('GET', '/experiments/search', fields));
      assert.equal(page.experiments.length, 1);
      seen.push(page.experiments[0].name);
      token = page.next_page_token;
    } while (token !== undefined);
    assert.deepEqual(seen, [...seen].sort());
    assert.ok(seen.length >= 3);
  });

  it('creates a run in Default without experiment_id; updates status by number; deletes and restores', async () => {
    const run = ok(await mlflow('POST', '/runs/create', { start_time: NOW })).run;
    assert.equal(run.info.experiment_id, '0');
    assert.ok(run.info.run_name.length > 0, 'a generated name');
    const id = run.info.run_id;
    const info = ok(await mlflow('POST', '/runs/update', { run_id: id, status: 3, end_time: NOW + 1 })).run_info;
    assert.equal(info.status, 'FINISHED');

    assert.deepEqual(ok(await mlflow('POST', '/runs/delete', { run_id: id })), {});
    const got = ok(await mlflow('GET', '/runs/get', { run_id: id })).run;
    assert.equal(got.info.lifecycle_stage, 'deleted');
    assert.deepEqual(shapeOf(got.info), { ...RUN_INFO, end_time: 'number' });
    fails(
      await mlflow('POST', '/runs/set-tag', { run_id: id, key: 'k', value: 'v' }),
      400,
      'INVALID_PARAMETER_VALUE',
      /must be in the 'active' state/,
    );
    const ids = async (viewType: unknown) =>
      (ok(await mlflow('POST', '/runs/search', { experiment_ids: ['0'], run_view_type: viewType })).runs ?? []).map(
        (r: { info: { run_id: string } }) => r.info.run_id,
      );
    assert.deepEqual(await ids('DELETED_ONLY'), [id]);
    assert.deepEqual(await ids(2), [id]);
    assert.ok(!(await ids(1)).includes(id));
    assert.ok((await ids('ALL')).includes(id));

    assert.deepEqual(ok(await mlflow('POST', '/runs/restore', { run_id: id })), {});
    assert.ok((await ids('ACTIVE_ONLY')).includes(id));
  });

  it('deletes run tags, refuses changed params and unknown runs', async () => {
    const id = ok(await mlflow('POST', '/runs/create', { experiment_id: experimentId })).run.info.run_id;
    ok(await mlflow('POST', '/runs/set-tag', { run_id: id, key: 'note', value: '' }));
    assert.deepEqual(ok(await mlflow('POST', '/runs/delete-tag', { run_id: id, key: 'note' })), {});
    fails(await mlflow('POST', '/runs/delete-tag', { run_id: id, key: 'note' }), 404, 'RESOURCE_DOES_NOT_EXIST');

    ok(await mlflow('POST', '/runs/log-parameter', { run_id: id, key: 'lr', value: '0.1' }));
    ok(await mlflow('POST', '/runs/log-parameter', { run_id: id, key: 'lr', value: '0.1' }));
    fails(
      await mlflow('POST', '/runs/log-parameter', { run_id: id, key: 'lr', value: '0.2' }),
      400,
      'INVALID_PARAMETER_VALUE',
      /^Changing param values is not allowed/,
    );
    const missing = '0123456789abcdef0123456789abcdef';
    fails(await mlflow('GET', '/runs/get', { run_id: missing }), 404, 'RESOURCE_DOES_NOT_EXIST');
    fails(
      await mlflow('GET', '/metrics/get-history', { run_id: missing, metric_key: 'x' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
    assert.deepEqual(ok(await mlflow('GET', '/metrics/get-history', { run_id: id, metric_key: 'never' })), {});
  });

  it('pages run search with next_page_token', async () => {
    const id = ok(await mlflow('POST', '/experiments/create', { name: 'paged' })).experiment_id;
    for (let i = 0; i < 3; i++) ok(await mlflow('POST', '/runs/create', { experiment_id: id, start_time: NOW + i }));
    const first = ok(await mlflow('POST', '/runs/search', { experiment_ids: [id], max_results: 2 }));
    assert.equal(first.runs.length, 2);
    assert.equal(typeof first.next_page_token, 'string');
    const second = ok(
      await mlflow('POST', '/runs/search', { experiment_ids: [id], max_results: 2, page_token: first.next_page_token }),
    );
    assert.equal(second.runs.length, 1);
    assert.equal(second.next_page_token, undefined);
    const starts = [...first.runs, ...second.runs].map((r: { info: { start_time: number } }) => r.info.start_time);
    assert.deepEqual(starts, [NOW + 2, NOW + 1, NOW]);
  });
});

describe('the rest of the MLflow registry API', () => {
  let t: TestApp;
  let mlflow: ReturnType<typeof mlflowWire>;
  let source: string;

  before(async () => {
    t = await createTestApp();
    mlflow = mlflowWire(t.app);
    const run = ok(await mlflow('POST', '/runs/create', { experiment_id: '0' })).run;
    source = `${run.info.artifact_uri}/model`;
    ok(await mlflow('POST', '/registered-models/create', { name: 'churn', tags: [{ key: 'team', value: 'risk' }] }));
    const runId = run.info.run_id;
    for (let i = 0; i < 3; i++)
      ok(await mlflow('POST', '/model-versions/create', { name: 'churn', source, run_id: runId }));
  });
  after(() => t.close());

  it('gets, renames and describes a registered model (PATCH), and tags it', async () => {
    const renamed = ok(await mlflow('POST', '/registered-models/rename', { name: 'churn', new_name: 'churn-2' }));
    assert.equal(renamed.registered_model.name, 'churn-2');
    const updated = ok(await mlflow('PATCH', '/registered-models/update', { name: 'churn-2', description: 'Churn' }));
    assert.equal(updated.registered_model.description, 'Churn');
    ok(await mlflow('POST', '/registered-models/set-tag', { name: 'churn-2', key: 'tier', value: 'gold' }));
    assert.deepEqual(ok(await mlflow('DELETE', '/registered-models/delete-tag', { name: 'churn-2', key: 'team' })), {});
    const model = ok(await mlflow('GET', '/registered-models/get', { name: 'churn-2' })).registered_model;
    assert.deepEqual(model.tags, [{ key: 'tier', value: 'gold' }]);
    assert.equal(model.latest_versions[0].version, '3');
    ok(await mlflow('POST', '/registered-models/rename', { name: 'churn-2', new_name: 'churn' }));
    fails(await mlflow('GET', '/registered-models/get', { name: 'churn-2' }), 404, 'RESOURCE_DOES_NOT_EXIST');
  });

  it('moves versions between stages, archiving others, and answers get-latest-versions by GET and POST', async () => {
    for (const version of ['1', '2']) {
      const moved = ok(
        await mlflow('POST', '/model-versions/transition-stage', {
          name: 'churn',
          version,
          stage: 'Production',
          archive_existing_versions: true,
        }),
      );
      assert.equal(moved.model_version.current_stage, 'Production');
    }
    const one = ok(await mlflow('GET', '/model-versions/get', { name: 'churn', version: '1' })).model_version;
    assert.equal(one.current_stage, 'Archived');
    const byGet = ok(
      await mlflow('GET', '/registered-models/get-latest-versions', { name: 'churn', stages: ['Production', 'None'] }),
    );
    const stages = byGet.model_versions.map(
      (v: { current_stage: string; version: string }) => `${v.current_stage}:${v.version}`,
    );
    assert.deepEqual(stages.sort(), ['None:3', 'Production:2']);
    const byPost = ok(
      await mlflow('POST', '/registered-models/get-latest-versions', { name: 'churn', stages: ['Archived'] }),
    );
    assert.deepEqual(shapeOf(byPost), { model_versions: [MODEL_VERSION] });
    assert.equal(byPost.model_versions[0].version, '1');
    fails(
      await mlflow('POST', '/model-versions/transition-stage', { name: 'churn', version: '3', stage: 'Nowhere' }),
      400,
      'INVALID_PARAMETER_VALUE',
    );
  });

  it('updates (PATCH), tags and untags (DELETE) a version; a numeric version is accepted too', async () => {
    const updated = ok(
      await mlflow('PATCH', '/model-versions/update', { name: 'churn', version: 3, description: 'v3' }),
    );
    assert.equal(updated.model_version.description, 'v3');
    ok(await mlflow('POST', '/model-versions/set-tag', { name: 'churn', version: '3', key: 'ok', value: 'yes' }));
    assert.deepEqual(
      ok(await mlflow('DELETE', '/model-versions/delete-tag', { name: 'churn', version: '3', key: 'ok' })),
      {},
    );
    const got = ok(await mlflow('GET', '/model-versions/get', { name: 'churn', version: '3' })).model_version;
    assert.equal(got.tags, undefined);
    fails(await mlflow('GET', '/model-versions/get', { name: 'churn', version: 'x' }), 400, 'INVALID_PARAMETER_VALUE');
    fails(await mlflow('GET', '/model-versions/get', { name: 'churn', version: '9' }), 404, 'RESOURCE_DOES_NOT_EXIST');
  });

  it('deletes an alias, a version and the model (DELETE with JSON bodies)', async () => {
    ok(await mlflow('POST', '/registered-models/alias', { name: 'churn', alias: 'champion', version: '3' }));
    assert.deepEqual(ok(await mlflow('DELETE', '/registered-models/alias', { name: 'churn', alias: 'champion' })), {});
    fails(
      await mlflow('GET', '/registered-models/alias', { name: 'churn', alias: 'champion' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );

    assert.deepEqual(ok(await mlflow('DELETE', '/model-versions/delete', { name: 'churn', version: '3' })), {});
    const versions = ok(await mlflow('GET', '/model-versions/search', { filter: "name = 'churn'" })).model_versions;
    assert.deepEqual(versions.map((v: { version: string }) => v.version).sort(), ['1', '2']);

    assert.deepEqual(ok(await mlflow('DELETE', '/registered-models/delete', { name: 'churn' })), {});
    fails(await mlflow('GET', '/registered-models/get', { name: 'churn' }), 404, 'RESOURCE_DOES_NOT_EXIST');
    assert.deepEqual(ok(await mlflow('GET', '/registered-models/search', {})), {});
  });

  it('refuses a source outside the allow-list with 400', async () => {
    ok(await mlflow('POST', '/registered-models/create', { name: 'safe' }));
    fails(
      await mlflow('POST', '/model-versions/create', { name: 'safe', source: 'file:///etc/passwd' }),
      400,
      'INVALID_PARAMETER_VALUE',
      /^source:/,
    );
  });
});
