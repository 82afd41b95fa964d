import { type TypeBoxTypeProvider, TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance, type FastifySchemaValidationError } from 'fastify';
import { KilnError } from '../../../core/index.js';
import { deploymentRoutes } from '../routes.js';
import type { DeploymentService } from '../service.js';

/** A route as registered, with the permission it declared. */
export interface RegisteredRoute {
  readonly method: string;
  readonly url: string;
  readonly permission: unknown;
}

/** A schema failure as the server reports it: `body.targets[1].weight: must be number`. */
function validationError(errors: readonly FastifySchemaValidationError[], context: string | undefined): KilnError {
  const first = errors[0];
  const path = (first?.instancePath ?? '')
    .split('/')
    .slice(1)
    .map((segment) => (/^\d+$/.test(segment) ? `[${segment}]` : `.${segment}`))
    .join('');
  const extra = first?.params?.additionalProperty;
  const field = `${context ?? 'request'}${path}${typeof extra === 'string' ? `.${extra}` : ''}`;
  return new KilnError('INVALID_PARAMETER_VALUE', `${field}: ${first?.message ?? 'is invalid'}`, { field });
}

/**
 * A bare Fastify app with what the deployment routes rely on from the server: TypeBox validation,
 * `request.ctx` from the `x-kiln-workspace` header, and KilnErrors (and schema failures, naming the
 * field) answered with their status and body. Serving may not import the server, so the route
 * tests use this stand-in; the server's own tests cover the real middleware.
 *
 * @example
 * const { app, routes } = await deploymentTestApp(service);
 * await app.inject({ method: 'GET', url: '/api/v1/deployments' });
 */
export async function deploymentTestApp(
  service: DeploymentService,
  prepare?: (app: FastifyInstance) => Promise<void>,
): Promise<{ app: FastifyInstance; routes: RegisteredRoute[] }> {
  const app = Fastify().withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(TypeBoxValidatorCompiler);
  const routes: RegisteredRoute[] = [];
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) routes.push({ method, url: route.url, permission: route.config?.permission });
  });
  app.decorateRequest('ctx');
  app.addHook('onRequest', async (request) => {
    const header = request.headers['x-kiln-workspace'];
    request.ctx = {
      actor: 'tester',
      workspace: typeof header === 'string' ? header : 'default',
      requestId: request.id,
    };
  });
  app.setErrorHandler((error, request, reply) => {
    const e = error as { validation?: FastifySchemaValidationError[]; validationContext?: string; statusCode?: number };
    const failure =
      error instanceof KilnError
        ? error
        : Array.isArray(e.validation)
          ? validationError(e.validation, e.validationContext)
          : typeof e.statusCode === 'number' && e.statusCode < 500
            ? new KilnError('BAD_REQUEST', (error as Error).message)
            : new KilnError('INTERNAL_ERROR', 'unexpected', { cause: String(error) });
    return reply.code(failure.status).send(failure.toBody(request.id));
  });
  await app.register(deploymentRoutes, { prefix: '/api/v1/deployments', service });
  await prepare?.(app);
  await app.ready();
  return { app, routes };
}
