import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type TypeBoxTypeProvider, TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance } from 'fastify';
import { KilnError } from '../core/index.js';
import { type TestDatabase, testDatabases } from '../store/testing/databases.js';
import { trackingRoutes } from './routes.js';
import { openTracking } from './testing/harness.js';

/**
 * A bare Fastify app with what the server provides to every context (TypeBox validation, the
 * request context from `x-kiln-workspace`, KilnError bodies), and the tracking routes under /api/v1.
 */
async function buildApp(db: TestDatabase): Promise<{ app: FastifyInstance; permissions: Map<string, unknown> }> {
  const services = await openTracking(db);
  const app = Fastify().withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(TypeBoxValidatorCompiler);
  const permissions = new Map<string, unknown>();
  app.addHook('onRoute', (route) => {
    permissions.set(`${route.method} ${route.url}`, (route.config as { permission?: unknown } | undefined)?.permission);
  });
  app.decorateRequest('ctx');
  app.addHook('onRequest', (request, _reply, done) => {
    const workspace = request.headers['x-kiln-workspace'];
    request.ctx = {
      actor: 'tester',
      workspace: typeof workspace === 'string' ? workspace : 'default',
      requestId: request.id,
    };
    done();
  });
  app.setErrorHandler((err, _request, reply) => {
    if (err instanceof KilnError) return reply.code(err.status).send(err.toBody());
    const status = (err as { statusCode?: number }).statusCode ?? 500;
    return reply
      .code(status)
      .send({ code: status === 400 ? 'INVALID_PARAMETER_VALUE' : 'INTERNAL_ERROR', message: String(err) });
  });
  await app.register(trackingRoutes, { prefix: '/api/v1', services });
  await app.ready();
  return { app, permissions };
}

for (const target of await testDatabases()) {
  describe(`tracking REST API on ${target.name}`, { skip: target.skip }, () => {
    let db: TestDatabase;
    let app: FastifyInstance;
    let permissions: Map<string, unknown>;
    let experimentId: string;
    let runId: string;

    before(async () => {
      db = await target.create();
      ({ app, permissions } = await buildApp(db));
    });
    after(async () => {
      await app.close();
      await db.cleanup();
    });

    const call = (method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', url: string, payload?: object) =>
      app.inject({ method, url: `/api/v1${url}`, ...(payload === undefined ? {} : { payload }) });

    it('should declare read or write on every route', () => {
      assert.ok(permissions.size >= 20, `${permissions.size} routes`);
      for (const [route, permission] of permissions) {
        if (route.startsWith('HEAD ')) continue;
        const expected = route.startsWith('GET ') || route === 'POST /api/v1/runs/search' ? 'read' : 'write';
        assert.equal(permission, expected, route);
      }
    });

    it('should create, read, rename, tag, delete and restore an experiment', async () => {
      const created = await call('POST', '/experiments', { name: 'web', tags: [{ key: 'team', value: 'risk' }] });
      assert.equal(created.statusCode, 201, created.body);
      const experiment = created.json().experiment;
      experimentId = experiment.experiment_id;
      assert.equal(experiment.name, 'web');
      assert.equal(typeof experiment.creation_time, 'number');
      assert.deepEqual((await call('GET', `/experiments/${experimentId}`)).json(), { experiment });
      assert.deepEqual((await call('GET', '/experiments/by-name/web')).json(), { experiment });
      const renamed = await call('PATCH', `/experiments/${experimentId}`, { name: 'web-2' });
      assert.equal(renamed.json().experiment.name, 'web-2');
      assert.equal(
        (await call('PUT', `/experiments/${experimentId}/tags`, { key: 'a/b', value: '1' })).statusCode,
        204,
      );
      assert.equal((await call('DELETE', `/experiments/${experimentId}/tags?key=team`)).statusCode, 204);
      assert.deepEqual((await call('GET', `/experiments/${experimentId}`)).json().experiment.tags, [
        { key: 'a/b', value: '1' },
      ]);
      const listed = await call(
        'GET',
        `/experiments?filter=${encodeURIComponent("name LIKE 'web%'")}&order_by=name&order_by=creation_time`,
      );
      assert.deepEqual(
        listed.json().experiments.map((e: { name: string }) => e.name),
        ['web-2'],
      );
      const other = await call('POST', '/experiments', { name: 'gone' });
      const goneId = other.json().experiment.experiment_id;
      assert.equal((await call('DELETE', `/experiments/${goneId}`)).statusCode, 204);
      assert.equal((await call('GET', `/experiments?view_type=DELETED_ONLY`)).json().experiments[0].name, 'gone');
      assert.equal((await call('POST', `/experiments/${goneId}/restore`)).statusCode, 204);
    });

    it('should answer errors with Kiln error bodies and MLflow codes', async () => {
      const missing = await call('GET', '/experiments/424242');
      assert.equal(missing.statusCode, 404);
      assert.equal(missing.json().error_code, 'RESOURCE_DOES_NOT_EXIST');
      const duplicate = await call('POST', '/experiments', { name: 'web-2' });
      assert.equal(duplicate.statusCode, 400);
      assert.equal(duplicate.json().error_code, 'RESOURCE_ALREADY_EXISTS');
      const hostile = await call('POST', '/experiments', { name: 'evil', artifact_location: 'file:///etc' });
      assert.equal(hostile.statusCode, 400);
      assert.match(hostile.json().message, /^artifact_location:/);
      assert.equal((await call('POST', '/experiments', { name: 'x', extra: 1 })).statusCode, 400);
      assert.equal((await call('GET', '/experiments?max_results=50001')).statusCode, 400);
    });

    it('should run the run lifecycle and batch logging with non-finite values', async () => {
      const created = await call('POST', '/runs', { experiment_id: experimentId, run_name: 'r', start_time: 1000 });
      assert.equal(created.statusCode, 201, created.body);
      runId = created.json().run.info.run_id;
      assert.equal(created.json().run.info.end_time, null);
      const logged = await call('POST', `/runs/${runId}/log-batch`, {
        metrics: [
          { key: 'loss', value: 'NaN', timestamp: 5, step: 0 },
          { key: 'loss', value: 0.5, timestamp: 6, step: 1 },
          { key: 'inf', value: '-Infinity', timestamp: 6 },
        ],
        params: [{ key: 'lr', value: '0.1' }],
        tags: [{ key: 'team', value: 'a' }],
      });
      assert.equal(logged.statusCode, 204, logged.body);
      const run = (await call('GET', `/runs/${runId}`)).json().run;
      assert.deepEqual(run.data.metrics, [
        { key: 'inf', value: '-Infinity', timestamp: 6, step: 0 },
        { key: 'loss', value: 0.5, timestamp: 6, step: 1 },
      ]);
      assert.deepEqual(run.data.params, [{ key: 'lr', value: '0.1' }]);
      const changed = await call('POST', `/runs/${runId}/log-batch`, { params: [{ key: 'lr', value: '0.2' }] });
      assert.equal(changed.statusCode, 400);
      assert.equal(changed.json().error_code, 'INVALID_PARAMETER_VALUE');
      assert.match(changed.json().message, /Changing param values is not allowed/);
      const history = (await call('GET', `/runs/${runId}/metric-history?key=loss&max_results=1`)).json();
      assert.deepEqual(history.metrics, [{ key: 'loss', value: 'NaN', timestamp: 5, step: 0 }]);
      const rest = (
        await call('GET', `/runs/${runId}/metric-history?key=loss&page_token=${history.next_page_token}`)
      ).json();
      assert.deepEqual(rest, { metrics: [{ key: 'loss', value: 0.5, timestamp: 6, step: 1 }] });
      const chart = (await call('GET', `/runs/${runId}/metric-history?key=loss&max_points=2`)).json();
      assert.equal(chart.metrics.length, 2);
      assert.equal((await call('GET', `/runs/${runId}/metric-history?key=loss&max_points=0`)).statusCode, 400);
      const inputs = await call('POST', `/runs/${runId}/inputs`, {
        datasets: [
          {
            dataset: { name: 'iris', digest: 'abc', source_type: 'code', source: '{}' },
            tags: [{ key: 'mlflow.data.context', value: 'training' }],
          },
        ],
      });
      assert.equal(inputs.statusCode, 204, inputs.body);
      assert.equal((await call('PUT', `/runs/${runId}/tags`, { key: 'stage', value: 'x' })).statusCode, 204);
      assert.equal((await call('DELETE', `/runs/${runId}/tags?key=stage`)).statusCode, 204);
      const updated = await call('PATCH', `/runs/${runId}`, { status: 'FINISHED', end_time: 2000 });
      assert.equal(updated.json().run_info.status, 'FINISHED');
      assert.equal(updated.json().run_info.end_time, 2000);
      const found = await call('POST', '/runs/search', {
        experiment_ids: [experimentId],
        filter: "params.lr = '0.1' AND datasets.context = 'training'",
        order_by: ['metrics.loss DESC'],
      });
      assert.equal(found.statusCode, 200, found.body);
      assert.equal(found.json().runs.length, 1);
      assert.equal(found.json().runs[0].inputs.dataset_inputs[0].dataset.name, 'iris');
      assert.equal((await call('DELETE', `/runs/${runId}`)).statusCode, 204);
      const refused = await call('PUT', `/runs/${runId}/tags`, { key: 'k', value: 'v' });
      assert.equal(refused.statusCode, 400);
      assert.match(refused.json().message, /must be in the 'active' state/);
      assert.equal((await call('POST', `/runs/${runId}/restore`)).statusCode, 204);
    });

    it('should scope every read to the workspace header', async () => {
      const res = await app.inject({
        method: 'GET',
        url: `/api/v1/runs/${runId}`,
        headers: { 'x-kiln-workspace': 'other' },
      });
      assert.equal(res.statusCode, 404);
    });
  });
}
