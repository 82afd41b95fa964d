import type { Kysely } from 'kysely';
import type { Migration } from '../database.js';

type RaceTables = {
  race_log: { migration_id: string; pid: number };
  race_items: { id: number; label: string };
};

/** A migration that runs `body` and then writes its one `race_log` row. */
function raceMigration(id: string, body: (db: Kysely<unknown>) => Promise<void>): Migration {
  return {
    id,
    async up(db) {
      await body(db);
      await db.withTables<RaceTables>().insertInto('race_log').values({ migration_id: id, pid: process.pid }).execute();
    },
  };
}

/**
 * Migrations for the two-process race test. None of them is idempotent (a second `create table`
 * fails) and each writes one `race_log` row, so running any of them twice shows up either as a
 * reported error or as a duplicate row.
 */
export const RACE_MIGRATIONS: readonly Migration[] = [
  raceMigration('20250101-01-race-log', async (db) => {
    await db.schema
      .createTable('race_log')
      .addColumn('migration_id', 'text', (column) => column.notNull())
      .addColumn('pid', 'integer', (column) => column.notNull())
      .execute();
  }),
  raceMigration('20250101-02-race-items', async (db) => {
    await db.schema
      .createTable('race_items')
      .addColumn('id', 'integer', (column) => column.primaryKey())
      .addColumn('label', 'text', (column) => column.notNull())
      .execute();
    const rows = Array.from({ length: 500 }, (_, i) => ({ id: i, label: `item-${i % 37}` }));
    await db.withTables<RaceTables>().insertInto('race_items').values(rows).execute();
  }),
  raceMigration('20250101-03-race-index', async (db) => {
    await db.schema.createIndex('race_items_label').on('race_items').column('label').execute();
  }),
  raceMigration('20250102-01-race-note', async (db) => {
    await db.schema.alterTable('race_items').addColumn('note', 'text').execute();
  }),
];
