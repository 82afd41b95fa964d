import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import Fastify from 'fastify';
import type { RegistryService } from '../../registry/index.js';
import type { TrackingServices } from '../../tracking/index.js';
import { MLFLOW_PREFIXES, mlflowRoutes } from './routes.js';

/** Every endpoint of MLflow's protos the adapter serves, with the permission it must declare. */
const SURFACE = `
POST /experiments/create write
GET /experiments/get read
GET /experiments/get-by-name read
GET /experiments/search read
POST /experiments/search read
GET /experiments/list read
POST /experiments/update write
POST /experiments/delete write
POST /experiments/restore write
POST /experiments/set-experiment-tag write
POST /experiments/delete-experiment-tag write
POST /runs/create write
GET /runs/get read
POST /runs/update write
POST /runs/delete write
POST /runs/restore write
POST /runs/search read
POST /runs/set-tag write
POST /runs/delete-tag write
POST /runs/log-metric write
POST /runs/log-parameter write
POST /runs/log-batch write
POST /runs/log-inputs write
POST /runs/log-model write
GET /metrics/get-history read
GET /metrics/get-history-bulk-interval read
GET /metrics/get-history-bulk read
POST /registered-models/create write
GET /registered-models/get read
POST /registered-models/rename write
PATCH /registered-models/update write
DELETE /registered-models/delete write
GET /registered-models/search read
GET /registered-models/get-latest-versions read
POST /registered-models/get-latest-versions read
POST /registered-models/set-tag write
DELETE /registered-models/delete-tag write
POST /registered-models/alias write
DELETE /registered-models/alias write
GET /registered-models/alias read
POST /model-versions/create write
GET /model-versions/get read
PATCH /model-versions/update write
DELETE /model-versions/delete write
GET /model-versions/search read
POST /model-versions/transition-stage write
GET /model-versions/get-download-uri read
POST /model-versions/set-tag write
DELETE /model-versions/delete-tag write`
  .trim()
  .split('\n');

describe('mlflowRoutes', () => {
  const routes = new Map<string, { permission: unknown; hidden: boolean }>();

  before(async () => {
    const app = Fastify();
    app.addHook('onRoute', (route) => {
      if (route.method === 'HEAD') return;
      const hidden = (route.schema as { hide?: boolean } | undefined)?.hide === true;
      routes.set(`${route.method} ${route.url}`, { permission: route.config?.permission, hidden });
    });
    // Registration only: no handler runs, so the services are never called.
    const services = { tracking: {} as TrackingServices, registry: {} as RegistryService };
    await app.register(mlflowRoutes, { services });
    await app.ready();
    await app.close();
  });

  it('should mount every endpoint under each prefix with its MLflow method and permission, and nothing else', () => {
    const expected = new Map<string, { permission: unknown; hidden: boolean }>();
    for (const prefix of MLFLOW_PREFIXES) {
      for (const line of SURFACE) {
        const [method, path, permission] = line.split(' ');
        expected.set(`${method} ${prefix}${path}`, { permission, hidden: true });
      }
    }
    expected.set('GET /health', { permission: 'public', hidden: true });
    expected.set('GET /version', { permission: 'public', hidden: true });
    assert.deepEqual(new Map([...routes].sort()), new Map([...expected].sort()));
  });
});
