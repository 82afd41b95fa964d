import { sql } from 'kysely';
import type { MetricPoint } from '../model.js';
import type { StepRange, TrackingStore } from '../store.js';
import { flag, int, type StoreHandle } from './db.js';
import {
  aggregate,
  blockWidth,
  floorDiv,
  pointsAggregate,
  ROLLUP_BASE_LEVEL,
  ROLLUP_TOP_LEVEL,
  refreshRollups,
  rollupSource,
  type SummaryRow,
} from './rollups.js';

/** Each downsampling bucket contributes up to four points: first, last, minimum, maximum. */
const POINTS_PER_BUCKET = 4;

function point(step: unknown, timestamp: unknown, value: unknown, nan: unknown): MetricPoint {
  return {
    step: int(step as number),
    timestamp: int(timestamp as number),
    value: flag(nan as number) ? Number.NaN : Number(value),
  };
}

/** {@link TrackingStore.metricHistory}: a keyset page over the primary key, (step, timestamp, value, is_nan). */
export const metricHistory =
  (handle: StoreHandle): TrackingStore['metricHistory'] =>
  async (runId, key, limit, after) => {
    let query = handle.db
      .selectFrom('metrics')
      .select(['step', 'timestamp', 'value', 'is_nan'])
      .where('run_id', '=', runId)
      .where('key', '=', key);
    if (after !== undefined) {
      query = query.where(
        sql<boolean>`(step, "timestamp", "value", is_nan) > (${after.step}, ${after.timestamp}, ${after.value}, ${after.isNan ? 1 : 0})`,
      );
    }
    const rows = await query
      .orderBy('step')
      .orderBy('timestamp')
      .orderBy('value')
      .orderBy('is_nan')
      .limit(limit)
      .execute();
    return rows.map((row) => point(row.step, row.timestamp, row.value, row.is_nan));
  };

/** The SQL condition ` and step >= … and step <= …` for the bounds a range sets; empty without. */
function stepFilter(range: StepRange | undefined) {
  const from = range?.startStep === undefined ? sql`` : sql` and step >= ${range.startStep}`;
  const to = range?.endStep === undefined ? sql`` : sql` and step <= ${range.endStep}`;
  return sql`${from}${to}`;
}

/** How many points one metric has (within `range`), counting no further than `atMost`. */
async function countUpTo(
  handle: StoreHandle,
  runId: string,
  key: string,
  atMost: number,
  range: StepRange | undefined,
): Promise<number> {
  const result = await sql<{ n: number }>`select count(*) as n from
    (select 1 from metrics where run_id = ${runId} and "key" = ${key}${stepFilter(range)}
      order by step limit ${atMost}) as capped`.execute(handle.db);
  return int(result.rows[0]?.n ?? 0);
}

/** Lowest and highest step of one metric (within `range`); undefined when it has no points there. */
async function stepBounds(handle: StoreHandle, runId: string, key: string, range: StepRange | undefined) {
  const within = stepFilter(range);
  const result = await sql<{ lo: number | bigint | null; hi: number | bigint | null }>`select
      (select step from metrics where run_id = ${runId} and "key" = ${key}${within} order by step limit 1) as lo,
      (select step from metrics where run_id = ${runId} and "key" = ${key}${within} order by step desc limit 1) as hi`.execute(
    handle.db,
  );
  const row = result.rows[0];
  if (row === undefined || row.lo === null || row.hi === null) return undefined;
  return { lo: int(row.lo), hi: int(row.hi) };
}

/** The points of one bucket summary, most telling first: extremes, then the last and first points. */
function bucketPoints(row: SummaryRow): MetricPoint[] {
  const points: MetricPoint[] = [];
  const seen = new Set<string>();
  const add = (step: unknown, timestamp: unknown, value: unknown, nan: unknown) => {
    if (step === null || value === null) return;
    const id = `${step}/${timestamp}/${value}/${nan}`;
    if (seen.has(id)) return;
    seen.add(id);
    points.push(point(step, timestamp, value, nan));
  };
  add(row.mn_step, row.mn_ts, row.mn_val, 0);
  add(row.mx_step, row.mx_ts, row.mx_val, 0);
  add(row.l_step, row.l_ts, row.l_val, row.l_nan);
  add(row.f_step, row.f_ts, row.f_val, row.f_nan);
  return points;
}

function byStep(a: MetricPoint, b: MetricPoint): number {
  return a.step - b.step || a.timestamp - b.timestamp || a.value - b.value;
}

/**
 * Downsamples one metric to at most `maxPoints` points (see {@link TrackingStore.downsampleMetric}).
 * A history of at most `maxPoints` points comes back whole. Otherwise the step range is split into
 * B = ⌊maxPoints / 4⌋ buckets and each bucket yields its first, last, minimum and maximum point
 * (deduplicated, in step order), so spikes survive. The buckets are made of whole rollup blocks of
 * the coarsest level that still has at least B blocks in the range (at most 16·B + 16 rows read),
 * after bringing the rollups up to date; a range narrower than 256·B steps is bucketed straight
 * from the points (one pass over them, see pointsAggregate). With fewer than four
 * points allowed, one bucket is used and its minimum, maximum, last and first point are kept in
 * that order of preference.
 *
 * A `range` that leaves out some points is always bucketed straight from the points within it:
 * rollup blocks are aligned to multiples of 16^l, so a range's edge blocks would mix points from
 * outside it. That read is one pass over the points in the range — bounded by the range the
 * caller picked, and charts zoom into ranges much shorter than the run. A range covering every
 * point takes the rollup path as if none were given.
 */
export const downsampleMetric =
  (handle: StoreHandle): TrackingStore['downsampleMetric'] =>
  async (runId, key, maxPoints, range) => {
    if ((await countUpTo(handle, runId, key, maxPoints + 1, range)) <= maxPoints) {
      return wholeHistory(handle, runId, key, maxPoints, range);
    }
    const bounds = await stepBounds(handle, runId, key, range);
    if (bounds === undefined) return [];
    const { lo, hi } = bounds;
    const all = range === undefined ? bounds : await stepBounds(handle, runId, key, undefined);
    const cuts = all !== undefined && (all.lo !== lo || all.hi !== hi);
    const buckets = Math.max(1, Math.floor(maxPoints / POINTS_PER_BUCKET));
    let summaries = pointsAggregate(
      runId,
      key,
      sql<number>`(step - ${sql.lit(lo)}) * ${sql.lit(buckets)} / ${sql.lit(hi - lo + 1)}`,
      lo,
      hi,
    );
    for (let level = ROLLUP_TOP_LEVEL; level >= ROLLUP_BASE_LEVEL && !cuts; level--) {
      const first = floorDiv(lo, blockWidth(level));
      const blocks = floorDiv(hi, blockWidth(level)) - first + 1;
      if (blocks < buckets) continue;
      await refreshRollups(handle, runId, key);
      const group = sql<number>`(block - ${sql.lit(first)}) * ${sql.lit(buckets)} / ${sql.lit(blocks)}`;
      summaries = aggregate(rollupSource(runId, key, level, group));
      break;
    }
    const rows = await summaries.execute(handle.db);
    const points = rows.rows.flatMap((row) => {
      const kept = bucketPoints(row);
      return maxPoints < POINTS_PER_BUCKET ? kept.slice(0, maxPoints) : kept;
    });
    return points.sort(byStep);
  };

/** Every point of one metric within `range` (at most `limit`), in (step, timestamp, value) order. */
async function wholeHistory(
  handle: StoreHandle,
  runId: string,
  key: string,
  limit: number,
  range: StepRange | undefined,
): Promise<MetricPoint[]> {
  if (range === undefined) return metricHistory(handle)(runId, key, limit);
  const rows = await sql<{ step: number; timestamp: number; value: number; is_nan: number }>`select
      step, "timestamp", "value", is_nan from metrics where run_id = ${runId} and "key" = ${key}${stepFilter(range)}
      order by step, "timestamp", "value", is_nan limit ${limit}`.execute(handle.db);
  return rows.rows.map((row) => point(row.step, row.timestamp, row.value, row.is_nan));
}
