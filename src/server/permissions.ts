import { isPermission } from '../auth/index.js';
import { KilnError } from '../core/index.js';
import type { KilnApp } from './kiln-app.js';

/**
 * Makes start-up fail when any route, including those other contexts mount later, does not say
 * which permission it needs (`config: { permission: 'read' | 'write' | 'admin' | 'public' }`).
 * Declaring it now, while auth is off, means turning auth on cannot leave a route open by
 * accident: the auth issue enforces the declared permission here, by giving this hook a
 * pre-handler that compares it with the caller's role in `request.ctx.workspace`.
 *
 * Call it before registering any route; an offending route throws INVALID_CONFIGURATION from its
 * registration, so `app.ready()` and `listen()` reject.
 *
 * @example
 * requireRoutePermissions(app);
 * app.get('/api/v1/things', { config: { permission: 'read' } }, listThings);
 */
export function requireRoutePermissions(app: KilnApp): void {
  app.addHook('onRoute', function checkRoutePermission(route) {
    const permission: unknown = route.config?.permission;
    if (isPermission(permission)) return;
    const method = Array.isArray(route.method) ? route.method.join(',') : route.method;
    throw new KilnError(
      'INVALID_CONFIGURATION',
      `Route ${method} ${route.url} declares no permission: set config.permission to 'public', 'read', 'write' or 'admin'`,
      { method, url: route.url, permission },
    );
  });
}
