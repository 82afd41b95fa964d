import { QUEUE_MIGRATIONS } from '../queue/migrations.js';
import type { Migration } from './database.js';

/**
 * Every schema change the store context owns (today: the durable local queue's tables), in id
 * order. `kiln_migrations` itself is created by {@link migrate}, not by a migration. Later contexts
 * append their own lists when the server starts.
 *
 * @example
 * await migrate(database, [...STORE_MIGRATIONS, ...TRACKING_MIGRATIONS], logger);
 */
export const STORE_MIGRATIONS: readonly Migration[] = Object.freeze(
  [...QUEUE_MIGRATIONS].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
);
