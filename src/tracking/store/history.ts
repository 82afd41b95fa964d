import { sql } from 'kysely';
import type { MetricPoint } from '../model.js';
import type { TrackingStore } from '../store.js';
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

/** How many points one metric has, counting no further than `atMost`. */
async function countUpTo(handle: StoreHandle, runId: string, key: string, atMost: number): Promise<number> {
  const result = await sql<{ n: number }>`select count(*) as n from
    (select 1 from metrics where run_id = ${runId} and "key" = ${key} order by step limit ${atMost}) as capped`.execute(
    handle.db,
  );
  return int(result.rows[0]?.n ?? 0);
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
 */
export const downsampleMetric =
  (handle: StoreHandle): TrackingStore['downsampleMetric'] =>
  async (runId, key, maxPoints) => {
    if ((await countUpTo(handle, runId, key, maxPoints + 1)) <= maxPoints) {
      return metricHistory(handle)(runId, key, maxPoints);
    }
    const range = await sql<{ lo: number | bigint; hi: number | bigint }>`select
      (select step from metrics where run_id = ${runId} and "key" = ${key} order by step limit 1) as lo,
      (select step from metrics where run_id = ${runId} and "key" = ${key} order by step desc limit 1) as hi`.execute(
      handle.db,
    );
    const lo = int(range.rows[0]?.lo ?? 0);
    const hi = int(range.rows[0]?.hi ?? 0);
    const buckets = Math.max(1, Math.floor(maxPoints / POINTS_PER_BUCKET));
    let summaries = pointsAggregate(
      runId,
      key,
      sql<number>`(step - ${sql.lit(lo)}) * ${sql.lit(buckets)} / ${sql.lit(hi - lo + 1)}`,
    );
    for (let level = ROLLUP_TOP_LEVEL; level >= ROLLUP_BASE_LEVEL; level--) {
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
