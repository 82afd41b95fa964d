/**
 * The serving runtime: deployments' routing tables (single, canary, A/B, shadow), alias-following
 * hot swap, micro-batching, load shedding, timeouts, Prometheus series and the prediction log.
 */
export {
  type AliasEvent,
  type AliasEventSource,
  type RegistryAliasEventsOptions,
  registryAliasEvents,
} from './alias-events.js';
export { concatFrames, MicroBatcher, sliceOutput } from './batcher.js';
export { BATCH_SIZE_BUCKETS, OUTCOMES, type Outcome, SERVING_DURATION_BUCKETS } from './metrics.js';
export { type PlannedTarget, planRoutes, type RoutePlan } from './plan.js';
export {
  BufferedPredictionLog,
  type BufferedPredictionLogOptions,
  SERVING_LOG_MIGRATIONS,
  type ServingLogTables,
  type ServingPredictionRow,
} from './prediction-log.js';
export { FastRandom, ROUTE_BUCKETS, stableBucket, WeightedSplit } from './routing.js';
export { ServingRuntime, type ServingRuntimeDeps } from './runtime.js';
