import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { testDatabases } from '../store/testing/databases.js';
import { openRegistry, type RegistryFixture } from './testing/fixture.js';
import { type RegisteredRoute, registryTestApp } from './testing/http.js';

const [sqlite] = await testDatabases();
const base = '/api/v1/models';

describe('registry REST routes', () => {
  let f: RegistryFixture;
  let app: FastifyInstance;
  let routes: RegisteredRoute[];
  let run: string;
  before(async () => {
    if (sqlite === undefined) throw new Error('no SQLite target');
    f = await openRegistry(sqlite);
    ({ app, routes } = await registryTestApp(f.service));
    run = f.addRun();
  });
  after(async () => {
    await app?.close();
    await f?.cleanup();
  });

  const call = (
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    url: string,
    payload?: object,
    workspace?: string,
  ) =>
    app.inject({
      method,
      url,
      ...(payload === undefined ? {} : { payload }),
      ...(workspace === undefined ? {} : { headers: { 'x-kiln-workspace': workspace } }),
    });

  it('declares a permission on every route: read for reads, admin for deletes of models and versions', () => {
    assert.ok(routes.length >= 19, `only ${routes.length} routes`);
    for (const route of routes) {
      if (route.method === 'HEAD') continue;
      const expected =
        route.method === 'GET'
          ? 'read'
          : route.method === 'DELETE' && /\/(:name|:version)$/.test(route.url)
            ? 'admin'
            : 'write';
      assert.equal(route.permission, expected, `${route.method} ${route.url}`);
    }
  });

  it('creates a model and answers a duplicate with 400 RESOURCE_ALREADY_EXISTS', async () => {
    const created = await call('POST', base, { name: 'churn model', tags: [{ key: 'team', value: 'risk' }] });
    assert.equal(created.statusCode, 201);
    assert.deepEqual(created.json().registered_model, {
      name: 'churn model',
      description: '',
      creation_timestamp: created.json().registered_model.creation_timestamp,
      last_updated_timestamp: created.json().registered_model.creation_timestamp,
      tags: [{ key: 'team', value: 'risk' }],
      aliases: [],
      latest_versions: [],
    });
    const again = await call('POST', base, { name: 'churn model' });
    assert.equal(again.statusCode, 400);
    assert.equal(again.json().error_code, 'RESOURCE_ALREADY_EXISTS');
    const unknownField = await call('POST', base, { name: 'x', owner: 'me' });
    assert.equal(unknownField.statusCode, 400);
  });

  it('registers versions, refusing hostile sources with a 400 naming source', async () => {
    const url = `${base}/churn%20model/versions`;
    const v1 = await call('POST', url, {
      source: `runs:/${run}/model`,
      run_id: run,
      signature: { inputs: [{ name: 'x', type: 'double' }] },
    });
    assert.equal(v1.statusCode, 201);
    const body = v1.json().model_version;
    assert.equal(body.version, 1);
    assert.equal(body.run_id, run);
    assert.equal(body.status, 'READY');
    assert.equal(body.current_stage, 'None');
    assert.deepEqual(body.signature, { inputs: [{ name: 'x', type: 'double' }] });
    const hostile = await call('POST', url, { source: 'file:///etc/passwd' });
    assert.equal(hostile.statusCode, 400);
    assert.equal(hostile.json().error_code, 'INVALID_PARAMETER_VALUE');
    assert.match(hostile.json().message, /^source: /);
    assert.equal((await call('POST', url, { source: 's3://b-1/m' })).json().model_version.version, 2);
    const missing = await call('POST', `${base}/nope/versions`, { source: 's3://b-1/m' });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().error_code, 'RESOURCE_DOES_NOT_EXIST');
  });

  it('sets, reads and deletes aliases', async () => {
    const url = `${base}/churn%20model/aliases/champion`;
    assert.equal((await call('PUT', url, { version: '1' })).statusCode, 204);
    assert.equal((await call('PUT', url, { version: 2 })).statusCode, 204);
    const got = await call('GET', url);
    assert.equal(got.json().model_version.version, 2);
    assert.deepEqual(got.json().model_version.aliases, ['champion']);
    assert.equal((await call('PUT', `${base}/churn%20model/aliases/v2`, { version: 1 })).statusCode, 400);
    assert.equal((await call('DELETE', url)).statusCode, 204);
    assert.equal((await call('GET', url)).statusCode, 404);
  });

  it('searches models and one model’s versions, the scope holding whatever the filter says', async () => {
    await call('POST', base, { name: 'other' });
    await call('POST', `${base}/other/versions`, { source: 's3://b-1/o' });
    const models = await call('GET', `${base}?filter=${encodeURIComponent("name LIKE 'ch%'")}&max_results=5`);
    assert.deepEqual(
      models.json().registered_models.map((m: { name: string }) => m.name),
      ['churn model'],
    );
    const ordered = await call('GET', `${base}?order_by=name%20DESC&order_by=timestamp`);
    assert.deepEqual(
      ordered.json().registered_models.map((m: { name: string }) => m.name),
      ['other', 'churn model'],
    );
    const paged = await call('GET', `${base}?max_results=1`);
    assert.equal(typeof paged.json().next_page_token, 'string');
    const versions = await call(
      'GET',
      `${base}/churn%20model/versions?filter=${encodeURIComponent("name = 'other' OR 1=1")}`,
    );
    assert.equal(versions.statusCode, 400);
    const scoped = await call(
      'GET',
      `${base}/churn%20model/versions?filter=${encodeURIComponent('version_number > 0')}`,
    );
    assert.deepEqual(
      scoped.json().model_versions.map((v: { name: string; version: number }) => `${v.name}/${v.version}`),
      ['churn model/2', 'churn model/1'],
    );
    const crossed = await call('GET', `${base}/churn%20model/versions?filter=${encodeURIComponent("name = 'other'")}`);
    assert.deepEqual(crossed.json().model_versions, []);
    assert.equal((await call('GET', `${base}?max_results=1001`)).statusCode, 400);
  });

  it('updates, renames, tags, stages and resolves download URIs', async () => {
    const patched = await call('PATCH', `${base}/churn%20model`, { description: 'words' });
    assert.equal(patched.json().registered_model.description, 'words');
    const renamed = await call('POST', `${base}/churn%20model/rename`, { new_name: 'churn' });
    assert.equal(renamed.json().registered_model.name, 'churn');
    assert.equal((await call('PUT', `${base}/churn/tags/stage`, { value: 'beta' })).statusCode, 204);
    assert.equal((await call('PUT', `${base}/churn/versions/1/tags/ok`, { value: 'yes' })).statusCode, 204);
    assert.deepEqual((await call('GET', `${base}/churn/versions/1`)).json().model_version.tags, [
      { key: 'ok', value: 'yes' },
    ]);
    assert.equal((await call('DELETE', `${base}/churn/versions/1/tags/ok`)).statusCode, 204);
    assert.equal((await call('DELETE', `${base}/churn/tags/stage`)).statusCode, 204);
    const staged = await call('POST', `${base}/churn/versions/2/stage`, {
      stage: 'Production',
      archive_existing_versions: true,
    });
    assert.equal(staged.json().model_version.current_stage, 'Production');
    const latest = await call('GET', `${base}/churn/latest-versions?stages=Production&stages=None`);
    assert.deepEqual(
      latest.json().model_versions.map((v: { version: number }) => v.version),
      [2, 1],
    );
    const uri = await call('GET', `${base}/churn/versions/1/download-uri`);
    assert.deepEqual(uri.json(), { artifact_uri: `mlflow-artifacts:/1/${run}/artifacts/model` });
    const described = await call('PATCH', `${base}/churn/versions/2`, { description: 'v2' });
    assert.equal(described.json().model_version.description, 'v2');
    assert.equal((await call('GET', `${base}/churn/versions/abc`)).statusCode, 400);
  });

  it('lists a model’s events and keeps workspaces apart', async () => {
    const events = await call('GET', `${base}/churn/events?limit=3`);
    assert.deepEqual(
      events.json().events.map((e: { type: string }) => e.type),
      ['registered_model.created', 'model_version.created', 'model_version.created'],
    );
    assert.equal(events.json().events[0].request_id.length > 0, true);
    const later = await call('GET', `${base}/churn/events?after_id=${events.json().events[2].id}`);
    assert.equal(later.json().events[0].type, 'model_version_alias.created');
    assert.equal((await call('GET', `${base}/churn`, undefined, 'team-b')).statusCode, 404);
    assert.deepEqual((await call('GET', base, undefined, 'team-b')).json(), { registered_models: [] });
  });

  it('deletes versions and models with 204, then answers 404', async () => {
    assert.equal((await call('DELETE', `${base}/churn/versions/1`)).statusCode, 204);
    assert.equal((await call('GET', `${base}/churn/versions/1`)).statusCode, 404);
    assert.equal((await call('DELETE', `${base}/churn`)).statusCode, 204);
    assert.equal((await call('GET', `${base}/churn`)).statusCode, 404);
  });
});
