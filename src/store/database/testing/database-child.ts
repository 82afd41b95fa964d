/**
 * A second (or third) process for the database conformance suite, which spawns it with
 * `node --import tsx database-child.ts <mode> <url> [count]`:
 *
 * - `migrate`: prints `ready`, waits for `go` on stdin, runs the race migrations, prints the report
 *   as JSON.
 * - `count`: prints `ready`, waits for `go`, then runs `count` read-modify-write transactions on the
 *   `counter` row the parent created, and prints `done`.
 * - `crash`: inserts rows one transaction at a time forever, printing each id after its commit,
 *   until the parent kills it.
 */
import { createInterface } from 'node:readline';
import { sql } from 'kysely';
import { migrate } from '../migrate.js';
import { openDatabase } from '../open.js';
import { RACE_MIGRATIONS } from './race-migrations.js';

type ChildTables = {
  counter: { name: string; value: number };
  crash_rows: { id: number; payload: string };
};

const [mode, url, countText] = process.argv.slice(2);
if (mode === undefined || url === undefined) throw new Error('usage: database-child.ts <mode> <url> [count]');

function waitForGo(): Promise<void> {
  const lines = createInterface({ input: process.stdin });
  return new Promise((resolve) => {
    lines.on('line', (line) => {
      if (line.trim() === 'go') {
        lines.close();
        process.stdin.destroy();
        resolve();
      }
    });
  });
}

const database = await openDatabase(url, { poolSize: 2 });
const db = database.kysely.withTables<ChildTables>();

if (mode === 'migrate') {
  const go = waitForGo();
  process.stdout.write('ready\n');
  await go;
  const report = await migrate(database, RACE_MIGRATIONS);
  process.stdout.write(`${JSON.stringify(report)}\n`);
} else if (mode === 'count') {
  const count = Number(countText);
  const go = waitForGo();
  process.stdout.write('ready\n');
  await go;
  for (let i = 0; i < count; i++) {
    await database.transaction(async (trx) => {
      const tx = trx.withTables<ChildTables>();
      const read = tx.selectFrom('counter').select('value').where('name', '=', 'shared');
      const row = await (database.dialect === 'postgres' ? read.forUpdate() : read).executeTakeFirstOrThrow();
      await tx
        .updateTable('counter')
        .set({ value: row.value + 1 })
        .where('name', '=', 'shared')
        .execute();
    });
  }
  process.stdout.write('done\n');
} else if (mode === 'crash') {
  await sql`create table if not exists crash_rows (id integer primary key, payload text not null)`.execute(db);
  for (let id = 1; ; id++) {
    await database.transaction(async (trx) => {
      await trx
        .withTables<ChildTables>()
        .insertInto('crash_rows')
        .values({ id, payload: `row ${id} `.repeat(20) })
        .execute();
    });
    process.stdout.write(`${id}\n`);
  }
} else {
  throw new Error(`unknown mode '${mode}'`);
}
await database.close();
