import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { KilnError } from '../../core/index.js';
import type { MlflowEndpoint, MlflowServices } from './endpoint.js';
import { experimentEndpoints } from './experiments.js';
import { RequestFields } from './fields.js';
import { parseMlflowJson } from './json-body.js';
import { metricHistoryEndpoints } from './metric-history.js';
import { modelVersionEndpoints } from './model-versions.js';
import { registeredModelEndpoints } from './registered-models.js';
import { runDataEndpoints } from './run-data.js';
import { runEndpoints } from './runs.js';

/**
 * Where MLflow's REST 2.0 API is mounted: the client's prefix, the web UI's, and the 1.x preview
 * prefix the client falls back to when an answer is ENDPOINT_NOT_FOUND.
 */
export const MLFLOW_PREFIXES = ['/api/2.0/mlflow', '/ajax-api/2.0/mlflow', '/api/2.0/preview/mlflow'] as const;

/**
 * What `GET /version` answers: the MLflow release whose client wire behaviour Kiln reproduces
 * (see mlflow-client-wire.md). Tools compare this string with MLflow versions, so Kiln's own
 * version (at `/api/v1/version`) would mislead them.
 */
export const MLFLOW_WIRE_VERSION = '2.7.1';

/** What {@link mlflowRoutes} needs. */
export interface MlflowRoutesOptions {
  services: MlflowServices;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A request's fields as MLflow's server reads them: the query string of a GET; the JSON body of
 * other methods, with query parameters as a fallback for fields the body lacks.
 */
function fieldsOf(request: FastifyRequest): RequestFields {
  const query = isRecord(request.query) ? request.query : {};
  const body: unknown = request.body;
  if (request.method === 'GET' || body === undefined || body === null) return new RequestFields(query);
  if (!isRecord(body)) throw new KilnError('MALFORMED_REQUEST', 'Request body must be a JSON object');
  return new RequestFields(Object.keys(query).length === 0 ? body : { ...query, ...body });
}

/**
 * The MLflow REST 2.0 tracking and model-registry API over Kiln's services, so the stock MLflow
 * clients work against Kiln unchanged (`MLFLOW_TRACKING_URI=http://kiln:5000`). Every endpoint of
 * MLflow's protos for experiments, runs, metrics and the registry is mounted under each of
 * {@link MLFLOW_PREFIXES}, with MLflow's methods, field names, types, omission of empty fields,
 * page tokens, limits and error codes; errors leave through the server's one error handler as
 * `{error_code, message, …}` with MLflow's statuses (RESOURCE_ALREADY_EXISTS is 400), and unknown
 * endpoints are 404 ENDPOINT_NOT_FOUND. Also MLflow's plain `GET /health` ("OK") and
 * `GET /version`.
 *
 * Bodies are read as JSON whatever their Content-Type (MLflow's server forces JSON parsing too),
 * including Python's bare `NaN` / `Infinity` tokens; see `parseMlflowJson`. The routes stay out
 * of Kiln's OpenAPI description: MLflow documents this API.
 *
 * The request context comes from the server's middleware (`request.ctx`); MLflow clients send no
 * workspace header, so they work in `default`, where experiment `0` (`Default`) lives.
 *
 * @example
 * await app.register(mlflowRoutes, { services: { tracking, registry, artifacts } });
 * // GET /api/2.0/mlflow/experiments/get-by-name?experiment_name=missing → 404 {"error_code": "RESOURCE_DOES_NOT_EXIST", …}
 */
export const mlflowRoutes: FastifyPluginAsyncTypebox<MlflowRoutesOptions> = async (app, options) => {
  const { tracking, registry, artifacts } = options.services;
  const present = artifacts === undefined ? (uri: string) => uri : (uri: string) => artifacts.toProxyUri(uri);
  const deps = { tracking, registry, present };
  const endpoints: MlflowEndpoint[] = [
    ...experimentEndpoints(deps),
    ...runEndpoints(deps),
    ...runDataEndpoints(deps),
    ...metricHistoryEndpoints(deps),
    ...registeredModelEndpoints(deps),
    ...modelVersionEndpoints(deps),
  ];

  const bodyLimits = new Map<string, NonNullable<MlflowEndpoint['bodyLimit']>>();
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, function parseMlflowBody(request, body, done) {
    const text = body as string;
    const limit = bodyLimits.get(request.routeOptions.url ?? '');
    if (limit !== undefined) {
      const declared = Number(request.headers['content-length']);
      const size = Number.isSafeInteger(declared) ? declared : Buffer.byteLength(text);
      if (size > limit.bytes) return done(limit.tooLarge(size), undefined);
    }
    try {
      done(null, parseMlflowJson(text));
    } catch (err) {
      done(err as Error, undefined);
    }
  });

  for (const prefix of MLFLOW_PREFIXES) {
    for (const endpoint of endpoints) {
      const url = `${prefix}${endpoint.path}`;
      if (endpoint.bodyLimit !== undefined) bodyLimits.set(url, endpoint.bodyLimit);
      app.route({
        method: endpoint.method,
        url,
        config: { permission: endpoint.permission },
        schema: { hide: true },
        handler: (request) => endpoint.handle({ fields: fieldsOf(request), ctx: request.ctx }),
      });
    }
  }

  app.get('/health', { config: { permission: 'public' }, schema: { hide: true } }, (_request, reply) => {
    reply.type('text/plain; charset=utf-8').send('OK');
  });
  app.get('/version', { config: { permission: 'public' }, schema: { hide: true } }, (_request, reply) => {
    reply.type('text/plain; charset=utf-8').send(MLFLOW_WIRE_VERSION);
  });
};
