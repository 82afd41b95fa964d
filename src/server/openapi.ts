import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { Type } from '@fastify/type-provider-typebox';
import { KILN_VERSION } from '../core/index.js';
import type { KilnApp } from './kiln-app.js';

/** Where the interactive API reference is served. */
export const DOCS_PREFIX = '/docs';

/** Every error response, whatever the route: the `ErrorBody` of core, documented once. */
export const ErrorBodySchema = Type.Object(
  {
    error_code: Type.String({ description: 'MLflow-compatible error code' }),
    message: Type.String(),
    code: Type.String({ description: 'Kiln error code' }),
    details: Type.Optional(Type.Object({}, { additionalProperties: true })),
    request_id: Type.Optional(Type.String()),
  },
  { description: 'An error' },
);

/**
 * Marks the routes @fastify/swagger-ui adds under {@link DOCS_PREFIX} as `public`: they are
 * registered by a third-party plugin that cannot set a permission itself. Must be installed
 * before the permission check so that the check sees the mark.
 */
export function markDocsRoutesPublic(app: KilnApp): void {
  app.addHook('onRoute', function markDocsPublic(route) {
    if (route.prefix === DOCS_PREFIX || route.prefix.startsWith(`${DOCS_PREFIX}/`)) {
      route.config = { ...route.config, permission: 'public' };
    }
  });
}

/**
 * Serves the OpenAPI 3.1 description of every documented route at `GET /openapi.json` and the
 * Swagger UI at `GET /docs`. Also documents the shared error body as the 4XX/5XX response of
 * every route, so no context has to repeat it. Call it before registering the routes to
 * describe.
 *
 * @example
 * await installOpenApi(app);
 * await app.register(workspaceRoutes, { prefix: '/api/v1/workspaces', service });
 */
export async function installOpenApi(app: KilnApp): Promise<void> {
  app.addHook('onRoute', function documentErrorResponses(route) {
    if (route.schema === undefined || route.schema.hide === true) return;
    const documented = (route.schema.response ?? {}) as Record<string, unknown>;
    route.schema.response = { '4XX': ErrorBodySchema, '5XX': ErrorBodySchema, ...documented };
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Kiln',
        version: KILN_VERSION,
        description:
          'The Kiln REST API. Send `x-kiln-workspace` to work in a workspace other than `default`; every response carries `x-request-id`.',
      },
      tags: [
        { name: 'operations', description: 'Health, version and metrics' },
        { name: 'workspaces', description: 'Workspaces that scope every other resource' },
        {
          name: 'training',
          description: 'Training jobs: built-in learners on dataset versions, tracked and registered',
        },
        {
          name: 'studies',
          description:
            'Hyper-parameter studies: trials of a training template over a search space, on the tuning queue',
        },
        { name: 'serving', description: 'Predict with deployments (Kiln REST; MLflow and OIP routes are not listed)' },
        { name: 'deployments', description: 'Deployments: model versions behind an endpoint, canary / shadow / A-B' },
        { name: 'scoring', description: 'Batch scoring jobs: a model over a dataset version into a new version' },
      ],
    },
  });

  app.get('/openapi.json', { config: { permission: 'public' }, schema: { hide: true } }, (_request, reply) => {
    reply.send(app.swagger());
  });

  await app.register(swaggerUi, { routePrefix: DOCS_PREFIX, staticCSP: true });
}
