import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { invalidParameter, KilnError } from '../../core/index.js';
import { columnsTable, describeJsonValue, rowsTable } from '../input.js';
import type { RawTable, ServedEndpoint } from '../types.js';
import { setRetryAfter } from './errors.js';
import { predictionList, probabilityRows } from './output.js';

/** What each protocol plugin needs: the endpoint a request is for (throws a 404 KilnError when there is none). */
export interface ProtocolRoutesOptions {
  endpoint: (request: FastifyRequest) => ServedEndpoint;
}

/** Header carrying the sticky routing key of canary and A/B deployments. */
export const ROUTE_KEY_HEADER = 'x-kiln-route-key';

/** The answer of `POST /predict`. */
export interface KilnPredictResponse {
  /** The model and version that answered (a canary's when the request was routed to it). */
  model: string;
  version: string;
  /** One per row: a number (regression) or a class label. */
  predictions: (number | string)[];
  /** Classifiers: one array per row, in the order of `classes`. */
  probabilities?: number[][];
  classes?: string[];
  request_id: string;
}

const BODY_FIELDS = new Set(['rows', 'columns', 'route_key']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The table and routing key of a `/predict` body; 400 naming the field for anything else. */
function readPredictBody(body: unknown): { table: RawTable; routeKey?: string } {
  if (!isRecord(body)) {
    throw invalidParameter('body', `is ${describeJsonValue(body)}; send {"rows": [...]} or {"columns": {...}}`);
  }
  for (const key in body) {
    if (!BODY_FIELDS.has(key)) {
      throw invalidParameter(
        key,
        'is not a field of a predict request; send rows or columns, and optionally route_key',
      );
    }
  }
  const hasRows = body.rows !== undefined;
  const hasColumns = body.columns !== undefined;
  if (hasRows === hasColumns) {
    throw invalidParameter(
      hasRows ? 'columns' : 'rows',
      hasRows ? 'may not be sent together with rows; send one of them' : 'is required (or columns)',
    );
  }
  const table = hasRows ? rowsTable(body.rows, 'rows') : columnsTable(body.columns, 'columns');
  const routeKey = body.route_key;
  if (routeKey === undefined || routeKey === null) return { table };
  if (typeof routeKey !== 'string') {
    throw invalidParameter('route_key', `is ${describeJsonValue(routeKey)}; it must be a string`);
  }
  return { table, routeKey };
}

/**
 * Kiln's own prediction protocol: `POST /predict` with `{"rows": [{column: value, …}, …]}` or
 * `{"columns": {column: [value, …], …}}`, answering the predictions (and for classifiers the
 * probabilities per class) with the model version that produced them and the request id. A
 * routing key for sticky canary / A-B routing comes from the `x-kiln-route-key` header or the
 * body's `route_key`. Bad input is a 400 naming the field (`rows[3].distance: is a string; …`),
 * in Kiln's usual error body from the server's error handler; a 503 carries `Retry-After`.
 *
 * @example
 * await app.register(kilnPredictRoutes, { prefix: '/serve/:deployment', endpoint: (request) => find(request) });
 * // POST /serve/penguins/predict {"rows": [{"Island": "Biscoe", …}]}
 * // → {"model": "penguins", "version": "3", "predictions": ["Adelie"], "probabilities": [[0.97, 0.02, 0.01]], …}
 */
export const kilnPredictRoutes: FastifyPluginAsync<ProtocolRoutesOptions> = async (app, options) => {
  const endpointOf = options.endpoint;

  // Adds Retry-After to a 503 and hands the error on to the server's error handler, which writes
  // Kiln's error body.
  app.setErrorHandler(function retryAfterThenRethrow(error: unknown, _request: FastifyRequest, reply: FastifyReply) {
    if (error instanceof KilnError) setRetryAfter(reply, error);
    throw error;
  });

  app.post(
    '/predict',
    {
      config: { permission: 'read' },
      schema: {
        summary: 'Predict with a deployment',
        description:
          'Body: {"rows": [{column: value}, …]} or {"columns": {column: [values]}}, optionally "route_key" (or the x-kiln-route-key header) for sticky canary / A-B routing. Answers {model, version, predictions, probabilities?, classes?, request_id}.',
        tags: ['serving'],
      },
    },
    async (request): Promise<KilnPredictResponse> => {
      const endpoint = endpointOf(request);
      const { table, routeKey: bodyKey } = readPredictBody(request.body);
      const header = request.headers[ROUTE_KEY_HEADER];
      const routeKey = typeof header === 'string' && header !== '' ? header : bodyKey;
      const result = await endpoint.infer({
        table,
        requestId: request.id,
        protocol: 'kiln',
        ...(routeKey === undefined ? {} : { routeKey }),
      });
      const { model, version, classes } = result;
      const predictions = predictionList(result);
      if (classes === undefined) return { model, version, predictions, request_id: request.id };
      const probabilities = probabilityRows(result, classes.length);
      return {
        model,
        version,
        predictions,
        ...(probabilities === undefined ? {} : { probabilities }),
        classes: [...classes],
        request_id: request.id,
      };
    },
  );
};
