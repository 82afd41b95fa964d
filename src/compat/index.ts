/**
 * Adapters that speak foreign protocols over Kiln's services: today the MLflow REST 2.0 API
 * (tracking and registry) and MLflow's artifact proxy, so the stock MLflow clients work against
 * Kiln unchanged.
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
