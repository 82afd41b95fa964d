import { Type } from '@fastify/type-provider-typebox';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { HttpMetrics } from './http-metrics.js';
import type { KilnApp } from './kiln-app.js';

/** Label for requests that matched no route, so unknown paths cannot explode the series count. */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * Creates the registry one app exposes, with the process metrics (prefix `kiln_`). One registry
 * per app, never prom-client's global one, so that several apps can live in one process.
 *
 * @example
 * const registry = createMetricsRegistry();
 * installMetrics(app, registry);
 */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'kiln_' });
  return registry;
}

/**
 * Records `kiln_http_requests_total{method,route,status_code}` and
 * `kiln_http_request_duration_seconds{method,route}` for every request of `app` (call it on the
 * root instance), labelled by route template, never by raw path, so cardinality stays bounded;
 * and serves `registry` at `GET /metrics` in the Prometheus text format.
 */
export function installMetrics(app: KilnApp, registry: Registry): void {
  const http = new HttpMetrics(registry);

  app.addHook('onResponse', function recordHttpMetrics(request, reply, done) {
    const route = request.is404 ? UNMATCHED_ROUTE : (request.routeOptions.url ?? UNMATCHED_ROUTE);
    http.record(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });

  app.get(
    '/metrics',
    {
      config: { permission: 'public' },
      schema: {
        summary: 'Prometheus metrics of this process',
        tags: ['operations'],
        response: {
          200: {
            description: 'Prometheus text exposition format',
            content: { 'text/plain': { schema: Type.String() } },
          },
        },
      },
    },
    async (_request, reply) => {
      const text = await registry.metrics();
      return reply.type(registry.contentType).send(text);
    },
  );
}
