import type { FastifyRequest } from 'fastify';
import { mlflowScoringRoutes, oipRoutes } from '../compat/index.js';
import { KilnError } from '../core/index.js';
import { kilnPredictRoutes, type ServedEndpoint, type ServingRuntime } from '../serving/index.js';
import type { KilnApp } from './kiln-app.js';

/** Where each deployment answers inside `kiln server`: `/serve/<deployment>/predict`, `/invocations`, `/v2/…`. */
export const SERVE_PREFIX = '/serve/:deployment';

/**
 * Mounts the three prediction protocols (Kiln `/predict`, MLflow `/invocations`, Open Inference
 * Protocol v2) under `/serve/<deployment>/`, each in its own scope (they bring their own body
 * parsers and error bodies), for the deployments of the request's workspace that `runtime` serves.
 *
 * @example
 * await registerServeRoutes(app, services.serving.runtime);
 * // POST /serve/flights/predict {"rows": [{"distance": 1200, …}]}
 */
export async function registerServeRoutes(app: KilnApp, runtime: ServingRuntime): Promise<void> {
  const endpoint = (request: FastifyRequest): ServedEndpoint => {
    const name = (request.params as { deployment?: string }).deployment ?? '';
    const found = runtime.get(request.ctx.workspace, name);
    if (found === undefined) {
      throw new KilnError('RESOURCE_DOES_NOT_EXIST', `no deployment '${name}' is served here`, {
        field: 'deployment',
      });
    }
    return found;
  };
  await app.register(kilnPredictRoutes, { prefix: SERVE_PREFIX, endpoint });
  await app.register(mlflowScoringRoutes, { prefix: SERVE_PREFIX, endpoint });
  await app.register(oipRoutes, { prefix: SERVE_PREFIX, endpoint });
}
