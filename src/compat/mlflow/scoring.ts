import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { KilnError } from '../../core/index.js';
import {
  answerableError,
  type ProtocolRoutesOptions,
  predictionList,
  type RawTable,
  ROUTE_KEY_HEADER,
  type ServedEndpoint,
} from '../../serving/index.js';
import { MLFLOW_WIRE_VERSION } from './routes.js';
import { csvTable, parseScoringJson, scoringTable } from './scoring-input.js';

/** A `text/csv` body, kept as text until the route knows the model whose inputs type its cells. */
class CsvBody {
  constructor(readonly text: string) {}
}

/**
 * The Content-Type parameters MLflow's scoring server accepts: none, or `charset=utf-8`. Others
 * (another charset, or the pre-2.0 `format=pandas-split`) are 415, as there.
 */
function checkContentTypeParameters(header: string | undefined): void {
  if (header === undefined) return;
  const parts = header.split(';').slice(1);
  for (const part of parts) {
    const [key = '', value = ''] = part.split('=').map((s) => s.trim().toLowerCase());
    if (key === '' || (key === 'charset' && value.replace(/^"|"$/g, '') === 'utf-8')) continue;
    throw new KilnError(
      'UNSUPPORTED_MEDIA_TYPE',
      key === 'charset'
        ? `Content-Type '${header}' is not supported: only charset=utf-8 is accepted`
        : `Content-Type '${header}' is not supported: the parameter '${key}' belongs to the pre-2.0 scoring protocol; send application/json with one of dataframe_split, dataframe_records, instances or inputs, or text/csv`,
      { contentType: header },
    );
  }
}

/** The answering models' inputs: the primary's, which define how positional and CSV values are read. */
function primaryInputs(endpoint: ServedEndpoint) {
  const primary = endpoint.models()[0];
  if (primary === undefined) {
    throw new KilnError(
      'TEMPORARILY_UNAVAILABLE',
      `Deployment '${endpoint.name}' is not ready: its model is still loading`,
      {
        deployment: endpoint.name,
        retryAfter: 1,
      },
    );
  }
  return primary.inputs;
}

function sendMlflowError(error: unknown, request: FastifyRequest, reply: FastifyReply) {
  const known = answerableError(error, request, reply);
  return reply.code(known.status).send({ error_code: known.mlflowCode, message: known.message });
}

/**
 * MLflow's model scoring protocol (`mlflow models serve`), so clients written for MLflow's
 * pyfunc server score Kiln deployments unchanged:
 * - `POST /invocations` with JSON (`dataframe_split`, `dataframe_records`, `instances` or `inputs`,
 *   optional `params`; see `scoringTable`) or `text/csv` with a header row (see `csvTable`);
 *   answers `{"predictions": [...]}`: numbers for a regressor, class labels for a classifier, as
 *   MLflow's pyfunc `predict` returns them. Only `charset=utf-8` is accepted and other content
 *   types are 415, as there. An optional `x-kiln-route-key` header routes canary traffic.
 * - `GET /ping` and `GET /health`: 200 once the model is loaded and warmed, 503 before.
 * - `GET /version`: the MLflow version whose wire behaviour Kiln follows.
 *
 * Errors are MLflow's `{error_code, message}` (bad input 400 naming the field, unknown deployment
 * 404, loading or overloaded 503 with `Retry-After`). The routes stay out of Kiln's OpenAPI
 * description: MLflow documents this protocol.
 *
 * @example
 * await app.register(mlflowScoringRoutes, { prefix: '/serve/:deployment', endpoint: (request) => find(request) });
 * // POST /serve/penguins/invocations {"dataframe_records": [{"Island": "Biscoe", …}]} → {"predictions": ["Gentoo"]}
 */
export const mlflowScoringRoutes: FastifyPluginAsync<ProtocolRoutesOptions> = async (app, options) => {
  const endpointOf = options.endpoint;

  app.setErrorHandler(sendMlflowError);

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    try {
      checkContentTypeParameters(request.headers['content-type']);
      done(null, parseScoringJson(body as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  app.addContentTypeParser('text/csv', { parseAs: 'string' }, (request, body, done) => {
    try {
      checkContentTypeParameters(request.headers['content-type']);
      done(null, new CsvBody(body as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  });

  app.post('/invocations', { config: { permission: 'read' }, schema: { hide: true } }, async (request) => {
    const endpoint = endpointOf(request);
    const body: unknown = request.body;
    if (body === undefined) {
      throw new KilnError(
        'UNSUPPORTED_MEDIA_TYPE',
        'The request has no body or no Content-Type; send application/json or text/csv',
      );
    }
    const inputs = primaryInputs(endpoint);
    const table: RawTable = body instanceof CsvBody ? csvTable(body.text, inputs) : scoringTable(body, inputs);
    const header = request.headers[ROUTE_KEY_HEADER];
    const result = await endpoint.infer({
      table,
      requestId: request.id,
      protocol: 'mlflow',
      ...(typeof header === 'string' && header !== '' ? { routeKey: header } : {}),
    });
    return { predictions: predictionList(result) };
  });

  const ping = (request: FastifyRequest, reply: FastifyReply) => {
    const endpoint = endpointOf(request);
    if (!endpoint.ready()) {
      throw new KilnError(
        'TEMPORARILY_UNAVAILABLE',
        `Deployment '${endpoint.name}' is not ready: its model is still loading`,
        {
          deployment: endpoint.name,
          retryAfter: 1,
        },
      );
    }
    // MLflow answers a bare newline with the JSON media type.
    return reply.type('application/json').send('\n');
  };
  app.get('/ping', { config: { permission: 'public' }, schema: { hide: true } }, ping);
  app.get('/health', { config: { permission: 'public' }, schema: { hide: true } }, ping);
  app.get('/version', { config: { permission: 'public' }, schema: { hide: true } }, (request, reply) => {
    endpointOf(request);
    return reply.type('text/plain; charset=utf-8').send(MLFLOW_WIRE_VERSION);
  });
};
