import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Registry } from 'prom-client';
import { KilnError, type Logger, silentLogger } from '../../../core/index.js';
import { DATA_MIGRATIONS } from '../../../data/index.js';
import { writeModelPackage } from '../../../learn/index.js';
import { type PenguinRecord, penguinRecords } from '../../../learn/testing/vega.js';
import { REGISTRY_MIGRATIONS, registryRoutes } from '../../../registry/index.js';
import { migrate, STORE_MIGRATIONS } from '../../../store/index.js';
import { TRACKING_MIGRATIONS } from '../../../tracking/index.js';
import { TRAINING_MIGRATIONS } from '../../../training/index.js';
import { openTrainingHarness, type TrainingHarness } from '../../../training/testing/harness.js';
import { RegistryModelLoader } from '../../predictors/registry-loader.js';
import { type PenguinModels, penguinModels } from '../../predictors/testing/penguins.js';
import { kilnPredictRoutes } from '../../protocols/kiln.js';
import { ServingRuntime } from '../../runtime/runtime.js';
import { DEPLOYMENT_MIGRATIONS } from '../migrations.js';
import { DeploymentService } from '../service.js';
import { deploymentTestApp } from './http.js';

/** The registered model the live stack serves, and what each of its versions is. */
export const LIVE_MODEL = 'penguins';
/** Version 1: gradient boosting (Species); version 2: logistic regression; version 3: a damaged package. */
export const LIVE_VERSIONS = { gbdt: 1, logistic: 2, damaged: 3 } as const;

/** Deployments over the real stack, for tests that need models to load and answer. */
export interface LiveDeployments {
  harness: TrainingHarness;
  runtime: ServingRuntime;
  service: DeploymentService;
  /** The deployment routes at /api/v1/deployments, Kiln's predict route at /serve/:deployment/predict, the registry at /api/v1/models. */
  app: FastifyInstance;
  models: PenguinModels;
  /** penguins.json records without Species, as a client sends them. */
  rows: PenguinRecord[];
  close(): Promise<void>;
}

/**
 * Real deployments end to end, in one process: a migrated SQLite database with tracking and the
 * registry, penguin models trained with src/learn on vega-datasets' penguins.json and stored as
 * Kiln packages in a run's artifacts, registered as `penguins` versions 1 (GBDT), 2 (logistic) and
 * 3 (a package with a flipped byte, which fails to load), `@champion` at version 1; the real
 * {@link ServingRuntime} over the registry-backed loader; and the deployment service with its
 * routes plus the Kiln predict route and the registry routes (to move aliases).
 *
 * @example
 * const live = await openLiveDeployments();
 * await live.app.inject({ method: 'POST', url: '/api/v1/deployments', payload: { name: 'p', targets: [{ model: 'models:/penguins@champion' }] } });
 */
export async function openLiveDeployments(logger: Logger = silentLogger()): Promise<LiveDeployments> {
  const harness = await openTrainingHarness({ logger });
  try {
    const migrations = [
      ...STORE_MIGRATIONS,
      ...DATA_MIGRATIONS,
      ...TRACKING_MIGRATIONS,
      ...REGISTRY_MIGRATIONS,
      ...TRAINING_MIGRATIONS,
      ...DEPLOYMENT_MIGRATIONS,
    ].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const report = await migrate(harness.database, migrations, logger);
    if (report.error !== undefined) throw new Error(`migration ${report.error.id} failed: ${report.error.message}`);

    const models = await penguinModels();
    const { ctx, tracking, artifacts, registry } = harness;
    const run = await tracking.runs.create(ctx, { experimentId: '0' });
    const runId = run.info.runId;
    const packages = {
      gbdt: writeModelPackage(models.gbdt),
      logistic: writeModelPackage(models.logistic),
      damaged: writeModelPackage(models.gbdt),
    };
    const learner = Uint8Array.from(packages.damaged.get('learner.json') as Uint8Array);
    learner[20] = (learner[20] as number) ^ 1;
    packages.damaged.set('learner.json', learner);
    await registry.createRegisteredModel(ctx, { name: LIVE_MODEL });
    for (const [path, files] of Object.entries(packages)) {
      for (const [name, bytes] of files) await artifacts.put(ctx, runId, `${path}/${name}`, Buffer.from(bytes));
      await registry.createModelVersion(ctx, { name: LIVE_MODEL, source: `runs:/${runId}/${path}`, runId });
    }
    await registry.setAlias(ctx, LIVE_MODEL, 'champion', LIVE_VERSIONS.gbdt);

    const runtime = new ServingRuntime({
      loader: new RegistryModelLoader({ registry, artifacts, blobs: harness.blobs }),
      metrics: new Registry(),
      logger,
    });
    const service = new DeploymentService({ database: harness.database, registry, runtime, logger });
    const endpoint = (request: FastifyRequest) => {
      const name = (request.params as { deployment: string }).deployment;
      const found = runtime.get(request.ctx.workspace, name);
      if (found === undefined) {
        throw new KilnError('RESOURCE_DOES_NOT_EXIST', `Deployment '${name}' is not served here`, { name });
      }
      return found;
    };
    const { app } = await deploymentTestApp(service, async (instance) => {
      await instance.register(kilnPredictRoutes, { prefix: '/serve/:deployment', endpoint });
      await instance.register(registryRoutes, { prefix: '/api/v1/models', service: registry });
    });
    const rows = penguinRecords().map(({ Species: _species, ...rest }) => rest);
    return {
      harness,
      runtime,
      service,
      app,
      models,
      rows,
      async close() {
        await app.close();
        await runtime.close();
        await harness.close();
      },
    };
  } catch (err) {
    await harness.close();
    throw err;
  }
}
