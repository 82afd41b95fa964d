import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from '../src/server/testing/app.js';
import { type TestDatabase, testDatabases } from '../src/store/testing/databases.js';
import { MODEL_VERSION, mlflowWire, ok, okEmpty, shapeOf, TAGS } from './support/mlflow-wire.js';

// Replays the registry steps of the client capture in mlflow-client-wire.md (register_model …
// search_registered_models, then the rerun's differences) on SQLite and on PostgreSQL, and checks
// each answer's status, error code and exact shape.

const MODEL = 'demo-iris-model';

for (const target of await testDatabases()) {
  describe(`the MLflow client's registry requests on ${target.name}`, { skip: target.skip }, () => {
    let db: TestDatabase;
    let t: TestApp;
    let mlflow: ReturnType<typeof mlflowWire>;
    let experimentId: string;
    let runId: string;

    before(async () => {
      db = await target.create();
      t = await createTestApp({ KILN_DATABASE_URL: db.url });
      mlflow = mlflowWire(t.app);
      experimentId = (await mlflow('POST', '/experiments/create', { name: 'client-demo' })).json().experiment_id;
      runId = (await mlflow('POST', '/runs/create', { experiment_id: experimentId })).json().run.info.run_id;
      ok(await mlflow('POST', '/runs/update', { run_id: runId, status: 'FINISHED', end_time: Date.now() }));
    });
    after(async () => {
      await t?.close();
      await db?.cleanup();
    });

    it('register_model: create the model, 400 RESOURCE_ALREADY_EXISTS the second time, then a version', async () => {
      const created = await mlflow('POST', '/registered-models/create', { name: MODEL });
      ok(created);
      assert.deepEqual(shapeOf(created.json()), {
        registered_model: { name: 'string', creation_timestamp: 'number', last_updated_timestamp: 'number' },
      });
      const again = await mlflow('POST', '/registered-models/create', { name: MODEL });
      assert.equal(again.status, 400);
      assert.equal(again.json().error_code, 'RESOURCE_ALREADY_EXISTS');

      ok(await mlflow('GET', '/runs/get', { run_uuid: runId, run_id: runId }));
      const source = `mlflow-artifacts:/${experimentId}/${runId}/artifacts/model`;
      const version = await mlflow('POST', '/model-versions/create', { name: MODEL, source, run_id: runId });
      ok(version);
      assert.deepEqual(shapeOf(version.json()), { model_version: MODEL_VERSION });
      const mv = version.json().model_version;
      assert.equal(mv.version, '1');
      assert.equal(mv.status, 'READY');
      assert.equal(mv.current_stage, 'None');
      assert.equal(mv.description, '');
      assert.equal(mv.run_link, '');
      assert.equal(mv.source, source);
    });

    it('set_registered_model_alias and get_model_version_by_alias', async () => {
      okEmpty(await mlflow('POST', '/registered-models/alias', { name: MODEL, alias: 'champion', version: '1' }));
      const res = await mlflow('GET', '/registered-models/alias', { name: MODEL, alias: 'champion' });
      ok(res);
      assert.deepEqual(shapeOf(res.json()), { model_version: { ...MODEL_VERSION, aliases: ['string'] } });
      assert.deepEqual(res.json().model_version.aliases, ['champion']);
      assert.equal(res.json().model_version.version, '1');
    });

    it('set_model_version_tag and search_model_versions', async () => {
      okEmpty(
        await mlflow('POST', '/model-versions/set-tag', { name: MODEL, version: '1', key: 'validated', value: 'true' }),
      );
      const res = await mlflow('GET', '/model-versions/search', { filter: `name='${MODEL}'`, max_results: 10000 });
      ok(res);
      assert.deepEqual(shapeOf(res.json()), {
        model_versions: [{ ...MODEL_VERSION, tags: TAGS, aliases: ['string'] }],
      });
      assert.deepEqual(res.json().model_versions[0].tags, [{ key: 'validated', value: 'true' }]);
    });

    it('load_model_by_alias: get-download-uri names the model directory in the artifact proxy', async () => {
      const res = await mlflow('GET', '/model-versions/get-download-uri', { name: MODEL, version: 1 });
      ok(res);
      assert.deepEqual(res.json(), { artifact_uri: `mlflow-artifacts:/${experimentId}/${runId}/artifacts/model` });
    });

    it('search_registered_models: latest_versions without aliases, and the aliases with string versions', async () => {
      const res = await mlflow('GET', '/registered-models/search', { max_results: 100 });
      ok(res);
      assert.deepEqual(shapeOf(res.json()), {
        registered_models: [
          {
            name: 'string',
            creation_timestamp: 'number',
            last_updated_timestamp: 'number',
            latest_versions: [{ ...MODEL_VERSION, tags: TAGS }],
            aliases: [{ alias: 'string', version: 'string' }],
          },
        ],
      });
      assert.deepEqual(res.json().registered_models[0].aliases, [{ alias: 'champion', version: '1' }]);
    });

    it('on a rerun, register_model creates version 2 after the 400', async () => {
      const again = await mlflow('POST', '/registered-models/create', { name: MODEL });
      assert.equal(again.status, 400);
      assert.equal(again.json().error_code, 'RESOURCE_ALREADY_EXISTS');
      const source = `runs:/${runId}/model`;
      const version = await mlflow('POST', '/model-versions/create', { name: MODEL, source, run_id: runId });
      ok(version);
      assert.equal(version.json().model_version.version, '2');
      const uri = await mlflow('GET', '/model-versions/get-download-uri', { name: MODEL, version: '2' });
      assert.deepEqual(uri.json(), { artifact_uri: `mlflow-artifacts:/${experimentId}/${runId}/artifacts/model` });
    });
  });
}
