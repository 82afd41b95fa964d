import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RequestContext, silentLogger } from '../../../core/index.js';
import type { DatasetService } from '../../../data/index.js';
import type { RegistryService } from '../../../registry/index.js';
import type { BlobStore, Database, Queue } from '../../../store/index.js';
import type { TestDatabase } from '../../../store/testing/databases.js';
import type { ArtifactService, TrackingServices } from '../../../tracking/index.js';
import { openContextServices } from '../../../training/testing/harness.js';
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
  const services = await openContextServices(database, home, { migrations: SCORING_MIGRATIONS, logger });
  const { registry, artifacts, blobs, queue } = services;
  const loader = new InterceptingLoader(new RegistryModelLoader({ registry, artifacts, blobs }));
  const scoring = new ScoringService({ ...services, loader, logger });
  return {
    ...services,
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
