import { type Kysely, sql, type Transaction } from 'kysely';
import { type Logger, silentLogger } from '../../core/index.js';
import type { Database, FoundationTables, Migration, MigrationReport } from './database.js';
import { causeText } from './failure.js';
import { nowIso } from './sql.js';

/** `YYYYMMDD-NN-<context>-<what>`, e.g. `20250314-01-queue-jobs`. */
const MIGRATION_ID = /^\d{8}-\d{2}-[a-z][a-z0-9]*-[a-z0-9][a-z0-9_-]*$/;

/** First key of the PostgreSQL advisory lock that serialises migration runs ('KILN' in ASCII). */
const LOCK_CLASS = 0x4b494c4e;

/** Stands in for a migration id when the bookkeeping itself fails (database unreachable). */
const BOOKKEEPING = 'kiln_migrations';

type Step = { kind: 'applied'; id: string } | { kind: 'done'; applied: number } | { kind: 'unknown'; ids: string[] };

function checkIds(migrations: readonly Migration[]): MigrationReport['error'] {
  const seen = new Set<string>();
  for (const migration of migrations) {
    if (!MIGRATION_ID.test(migration.id)) {
      return {
        id: migration.id,
        message: `Migration id '${migration.id}' is not of the form YYYYMMDD-NN-context-what`,
      };
    }
    if (seen.has(migration.id)) return { id: migration.id, message: `Migration id '${migration.id}' is listed twice` };
    seen.add(migration.id);
  }
  return undefined;
}

/**
 * Takes the lock that makes one migration run at a time across processes. On PostgreSQL that is a
 * transaction-scoped advisory lock keyed by the current schema (installs in other schemas of the
 * same database do not wait); on SQLite the transaction already holds the write lock from BEGIN
 * IMMEDIATE.
 */
async function lockMigrations(database: Database, trx: Transaction<FoundationTables>): Promise<void> {
  if (database.dialect !== 'postgres') return;
  await sql`select pg_advisory_xact_lock(${sql.lit(LOCK_CLASS)}, hashtext(coalesce(current_schema(), '')))`.execute(
    trx,
  );
}

/**
 * Brings the database up to date with `migrations`: creates `kiln_migrations` when missing, then
 * applies each pending migration in id order, each in its own transaction together with its
 * `kiln_migrations` row, so a migration is either wholly applied and recorded or not at all.
 *
 * Safe when several processes start at once: every step takes the migration lock and re-reads the
 * applied set under it, so each migration runs exactly once. It never throws: a failing migration
 * stops the run and is reported in `error` (earlier ones stay applied), and so is a database that
 * holds migrations this code does not know, which means a newer Kiln has migrated it.
 *
 * @example
 * const report = await migrate(database, STORE_MIGRATIONS, logger);
 * if (report.error) throw new KilnError('INVALID_STATE', `Migration ${report.error.id} failed: ${report.error.message}`);
 */
export async function migrate(
  database: Database,
  migrations: readonly Migration[],
  logger: Logger = silentLogger(),
): Promise<MigrationReport> {
  const report: MigrationReport = { applied: [], alreadyApplied: 0 };
  const invalid = checkIds(migrations);
  if (invalid !== undefined) {
    logger.error({ migration: invalid.id }, invalid.message);
    return { ...report, error: invalid };
  }
  const ordered = [...migrations].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const known = new Set(ordered.map((migration) => migration.id));

  let attempting = BOOKKEEPING;
  try {
    for (;;) {
      attempting = BOOKKEEPING;
      const step = await database.transaction(async (trx): Promise<Step> => {
        await lockMigrations(database, trx);
        await trx.schema
          .createTable('kiln_migrations')
          .ifNotExists()
          .addColumn('id', 'text', (column) => column.primaryKey())
          .addColumn('applied_at', 'text', (column) => column.notNull())
          .execute();
        const rows = await trx.selectFrom('kiln_migrations').select('id').execute();
        const applied = new Set(rows.map((row) => row.id));
        const unknown = [...applied].filter((id) => !known.has(id)).sort();
        if (unknown.length > 0) return { kind: 'unknown', ids: unknown };
        const next = ordered.find((migration) => !applied.has(migration.id));
        if (next === undefined) return { kind: 'done', applied: applied.size };
        attempting = next.id;
        await next.up(trx as unknown as Kysely<unknown>, database.dialect);
        await trx.insertInto('kiln_migrations').values({ id: next.id, applied_at: nowIso() }).execute();
        return { kind: 'applied', id: next.id };
      });

      if (step.kind === 'applied') {
        report.applied.push(step.id);
        logger.info({ migration: step.id, url: database.displayUrl }, 'migration applied');
        continue;
      }
      if (step.kind === 'done') {
        report.alreadyApplied = step.applied - report.applied.length;
        return report;
      }
      const message =
        `Database ${database.displayUrl} has migrations this version of Kiln does not know ` +
        `(${step.ids.join(', ')}): a newer Kiln has migrated it. Upgrade Kiln; it refuses to run on a newer schema`;
      logger.error({ migrations: step.ids, url: database.displayUrl }, message);
      report.error = { id: step.ids[0] ?? BOOKKEEPING, message };
      return report;
    }
  } catch (err) {
    const message = causeText(err);
    logger.error({ migration: attempting, err, url: database.displayUrl }, 'migration failed');
    report.error = { id: attempting, message };
    return report;
  }
}
