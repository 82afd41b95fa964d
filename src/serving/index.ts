/**
 * Deployment and serving: model loading by flavour behind one Predictor, the Kiln / MLflow / OIP
 * protocols, deployments with canary / shadow / A-B and alias-following hot swap, the runtime
 * (batching, load shedding, metrics, prediction logging), batch scoring and packaging.
 */
export * from './deployments/index.js';
export { SERVING_MIGRATIONS } from './migrations.js';
export * from './packaging/index.js';
export * from './predictors/index.js';
export * from './protocols/index.js';
export * from './runtime/index.js';
export * from './scoring/index.js';
export type * from './types.js';
