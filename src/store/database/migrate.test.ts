import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { type Kysely, sql } from 'kysely';
import { type TestDatabase, testDatabases } from '../testing/databases.js';
import type { Database, Migration, MigrationReport } from './database.js';
import { migrate } from './migrate.js';
import { STORE_MIGRATIONS } from './migrations.js';
import { DatabaseChild } from './testing/harness.js';
import { RACE_MIGRATIONS } from './testing/race-migrations.js';

type TestTables = {
  order_log: { seq: number; migration_id: string };
  race_log: { migration_id: string; pid: number };
  kiln_migrations: { id: string; applied_at: string };
};

/** Migrations that record the order they ran in, for the ordering and failure tests. */
function orderedMigration(id: string, seq: number, extra?: (db: Kysely<TestTables>) => Promise<void>): Migration {
  return {
    id,
    async up(db) {
      const typed = db.withTables<TestTables>();
      if (seq === 1) {
        await typed.schema
          .createTable('order_log')
          .addColumn('seq', 'integer', (column) => column.notNull())
          .addColumn('migration_id', 'text', (column) => column.notNull())
          .execute();
      }
      await typed.insertInto('order_log').values({ seq, migration_id: id }).execute();
      await extra?.(typed);
    },
  };
}

const FIRST = orderedMigration('20240101-01-test-first', 1);
const SECOND = orderedMigration('20240101-02-test-second', 2);
const THIRD = orderedMigration('20240215-01-test-third', 3);
const FOURTH = orderedMigration('20240301-01-test-fourth', 4);

function tables(database: Database) {
  return database.kysely.withTables<TestTables>();
}

const ISO_UTC_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

for (const target of await testDatabases()) {
  describe(`migrate on ${target.name}`, { skip: target.skip }, () => {
    const created: TestDatabase[] = [];

    async function fresh(): Promise<TestDatabase> {
      const db = await target.create();
      created.push(db);
      return db;
    }

    after(async () => {
      await Promise.all(created.map((db) => db.cleanup()));
    });

    it('applies pending migrations in id order, each recorded with an ISO timestamp', async () => {
      const handle = await (await fresh()).open();
      const report = await migrate(handle, [THIRD, FIRST, SECOND]);
      assert.deepEqual(report, { applied: [FIRST.id, SECOND.id, THIRD.id], alreadyApplied: 0 });
      const order = await tables(handle).selectFrom('order_log').select('migration_id').orderBy('seq').execute();
      assert.deepEqual(
        order.map((row) => row.migration_id),
        [FIRST.id, SECOND.id, THIRD.id],
      );
      const recorded = await tables(handle).selectFrom('kiln_migrations').selectAll().orderBy('id').execute();
      assert.deepEqual(
        recorded.map((row) => row.id),
        [FIRST.id, SECOND.id, THIRD.id],
      );
      for (const row of recorded) assert.match(row.applied_at, ISO_UTC_MS);
    });

    it('is idempotent and later applies only what is new', async () => {
      const handle = await (await fresh()).open();
      await migrate(handle, [FIRST, SECOND]);
      assert.deepEqual(await migrate(handle, [FIRST, SECOND]), { applied: [], alreadyApplied: 2 });
      assert.deepEqual(await migrate(handle, [FIRST, SECOND, THIRD]), { applied: [THIRD.id], alreadyApplied: 2 });
      const count = await tables(handle).selectFrom('order_log').select(sql<number>`count(*)`.as('n')).execute();
      assert.equal(count[0]?.n, 3);
    });

    it('reports a failing migration, rolls back its changes, keeps earlier ones and stops', async () => {
      const handle = await (await fresh()).open();
      const broken = orderedMigration('20240101-02-test-second', 2, async (db) => {
        await db.schema.createTable('half_done').addColumn('x', 'integer').execute();
        throw new Error('column x is all wrong');
      });
      const report = await migrate(handle, [FIRST, broken, THIRD]);
      assert.deepEqual(report.applied, [FIRST.id]);
      assert.deepEqual(report.error, { id: broken.id, message: 'column x is all wrong' });
      const order = await tables(handle).selectFrom('order_log').select('migration_id').execute();
      assert.deepEqual(
        order.map((row) => row.migration_id),
        [FIRST.id],
      );
      const halfDone = await sql`select * from half_done`.execute(handle.kysely).then(
        () => 'exists',
        () => 'missing',
      );
      assert.equal(halfDone, 'missing');
      assert.deepEqual(await migrate(handle, [FIRST, SECOND, THIRD]), {
        applied: [SECOND.id, THIRD.id],
        alreadyApplied: 1,
      });
    });

    it('refuses a database migrated by a newer Kiln, applying nothing', async () => {
      const handle = await (await fresh()).open();
      await migrate(handle, [FIRST, SECOND, FOURTH]);
      const report = await migrate(handle, [FIRST, SECOND, THIRD]);
      assert.deepEqual(report.applied, []);
      assert.equal(report.error?.id, FOURTH.id);
      assert.match(report.error?.message ?? '', /newer Kiln/);
      assert.match(report.error?.message ?? '', new RegExp(FOURTH.id));
      const recorded = await tables(handle).selectFrom('kiln_migrations').select('id').orderBy('id').execute();
      assert.deepEqual(
        recorded.map((row) => row.id),
        [FIRST.id, SECOND.id, FOURTH.id],
      );
    });

    it('rejects malformed and duplicate ids before touching the database', async () => {
      const handle = await (await fresh()).open();
      const malformed = await migrate(handle, [FIRST, { id: 'add-users', up: async () => undefined }]);
      assert.equal(malformed.error?.id, 'add-users');
      assert.match(malformed.error?.message ?? '', /YYYYMMDD-NN-context-what/);
      const duplicate = await migrate(handle, [FIRST, SECOND, FIRST]);
      assert.equal(duplicate.error?.id, FIRST.id);
      assert.match(duplicate.error?.message ?? '', /twice/);
      const exists = await sql`select * from kiln_migrations`.execute(handle.kysely).then(
        () => true,
        () => false,
      );
      assert.equal(exists, false);
    });

    it("applies the store's own migrations cleanly and idempotently", async () => {
      const handle = await (await fresh()).open();
      const first = await migrate(handle, STORE_MIGRATIONS);
      assert.equal(first.error, undefined);
      assert.equal(first.applied.length, STORE_MIGRATIONS.length);
      const second = await migrate(handle, STORE_MIGRATIONS);
      assert.deepEqual(second, { applied: [], alreadyApplied: STORE_MIGRATIONS.length });
    });

    it('applies each migration exactly once when two processes migrate at the same instant', async () => {
      const db = await fresh();
      const children = [new DatabaseChild(['migrate', db.url]), new DatabaseChild(['migrate', db.url])];
      await Promise.all(children.map((child) => child.waitForLines(1)));
      for (const child of children) child.send('go');
      await Promise.all(children.map((child) => child.succeed()));
      const reports = children.map((child) => JSON.parse(child.lines[1] ?? '{}') as MigrationReport);
      for (const report of reports) {
        assert.equal(report.error, undefined);
        assert.equal(report.applied.length + report.alreadyApplied, RACE_MIGRATIONS.length);
      }
      const appliedByEither = reports.flatMap((report) => report.applied).sort();
      assert.deepEqual(
        appliedByEither,
        RACE_MIGRATIONS.map((migration) => migration.id),
      );
      const handle = await db.open();
      const log = await tables(handle).selectFrom('race_log').select('migration_id').orderBy('migration_id').execute();
      assert.deepEqual(
        log.map((row) => row.migration_id),
        RACE_MIGRATIONS.map((migration) => migration.id),
      );
    });
  });
}
