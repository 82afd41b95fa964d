import { type TypeBoxTypeProvider, TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import Fastify, { LogController } from 'fastify';
import type { KilnConfig, Logger } from '../core/index.js';
import { createDomainServices, registerDomainRoutes } from './domain.js';
import { installErrorHandlers } from './errors.js';
import { healthRoutes } from './health.js';
import type { KilnApp } from './kiln-app.js';
import { createMetricsRegistry, installMetrics } from './metrics.js';
import { installOpenApi, markDocsRoutesPublic } from './openapi.js';
import { requireRoutePermissions } from './permissions.js';
import { attachRequestContext, requestIdFor } from './request-context.js';
import type { Stores } from './stores.js';

/** Probes and scrapes arrive every few seconds; logging each would drown every other line. */
const UNLOGGED_PATHS: ReadonlySet<string> = new Set(['/health/live', '/health/ready', '/metrics']);

/** Everything {@link buildApp} needs; the caller owns the stores and closes them. */
export interface AppDeps {
  config: KilnConfig;
  logger: Logger;
  stores: Stores;
  /**
   * How long each `/health/ready` check may take.
   * @default 2000
   */
  readyTimeoutMs?: number;
}

/**
 * Builds the whole HTTP application without listening: middleware (request ids, request context,
 * metrics), the one error handler, OpenAPI and docs, health and version, and every context's
 * routes. Tests drive it with `app.inject`; {@link startServer} listens on it.
 *
 * Routes may still be added to the returned app before `ready()`; each must declare a permission.
 *
 * @example
 * const app = await buildApp({ config, logger, stores });
 * const res = await app.inject({ method: 'GET', url: '/health/live' });
 */
export async function buildApp(deps: AppDeps): Promise<KilnApp> {
  const { config, logger, stores } = deps;
  const app: KilnApp = Fastify({
    loggerInstance: logger,
    bodyLimit: config.bodyLimit,
    trustProxy: false,
    return503OnClosing: true,
    requestIdHeader: false,
    genReqId: requestIdFor,
    logController: new LogController({ disableRequestLogging: (request) => UNLOGGED_PATHS.has(request.url) }),
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(TypeBoxValidatorCompiler);

  markDocsRoutesPublic(app);
  requireRoutePermissions(app);
  installErrorHandlers(app);
  attachRequestContext(app);
  await installOpenApi(app);
  const metrics = createMetricsRegistry();
  installMetrics(app, metrics);

  await app.register(healthRoutes, { stores, readyTimeoutMs: deps.readyTimeoutMs ?? 2000 });
  await registerDomainRoutes(app, createDomainServices(config, stores, logger, { metrics }), config);
  return app;
}
