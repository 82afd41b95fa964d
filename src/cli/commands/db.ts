import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { createLogger, type KilnConfig, KilnError, type Logger, loadConfig, maskSecret } from '../../core/index.js';
import type { Database } from '../../store/index.js';
import { type Env, globalOptions } from '../context.js';
import { printJson, printLine, printTable } from '../output.js';

/** One migration as `kiln db status` reports it. */
interface MigrationState {
  id: string;
  state: 'applied' | 'pending' | 'unknown to this Kiln';
  appliedAt: string | null;
}

/** Stores and migrations are imported on demand, so commands that never touch the database start fast. */
async function open(config: KilnConfig, logger: Logger): Promise<Database> {
  const { openDatabase } = await import('../../store/index.js');
  return openDatabase(config.databaseUrl, { poolSize: config.databasePoolSize, logger });
}

async function allMigrations() {
  return (await import('../../server/index.js')).ALL_MIGRATIONS;
}

async function upgrade(env: Env, json: boolean): Promise<void> {
  const config = loadConfig(env);
  const logger = createLogger(config.logLevel);
  const database = await open(config, logger);
  try {
    const { migrate } = await import('../../store/index.js');
    const report = await migrate(database, await allMigrations(), logger);
    if (json) printJson({ database: database.displayUrl, ...report });
    else if (report.applied.length > 0) {
      printTable(
        ['migration', 'result'],
        report.applied.map((id) => [id, 'applied']),
      );
    } else if (report.error === undefined) {
      printLine(`Database ${database.displayUrl} is up to date (${report.alreadyApplied} migrations applied earlier).`);
    }
    if (report.error !== undefined) {
      throw new KilnError(
        'INVALID_STATE',
        `migration ${report.error.id} failed: ${report.error.message}`,
        report.error,
      );
    }
  } finally {
    await database.close();
  }
}

/** True when the database is a SQLite file that does not exist yet (status must not create it). */
function sqliteFileMissing(url: string): boolean {
  if (!url.startsWith('sqlite://') || url === 'sqlite://:memory:') return false;
  return !existsSync(url.slice('sqlite://'.length));
}

async function appliedMigrations(config: KilnConfig): Promise<Map<string, string>> {
  if (sqliteFileMissing(config.databaseUrl)) return new Map();
  const database = await open(config, createLogger(config.logLevel));
  try {
    const tables = await database.kysely.introspection.getTables();
    if (!tables.some((table) => table.name === 'kiln_migrations')) return new Map();
    const rows = await database.kysely.selectFrom('kiln_migrations').select(['id', 'applied_at']).execute();
    return new Map(rows.map((row) => [row.id, row.applied_at]));
  } finally {
    await database.close();
  }
}

async function status(env: Env, json: boolean): Promise<void> {
  const config = loadConfig(env);
  const applied = await appliedMigrations(config);
  const known = new Set((await allMigrations()).map((migration) => migration.id));
  const states: MigrationState[] = [
    ...[...known].map((id): MigrationState => {
      const at = applied.get(id);
      return { id, state: at === undefined ? 'pending' : 'applied', appliedAt: at ?? null };
    }),
    ...[...applied]
      .filter(([id]) => !known.has(id))
      .map(([id, at]): MigrationState => ({ id, state: 'unknown to this Kiln', appliedAt: at })),
  ].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const pending = states.filter((migration) => migration.state === 'pending').length;
  const database = maskSecret(config.databaseUrl);
  if (json) {
    printJson({ database, pending, migrations: states });
    return;
  }
  printTable(
    ['migration', 'state', 'applied at'],
    states.map((migration) => [migration.id, migration.state, migration.appliedAt ?? '']),
  );
  printLine(
    pending === 0
      ? `${database}: up to date.`
      : `${database}: ${pending} pending; run 'kiln db upgrade' to apply them.`,
  );
}

/**
 * `kiln db upgrade` applies pending migrations (the server also does so at start-up; this lets an
 * operator do it as a separate deployment step) and exits 1 when one fails. `kiln db status`
 * lists every migration as applied or pending without changing anything.
 *
 * @example
 * // KILN_DATABASE_URL=postgres://kiln:secret@db/kiln kiln db upgrade --json
 * registerDbCommands(program, process.env);
 */
export function registerDbCommands(program: Command, env: Env): void {
  const db = program.command('db').description('inspect and upgrade the metadata database');
  db.command('upgrade')
    .description('apply pending schema migrations; exit 1 if one fails')
    .action((_options: unknown, command: Command) => upgrade(env, globalOptions(command).json));
  db.command('status')
    .description('list migrations as applied or pending (changes nothing)')
    .action((_options: unknown, command: Command) => status(env, globalOptions(command).json));
}
