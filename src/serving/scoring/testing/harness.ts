import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KilnError, type RequestContext, silentLogger } from '../../../core/index.js';
import { DATA_MIGRATIONS, DatasetService, KyselyDatasetStore } from '../../../data/index.js';
import { KyselyRegistryStore, REGISTRY_MIGRATIONS, RegistryService } from '../../../registry/index.js';
import {
  type BlobStore,
  type Database,
  migrate,
  openBlobStore,
  openQueue,
  type Queue,
  STORE_MIGRATIONS,
} from '../../../store/index.js';
import type { TestDatabase } from '../../../store/testing/databases.js';
import {
  ArtifactService,
  createTrackingServices,
  TRACKING_MIGRATIONS,
  type TrackingServices,
} from '../../../tracking/index.js';
import { RegistryModelLoader } from '../../predictors/index.js';
import { SCORING_MIGRATIONS } from '../migrations.js';
import { ScoringService } from '../service.js';
import { InterceptingLoader } from './loader.js';

/** Everything a scoring test needs, over one test database and a temp blob directory. */
export interface ScoringHarness {
  database: Database;
  blobs: BlobStore;
  queue: Queue;
  datasets: DatasetService;
  tracking: TrackingServices;
  artifacts: ArtifactService;
  registry: RegistryService;
  scoring: ScoringService;
  /** The registry-backed loader the service uses, able to intercept what it loads. */
  loader: InterceptingLoader;
  ctx: RequestContext;
  close(): Promise<void>;
}

/**
 * Opens `db` migrated for the contexts scoring touches, a file blob store and the local queue, and
 * builds the services as `kiln server` wires them, with the registry-backed model loader.
 *
 * @example
 * const h = await openScoringHarness(await sqlite.create());
 * await registerModel(h, 'penguins', model, 'champion');
 */
export async function openScoringHarness(db: TestDatabase): Promise<ScoringHarness> {
  const home = await mkdtemp(join(tmpdir(), 'kiln-scoring-'));
  const logger = silentLogger();
  const database = await db.open();
  const migrations = [
    ...STORE_MIGRATIONS,
    ...DATA_MIGRATIONS,
    ...TRACKING_MIGRATIONS,
    ...REGISTRY_MIGRATIONS,
    ...SCORING_MIGRATIONS,
  ].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const report = await migrate(database, migrations, logger);
  if (report.error !== undefined) throw new Error(`migration ${report.error.id} failed: ${report.error.message}`);
  const artifactRoot = `file://${join(home, 'artifacts')}`;
  const blobs = openBlobStore({ url: artifactRoot });
  const queue = await openQueue({ url: 'local', database, logger });
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
  const loader = new InterceptingLoader(new RegistryModelLoader({ registry, artifacts, blobs }));
  const scoring = new ScoringService({ database, queue, datasets, loader, logger });
  return {
    database,
    blobs,
    queue,
    datasets,
    tracking,
    artifacts,
    registry,
    scoring,
    loader,
    ctx: { actor: 'tester', workspace: 'default', requestId: 'scoring-test' },
    async close() {
      await queue.close();
      await blobs.close();
      await db.cleanup();
      await rm(home, { recursive: true, force: true });
    },
  };
}
