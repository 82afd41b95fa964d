/**
 * Batch scoring: `kiln predict` and `/api/v1/scoring-jobs` apply a registered model version to a
 * dataset version on the queue, chunk by chunk, into a new dataset version with lineage.
 *
 * @example
 * const scoring = new ScoringService({ database, queue, datasets, loader, logger });
 * await app.register(scoringRoutes, { prefix: '/api/v1/scoring-jobs', service: scoring });
 */
export type { ScoringJob, ScoringJobState, ScoringProgress } from './jobs.js';
export { SCORING_MIGRATIONS } from './migrations.js';
export { checkScoringRequest, DEFAULT_CHUNK_ROWS, type ScoringRequest } from './request.js';
export { type ScoringRoutesOptions, scoringRoutes } from './routes.js';
export {
  outputColumns,
  PREDICTION_COLUMN,
  PROBABILITY_PREFIX,
  SCORING_QUEUE,
  type ScoringOutcome,
  ScoringService,
  type ScoringServiceDeps,
} from './service.js';
