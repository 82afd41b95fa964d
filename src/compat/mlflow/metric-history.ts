import { KilnError } from '../../core/index.js';
import type { Metric } from '../../tracking/index.js';
import type { EndpointDeps, MlflowEndpoint } from './endpoint.js';
import { invalidValue, type RequestFields } from './fields.js';
import { metricToMlflow, pageToMlflow } from './wire.js';

/** Most runs one bulk history request may name: MLflow's limit for both bulk endpoints. */
export const MAX_BULK_RUNS = 100;
/** Points per run `get-history-bulk-interval` returns when `max_results` is absent: what MLflow's UI asks for. */
export const DEFAULT_INTERVAL_POINTS = 320;
/** Most points per run `get-history-bulk-interval` returns. */
export const MAX_INTERVAL_POINTS = 2500;
/**
 * Most points per run `get-history-bulk` returns (its first ones in step order). MLflow caps the
 * whole answer at 25,000 rows; capping each run keeps every run's curve in the answer while still
 * bounding it, at 100 runs, to 2.5 million points.
 */
export const MAX_BULK_POINTS_PER_RUN = 25_000;

/** The run ids of a bulk request: 1 to {@link MAX_BULK_RUNS}, duplicates dropped, request order kept. */
function bulkRunIds(fields: RequestFields, field: string, request: string): string[] {
  const ids = [...new Set((fields.list(field) ?? []).filter((id) => id !== ''))];
  if (ids.length === 0) {
    throw new KilnError('INVALID_PARAMETER_VALUE', `${request} request must specify at least one ${field}.`, {
      field,
    });
  }
  if (ids.length > MAX_BULK_RUNS) {
    throw new KilnError(
      'INVALID_PARAMETER_VALUE',
      `${request} request cannot specify more than ${MAX_BULK_RUNS} ${field}. Received ${ids.length} ${field}.`,
      { field, count: ids.length },
    );
  }
  return ids;
}

/** An optional whole-number field from 1 to `max`; `fallback` when absent. */
function boundedCount(fields: RequestFields, name: string, fallback: number, max: number): number {
  const value = fields.integer(name);
  if (value === undefined) return fallback;
  if (value < 1 || value > max) throw invalidValue(name, value, `a whole number from 1 to ${max}`);
  return value;
}

/**
 * The step range of an interval request. As in MLflow, `start_step` and `end_step` come together
 * or not at all; the service checks that the start is not after the end.
 */
function stepRange(fields: RequestFields): { startStep?: number; endStep?: number } {
  const startStep = fields.integer('start_step');
  const endStep = fields.integer('end_step');
  if ((startStep === undefined) !== (endStep === undefined)) {
    throw new KilnError(
      'INVALID_PARAMETER_VALUE',
      'If either start step or end step are specified, both must be specified.',
      { field: startStep === undefined ? 'start_step' : 'end_step' },
    );
  }
  if (startStep !== undefined && endStep !== undefined && startStep > endStep) {
    throw new KilnError(
      'INVALID_PARAMETER_VALUE',
      `end_step must be greater than start_step. Found start_step=${startStep} and end_step=${endStep}.`,
      { field: 'start_step' },
    );
  }
  return { startStep, endStep };
}

function withRunId(runId: string) {
  return (metric: Metric) => ({ ...metricToMlflow(metric), run_id: runId });
}

/**
 * The metric-history endpoints of MLflow's web UI, which draw one chart line per run:
 *
 * - `metrics/get-history-bulk-interval` (`run_ids` repeated, `metric_key`, optional
 *   `start_step` + `end_step`, `max_results` default 320, at most 2,500): each run's history
 *   within the step range, downsampled in the database to at most `max_results` points that keep
 *   every bucket's first, last, minimum and maximum (MLflow samples steps instead, which can drop
 *   spikes).
 * - `metrics/get-history-bulk` (`run_id` repeated, `metric_key`, optional `max_results`): each
 *   run's history as it is, but at most 25,000 points per run (the first ones by step).
 *
 * Both take 1 to 100 runs of the workspace (an unknown one is 404 RESOURCE_DOES_NOT_EXIST) and
 * answer `{metrics: [{key, value, timestamp, step, run_id}]}` ordered by run, in request order,
 * then by step. Runs are read one after the other, so a request holds one connection at a time.
 *
 * @example
 * // GET /ajax-api/2.0/mlflow/metrics/get-history-bulk-interval?run_ids=a&run_ids=b&metric_key=loss&max_results=320
 * // → { metrics: [{ key: 'loss', value: 0.9, timestamp: …, step: 0, run_id: 'a' }, …] }
 */
export function metricHistoryEndpoints({ tracking }: EndpointDeps): MlflowEndpoint[] {
  const { runData } = tracking;
  return [
    {
      method: 'GET',
      path: '/metrics/get-history-bulk-interval',
      permission: 'read',
      async handle({ fields, ctx }) {
        const runIds = bulkRunIds(fields, 'run_ids', 'GetMetricHistoryBulkInterval');
        const key = fields.requiredString('metric_key');
        const range = stepRange(fields);
        const maxResults = boundedCount(fields, 'max_results', DEFAULT_INTERVAL_POINTS, MAX_INTERVAL_POINTS);
        const metrics: unknown[] = [];
        for (const runId of runIds) {
          const points = await runData.downsampleMetricHistory(ctx, runId, key, maxResults, range);
          metrics.push(...points.map(withRunId(runId)));
        }
        return pageToMlflow('metrics', metrics);
      },
    },
    {
      method: 'GET',
      path: '/metrics/get-history-bulk',
      permission: 'read',
      async handle({ fields, ctx }) {
        const runIds = bulkRunIds(fields, 'run_id', 'GetMetricHistoryBulk');
        const key = fields.requiredString('metric_key');
        const maxResults = boundedCount(fields, 'max_results', MAX_BULK_POINTS_PER_RUN, MAX_BULK_POINTS_PER_RUN);
        const metrics: unknown[] = [];
        for (const runId of runIds) {
          const page = await runData.getMetricHistory(ctx, runId, key, { maxResults });
          metrics.push(...page.metrics.map(withRunId(runId)));
        }
        // A Flask route in MLflow, not a proto message: the list is there even when empty.
        return { metrics };
      },
    },
  ];
}
