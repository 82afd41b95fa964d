import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { modelRoutes } from './routes/models.js';
import { versionRoutes } from './routes/versions.js';
import type { RegistryService } from './service.js';

export type { ModelVersionWire, RegisteredModelWire } from './routes/wire.js';

/** What {@link registryRoutes} needs: the service its handlers call. */
export interface RegistryRoutesOptions {
  service: RegistryService;
}

/**
 * The registry's Kiln REST surface: registered models, their versions, tags, aliases, MLflow
 * stages, download URIs and events, snake_case like the rest of `/api/v1`. Every route declares
 * its permission; the MLflow wire format lives in the compat adapter, over the same service.
 *
 * @example
 * await app.register(registryRoutes, { prefix: '/api/v1/models', service: registry });
 * // PUT /api/v1/models/churn/aliases/champion { "version": 3 } → 204
 * // GET /api/v1/models/churn/aliases/champion → { model_version: { version: 3, … } }
 */
export const registryRoutes: FastifyPluginAsyncTypebox<RegistryRoutesOptions> = async (app, { service }) => {
  await app.register(modelRoutes, { service });
  await app.register(versionRoutes, { service });
};
