import { invalidParameter, type RequestContext } from '../core/index.js';
import type { TrackingServiceOptions } from './experiments-service.js';
import type { DatasetInput, Metric, MetricPoint } from './model.js';
import { checkMaxResults } from './paging.js';
import { failUnlessOk, runNotFound } from './run-errors.js';
import { mirroredColumns } from './run-view.js';
import type { HistoryCursor, StepRange, TrackingStore } from './store.js';
import {
  checkBatch,
  checkDatasetInputs,
  checkKey,
  checkMetric,
  checkRunId,
  checkText,
  LIMITS,
  type LogBatchInput,
  type MetricInput,
} from './validation.js';

/** History points per page when the caller does not say, and the most one page holds. */
export const HISTORY_PAGE_SIZE = 25_000;
/** Most points a downsampled history read may ask for. */
export const MAX_DOWNSAMPLED_POINTS = 10_000;

/** One page of a metric history. */
export interface MetricHistoryPage {
  metrics: Metric[];
  /** Present when more points follow; pass it back as `pageToken`. */
  nextPageToken?: string;
}

function encodeCursor(cursor: HistoryCursor): string {
  const payload = [cursor.step, cursor.timestamp, String(cursor.value), cursor.isNan ? 1 : 0];
  return Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
}

function decodeCursor(token: string): HistoryCursor {
  const fail = () => invalidParameter('page_token', 'is not a token returned by a previous page', token.slice(0, 64));
  if (typeof token !== 'string' || token.length > 256 || !/^[A-Za-z0-9_-]+$/.test(token)) throw fail();
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw fail();
  }
  if (!Array.isArray(payload) || payload.length !== 4) throw fail();
  const [step, timestamp, text, nan] = payload as unknown[];
  const value = typeof text === 'string' ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(step) || !Number.isSafeInteger(timestamp) || Number.isNaN(value)) throw fail();
  if (nan !== 0 && nan !== 1) throw fail();
  return { step: step as number, timestamp: timestamp as number, value, isNan: nan === 1 };
}

/**
 * Writes to a run's data and reads its metric histories: params (immutable once logged), metric
 * points (every point kept, NaN and ±Infinity included), tags, batches of all three under MLflow's
 * limits in one transaction, dataset inputs; and histories, paged or downsampled for charts.
 *
 * @example
 * await runData.logBatch(ctx, runId, { metrics: [{ key: 'loss', value: 0.3, timestamp: Date.now(), step: 1 }] });
 * const { metrics, nextPageToken } = await runData.getMetricHistory(ctx, runId, 'loss');
 * const chart = await runData.downsampleMetricHistory(ctx, runId, 'loss', 1000);
 */
export class RunDataService {
  private readonly clock: () => number;

  constructor(
    private readonly store: TrackingStore,
    options: TrackingServiceOptions,
  ) {
    this.clock = options.clock ?? Date.now;
  }

  /**
   * Logs metrics, params and tags in one transaction: all of it is written, or (on a param that
   * would change value, or a deleted run) none of it. Limits and messages are MLflow's, see
   * `checkBatch`.
   */
  async logBatch(ctx: RequestContext, runId: string, batch: LogBatchInput): Promise<void> {
    const id = checkRunId(runId);
    const checked = checkBatch(batch);
    failUnlessOk(await this.store.logBatch(ctx.workspace, id, checked, mirroredColumns(checked.tags)), id);
  }

  /** Logs one metric point; `step` defaults to 0 as in MLflow. */
  async logMetric(ctx: RequestContext, runId: string, metric: MetricInput): Promise<void> {
    const id = checkRunId(runId);
    const batch = { metrics: [checkMetric(metric, '')], params: [], tags: [] };
    failUnlessOk(await this.store.logBatch(ctx.workspace, id, batch, {}), id);
  }

  /** Logs one param; logging the same value again is fine, a different one is refused. */
  async logParam(ctx: RequestContext, runId: string, key: string, value: string): Promise<void> {
    const id = checkRunId(runId);
    const params = [{ key: checkKey('key', key), value: checkText('value', value, LIMITS.paramValueLength) }];
    failUnlessOk(await this.store.logBatch(ctx.workspace, id, { metrics: [], params, tags: [] }, {}), id);
  }

  /** Records the datasets a run used (MLflow's `runs/log-inputs`). */
  async logInputs(ctx: RequestContext, runId: string, datasets: readonly DatasetInput[]): Promise<void> {
    const id = checkRunId(runId);
    const inputs = checkDatasetInputs(datasets);
    failUnlessOk(await this.store.logInputs(ctx.workspace, id, inputs, this.clock()), id);
  }

  /**
   * One page of a metric's history in (step, timestamp) order: `maxResults` points (default and
   * most 25,000 — larger requests are served 25,000 at a time, which MLflow clients page through),
   * and a `nextPageToken` while more follow. The token is a keyset cursor, so deep pages cost the
   * same as the first. An unknown key has an empty history.
   */
  async getMetricHistory(
    ctx: RequestContext,
    runId: string,
    key: string,
    options: { maxResults?: number; pageToken?: string } = {},
  ): Promise<MetricHistoryPage> {
    const id = await this.requireRun(ctx, runId);
    const checkedKey = checkKey('metric_key', key);
    const requested = checkMaxResults(options.maxResults, HISTORY_PAGE_SIZE, Number.MAX_SAFE_INTEGER);
    const limit = Math.min(requested, HISTORY_PAGE_SIZE);
    const after =
      options.pageToken === undefined || options.pageToken === '' ? undefined : decodeCursor(options.pageToken);
    const points = await this.store.metricHistory(id, checkedKey, limit + 1, after);
    const page = points.slice(0, limit);
    const metrics = page.map((p) => ({ key: checkedKey, ...p }));
    const last = page.at(-1);
    if (points.length <= limit || last === undefined) return { metrics };
    return { metrics, nextPageToken: encodeCursor(cursorOf(last)) };
  }

  /**
   * A metric's history reduced to at most `maxPoints` (1 to 10,000) for charts, computed in the
   * database: the step range is split into ⌊maxPoints / 4⌋ buckets, each contributing its first,
   * last, minimum and maximum point, so spikes and dips survive. Histories no longer than
   * `maxPoints` come back whole.
   *
   * `range` keeps only the points whose step lies in [`startStep`, `endStep`] (either bound may
   * be left open) and spreads the buckets over that range, so a chart zoomed into steps 1,000 to
   * 2,000 gets full resolution there instead of the few buckets that range holds of the whole run.
   */
  async downsampleMetricHistory(
    ctx: RequestContext,
    runId: string,
    key: string,
    maxPoints: number,
    range: StepRange = {},
  ): Promise<Metric[]> {
    const checkedRange = checkStepRange(range);
    const id = await this.requireRun(ctx, runId);
    const checkedKey = checkKey('metric_key', key);
    const limit = checkMaxResults(maxPoints, MAX_DOWNSAMPLED_POINTS, MAX_DOWNSAMPLED_POINTS, 'max_points');
    const points = await this.store.downsampleMetric(id, checkedKey, limit, checkedRange);
    return points.map((p) => ({ key: checkedKey, ...p }));
  }

  private async requireRun(ctx: RequestContext, runId: string): Promise<string> {
    const id = checkRunId(runId);
    if ((await this.store.getRun(ctx.workspace, id)) === undefined) throw runNotFound(id);
    return id;
  }
}

/**
 * Checks a step range: each bound a safe integer (steps may be negative), `start_step` not after
 * `end_step`. Resolves undefined when neither bound is set, so the store takes its unranged path.
 */
function checkStepRange(range: StepRange): StepRange | undefined {
  const step = (field: string, value: unknown): number | undefined => {
    if (value === undefined) return undefined;
    if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
    throw invalidParameter(field, `must be a whole number (within ±2^53), got ${String(value)}`, value);
  };
  const start = step('start_step', range.startStep);
  const end = step('end_step', range.endStep);
  if (start === undefined && end === undefined) return undefined;
  if (start !== undefined && end !== undefined && start > end) {
    throw invalidParameter('start_step', `must not be greater than end_step (${end}), got ${start}`, start);
  }
  return { startStep: start, endStep: end };
}

function cursorOf(point: MetricPoint): HistoryCursor {
  const isNan = Number.isNaN(point.value);
  return { step: point.step, timestamp: point.timestamp, value: isNan ? 0 : point.value, isNan };
}
