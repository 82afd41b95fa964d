import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { maskSecret } from '../../core/index.js';
import { type TestDatabase, testDatabases } from '../testing/databases.js';
import type { Database } from './database.js';
import { isUniqueViolation, nowIso } from './sql.js';
import { DatabaseChild, rejectsWithCode } from './testing/harness.js';

type TestTables = {
  items: { id: number; label: string; batch: number };
  counter: { name: string; value: number };
  stamps: { id: number; at: string };
  crash_rows: { id: number; payload: string };
};

function tables(database: Database) {
  return database.kysely.withTables<TestTables>();
}

for (const target of await testDatabases()) {
  describe(`database conformance on ${target.name}`, { skip: target.skip }, () => {
    const created: TestDatabase[] = [];
    let shared: TestDatabase;
    let database: Database;

    async function fresh(): Promise<TestDatabase> {
      const db = await target.create();
      created.push(db);
      return db;
    }

    before(async () => {
      shared = await fresh();
      database = await shared.open({ poolSize: 4 });
      await database.kysely.schema
        .createTable('items')
        .addColumn('id', 'integer', (column) => column.primaryKey())
        .addColumn('label', 'text', (column) => column.notNull().unique())
        .addColumn('batch', 'integer', (column) => column.notNull())
        .execute();
      await database.kysely.schema
        .createTable('counter')
        .addColumn('name', 'text', (column) => column.primaryKey())
        .addColumn('value', 'integer', (column) => column.notNull())
        .execute();
      await tables(database).insertInto('counter').values({ name: 'shared', value: 0 }).execute();
    });

    after(async () => {
      await Promise.all(created.map((db) => db.cleanup()));
    });

    it('opens, pings, reports its dialect, and closes idempotently', async () => {
      const db = await fresh();
      const handle = await db.open();
      assert.equal(handle.dialect, target.name);
      assert.equal(handle.displayUrl, maskSecret(db.url));
      await handle.ping();
      await handle.close();
      await handle.close();
      await rejectsWithCode(handle.ping(), 'TEMPORARILY_UNAVAILABLE', /did not answer/);
    });

    describe('transactions', () => {
      it('commits and returns the callback result', async () => {
        const result = await database.transaction(async (trx) => {
          await trx.withTables<TestTables>().insertInto('items').values({ id: 1, label: 'one', batch: 1 }).execute();
          return 'committed';
        });
        assert.equal(result, 'committed');
        const row = await tables(database).selectFrom('items').selectAll().where('id', '=', 1).executeTakeFirst();
        assert.deepEqual(row, { id: 1, label: 'one', batch: 1 });
      });

      it('rolls back when the callback throws, rethrowing its error', async () => {
        const failure = new Error('changed my mind');
        await assert.rejects(
          database.transaction(async (trx) => {
            await trx.withTables<TestTables>().insertInto('items').values({ id: 2, label: 'two', batch: 2 }).execute();
            throw failure;
          }),
          (err) => err === failure,
        );
        const row = await tables(database).selectFrom('items').selectAll().where('id', '=', 2).executeTakeFirst();
        assert.equal(row, undefined);
      });

      it('keeps many concurrent transactions apart: only the committed ones are visible, whole', async () => {
        const attempts = Array.from({ length: 40 }, (_, i) => 100 + i);
        const outcomes = await Promise.allSettled(
          attempts.map((batch) =>
            database.transaction(async (trx) => {
              const tx = trx.withTables<TestTables>();
              await tx
                .insertInto('items')
                .values({ id: batch * 10, label: `a${batch}`, batch })
                .execute();
              await new Promise((resolve) => setImmediate(resolve));
              const read = tx.selectFrom('counter').select('value').where('name', '=', 'shared');
              const { value } = await (target.name === 'postgres' ? read.forUpdate() : read).executeTakeFirstOrThrow();
              await new Promise((resolve) => setImmediate(resolve));
              await tx
                .updateTable('counter')
                .set({ value: value + 1 })
                .where('name', '=', 'shared')
                .execute();
              await tx
                .insertInto('items')
                .values({ id: batch * 10 + 1, label: `b${batch}`, batch })
                .execute();
              if (batch % 3 === 0) throw new Error(`batch ${batch} fails`);
              return batch;
            }),
          ),
        );
        const committed = attempts.filter((batch) => batch % 3 !== 0);
        assert.deepEqual(
          outcomes.map((outcome) => outcome.status),
          attempts.map((batch) => (batch % 3 === 0 ? 'rejected' : 'fulfilled')),
        );
        const rows = await tables(database)
          .selectFrom('items')
          .select(['id', 'batch'])
          .where('batch', '>=', 100)
          .orderBy('id')
          .execute();
        assert.deepEqual(
          rows,
          committed.flatMap((batch) => [
            { id: batch * 10, batch },
            { id: batch * 10 + 1, batch },
          ]),
        );
        const counter = await tables(database).selectFrom('counter').select('value').executeTakeFirstOrThrow();
        assert.equal(counter.value, committed.length);
        await tables(database).updateTable('counter').set({ value: 0 }).execute();
      });

      it('runs a query issued outside an open transaction without joining it', async () => {
        let releaseTransaction = (): void => undefined;
        const released = new Promise<void>((resolve) => {
          releaseTransaction = resolve;
        });
        let signalInserted = (): void => undefined;
        const inserted = new Promise<void>((resolve) => {
          signalInserted = resolve;
        });
        const transaction = database.transaction(async (trx) => {
          await trx.withTables<TestTables>().insertInto('items').values({ id: 3, label: 'three', batch: 3 }).execute();
          signalInserted();
          await released;
          throw new Error('roll it back');
        });
        await inserted;
        const outside = tables(database).selectFrom('items').select('id').where('id', '=', 3).execute();
        await new Promise((resolve) => setImmediate(resolve));
        releaseTransaction();
        await assert.rejects(transaction, /roll it back/);
        assert.deepEqual(await outside, []);
      });

      it('fails, instead of hanging, when the callback awaits the outer handle or nests a transaction', async () => {
        await rejectsWithCode(
          database.transaction(async (trx) => {
            await trx.withTables<TestTables>().insertInto('items').values({ id: 4, label: 'four', batch: 4 }).execute();
            await tables(database).selectFrom('items').selectAll().execute();
          }),
          'INTERNAL_ERROR',
          /transaction handle/,
        );
        await rejectsWithCode(
          database.transaction(() => database.transaction(async () => 'inner')),
          'INTERNAL_ERROR',
          /nested transaction/,
        );
        const row = await tables(database).selectFrom('items').selectAll().where('id', '=', 4).executeTakeFirst();
        assert.equal(row, undefined);
        await database.ping();
      });

      it('serialises two processes doing read-modify-write transactions, losing no update', async () => {
        const db = await fresh();
        const handle = await db.open();
        await handle.kysely.schema
          .createTable('counter')
          .addColumn('name', 'text', (column) => column.primaryKey())
          .addColumn('value', 'integer', (column) => column.notNull())
          .execute();
        await tables(handle).insertInto('counter').values({ name: 'shared', value: 0 }).execute();
        const perChild = 150;
        const children = [
          new DatabaseChild(['count', db.url, String(perChild)]),
          new DatabaseChild(['count', db.url, String(perChild)]),
        ];
        await Promise.all(children.map((child) => child.waitForLines(1)));
        for (const child of children) child.send('go');
        await Promise.all(children.map((child) => child.succeed()));
        const counter = await tables(handle).selectFrom('counter').select('value').executeTakeFirstOrThrow();
        assert.equal(counter.value, 2 * perChild);
      });
    });

    it('recognises unique and primary-key violations from this engine, and not other violations', async () => {
      await tables(database).insertInto('items').values({ id: 50, label: 'fifty', batch: 5 }).execute();
      const duplicateKey = await tables(database)
        .insertInto('items')
        .values({ id: 50, label: 'other', batch: 5 })
        .execute()
        .catch((err: unknown) => err);
      const duplicateLabel = await tables(database)
        .insertInto('items')
        .values({ id: 51, label: 'fifty', batch: 5 })
        .execute()
        .catch((err: unknown) => err);
      const missingLabel = await sql`insert into items (id, label, batch) values (52, null, 5)`
        .execute(database.kysely)
        .catch((err: unknown) => err);
      assert.equal(isUniqueViolation(duplicateKey), true);
      assert.equal(isUniqueViolation(duplicateLabel), true);
      assert.ok(missingLabel instanceof Error);
      assert.equal(isUniqueViolation(missingLabel), false);
    });

    it('orders stored nowIso-format timestamps chronologically', async () => {
      await database.kysely.schema
        .createTable('stamps')
        .addColumn('id', 'integer', (column) => column.primaryKey())
        .addColumn('at', 'text', (column) => column.notNull())
        .execute();
      const instants = [
        Date.UTC(2024, 0, 1, 0, 0, 0, 5),
        Date.UTC(2023, 11, 31, 23, 59, 59, 999),
        Date.UTC(2024, 0, 1, 0, 0, 0, 50),
        Date.UTC(2024, 9, 1),
        Date.UTC(2024, 1, 29, 12),
        Date.now(),
      ];
      const rows = instants.map((ms, id) => ({ id, at: new Date(ms).toISOString() }));
      rows.push({ id: rows.length, at: nowIso() });
      await tables(database).insertInto('stamps').values(rows).execute();
      const ordered = await tables(database).selectFrom('stamps').select('at').orderBy('at').execute();
      const expected = rows.map((row) => row.at).sort((a, b) => Date.parse(a) - Date.parse(b));
      assert.deepEqual(
        ordered.map((row) => row.at),
        expected,
      );
    });

    it('returns counts and sums as numbers', async () => {
      const result = await sql<{ n: unknown; total: unknown; mean: unknown }>`
        select count(*) as n, sum(batch) as total, avg(batch) as mean from items where batch = 5`.execute(
        database.kysely,
      );
      assert.deepEqual(result.rows[0], { n: 1, total: 5, mean: 5 });
    });

    if (target.name === 'postgres') {
      it('parses int8 past 2^53 as a bigint and keeps schemas apart', async () => {
        const big = await sql<{ v: unknown }>`select 9007199254740993::int8 as v`.execute(database.kysely);
        assert.equal(big.rows[0]?.v, 9007199254740993n);
        const other = await (await fresh()).open();
        const visible = await sql<{ n: number }>`
          select count(*) as n from information_schema.tables
          where table_name = 'items' and table_schema = current_schema()`.execute(other.kysely);
        assert.equal(visible.rows[0]?.n, 0);
        const name = await sql<{ name: string }>`select current_setting('application_name') as name`.execute(
          other.kysely,
        );
        assert.equal(name.rows[0]?.name, 'kiln');
      });
    }

    if (target.name === 'sqlite') {
      it('keeps every acknowledged commit when the writing process is killed mid-stream', async () => {
        const db = await fresh();
        const writer = new DatabaseChild(['crash', db.url]);
        await writer.waitForLines(300);
        writer.kill();
        await writer.exited;
        const acknowledged = writer.lines.map(Number);
        assert.ok(acknowledged.length >= 300);
        const handle = await db.open();
        const integrity = await sql<{ integrity_check: string }>`pragma integrity_check`.execute(handle.kysely);
        assert.deepEqual(integrity.rows, [{ integrity_check: 'ok' }]);
        const stored = await tables(handle).selectFrom('crash_rows').select('id').orderBy('id').execute();
        const storedIds = new Set(stored.map((row) => row.id));
        const missing = acknowledged.filter((id) => !storedIds.has(id));
        assert.deepEqual(missing, []);
        assert.ok(stored.length <= acknowledged.length + 1, 'at most the one in-flight commit was not yet printed');
      });
    }
  });
}
