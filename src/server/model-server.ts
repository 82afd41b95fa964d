import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { FastifyRequest } from 'fastify';
import Fastify, { LogController } from 'fastify';
import { mlflowScoringRoutes, oipRoutes } from '../compat/index.js';
import {
  DEFAULT_WORKSPACE,
  type KilnConfig,
  KilnError,
  type Logger,
  type RequestContext,
  systemContext,
} from '../core/index.js';
import {
  type BatchingOptions,
  DEPLOYMENT_LIMITS,
  type DeploymentSpec,
  FileModelLoader,
  kilnPredictRoutes,
  type ModelLoader,
  parseModelRef,
  type ServedEndpoint,
  ServingRuntime,
} from '../serving/index.js';
import { createDomainServices } from './domain.js';
import { installErrorHandlers } from './errors.js';
import type { KilnApp } from './kiln-app.js';
import { createMetricsRegistry, installMetrics } from './metrics.js';
import { attachRequestContext, requestIdFor } from './request-context.js';
import { exitOnSignals, type RunningServer } from './start.js';
import { openStores, type Stores } from './stores.js';

/** What `kiln serve` serves and how. */
export interface ModelServerOptions {
  /** `models:/name/3`, `models:/name@alias`, a deployment name, or a model file / package directory. */
  target: string;
  /** Name the model is served under (a path's default is its file name without extension). */
  name?: string;
  batching?: BatchingOptions;
  maxQueue?: number;
  timeoutMs?: number;
  /**
   * How often a served deployment's definition (and the registry's aliases) is re-read, in ms.
   * @default 2000
   */
  pollMs?: number;
  /** Shut down gracefully on SIGTERM / SIGINT and exit the process, as `kiln server` does. */
  handleSignals?: boolean;
}

/** Probes and scrapes arrive every few seconds; logging each would drown every other line. */
const UNLOGGED_PATHS: ReadonlySet<string> = new Set([
  '/v2/health/live',
  '/v2/health/ready',
  '/ping',
  '/health',
  '/metrics',
]);

type TargetKind = 'path' | 'registry' | 'deployment';

type Limits = Pick<ModelServerOptions, 'batching' | 'maxQueue' | 'timeoutMs'>;

/** The one-model deployment `kiln serve <models:/…|path>` runs: all traffic to `model`. */
function singleModelSpec(name: string, model: string, limits: Limits): DeploymentSpec {
  return {
    workspace: DEFAULT_WORKSPACE,
    name,
    strategy: 'single',
    targets: [{ model, role: 'primary', weight: 100 }],
    ...(limits.batching === undefined ? {} : { batching: limits.batching }),
    maxQueue: limits.maxQueue ?? DEPLOYMENT_LIMITS.maxQueue.default,
    timeoutMs: limits.timeoutMs ?? DEPLOYMENT_LIMITS.timeoutMs.default,
    input: { extraColumns: 'ignore', maxBatchRows: DEPLOYMENT_LIMITS.maxBatchRows.default },
    logging: { sampleRate: 0 },
  };
}

async function kindOf(target: string): Promise<TargetKind> {
  if (target.startsWith('models:/')) return 'registry';
  try {
    await stat(target);
    return 'path';
  } catch {
    // Deployment names follow the model-name rules (dots allowed) but never hold a path separator.
    if (/[/\\]/.test(target)) {
      throw new KilnError('RESOURCE_DOES_NOT_EXIST', `no model file at '${target}'`, { field: 'target' });
    }
    return 'deployment';
  }
}

/** The serving pieces of one `kiln serve` process, and what they hold open. */
interface ServeBackend {
  runtime: ServingRuntime;
  /** Re-applies a deployment's definition when it changes; resolves when the first one is applied. */
  start(ctx: RequestContext): Promise<string>;
  close(): Promise<void>;
}

async function backendFor(
  kind: TargetKind,
  config: KilnConfig,
  logger: Logger,
  options: ModelServerOptions,
  metrics: ReturnType<typeof createMetricsRegistry>,
): Promise<ServeBackend> {
  const pollMs = options.pollMs ?? 2000;
  const limits: Limits = options;
  if (kind === 'path') {
    const name = options.name ?? basename(options.target).replace(/\.[^.]*$/, '');
    const files = new FileModelLoader();
    // The model answers under the name it is served as, not its file's.
    const loader: ModelLoader = {
      resolve: (ctx, ref) => files.resolve(ctx, ref),
      load: async (ctx, ref) => ({ ...(await files.load(ctx, ref)), name }),
    };
    const runtime = new ServingRuntime({ loader, metrics, logger });
    return {
      runtime,
      async start(ctx) {
        await runtime.apply(ctx, singleModelSpec(name, options.target, limits));
        return name;
      },
      close: () => runtime.close(),
    };
  }
  const stores: Stores = await openStores(config, logger);
  const services = createDomainServices(config, stores, logger, { metrics, aliasPollMs: pollMs });
  const { runtime, deployments } = services.serving;
  let timer: NodeJS.Timeout | undefined;
  return {
    runtime,
    async start(ctx) {
      if (kind === 'registry') {
        const ref = parseModelRef(options.target, 'target');
        const name = options.name ?? (ref.kind === 'path' ? options.target : ref.name);
        await runtime.apply(ctx, singleModelSpec(name, options.target, limits));
        return name;
      }
      let current = await deployments.get(ctx, options.target);
      await runtime.apply(ctx, current.spec);
      timer = setInterval(() => {
        deployments
          .get(ctx, options.target)
          .then(async (latest) => {
            if (latest.revision === current.revision) return;
            await runtime.apply(ctx, latest.spec);
            current = latest;
            logger.info({ deployment: options.target, revision: latest.revision }, 'deployment changed: applied');
          })
          .catch((err: unknown) =>
            logger.warn({ err, deployment: options.target }, 're-reading the deployment failed'),
          );
      }, pollMs);
      timer.unref();
      return options.target;
    },
    async close() {
      if (timer !== undefined) clearInterval(timer);
      await services.serving.close();
      await stores.close();
    },
  };
}

/**
 * `kiln serve`: a lean, stateless model server for one model or one deployment — the Kiln
 * `/predict`, MLflow `/invocations` (+ `/ping`, `/health`, `/version`) and Open Inference Protocol
 * v2 routes at the root, and `/metrics`. A path is served from the file alone; a `models:/` reference
 * or a deployment reads the registry through the configured database and artifact store (run as
 * many replicas as you like behind a load balancer). Aliases and deployment changes are followed by
 * polling, with hot swap.
 *
 * @example
 * const server = await startModelServer(config, logger, { target: 'models:/flights@champion' });
 * // POST `${server.url}/invocations`
 */
export async function startModelServer(
  config: KilnConfig,
  logger: Logger,
  options: ModelServerOptions,
): Promise<RunningServer & { name: string }> {
  const kind = await kindOf(options.target);
  const metrics = createMetricsRegistry();
  const backend = await backendFor(kind, config, logger, options, metrics);
  let app: KilnApp | undefined;
  try {
    const name = await backend.start(systemContext('serve'));
    app = Fastify({
      loggerInstance: logger,
      bodyLimit: config.bodyLimit,
      trustProxy: false,
      return503OnClosing: true,
      requestIdHeader: false,
      genReqId: requestIdFor,
      logController: new LogController({ disableRequestLogging: (request) => UNLOGGED_PATHS.has(request.url) }),
    }) as unknown as KilnApp;
    installErrorHandlers(app);
    attachRequestContext(app);
    installMetrics(app, metrics);
    const endpoint = (request: FastifyRequest): ServedEndpoint => {
      const found = backend.runtime.get(request.ctx.workspace, name) ?? backend.runtime.get(DEFAULT_WORKSPACE, name);
      if (found === undefined)
        throw new KilnError('RESOURCE_DOES_NOT_EXIST', `'${name}' is not loaded`, { field: 'deployment' });
      return found;
    };
    await app.register(kilnPredictRoutes, { endpoint });
    await app.register(mlflowScoringRoutes, { endpoint });
    await app.register(oipRoutes, { endpoint });
    await app.listen({ host: config.host, port: config.port });
    const listening = app;
    const address = listening.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : config.port;
    const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
    let closing: Promise<void> | undefined;
    const close = (): Promise<void> => {
      closing ??= (async () => {
        try {
          await listening.close();
        } finally {
          await backend.close();
        }
      })();
      return closing;
    };
    logger.info({ url, model: name }, `Kiln model server for '${name}' at ${url}`);
    if (options.handleSignals === true) exitOnSignals(close, logger);
    return { url, app: listening, close, name };
  } catch (err) {
    await app?.close().catch(() => undefined);
    await backend.close().catch(() => undefined);
    throw err;
  }
}
