import type { IncomingMessage } from 'node:http';
import { checkWorkspaceName } from '../auth/index.js';
import { DEFAULT_WORKSPACE, requestId } from '../core/index.js';
import type { KilnApp } from './kiln-app.js';

/** Header naming the workspace a request works in; `default` when absent. */
export const WORKSPACE_HEADER = 'x-kiln-workspace';
/** Header carrying the request id, both ways. */
export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * Fastify's `genReqId`: keeps a caller's `x-request-id` when it is safe to log and echo (so ids
 * correlate across a proxy and Kiln), otherwise mints a UUID.
 *
 * @example
 * Fastify({ requestIdHeader: false, genReqId: requestIdFor });
 */
export function requestIdFor(raw: IncomingMessage): string {
  const supplied = raw.headers[REQUEST_ID_HEADER];
  return requestId(typeof supplied === 'string' ? supplied : undefined);
}

/**
 * Gives every request its `request.ctx` (actor, workspace, request id) before any handler runs,
 * and echoes the request id so callers can quote it in bug reports. The actor is `anonymous`
 * until auth lands; a malformed workspace header is a 400 naming the header.
 *
 * @example
 * attachRequestContext(app);
 * app.get('/x', { config: { permission: 'read' } }, (request) => service.list(request.ctx));
 */
export function attachRequestContext(app: KilnApp): void {
  app.decorateRequest('ctx');
  app.addHook('onRequest', function setRequestContext(request, reply, done) {
    reply.header(REQUEST_ID_HEADER, request.id);
    const header = request.headers[WORKSPACE_HEADER];
    try {
      const workspace = header === undefined ? DEFAULT_WORKSPACE : checkWorkspaceName(WORKSPACE_HEADER, header);
      request.ctx = { actor: 'anonymous', workspace, requestId: request.id };
      done();
    } catch (err) {
      done(err as Error);
    }
  });
}
