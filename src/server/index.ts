export { type AppDeps, buildApp } from './app.js';
export {
  createDomainServices,
  type DomainOptions,
  type DomainServices,
  type ServingServices,
  startDomainWorkers,
  type TrainingServices,
} from './domain.js';
export type { KilnApp } from './kiln-app.js';
export { ALL_MIGRATIONS } from './migrations.js';
export { type ModelServerOptions, startModelServer } from './model-server.js';
export { REQUEST_ID_HEADER, WORKSPACE_HEADER } from './request-context.js';
export { SERVE_PREFIX } from './serve-routes.js';
export { type RunningServer, type StartOptions, startServer } from './start.js';
export { type OpenStoresOptions, openStores, type Stores } from './stores.js';
