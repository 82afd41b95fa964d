import type { FastifyReply, FastifyRequest, FastifySchemaValidationError } from 'fastify';
import { codeForStatus, KilnError } from '../core/index.js';
import type { KilnApp } from './kiln-app.js';

/** The shape of the errors Fastify itself raises (parsing, validation, limits). */
interface FastifyLikeError {
  code?: unknown;
  statusCode?: unknown;
  message: string;
  validation?: FastifySchemaValidationError[];
  validationContext?: string;
}

const PART_NAMES: Readonly<Record<string, string>> = { querystring: 'query', params: 'path', headers: 'header' };

/** `/tags/0/name` → `.tags[0].name`, unescaping JSON-pointer `~1` and `~0`. */
function pointerToPath(pointer: string): string {
  if (pointer === '') return '';
  return pointer
    .slice(1)
    .split('/')
    .map((raw) => {
      const segment = raw.replaceAll('~1', '/').replaceAll('~0', '~');
      return /^\d+$/.test(segment) ? `[${segment}]` : `.${segment}`;
    })
    .join('');
}

function firstOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  return undefined;
}

/**
 * Turns a schema validation failure into INVALID_PARAMETER_VALUE naming the offending field,
 * e.g. `body.name: must be string`. Understands both TypeBox's and Ajv's error parameters.
 */
export function validationFailure(errors: readonly FastifySchemaValidationError[], context?: string): KilnError {
  const chosen = errors.find((e) => e.keyword !== 'boolean') ?? errors[0];
  const part = PART_NAMES[context ?? ''] ?? context ?? 'request';
  if (chosen === undefined) {
    return new KilnError('INVALID_PARAMETER_VALUE', `${part}: is invalid`, { field: part });
  }
  let field = `${part}${pointerToPath(chosen.instancePath)}`;
  let problem = chosen.message ?? `fails the '${chosen.keyword}' rule`;
  const missing = firstOf(chosen.params.missingProperty) ?? firstOf(chosen.params.requiredProperties);
  const extra = firstOf(chosen.params.additionalProperty) ?? firstOf(chosen.params.additionalProperties);
  if (chosen.keyword === 'required' && missing !== undefined) {
    field = `${field}.${missing}`;
    problem = 'is required';
  } else if (chosen.keyword === 'additionalProperties' && extra !== undefined) {
    field = `${field}.${extra}`;
    problem = 'is not a known field';
  }
  return new KilnError('INVALID_PARAMETER_VALUE', `${field}: ${problem}`, { field });
}

/** The KilnError a failure deserves, or undefined when it is a fault of ours (→ 500). */
function clientError(error: unknown, request: FastifyRequest): KilnError | undefined {
  if (error instanceof KilnError) return error;
  if (typeof error !== 'object' || error === null || !('message' in error)) return undefined;
  const e = error as FastifyLikeError;
  if (Array.isArray(e.validation)) return validationFailure(e.validation, e.validationContext);
  switch (e.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new KilnError('MALFORMED_REQUEST', 'Request body is not valid JSON');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new KilnError('MALFORMED_REQUEST', 'Request body is empty but Content-Type says application/json');
    case 'FST_ERR_CTP_BODY_TOO_LARGE': {
      const limit = request.routeOptions.bodyLimit;
      return new KilnError(
        'PAYLOAD_TOO_LARGE',
        `Request body is larger than the ${limit} bytes this endpoint accepts`,
        {
          limit,
        },
      );
    }
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': {
      const type = request.headers['content-type'] ?? '(none)';
      return new KilnError('UNSUPPORTED_MEDIA_TYPE', `Content-Type '${type}' is not supported here`, {
        contentType: type,
      });
    }
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new KilnError(codeForStatus(e.statusCode), e.message);
  }
  return undefined;
}

/**
 * The server's one error handler: every error, from a service, from Fastify's parsing and
 * validation, or an unexpected throw, leaves as the same `ErrorBody` JSON. Unexpected throws
 * become a generic 500 whose cause is logged with the request id and never sent to the caller.
 *
 * @example
 * installErrorHandlers(app); // before routes, so every plugin inherits it
 */
export function installErrorHandlers(app: KilnApp): void {
  app.setErrorHandler(function handleError(error: unknown, request: FastifyRequest, reply: FastifyReply) {
    const known = clientError(error, request);
    if (known === undefined) {
      request.log.error({ err: error }, 'unhandled error');
      const internal = new KilnError(
        'INTERNAL_ERROR',
        `Internal error; quote request id ${request.id} when reporting it`,
      );
      return reply.code(internal.status).send(internal.toBody(request.id));
    }
    if (known.status >= 500) request.log.warn({ err: known }, known.message);
    return reply.code(known.status).send(known.toBody(request.id));
  });

  app.setNotFoundHandler(function endpointNotFound(request: FastifyRequest, reply: FastifyReply) {
    const path = request.url.split('?', 1)[0] ?? request.url;
    const shown = path.length > 200 ? `${path.slice(0, 200)}…` : path;
    const error = new KilnError('ENDPOINT_NOT_FOUND', `No endpoint ${request.method} ${shown}`, {
      method: request.method,
      path: shown,
    });
    return reply.code(error.status).send(error.toBody(request.id));
  });
}
