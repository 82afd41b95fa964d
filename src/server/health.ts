import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import { KILN_VERSION, KilnError } from '../core/index.js';
import type { Stores } from './stores.js';

/** What the probes check, and how long each check may take. */
export interface HealthRoutesOptions {
  stores: Pick<Stores, 'database' | 'blobs' | 'queue'>;
  /** How long each readiness check may take before it counts as failed. */
  readyTimeoutMs: number;
}

const LIVE = { status: 'ok' } as const;
const tags = ['operations'];

async function check(ping: () => Promise<void>, timeoutMs: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([ping(), timeout]);
    return 'ok';
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Probes for load balancers and Kubernetes. `live` answers from memory only (the process is up);
 * `ready` pings the database, blob store and queue concurrently and answers 503 naming each
 * failed check and why, so traffic is withheld while a dependency is down.
 *
 * @example
 * await app.register(healthRoutes, { stores, readyTimeoutMs: 2000 });
 * // GET /health/ready → 200 { status: 'ready', checks: { database: 'ok', blobs: 'ok', queue: 'ok' } }
 */
export const healthRoutes: FastifyPluginAsyncTypebox<HealthRoutesOptions> = async (app, { stores, readyTimeoutMs }) => {
  // The liveness probe never logs, so it skips the per-request child logger (and the binding
  // serialisation it costs) that Fastify would otherwise build for it.
  await app.register(async (scope) => {
    scope.setChildLoggerFactory((logger) => logger);
    scope.get(
      '/health/live',
      {
        config: { permission: 'public' },
        schema: {
          summary: 'Liveness: the process is up and serving',
          tags,
          response: { 200: Type.Object({ status: Type.Literal('ok') }) },
        },
      },
      (_request, reply) => {
        reply.send(LIVE);
      },
    );
  });

  app.get(
    '/health/ready',
    {
      config: { permission: 'public' },
      schema: {
        summary: 'Readiness: database, blob store and queue all answer',
        description: "503 with `details.checks` naming each failed dependency and why when one doesn't.",
        tags,
        response: {
          200: Type.Object({
            status: Type.Literal('ready'),
            checks: Type.Record(Type.String(), Type.String()),
          }),
        },
      },
    },
    async () => {
      const [database, blobs, queue] = await Promise.all([
        check(() => stores.database.ping(), readyTimeoutMs),
        check(() => stores.blobs.ping(), readyTimeoutMs),
        check(() => stores.queue.ping(), readyTimeoutMs),
      ]);
      const checks = { database, blobs, queue };
      const failed = Object.entries(checks).filter(([, outcome]) => outcome !== 'ok');
      if (failed.length > 0) {
        const why = failed.map(([name, outcome]) => `${name} (${outcome})`).join(', ');
        throw new KilnError('TEMPORARILY_UNAVAILABLE', `Not ready: ${why}`, { checks });
      }
      return { status: 'ready' as const, checks };
    },
  );

  app.get(
    '/api/v1/version',
    {
      config: { permission: 'public' },
      schema: {
        summary: 'The Kiln version serving this API',
        tags,
        response: { 200: Type.Object({ version: Type.String() }) },
      },
    },
    (_request, reply) => {
      reply.send({ version: KILN_VERSION });
    },
  );
};
