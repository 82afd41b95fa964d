import type { FastifyReply, FastifyRequest, FastifySchemaValidationError } from 'fastify';
import { KilnError } from '../core/index.js';
import { internalError, requestFailure } from '../serving/index.js';
import type { KilnApp } from './kiln-app.js';

/** The shape of the schema validation errors Fastify raises. */
interface FastifyValidationError {
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

/**
 * The KilnError a failure deserves, or undefined when it is a fault of ours (→ 500): schema
 * validation failures name the field; the rest (Fastify's parsing and size errors, other 4xx) as
 * the protocol adapters see them.
 */
function clientError(error: unknown, request: FastifyRequest): KilnError | undefined {
  if (!(error instanceof KilnError) && typeof error === 'object' && error !== null && 'message' in error) {
    const { validation, validationContext } = error as FastifyValidationError;
    if (Array.isArray(validation)) return validationFailure(validation, validationContext);
  }
  return requestFailure(error, request);
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
      const internal = internalError(request);
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
