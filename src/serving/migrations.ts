import type { Migration } from '../store/index.js';
import { DEPLOYMENT_MIGRATIONS } from './deployments/index.js';
import { SERVING_LOG_MIGRATIONS } from './runtime/index.js';
import { SCORING_MIGRATIONS } from './scoring/index.js';

/** The serving context's tables: the prediction log, deployments and their revisions, scoring jobs. */
export const SERVING_MIGRATIONS: readonly Migration[] = [
  ...SERVING_LOG_MIGRATIONS,
  ...DEPLOYMENT_MIGRATIONS,
  ...SCORING_MIGRATIONS,
];
