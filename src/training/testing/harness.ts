import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KilnError, type Logger, type RequestContext, silentLogger } from '../../core/index.js';
import { DATA_MIGRATIONS, DatasetService, KyselyDatasetStore } from '../../data/index.js';
import { KyselyRegistryStore, REGISTRY_MIGRATIONS, RegistryService } from '../../registry/index.js';
import {
  type BlobStore,
  type Database,
  type Migration,
  migrate,
  openBlobStore,
  openDatabase,
  openQueue,
  type Queue,
  STORE_MIGRATIONS,
} from '../../store/index.js';
import {
  ArtifactService,
  createTrackingServices,
  TRACKING_MIGRATIONS,
  type TrackingServices,
} from '../../tracking/index.js';
import { TRAINING_MIGRATIONS } from '../migrations.js';
import { TrainingService } from '../service.js';

/** Everything a training test needs, on its own temp home. */
export interface TrainingHarness {
  home: string;
  database: Database;
  blobs: BlobStore;
  queue: Queue;
  tracking: TrackingServices;
  artifacts: ArtifactService;
  registry: RegistryService;
  datasets: DatasetService;
  training: TrainingService;
  ctx: RequestContext;
  close(): Promise<void>;
}

/** Where a harness keeps its state; defaults: SQLite and files in a temp dir, the local queue. */
export interface HarnessOptions {
  databaseUrl?: string;
  artifactsUrl?: string;
  queueUrl?: string;
  queuePrefix?: string;
  logger?: Logger;
}

/** The contexts a queued job over data, runs and models works with, on one migrated database. */
export interface ContextServices {
  database: Database;
  blobs: BlobStore;
  queue: Queue;
  tracking: TrackingServices;
  artifacts: ArtifactService;
  registry: RegistryService;
  datasets: DatasetService;
}

/** What {@link openContextServices} builds on: the job context's own migrations and where state lives. */
export interface ContextServicesOptions {
  /** The migrations of the context under test (training's, scoring's), applied with the others. */
  migrations: readonly Migration[];
  logger: Logger;
  artifactsUrl?: string;
  queueUrl?: string;
  queuePrefix?: string;
}

/**
 * Migrates `database` for store, data, tracking, registry and the context under test, and builds
 * the blob store, queue and the services of those contexts as `kiln server` wires them. The
 * harnesses of the contexts that run jobs over them (training, serving's batch scoring) share it.
 *
 * @example
 * const services = await openContextServices(database, home, { migrations: SCORING_MIGRATIONS, logger });
 * const scoring = new ScoringService({ ...services, loader, logger });
 */
export async function openContextServices(
  database: Database,
  home: string,
  options: ContextServicesOptions,
): Promise<ContextServices> {
  const { logger } = options;
  const migrations = [
    ...STORE_MIGRATIONS,
    ...DATA_MIGRATIONS,
    ...TRACKING_MIGRATIONS,
    ...REGISTRY_MIGRATIONS,
    ...options.migrations,
  ].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const report = await migrate(database, migrations, logger);
  if (report.error !== undefined) throw new Error(`migration ${report.error.id} failed: ${report.error.message}`);
  const artifactRoot = options.artifactsUrl ?? `file://${join(home, 'artifacts')}`;
  const blobs = openBlobStore({ url: artifactRoot });
  const queue = await openQueue({
    url: options.queueUrl ?? 'local',
    database,
    logger,
    ...(options.queuePrefix === undefined ? {} : { prefix: options.queuePrefix }),
  });
  const tracking = createTrackingServices(database, { artifactRoot });
  const registry = new RegistryService(new KyselyRegistryStore(database), {
    artifactRoot,
    logger,
    runs: {
      async getRun(ctx, runId) {
        try {
          const run = await tracking.runs.get(ctx, runId);
          return { runId: run.info.runId, artifactUri: run.info.artifactUri };
        } catch (err) {
          if (err instanceof KilnError && err.code === 'RESOURCE_DOES_NOT_EXIST') return undefined;
          throw err;
        }
      },
    },
  });
  const artifacts = new ArtifactService(blobs, tracking.runs, { artifactRoot });
  const datasets = new DatasetService(new KyselyDatasetStore(database), blobs, { cacheDir: join(home, 'cache') });
  return { database, blobs, queue, tracking, artifacts, registry, datasets };
}

/**
 * Opens a migrated database, blob store and queue and builds the services a training job uses,
 * wired as `kiln server` wires them.
 *
 * @example
 * const h = await openTrainingHarness();
 * after(() => h.close());
 */
export async function openTrainingHarness(options: HarnessOptions = {}): Promise<TrainingHarness> {
  const home = await mkdtemp(join(tmpdir(), 'kiln-training-'));
  const logger = options.logger ?? silentLogger();
  const database = await openDatabase(options.databaseUrl ?? `sqlite://${join(home, 'kiln.db')}`, { logger });
  const services = await openContextServices(database, home, { ...options, migrations: TRAINING_MIGRATIONS, logger });
  const training = new TrainingService({ ...services, logger });
  return {
    home,
    ...services,
    training,
    ctx: { actor: 'tester', workspace: 'default', requestId: 'training-test' },
    async close() {
      await services.queue.close();
      await services.blobs.close();
      await database.close();
      await rm(home, { recursive: true, force: true });
    },
  };
}
