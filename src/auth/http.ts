import type { RequestContext } from '../core/index.js';

/**
 * What a route needs from the caller. `public` routes (health, docs) are open to anyone; the
 * others map onto workspace roles once users and tokens exist: a reader may `read`, an editor
 * may also `write`, an owner may also `admin`.
 *
 * @example
 * app.get('/api/v1/workspaces', { config: { permission: 'read' } }, handler);
 */
export type Permission = 'public' | 'read' | 'write' | 'admin';

/** Every permission, weakest first. */
export const PERMISSIONS: readonly Permission[] = ['public', 'read', 'write', 'admin'];

/** True when `value` is a {@link Permission}; the server's route check relies on it. */
export function isPermission(value: unknown): value is Permission {
  return typeof value === 'string' && (PERMISSIONS as readonly string[]).includes(value);
}

// Declared here, in the governance context, so that every context's routes type-check their
// `config.permission` and `request.ctx` without importing the server.
declare module 'fastify' {
  interface FastifyContextConfig {
    /** Required on every route; the server refuses to start when one lacks it. */
    permission: Permission;
  }

  interface FastifyRequest {
    /** Who is asking and in which workspace; set before any handler runs. */
    ctx: RequestContext;
  }
}
