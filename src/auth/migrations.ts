import { DEFAULT_WORKSPACE } from '../core/index.js';
import { type Migration, nowIso } from '../store/index.js';
import type { WorkspaceTables } from './store/kysely.js';

/**
 * Schema of the governance context. The `default` workspace is seeded here, idempotently, so
 * that every install has the workspace that unscoped requests fall into.
 */
export const AUTH_MIGRATIONS: readonly Migration[] = [
  {
    id: '20261127-01-auth-workspaces',
    async up(db) {
      await db.schema
        .createTable('kiln_workspaces')
        .addColumn('name', 'text', (col) => col.primaryKey())
        .addColumn('description', 'text', (col) => col.notNull().defaultTo(''))
        .addColumn('created_at', 'text', (col) => col.notNull())
        .addColumn('updated_at', 'text', (col) => col.notNull())
        .execute();
      const now = nowIso();
      await db
        .withTables<WorkspaceTables>()
        .insertInto('kiln_workspaces')
        .values({
          name: DEFAULT_WORKSPACE,
          description: 'The workspace requests use unless they name another.',
          created_at: now,
          updated_at: now,
        })
        .onConflict((conflict) => conflict.column('name').doNothing())
        .execute();
    },
  },
];
