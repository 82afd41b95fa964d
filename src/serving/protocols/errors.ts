import type { FastifyReply, FastifyRequest } from 'fastify';
import { codeForStatus, KilnError } from '../../core/index.js';

/** The shape of the errors Fastify itself raises while reading a request (parsing, limits). */
interface FastifyLikeError {
  code?: unknown;
  statusCode?: unknown;
  message: string;
}

/**
 * The KilnError a failed request deserves, for protocol adapters that answer with their own error
 * bodies (MLflow's `{error_code, message}`, OIP's `{error}`) and so cannot leave it to the
 * server's error handler: Fastify's body-parsing and size errors become MALFORMED_REQUEST,
 * PAYLOAD_TOO_LARGE and UNSUPPORTED_MEDIA_TYPE; other 4xx keep their status. Undefined means a
 * fault of ours (the caller answers 500 and logs the cause, never sending it).
 *
 * @example
 * const known = requestFailure(error, request) ?? internalError(request);
 */
export function requestFailure(error: unknown, request: FastifyRequest): KilnError | undefined {
  if (error instanceof KilnError) return error;
  if (typeof error !== 'object' || error === null || !('message' in error)) return undefined;
  const e = error as FastifyLikeError;
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
 * The generic 500 a caller gets for a fault of ours, quoting the request id so a report can be
 * matched with the logged cause, which is never sent.
 *
 * @example
 * const known = requestFailure(error, request) ?? internalError(request);
 */
export function internalError(request: FastifyRequest): KilnError {
  return new KilnError('INTERNAL_ERROR', `Internal error; quote request id ${request.id} when reporting it`);
}

/**
 * Sets `Retry-After` from an error's `details.retryAfter` (seconds), as the runtime gives it on a
 * 503 for a full queue or a model still loading, so clients and load balancers back off.
 *
 * @example
 * setRetryAfter(reply, error); // Retry-After: 2
 */
export function setRetryAfter(reply: FastifyReply, error: KilnError): void {
  const seconds = error.details?.retryAfter;
  if (typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0) {
    reply.header('retry-after', String(Math.ceil(seconds)));
  }
}

/**
 * Turns any failure into the KilnError to answer with, logging faults of ours with their cause
 * (never sent) and 5xx KilnErrors as warnings, and setting `Retry-After` where the error gives it.
 *
 * @example
 * app.setErrorHandler((error, request, reply) => {
 *   const known = answerableError(error, request, reply);
 *   return reply.code(known.status).send({ error: known.message });
 * });
 */
export function answerableError(error: unknown, request: FastifyRequest, reply: FastifyReply): KilnError {
  const known = requestFailure(error, request);
  if (known === undefined) {
    request.log.error({ err: error }, 'unhandled error');
    return internalError(request);
  }
  if (known.status >= 500) request.log.warn({ err: known }, known.message);
  setRetryAfter(reply, known);
  return known;
}
