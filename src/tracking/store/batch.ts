import { CompiledQuery } from 'kysely';
import type { SqlDialect } from '../../store/index.js';
import type { Metric } from '../model.js';
import type { RunWriteOutcome, TrackingStore } from '../store.js';
import { inTransaction, rollback, type StoreHandle, type TrackingDb } from './db.js';
import { columnUpdates, requireActiveRun } from './runs.js';

/** Rows per multi-row INSERT: 6 × 5000 bound values stays under SQLite's 32,766 (and PostgreSQL's 65,535). */
const METRIC_ROWS_PER_STATEMENT = 5000;
const METRIC_COLUMNS = 6;
const LATEST_COLUMNS = 7;

/** The newest point of one key in a batch, by MLflow's rule, and the smallest step it logs. */
interface Newest {
  step: number;
  timestamp: number;
  value: number;
  nan: number;
  minStep: number;
}

const statements = new Map<string, string>();

function placeholders(dialect: SqlDialect, rows: number, columns: number): string {
  const groups: string[] = new Array(rows);
  for (let r = 0; r < rows; r++) {
    const cells: string[] = new Array(columns);
    for (let c = 0; c < columns; c++) cells[c] = dialect === 'postgres' ? `$${r * columns + c + 1}` : '?';
    groups[r] = `(${cells.join(',')})`;
  }
  return groups.join(',');
}

/** SQL text is built once per (engine, row count) and reused: the batch path only binds values. */
function statement(kind: 'metrics' | 'latest', dialect: SqlDialect, rows: number): string {
  const id = `${kind}:${dialect}:${rows}`;
  let text = statements.get(id);
  if (text !== undefined) return text;
  if (kind === 'metrics') {
    text =
      'insert into metrics (run_id, "key", step, "timestamp", "value", is_nan) values ' +
      `${placeholders(dialect, rows, METRIC_COLUMNS)} on conflict do nothing`;
  } else {
    const newer =
      '(excluded.step, excluded."timestamp", excluded."value") > ' +
      '(latest_metrics.step, latest_metrics."timestamp", latest_metrics."value")';
    const pick = (column: string) =>
      `${column} = case when ${newer} then excluded.${column} else latest_metrics.${column} end`;
    text =
      'insert into latest_metrics (run_id, "key", step, "timestamp", "value", is_nan, rollup_from) values ' +
      `${placeholders(dialect, rows, LATEST_COLUMNS)} on conflict (run_id, "key") do update set ` +
      `${['step', '"timestamp"', '"value"', 'is_nan'].map(pick).join(', ')}, ` +
      'rollup_from = case when latest_metrics.rollup_from is null or excluded.rollup_from < latest_metrics.rollup_from ' +
      'then excluded.rollup_from else latest_metrics.rollup_from end';
  }
  statements.set(id, text);
  return text;
}

/**
 * Inserts every point (NaN as 0 with is_nan set) with multi-row INSERTs, then upserts the latest
 * value of each key in ONE statement whose update applies only when the incoming point is newer by
 * (step, timestamp, value) — MLflow's rule — and lowers the key's `rollup_from` mark so the
 * downsampling rollups are brought up to date on their next read. Keys are upserted in sorted
 * order so that concurrent batches lock latest rows in the same order.
 */
async function writeMetrics(db: TrackingDb, dialect: SqlDialect, runId: string, metrics: readonly Metric[]) {
  const newest = new Map<string, Newest>();
  for (let start = 0; start < metrics.length; start += METRIC_ROWS_PER_STATEMENT) {
    const end = Math.min(metrics.length, start + METRIC_ROWS_PER_STATEMENT);
    const values: unknown[] = new Array((end - start) * METRIC_COLUMNS);
    let v = 0;
    for (let i = start; i < end; i++) {
      const metric = metrics[i] as Metric;
      const nan = Number.isNaN(metric.value) ? 1 : 0;
      const value = nan === 1 ? 0 : metric.value;
      values[v++] = runId;
      values[v++] = metric.key;
      values[v++] = metric.step;
      values[v++] = metric.timestamp;
      values[v++] = value;
      values[v++] = nan;
      const best = newest.get(metric.key);
      if (best === undefined) {
        newest.set(metric.key, { step: metric.step, timestamp: metric.timestamp, value, nan, minStep: metric.step });
      } else {
        if (metric.step < best.minStep) best.minStep = metric.step;
        if (
          metric.step > best.step ||
          (metric.step === best.step &&
            (metric.timestamp > best.timestamp || (metric.timestamp === best.timestamp && value > best.value)))
        ) {
          best.step = metric.step;
          best.timestamp = metric.timestamp;
          best.value = value;
          best.nan = nan;
        }
      }
    }
    await db.executeQuery(CompiledQuery.raw(statement('metrics', dialect, end - start), values));
  }
  const keys = [...newest.keys()].sort();
  for (let start = 0; start < keys.length; start += METRIC_ROWS_PER_STATEMENT) {
    const slice = keys.slice(start, start + METRIC_ROWS_PER_STATEMENT);
    const values: unknown[] = [];
    for (const key of slice) {
      const best = newest.get(key) as Newest;
      values.push(runId, key, best.step, best.timestamp, best.value, best.nan, best.minStep);
    }
    await db.executeQuery(CompiledQuery.raw(statement('latest', dialect, slice.length), values));
  }
}

/**
 * Writes a validated batch in one transaction (see {@link TrackingStore.logBatch}). Params are
 * inserted first, skipping keys already present, then read back: a key whose stored value differs
 * rolls the whole batch back as a param conflict, also when a concurrent batch won the race.
 */
export const logBatch =
  (handle: StoreHandle): TrackingStore['logBatch'] =>
  (workspace, runId, batch, columns) =>
    inTransaction(handle, async (db): Promise<RunWriteOutcome> => {
      await requireActiveRun(db, workspace, runId);
      if (batch.params.length > 0) {
        const params = [...batch.params].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
        await db
          .insertInto('params')
          .values(params.map((param) => ({ run_id: runId, key: param.key, value: param.value })))
          .onConflict((conflict) => conflict.doNothing())
          .execute();
        const stored = await db
          .selectFrom('params')
          .select(['key', 'value'])
          .where('run_id', '=', runId)
          .where(
            'key',
            'in',
            params.map((param) => param.key),
          )
          .execute();
        const attempted = new Map(params.map((param) => [param.key, param.value]));
        for (const row of stored) {
          const value = attempted.get(row.key);
          if (value !== undefined && value !== row.value) {
            rollback({ kind: 'param-conflict', key: row.key, existing: row.value, attempted: value });
          }
        }
      }
      if (batch.tags.length > 0) {
        const tags = [...batch.tags].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
        await db
          .insertInto('run_tags')
          .values(tags.map((tag) => ({ run_id: runId, key: tag.key, value: tag.value })))
          .onConflict((conflict) =>
            conflict.columns(['run_id', 'key']).doUpdateSet((eb) => ({ value: eb.ref('excluded.value') })),
          )
          .execute();
      }
      const set = columnUpdates(columns);
      if (Object.keys(set).length > 0) await db.updateTable('runs').set(set).where('run_id', '=', runId).execute();
      if (batch.metrics.length > 0) await writeMetrics(db, handle.dialect, runId, batch.metrics);
      return { kind: 'ok' };
    });
