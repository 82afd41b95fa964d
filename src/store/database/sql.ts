/**
 * The one timestamp format Kiln stores: ISO-8601 UTC with milliseconds. Fixed width and zero padded,
 * so comparing two stored timestamps as text orders them in time on both SQLite and PostgreSQL.
 *
 * @example
 * await trx.insertInto('runs').values({ id, created_at: nowIso() }).execute();
 * nowIso(); // '2025-03-14T09:26:53.589Z'
 */
export function nowIso(): string {
  return new Date().toISOString();
}

const UNIQUE_CODES = new Set(['SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_CONSTRAINT_PRIMARYKEY', '23505']);

/**
 * True when `err` (or an error in its `cause` chain) is a unique or primary-key violation from
 * either engine, so services can turn a duplicate insert into `RESOURCE_ALREADY_EXISTS` without
 * a racy read-before-write.
 *
 * @example
 * try {
 *   await trx.insertInto('experiments').values(row).execute();
 * } catch (err) {
 *   if (isUniqueViolation(err)) throw new KilnError('RESOURCE_ALREADY_EXISTS', `Experiment '${name}' already exists`);
 *   throw err;
 * }
 */
export function isUniqueViolation(err: unknown): boolean {
  let current: unknown = err;
  for (let depth = 0; depth < 8 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && UNIQUE_CODES.has(code)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
