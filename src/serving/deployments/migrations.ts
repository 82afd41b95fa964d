import type { Migration } from '../../store/index.js';

/**
 * Schema of deployments. `serving_deployments` holds one row per deployment with the number of
 * its current revision; `serving_deployment_revisions` keeps every spec it ever had, so a
 * rollback can return to any of them and the history says who changed what and why (create,
 * update, promote, rollback). A change inserts the next revision and moves the pointer in one
 * transaction, the pointer only from the revision the change was based on, so two concurrent
 * changes cannot both win.
 */
export const DEPLOYMENT_MIGRATIONS: readonly Migration[] = [
  {
    id: '20261128-02-serving-deployments',
    async up(db) {
      await db.schema
        .createTable('serving_deployments')
        .addColumn('workspace', 'text', (col) => col.notNull())
        .addColumn('name', 'text', (col) => col.notNull())
        .addColumn('revision', 'integer', (col) => col.notNull())
        .addColumn('created_by', 'text', (col) => col.notNull())
        .addColumn('created_at', 'text', (col) => col.notNull())
        .addColumn('updated_at', 'text', (col) => col.notNull())
        .addPrimaryKeyConstraint('serving_deployments_pk', ['workspace', 'name'])
        .execute();
    },
  },
  {
    id: '20261128-03-serving-deployment-revisions',
    async up(db) {
      await db.schema
        .createTable('serving_deployment_revisions')
        .addColumn('workspace', 'text', (col) => col.notNull())
        .addColumn('name', 'text', (col) => col.notNull())
        .addColumn('revision', 'integer', (col) => col.notNull())
        .addColumn('spec', 'text', (col) => col.notNull())
        .addColumn('reason', 'text', (col) => col.notNull())
        .addColumn('actor', 'text', (col) => col.notNull())
        .addColumn('created_at', 'text', (col) => col.notNull())
        .addPrimaryKeyConstraint('serving_deployment_revisions_pk', ['workspace', 'name', 'revision'])
        .execute();
    },
  },
];
