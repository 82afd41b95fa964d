import { join } from 'node:path';
import type { Registry } from 'prom-client';
import { KyselyWorkspaceStore, WorkspaceService, workspaceRoutes } from '../auth/index.js';
import { mlflowArtifactRoutes, mlflowRoutes } from '../compat/index.js';
import { type KilnConfig, KilnError, type Logger, systemContext } from '../core/index.js';
import { DatasetService, datasetRoutes, KyselyDatasetStore, SuiteService, suiteRoutes } from '../data/index.js';
import {
  KyselyRegistryStore,
  LineageService,
  lineageRoutes,
  RegistryService,
  type RunLookup,
  registryRoutes,
} from '../registry/index.js';
import {
  BufferedPredictionLog,
  DeploymentService,
  deploymentRoutes,
  type ModelLoader,
  RegistryModelLoader,
  registryAliasEvents,
  ScoringService,
  ServingRuntime,
  scoringRoutes,
} from '../serving/index.js';
import type { Worker } from '../store/index.js';
import {
  ArtifactService,
  artifactRoutes,
  createTrackingServices,
  type TrackingServices,
  trackingRoutes,
} from '../tracking/index.js';
import {
  StudyService,
  StudyStore,
  StudyTracking,
  studyRoutes,
  TrainingService,
  TrainingTrialRunner,
  trainingRoutes,
} from '../training/index.js';
import type { KilnApp } from './kiln-app.js';
import { createMetricsRegistry } from './metrics.js';
import { registerServeRoutes } from './serve-routes.js';
import type { Stores } from './stores.js';

/** The use-case services of every context, built once per app over the shared stores. */
export interface DomainServices {
  workspaces: WorkspaceService;
  tracking: TrackingServices;
  /** Run artifacts in `stores.blobs`, which is opened at the same root as the tracking artifact root. */
  artifacts: ArtifactService;
  registry: RegistryService;
  /** Datasets and their versions: metadata in `stores.database`, Parquet content in `stores.blobs`. */
  datasets: DatasetService;
  /** Validation suites, versioned, attached to datasets. */
  suites: SuiteService;
  /** Dataset versions → derived versions → runs → model versions. */
  lineage: LineageService;
  /** Training jobs on the queue (and, alongside, hyper-parameter studies). */
  training: TrainingServices;
  /** Deployments, the runtime serving them in this process, and batch scoring. */
  serving: ServingServices;
}

/** The serving context's services. */
export interface ServingServices {
  /** Loads `models:/…` references from the registry and the artifact store. */
  loader: ModelLoader;
  /** The deployments this process serves under `/serve/<name>/…`. */
  runtime: ServingRuntime;
  deployments: DeploymentService;
  scoring: ScoringService;
  /** Sampled requests and shadow answers, written in batches to `serving_predictions`. */
  predictionLog: BufferedPredictionLog;
  /** Stops the runtime (draining requests) and flushes the prediction log. */
  close(): Promise<void>;
}

/** Options of {@link createDomainServices}. */
export interface DomainOptions {
  /** The registry `/metrics` serves; the serving runtime registers its series there. A fresh one by default. */
  metrics?: Registry;
  /** How often other processes' alias moves are polled from the registry's event log, in ms. */
  aliasPollMs?: number;
}

/** The training context's services; a member per kind of queued work. */
export interface TrainingServices {
  jobs: TrainingService;
  /** Hyper-parameter studies: trials of a training template on the tuning queue. */
  studies: StudyService;
}

/** The registry links model versions to runs through this port rather than tracking internals. */
function runLookup(tracking: TrackingServices): RunLookup {
  return {
    async getRun(ctx, runId) {
      try {
        const run = await tracking.runs.get(ctx, runId);
        return { runId: run.info.runId, artifactUri: run.info.artifactUri };
      } catch (err) {
        if (err instanceof KilnError && err.code === 'RESOURCE_DOES_NOT_EXIST') return undefined;
        throw err;
      }
    },
  };
}

/**
 * Wires each context's service to the stores: the composition root of the domain.
 *
 * @example
 * const services = createDomainServices(config, stores, logger);
 * await services.tracking.experiments.create(ctx, { name: 'churn' });
 */
export function createDomainServices(
  config: KilnConfig,
  stores: Stores,
  logger: Logger,
  options: DomainOptions = {},
): DomainServices {
  const tracking = createTrackingServices(stores.database, { artifactRoot: config.artifactsUrl });
  const registry = new RegistryService(new KyselyRegistryStore(stores.database), {
    artifactRoot: config.artifactsUrl,
    runs: runLookup(tracking),
    logger,
  });
  const artifacts = new ArtifactService(stores.blobs, tracking.runs, { artifactRoot: config.artifactsUrl });
  const datasetStore = new KyselyDatasetStore(stores.database);
  const datasets = new DatasetService(datasetStore, stores.blobs, {
    cacheDir: join(config.home, 'cache', 'datasets'),
    duck: { memoryLimit: config.duckdbMemoryLimit },
  });
  const jobs = new TrainingService({
    database: stores.database,
    queue: stores.queue,
    datasets,
    tracking,
    artifacts,
    registry,
    logger,
  });
  const loader = new RegistryModelLoader({ registry, artifacts, blobs: stores.blobs });
  const predictionLog = new BufferedPredictionLog({ database: stores.database, logger });
  const runtime = new ServingRuntime({
    loader,
    metrics: options.metrics ?? createMetricsRegistry(),
    sink: predictionLog,
    logger,
    aliases: registryAliasEvents(registry, {
      logger,
      ...(options.aliasPollMs === undefined ? {} : { pollMs: options.aliasPollMs }),
    }),
  });
  return {
    workspaces: new WorkspaceService(new KyselyWorkspaceStore(stores.database)),
    tracking,
    artifacts,
    registry,
    datasets,
    suites: new SuiteService(datasetStore),
    lineage: new LineageService({ datasets, runs: tracking.runs, models: registry }),
    training: {
      jobs,
      studies: new StudyService({
        store: new StudyStore(stores.database),
        queue: stores.queue,
        tracking: new StudyTracking(tracking, registry),
        runner: new TrainingTrialRunner(jobs),
        logger,
      }),
    },
    serving: {
      loader,
      runtime,
      deployments: new DeploymentService({ database: stores.database, registry, runtime, logger }),
      scoring: new ScoringService({ database: stores.database, queue: stores.queue, datasets, loader, logger }),
      predictionLog,
      async close() {
        try {
          await runtime.close();
        } finally {
          await predictionLog.close();
        }
      },
    },
  };
}

/**
 * Starts this process's consumers of every queue the domain uses (training jobs, …): what
 * `kiln worker` runs, and `kiln server` too when the queue is local. Close each returned worker
 * to stop it (it lets its running jobs finish first).
 *
 * @example
 * const workers = startDomainWorkers(services, config);
 * await Promise.all(workers.map((w) => w.close(config.shutdownTimeoutMs)));
 */
export function startDomainWorkers(services: DomainServices, config: KilnConfig): Worker[] {
  return [
    services.training.jobs.process({ concurrency: config.trainingConcurrency }),
    // Also resumes the running studies whose trials no live job holds.
    services.training.studies.process({ concurrency: config.trainingConcurrency }),
    services.serving.scoring.process({ concurrency: 1 }),
  ];
}

/**
 * Mounts every context's Kiln REST routes under `/api/v1`, and the MLflow REST API over the same
 * services; with the local queue, also starts the queue workers (see {@link startDomainWorkers}).
 */
export async function registerDomainRoutes(app: KilnApp, services: DomainServices, config: KilnConfig): Promise<void> {
  await app.register(workspaceRoutes, { prefix: '/api/v1/workspaces', service: services.workspaces });
  await app.register(trackingRoutes, { prefix: '/api/v1', services: services.tracking });
  await app.register(artifactRoutes, { prefix: '/api/v1', service: services.artifacts });
  await app.register(registryRoutes, { prefix: '/api/v1/models', service: services.registry });
  await app.register(datasetRoutes, {
    prefix: '/api/v1/datasets',
    service: services.datasets,
    suites: services.suites,
    uploadLimit: config.uploadLimit,
  });
  await app.register(suiteRoutes, { prefix: '/api/v1/suites', suites: services.suites });
  await app.register(lineageRoutes, { prefix: '/api/v1', lineage: services.lineage });
  await app.register(trainingRoutes, { prefix: '/api/v1/training-jobs', service: services.training.jobs });
  await app.register(studyRoutes, { prefix: '/api/v1/studies', studies: services.training.studies });
  await app.register(deploymentRoutes, { prefix: '/api/v1/deployments', service: services.serving.deployments });
  await app.register(scoringRoutes, { prefix: '/api/v1/scoring-jobs', service: services.serving.scoring });
  await registerServeRoutes(app, services.serving.runtime);
  await app.register(mlflowRoutes, { services });
  await app.register(mlflowArtifactRoutes, { artifacts: services.artifacts });
  const { serving } = services;
  // Deployments load in the background once the app is up: readiness per deployment tells when each serves.
  app.addHook('onReady', async () => {
    serving.deployments.restoreAll(systemContext('restore-deployments')).catch((err: unknown) => {
      app.log.error({ err }, 'restoring deployments failed');
    });
  });
  app.addHook('onClose', () => serving.close());
  if (config.queueUrl === 'local') {
    // The embedded queue lives in this process: so do its workers. They stop, letting running jobs
    // finish for up to the shutdown timeout, before the stores close.
    const workers = startDomainWorkers(services, config);
    app.addHook('onClose', async () => {
      await Promise.all(workers.map((worker) => worker.close(config.shutdownTimeoutMs)));
    });
  }
}
