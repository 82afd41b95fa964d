/**
 * Deployments as stored entities: named, versioned specs (strategy, targets, batching, limits)
 * checked against the registry, applied to the serving runtime before they are stored, with
 * promote and rollback, their REST routes and migrations.
 *
 * @example
 * await migrate(database, DEPLOYMENT_MIGRATIONS, logger);
 * const deployments = new DeploymentService({ database, registry, runtime, logger });
 * await app.register(deploymentRoutes, { prefix: '/api/v1/deployments', service: deployments });
 */
export { DEPLOYMENT_MIGRATIONS } from './migrations.js';
export { type DeploymentRoutesOptions, deploymentRoutes } from './routes.js';
export {
  type DeploymentPage,
  type DeploymentRegistry,
  type DeploymentRuntimePort,
  DeploymentService,
  type DeploymentServiceDeps,
  type DeploymentView,
  type PageOptions,
  type RestoreReport,
} from './service.js';
export {
  BATCHING_LIMITS,
  checkDeploymentInput,
  checkDeploymentUpdate,
  DEFAULT_CANARY_WEIGHT,
  DEFAULT_SHADOW_WEIGHT,
  DEPLOYMENT_LIMITS,
  DEPLOYMENT_STRATEGIES,
  type DeploymentSpecWire,
  MAX_TARGETS,
  parseDeploymentModelRef,
  promoteSpec,
  type RegistryModelRef,
  specToWire,
  TARGET_ROLES,
} from './spec.js';
export type { DeploymentRecord, DeploymentRevision, DeploymentTables, RevisionReason } from './store.js';
