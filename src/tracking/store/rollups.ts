import { type RawBuilder, sql } from 'kysely';
import type { StoreHandle, TrackingDb } from './db.js';
import type { TrackingTables } from './tables.js';

/**
 * Rollups make a downsampled read of a long metric history cost about as much as reading a few
 * thousand rows, whatever its length. Level `l` summarises aligned step blocks of width 16^l
 * (block = ⌊step / 16^l⌋): per block the first and last point by (step, timestamp, value) and the
 * points holding the minimum and maximum value (NaN never counts as either). The lowest level is
 * built from the points, each higher level from the one below, so every level agrees exactly with
 * the raw data.
 *
 * Rollups are a cache kept off the ingest path: logging a batch only lowers the key's
 * `latest_metrics.rollup_from` mark to the smallest step it wrote, and the next downsampled read
 * rebuilds the blocks from that step on — normally just the tail logged since the last read; the
 * first read of a long history pays one pass over its points.
 */
export const ROLLUP_FANOUT = 16;
/** The lowest level kept: blocks of 256 steps. Narrower ranges are bucketed from the points. */
export const ROLLUP_BASE_LEVEL = 2;
/** 16^13 = 2^52: beyond it every safe-integer step falls in one of four blocks. */
export const ROLLUP_TOP_LEVEL = 13;

/** ⌊x / width⌋ for whole numbers of either sign. */
export function floorDiv(x: number, width: number): number {
  return Math.floor(x / width);
}

/** Block width of a rollup level. */
export function blockWidth(level: number): number {
  return ROLLUP_FANOUT ** level;
}

/** ⌊column / fanout⌋ in SQL, correct for negative values (integer division truncates toward zero). */
function sqlFloorDiv(column: RawBuilder<unknown>, width: number): RawBuilder<number> {
  const w = sql.lit(width);
  return sql<number>`case when ${column} >= 0 then ${column} / ${w} else -((-${column} - 1) / ${w}) - 1 end`;
}

/**
 * The summary columns every aggregation input provides, as SQL: a group number, then the first,
 * last, minimum and maximum point (min/max columns null when the row has no real value).
 */
const SUMMARY_COLUMNS = [
  'f_step',
  'f_ts',
  'f_val',
  'f_nan',
  'l_step',
  'l_ts',
  'l_val',
  'l_nan',
  'mn_step',
  'mn_ts',
  'mn_val',
  'mx_step',
  'mx_ts',
  'mx_val',
] as const;

/** One output row of {@link aggregate}: a group and its four summary points. */
export type SummaryRow = { grp: number } & Record<(typeof SUMMARY_COLUMNS)[number], number | null>;

/**
 * Summarises the points of one metric per group in one statement, with one pass over the points
 * (a GROUP BY computing each group's first and last step, real minimum and maximum and count)
 * and, per group, a few primary-key seeks for the winners' other columns; a group of one point
 * needs no seek. Groups must be contiguous step ranges (as blocks and buckets are), so a group's
 * points are exactly those between its first and last step. `fromStep` / `toStep` (inclusive)
 * restrict the points read, for rebuilds from a step and for step-range reads.
 */
export function pointsAggregate(
  runId: string,
  key: string,
  group: RawBuilder<number>,
  fromStep?: number,
  toStep?: number,
) {
  const lower = fromStep === undefined ? sql`` : sql` and step >= ${fromStep}`;
  const from = toStep === undefined ? lower : sql`${lower} and step <= ${toStep}`;
  const same = sql`m.run_id = ${runId} and m."key" = ${key}`;
  const at = (step: string, order: string, column: string) =>
    sql`(select ${sql.raw(column)} from metrics as m where ${same} and m.step = g.${sql.raw(step)} order by ${sql.raw(order)} limit 1)`;
  const holding = (value: string, column: string) =>
    sql`(select ${sql.raw(column)} from metrics as m where ${same} and m.step between g.fs and g.ls and not m.is_nan and m."value" = g.${sql.raw(value)} order by m.step, m."timestamp" limit 1)`;
  const one = (single: string, many: RawBuilder<unknown>) =>
    sql`case when g.n = 1 then g.${sql.raw(single)} else ${many} end`;
  const firstOrder = 'm."timestamp", m."value", m.is_nan';
  const lastOrder = 'm."timestamp" desc, m."value" desc, m.is_nan desc';
  const nan = 'case when m.is_nan then 1 else 0 end';
  return sql<SummaryRow>`select g.grp,
    g.fs as f_step, ${one('ts', at('fs', firstOrder, 'm."timestamp"'))} as f_ts,
    ${one('v', at('fs', firstOrder, 'm."value"'))} as f_val, ${one('nan', at('fs', firstOrder, nan))} as f_nan,
    g.ls as l_step, ${one('ts', at('ls', lastOrder, 'm."timestamp"'))} as l_ts,
    ${one('v', at('ls', lastOrder, 'm."value"'))} as l_val, ${one('nan', at('ls', lastOrder, nan))} as l_nan,
    case when g.lo is null then null else ${one('fs', holding('lo', 'm.step'))} end as mn_step,
    case when g.lo is null then null else ${one('ts', holding('lo', 'm."timestamp"'))} end as mn_ts,
    g.lo as mn_val,
    case when g.hi is null then null else ${one('fs', holding('hi', 'm.step'))} end as mx_step,
    case when g.hi is null then null else ${one('ts', holding('hi', 'm."timestamp"'))} end as mx_ts,
    g.hi as mx_val
    from (select ${group} as grp, count(*) as n, min(step) as fs, max(step) as ls,
        min("timestamp") as ts, min("value") as v, max(case when is_nan then 1 else 0 end) as nan,
        min(case when is_nan then null else "value" end) as lo, max(case when is_nan then null else "value" end) as hi
      from metrics where run_id = ${runId} and "key" = ${key}${from} group by ${group}) as g`;
}

/** Rollup rows of one level as summary rows. */
export function rollupSource(runId: string, key: string, level: number, group: RawBuilder<number>, fromBlock?: number) {
  const from = fromBlock === undefined ? sql`` : sql` and block >= ${fromBlock}`;
  return sql`select ${group} as grp,
    first_step as f_step, first_timestamp as f_ts, first_value as f_val, first_nan as f_nan,
    last_step as l_step, last_timestamp as l_ts, last_value as l_val, last_nan as l_nan,
    min_step as mn_step, min_timestamp as mn_ts, min_value as mn_val,
    max_step as mx_step, max_timestamp as mx_ts, max_value as mx_val
    from metric_rollups where run_id = ${runId} and "key" = ${key} and level = ${sql.lit(level)}${from}`;
}

/**
 * Summarises rollup rows per group in one statement: window functions rank each row as its
 * group's first, last, minimum and maximum (ties broken by step, then timestamp), and a grouped
 * select keeps the winners' columns. Works unchanged on SQLite (≥ 3.25) and PostgreSQL; its sorts
 * are fine for rollup rows, which are few, but too slow for raw points (see pointsAggregate).
 */
export function aggregate(source: RawBuilder<unknown>): RawBuilder<SummaryRow> {
  const pick = (rank: string, columns: readonly string[]) =>
    columns.map((column) => sql`max(case when ${sql.ref(rank)} = 1 then ${sql.ref(column)} end) as ${sql.ref(column)}`);
  const nullsLast = (column: string) => sql`case when ${sql.ref(column)} is null then 1 else 0 end`;
  return sql<SummaryRow>`select grp, ${sql.join([
    ...pick('rf', SUMMARY_COLUMNS.slice(0, 4)),
    ...pick('rl', SUMMARY_COLUMNS.slice(4, 8)),
    ...pick('rmn', SUMMARY_COLUMNS.slice(8, 11)),
    ...pick('rmx', SUMMARY_COLUMNS.slice(11, 14)),
  ])}
    from (select s.*,
      row_number() over (partition by grp order by f_step, f_ts, f_val, f_nan) as rf,
      row_number() over (partition by grp order by l_step desc, l_ts desc, l_val desc, l_nan desc) as rl,
      row_number() over (partition by grp order by ${nullsLast('mn_val')}, mn_val, mn_step, mn_ts) as rmn,
      row_number() over (partition by grp order by ${nullsLast('mx_val')}, mx_val desc, mx_step, mx_ts) as rmx
      from (${source}) as s) as ranked
    where rf = 1 or rl = 1 or rmn = 1 or rmx = 1
    group by grp`;
}

async function rebuildLevel(db: TrackingDb, runId: string, key: string, level: number, fromStep: number) {
  const fromBlock = floorDiv(fromStep, blockWidth(level));
  await db
    .deleteFrom('metric_rollups')
    .where('run_id', '=', runId)
    .where('key', '=', key)
    .where('level', '=', level)
    .where('block', '>=', fromBlock)
    .execute();
  const summaries =
    level === ROLLUP_BASE_LEVEL
      ? pointsAggregate(runId, key, sqlFloorDiv(sql.ref('step'), blockWidth(level)), fromBlock * blockWidth(level))
      : aggregate(
          rollupSource(runId, key, level - 1, sqlFloorDiv(sql.ref('block'), ROLLUP_FANOUT), fromBlock * ROLLUP_FANOUT),
        );
  const columns = SUMMARY_COLUMNS.map((column) => sql.ref(column));
  await sql`insert into metric_rollups (run_id, "key", level, block,
      first_step, first_timestamp, first_value, first_nan, last_step, last_timestamp, last_value, last_nan,
      min_step, min_timestamp, min_value, max_step, max_timestamp, max_value)
    select ${runId}, ${key}, ${sql.lit(level)}, grp, ${sql.join(columns)} from (${summaries}) as agg`.execute(db);
}

/**
 * Brings the rollups of one metric up to date when points were logged since their last build:
 * rebuilds every level from the mark's step on and clears the mark, in one transaction. On
 * PostgreSQL the latest_metrics row is locked first, so a batch logging this key waits and then
 * sets the mark again; SQLite transactions already hold the write lock.
 */
export async function refreshRollups(handle: StoreHandle, runId: string, key: string): Promise<void> {
  const mark = await handle.db
    .selectFrom('latest_metrics')
    .select('rollup_from')
    .where('run_id', '=', runId)
    .where('key', '=', key)
    .executeTakeFirst();
  if (mark === undefined || mark.rollup_from === null) return;
  await handle.database.transaction(async (trx) => {
    const db = trx.withTables<TrackingTables>();
    let query = db
      .selectFrom('latest_metrics')
      .select('rollup_from')
      .where('run_id', '=', runId)
      .where('key', '=', key);
    if (handle.dialect === 'postgres') query = query.forUpdate();
    const locked = await query.executeTakeFirst();
    if (locked === undefined || locked.rollup_from === null) return;
    const fromStep = Number(locked.rollup_from);
    for (let level = ROLLUP_BASE_LEVEL; level <= ROLLUP_TOP_LEVEL; level++)
      await rebuildLevel(db, runId, key, level, fromStep);
    await db
      .updateTable('latest_metrics')
      .set({ rollup_from: null })
      .where('run_id', '=', runId)
      .where('key', '=', key)
      .execute();
  });
}
