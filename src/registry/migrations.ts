import { sql } from 'kysely';
import type { Migration } from '../store/index.js';
import { EVENT_SEQUENCE, type RegistryTables } from './store/tables.js';

/**
 * Schema of the model registry (see {@link RegistryTables}): the same DDL on SQLite and
 * PostgreSQL, with foreign keys and CHECK constraints so that a bug cannot store a version of a
 * missing model, an alias at a missing version, or an unknown stage.
 *
 * @example
 * await migrate(database, REGISTRY_MIGRATIONS, logger);
 */
export const REGISTRY_MIGRATIONS: readonly Migration[] = [
  {
    id: '20261127-01-registry-models',
    async up(db) {
      await db.schema
        .createTable('registered_models')
        .addColumn('id', 'text', (col) => col.primaryKey())
        .addColumn('workspace', 'text', (col) => col.notNull())
        .addColumn('name', 'text', (col) => col.notNull())
        .addColumn('description', 'text', (col) => col.notNull().defaultTo(''))
        .addColumn('creation_timestamp', 'bigint', (col) => col.notNull())
        .addColumn('last_updated_timestamp', 'bigint', (col) => col.notNull())
        .addColumn('last_version', 'integer', (col) => col.notNull().defaultTo(0))
        .addUniqueConstraint('registered_models_workspace_name', ['workspace', 'name'])
        .execute();
      await db.schema
        .createTable('registered_model_tags')
        .addColumn('model_id', 'text', (col) => col.notNull().references('registered_models.id'))
        .addColumn('key', 'text', (col) => col.notNull())
        .addColumn('value', 'text', (col) => col.notNull())
        .addPrimaryKeyConstraint('registered_model_tags_pk', ['model_id', 'key'])
        .execute();
    },
  },
  {
    id: '20261127-02-registry-versions',
    async up(db) {
      await db.schema
        .createTable('model_versions')
        .addColumn('model_id', 'text', (col) => col.notNull().references('registered_models.id'))
        .addColumn('version', 'integer', (col) => col.notNull())
        .addColumn('source', 'text', (col) => col.notNull())
        .addColumn('run_id', 'text')
        .addColumn('run_link', 'text', (col) => col.notNull().defaultTo(''))
        .addColumn('status', 'text', (col) => col.notNull())
        .addColumn('status_message', 'text', (col) => col.notNull().defaultTo(''))
        .addColumn('description', 'text', (col) => col.notNull().defaultTo(''))
        .addColumn('user_id', 'text', (col) => col.notNull().defaultTo(''))
        .addColumn('current_stage', 'text', (col) => col.notNull().defaultTo('None'))
        .addColumn('signature', 'text')
        .addColumn('creation_timestamp', 'bigint', (col) => col.notNull())
        .addColumn('last_updated_timestamp', 'bigint', (col) => col.notNull())
        .addColumn('deleted', 'integer', (col) => col.notNull().defaultTo(0))
        .addPrimaryKeyConstraint('model_versions_pk', ['model_id', 'version'])
        .addCheckConstraint('model_versions_version', sql`version > 0`)
        .addCheckConstraint(
          'model_versions_status',
          sql`status in ('READY', 'PENDING_REGISTRATION', 'FAILED_REGISTRATION')`,
        )
        .addCheckConstraint('model_versions_stage', sql`current_stage in ('None', 'Staging', 'Production', 'Archived')`)
        .addCheckConstraint('model_versions_deleted', sql`deleted in (0, 1)`)
        .execute();
      await db.schema.createIndex('model_versions_run_id').on('model_versions').column('run_id').execute();
      await db.schema
        .createTable('model_version_tags')
        .addColumn('model_id', 'text', (col) => col.notNull())
        .addColumn('version', 'integer', (col) => col.notNull())
        .addColumn('key', 'text', (col) => col.notNull())
        .addColumn('value', 'text', (col) => col.notNull())
        .addPrimaryKeyConstraint('model_version_tags_pk', ['model_id', 'version', 'key'])
        .addForeignKeyConstraint('model_version_tags_version', ['model_id', 'version'], 'model_versions', [
          'model_id',
          'version',
        ])
        .execute();
      await db.schema
        .createTable('registered_model_aliases')
        .addColumn('model_id', 'text', (col) => col.notNull())
        .addColumn('alias', 'text', (col) => col.notNull())
        .addColumn('version', 'integer', (col) => col.notNull())
        .addPrimaryKeyConstraint('registered_model_aliases_pk', ['model_id', 'alias'])
        .addForeignKeyConstraint('registered_model_aliases_version', ['model_id', 'version'], 'model_versions', [
          'model_id',
          'version',
        ])
        .execute();
    },
  },
  {
    id: '20261127-03-registry-events',
    async up(db) {
      await db.schema
        .createTable('registry_events')
        .addColumn('id', 'bigint', (col) => col.primaryKey())
        .addColumn('workspace', 'text', (col) => col.notNull())
        .addColumn('type', 'text', (col) => col.notNull())
        .addColumn('model', 'text', (col) => col.notNull())
        .addColumn('model_id', 'text', (col) => col.notNull())
        .addColumn('version', 'integer')
        .addColumn('alias', 'text')
        .addColumn('payload', 'text', (col) => col.notNull())
        .addColumn('actor', 'text', (col) => col.notNull())
        .addColumn('request_id', 'text', (col) => col.notNull())
        .addColumn('created_at', 'text', (col) => col.notNull())
        .execute();
      await db.schema
        .createIndex('registry_events_workspace')
        .on('registry_events')
        .columns(['workspace', 'id'])
        .execute();
      await db.schema
        .createTable('registry_event_sequence')
        .addColumn('name', 'text', (col) => col.primaryKey())
        .addColumn('last_id', 'bigint', (col) => col.notNull())
        .execute();
      await db
        .withTables<RegistryTables>()
        .insertInto('registry_event_sequence')
        .values({ name: EVENT_SEQUENCE, last_id: 0 })
        .execute();
    },
  },
];
