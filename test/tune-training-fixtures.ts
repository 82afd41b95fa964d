/**
 * Studies whose trials are real training jobs, composed the way the server composes its domain.
 * Kept apart from tune-fixtures.ts so the crash test's worker processes load only the study
 * machinery, not the training module graph.
 */
import { type KilnConfig, silentLogger } from '../src/core/index.js';
import { createDomainServices, openStores, type Stores } from '../src/server/index.js';

/** Stores migrated for every context, the training context's tables included. */
export function openTuningStores(config: KilnConfig): Promise<Stores> {
  return openStores(config, silentLogger(), { migrate: true });
}

/** Studies whose trials are real training jobs, composed over `stores` exactly as the server composes its domain. */
export function trainingStudies(config: KilnConfig, stores: Stores) {
  const services = createDomainServices(config, stores, silentLogger());
  return {
    studies: services.training.studies,
    training: services.training.jobs,
    tracking: services.tracking,
    registry: services.registry,
    datasets: services.datasets,
  };
}
