import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { silentLogger } from '../../core/index.js';
import { REGISTRY_MIGRATIONS } from '../../registry/index.js';
import { contextFor, openRegistry, type RegistryFixture } from '../../registry/testing/fixture.js';
import { migrate } from '../../store/index.js';
import { testDatabases } from '../../store/testing/databases.js';
import { DEPLOYMENT_MIGRATIONS } from './migrations.js';
import { DeploymentService } from './service.js';
import { deploymentTestApp, type RegisteredRoute } from './testing/http.js';
import { RecordingRuntime } from './testing/recording-runtime.js';

const ctx = contextFor();
const BASE = '/api/v1/deployments';

// biome-ignore lint/suspicious/noExplicitAny: response JSON is read by path in assertions
type Json = any;

const [sqlite] = await testDatabases();

describe('deployment routes', () => {
  let f: RegistryFixture;
  let app: FastifyInstance;
  let routes: RegisteredRoute[];
  let runtime: RecordingRuntime;

  before(async () => {
    assert.ok(sqlite);
    f = await openRegistry(sqlite);
    const report = await migrate(f.database, [...REGISTRY_MIGRATIONS, ...DEPLOYMENT_MIGRATIONS], silentLogger());
    assert.equal(report.error, undefined);
    await f.service.createRegisteredModel(ctx, { name: 'flights' });
    for (let i = 0; i < 4; i++) {
      const runId = f.addRun();
      await f.service.createModelVersion(ctx, { name: 'flights', source: `runs:/${runId}/model`, runId });
    }
    await f.service.setAlias(ctx, 'flights', 'champion', 3);
    runtime = new RecordingRuntime({ registry: f.service, failOn: (model) => model.endsWith('/2') });
    const service = new DeploymentService({
      database: f.database,
      registry: f.service,
      runtime,
      logger: silentLogger(),
    });
    ({ app, routes } = await deploymentTestApp(service));
  });
  after(async () => {
    await app?.close();
    await f?.cleanup();
  });

  async function call(method: string, url: string, payload?: unknown, headers: Record<string, string> = {}) {
    const res = await app.inject({
      method: method as 'GET',
      url: `${BASE}${url}`,
      headers,
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
    return { status: res.statusCode, body: res.body === '' ? undefined : (res.json() as Json) };
  }

  it('declares read for reads and write for changes on every route', () => {
    const declared = routes
      .filter((r) => r.method !== 'HEAD')
      .map((r) => `${r.method} ${r.url} ${String(r.permission)}`)
      .sort();
    assert.deepEqual(declared, [
      `DELETE ${BASE}/:name write`,
      `GET ${BASE} read`,
      `GET ${BASE}/:name read`,
      `GET ${BASE}/:name/revisions read`,
      `GET ${BASE}/:name/shadow-report read`,
      `GET ${BASE}/:name/status read`,
      `PATCH ${BASE}/:name write`,
      `POST ${BASE} write`,
      `POST ${BASE}/:name/promote write`,
      `POST ${BASE}/:name/rollback write`,
    ]);
  });

  it('creates (201) from snake_case JSON and answers the spec, revision and live status', async () => {
    const res = await call('POST', '', {
      name: 'flights',
      targets: [{ model: 'models:/flights@champion' }, { model: 'models:/flights/4', role: 'canary', weight: 10 }],
      batching: { max_batch_size: 8, max_wait_ms: 1 },
      input: { extra_columns: 'reject' },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const d = res.body?.deployment;
    assert.equal(d.name, 'flights');
    assert.equal(d.strategy, 'canary');
    assert.equal(d.revision, 1);
    assert.equal(d.reason, 'create');
    assert.equal(d.created_by, 'tester');
    assert.deepEqual(d.batching, { max_batch_size: 8, max_wait_ms: 1 });
    assert.deepEqual(d.input, { extra_columns: 'reject', max_batch_rows: 10_000 });
    assert.deepEqual(d.logging, { sample_rate: 1 });
    assert.equal(d.max_queue, 1000);
    assert.equal(d.timeout_ms, 10_000);
    assert.deepEqual(d.status.targets[0], {
      model: 'models:/flights@champion',
      role: 'primary',
      weight: 90,
      version: '3',
      ready: true,
      requests: 0,
      errors: 0,
      in_flight: 0,
      queue_depth: 0,
      latency_ms: { p50: 0, p99: 0 },
    });
    const got = await call('GET', '/flights');
    assert.deepEqual(got.body?.deployment, d);
    const listed = await call('GET', '');
    assert.deepEqual(
      listed.body?.deployments.map((x: { name: string }) => x.name),
      ['flights'],
    );
    const status = await call('GET', '/flights/status');
    assert.deepEqual(status.body?.status, d.status);
  });

  it('answers bad bodies with 400 naming the field, unknown models with 404 naming the target', async () => {
    const weight = await call('POST', '', {
      name: 'x',
      targets: [{ model: 'models:/flights/3' }, { model: 'models:/flights/4', role: 'canary', weight: 120 }],
    });
    assert.equal(weight.status, 400);
    assert.equal(weight.body?.details.field, 'targets[1].weight');
    assert.match(weight.body?.message, /^targets\[1\]\.weight: /);

    const typed = await call('POST', '', {
      name: 'x',
      targets: [{ model: 'models:/flights/3' }, { model: 'models:/flights/4', role: 'canary', weight: 'ten' }],
    });
    assert.equal(typed.status, 400);
    assert.match(typed.body?.message, /targets\[1\]\.weight/);

    const unknown = await call('POST', '', { name: 'x', targets: [{ model: 'models:/flights/3' }], replicas: 3 });
    assert.equal(unknown.status, 400);
    assert.match(unknown.body?.message, /replicas/);

    const missing = await call('POST', '', {
      name: 'x',
      targets: [{ model: 'models:/flights/3' }, { model: 'models:/flights@challenger', role: 'shadow' }],
    });
    assert.equal(missing.status, 404);
    assert.equal(missing.body?.details.field, 'targets[1].model');

    const failed = await call('POST', '', { name: 'x', targets: [{ model: 'models:/flights/2' }] });
    assert.equal(failed.status, 400);
    assert.match(failed.body?.message, /could not be loaded/);
    assert.equal((await call('GET', '/x')).status, 404);

    const taken = await call('POST', '', { name: 'flights', targets: [{ model: 'models:/flights/3' }] });
    assert.equal(taken.status, 400);
    assert.equal(taken.body?.code, 'RESOURCE_ALREADY_EXISTS');
  });

  it('patches, promotes and rolls back, each a new revision', async () => {
    const patched = await call('PATCH', '/flights', {
      targets: [{ model: 'models:/flights@champion' }, { model: 'models:/flights/4', role: 'canary', weight: 40 }],
      batching: null,
    });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.equal(patched.body?.deployment.revision, 2);
    assert.equal(patched.body?.deployment.batching, undefined);
    assert.deepEqual(
      patched.body?.deployment.targets.map((t: { weight: number }) => t.weight),
      [60, 40],
    );

    const badPatch = await call('PATCH', '/flights', { logging: { sample_rate: 2 } });
    assert.equal(badPatch.status, 400);
    assert.equal(badPatch.body?.details.field, 'logging.sample_rate');

    const promoted = await call('POST', '/flights/promote');
    assert.equal(promoted.status, 200, JSON.stringify(promoted.body));
    assert.equal(promoted.body?.deployment.revision, 3);
    assert.deepEqual(promoted.body?.deployment.targets, [{ model: 'models:/flights/4', role: 'primary', weight: 100 }]);

    const wrongTarget = await call('POST', '/flights/promote', { target: 'models:/flights/1' });
    assert.equal(wrongTarget.status, 400);
    assert.equal(wrongTarget.body?.details.field, 'target');

    const back = await call('POST', '/flights/rollback', {});
    assert.equal(back.status, 200);
    assert.equal(back.body?.deployment.revision, 4);
    assert.deepEqual(back.body?.deployment.targets, patched.body?.deployment.targets);

    const first = await call('POST', '/flights/rollback', { revision: 1 });
    assert.equal(first.body?.deployment.revision, 5);
    assert.deepEqual(first.body?.deployment.batching, { max_batch_size: 8, max_wait_ms: 1 });

    const missing = await call('POST', '/flights/rollback', { revision: 40 });
    assert.equal(missing.status, 404);
    assert.equal(missing.body?.details.field, 'revision');

    const revisions = await call('GET', '/flights/revisions?max_results=3');
    assert.deepEqual(
      revisions.body?.revisions.map((r: { revision: number; reason: string }) => `${r.revision}:${r.reason}`),
      ['5:rollback', '4:rollback', '3:promote'],
    );
    assert.equal(revisions.body?.revisions[2].spec.strategy, 'single');
    const older = await call('GET', `/flights/revisions?page_token=${revisions.body?.next_page_token}`);
    assert.deepEqual(
      older.body?.revisions.map((r: { revision: number; actor: string }) => `${r.revision}:${r.actor}`),
      ['2:tester', '1:tester'],
    );
  });

  it('answers the shadow report, scopes by the workspace header, deletes with 204', async () => {
    const report = await call('GET', '/flights/shadow-report');
    assert.equal(report.status, 200);
    assert.equal(report.body?.report.deployment, 'flights');
    assert.deepEqual(report.body?.report.comparisons, []);

    const elsewhere = await call('GET', '/flights', undefined, { 'x-kiln-workspace': 'team-b' });
    assert.equal(elsewhere.status, 404);

    const deleted = await call('DELETE', '/flights');
    assert.equal(deleted.status, 204);
    assert.equal(runtime.specOf('default', 'flights'), undefined);
    assert.equal((await call('GET', '/flights')).status, 404);
    assert.equal((await call('DELETE', '/flights')).status, 404);
    assert.equal((await call('GET', '/flights/status')).status, 404);
  });
});
