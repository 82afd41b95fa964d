import { AUTH_MIGRATIONS } from '../auth/index.js';
import { DATA_MIGRATIONS } from '../data/index.js';
import { REGISTRY_MIGRATIONS } from '../registry/index.js';
import { SERVING_MIGRATIONS } from '../serving/index.js';
import { type Migration, STORE_MIGRATIONS } from '../store/index.js';
import { TRACKING_MIGRATIONS } from '../tracking/index.js';
import { TRAINING_MIGRATIONS } from '../training/index.js';

/**
 * Every context's migrations in id order: what `kiln server` and `kiln migrate` apply. A context
 * that adds tables appends its list here.
 *
 * @example
 * const report = await migrate(database, ALL_MIGRATIONS, logger);
 */
export const ALL_MIGRATIONS: readonly Migration[] = Object.freeze(
  [
    ...STORE_MIGRATIONS,
    ...AUTH_MIGRATIONS,
    ...DATA_MIGRATIONS,
    ...TRACKING_MIGRATIONS,
    ...REGISTRY_MIGRATIONS,
    ...TRAINING_MIGRATIONS,
    ...SERVING_MIGRATIONS,
  ].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
);
