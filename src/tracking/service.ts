import type { Database } from '../store/index.js';
import { ArtifactRoot } from './artifact-location.js';
import { ExperimentService } from './experiments-service.js';
import { RunDataService } from './run-data-service.js';
import { RunService } from './runs-service.js';
import { KyselyTrackingStore } from './store/kysely.js';
import type { TrackingStore } from './store.js';

/** The tracking use cases, grouped the way callers reach for them. */
export interface TrackingServices {
  experiments: ExperimentService;
  runs: RunService;
  runData: RunDataService;
}

/** Configuration of {@link createTrackingServices}. */
export interface CreateTrackingServicesOptions {
  /**
   * Where artifacts live: `file:///…`, an absolute path, `s3://bucket/prefix`, or MLflow's proxy
   * form `mlflow-artifacts:/` when clients upload through the server.
   */
  artifactRoot: string;
  /** Epoch milliseconds; tests pass a fixed clock. */
  clock?: () => number;
  /** Another store implementation; default the Kysely store over `database`. */
  store?: TrackingStore;
}

/**
 * Builds the three tracking services over one store. Throws INVALID_CONFIGURATION when the
 * artifact root is not a URL Kiln can use.
 *
 * @example
 * const tracking = createTrackingServices(database, { artifactRoot: 'mlflow-artifacts:/' });
 * const experiment = await tracking.experiments.create(ctx, { name: 'churn' });
 * const run = await tracking.runs.create(ctx, { experimentId: experiment.experimentId });
 * await tracking.runData.logMetric(ctx, run.info.runId, { key: 'auc', value: 0.91, timestamp: Date.now() });
 */
export function createTrackingServices(database: Database, options: CreateTrackingServicesOptions): TrackingServices {
  const store = options.store ?? new KyselyTrackingStore(database);
  const shared = { artifactRoot: new ArtifactRoot(options.artifactRoot), clock: options.clock };
  return {
    experiments: new ExperimentService(store, shared),
    runs: new RunService(store, shared),
    runData: new RunDataService(store, shared),
  };
}
