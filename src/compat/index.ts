/**
 * Adapters that speak foreign protocols over Kiln's services: the MLflow REST 2.0 API (tracking
 * and registry), MLflow's artifact proxy and its scoring server (`/invocations`), so the stock MLflow
 * clients work against Kiln unchanged; and the Open Inference Protocol v2 (KServe, Triton clients).
 *
 * @example
 * await app.register(mlflowRoutes, { services: { tracking, registry, artifacts } });
 * await app.register(mlflowArtifactRoutes, { artifacts });
 */
export { type MlflowArtifactRoutesOptions, mlflowArtifactRoutes } from './mlflow/artifacts.js';
export type { ArtifactUriMapper, MlflowServices } from './mlflow/endpoint.js';
export {
  MLFLOW_PREFIXES,
  MLFLOW_WIRE_VERSION,
  type MlflowRoutesOptions,
  mlflowRoutes,
} from './mlflow/routes.js';
export { mlflowScoringRoutes } from './mlflow/scoring.js';
export * from './oip/index.js';
