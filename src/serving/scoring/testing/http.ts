import { type TypeBoxTypeProvider, TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance } from 'fastify';
import { KilnError } from '../../../core/index.js';
import { scoringRoutes } from '../routes.js';
import type { ScoringService } from '../service.js';

/** A route as registered, with the permission it declared. */
export interface RegisteredRoute {
  readonly method: string;
  readonly url: string;
  readonly permission: unknown;
}

/**
 * A bare Fastify app with what the scoring routes rely on from the server: TypeBox validation,
 * `request.ctx` from the `x-kiln-workspace` header, and KilnError (and validation failures)
 * answered with their status and body. Serving may not import the server, so its route tests use
 * this stand-in; the server's own tests cover the real middleware.
 *
 * @example
 * const { app } = await scoringTestApp(h.scoring);
 * const res = await app.inject({ method: 'GET', url: '/api/v1/scoring-jobs' });
 */
export async function scoringTestApp(
  service: ScoringService,
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
    const failure =
      error instanceof KilnError
        ? error
        : (error as { validation?: unknown }).validation !== undefined
          ? new KilnError('INVALID_PARAMETER_VALUE', (error as Error).message)
          : new KilnError('INTERNAL_ERROR', 'unexpected', { cause: String(error) });
    return reply.code(failure.status).send(failure.toBody(request.id));
  });
  await app.register(scoringRoutes, { prefix: '/api/v1/scoring-jobs', service });
  await app.ready();
  return { app, routes };
}
