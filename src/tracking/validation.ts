import { invalidParameter, type KilnError } from '../core/index.js';
import type { Dataset, DatasetInput, Metric, Param, Tag } from './model.js';

/**
 * MLflow's limits (mlflow.md §1.7), enforced at the service boundary so that every caller — Kiln
 * REST, the MLflow adapter, the SDK — gets the same answer, with the same messages, before any
 * row is written.
 */
export const LIMITS = Object.freeze({
  batchMetrics: 1000,
  batchParams: 100,
  batchTags: 100,
  batchTotal: 1000,
  keyLength: 250,
  paramValueLength: 6000,
  tagValueLength: 8000,
  experimentTagValueLength: 5000,
  experimentNameLength: 500,
  runNameLength: 250,
  datasetNameLength: 500,
  // MLflow stores 36; Kiln dataset versions are full SHA-256 digests (64 hex), so Kiln allows those.
  datasetDigestLength: 64,
  datasetSourceTypeLength: 36,
  datasetSourceLength: 65_535,
  datasetSchemaLength: 1_048_575,
  datasetProfileLength: 16_777_215,
  inputTagKeyLength: 255,
  inputTagValueLength: 500,
  datasetsPerRequest: 1000,
});

const KEY_CHARS = /^[A-Za-z0-9_\-. /]+$/;
const RUN_ID = /^[a-zA-Z0-9][\w-]{0,255}$/;
const EXPERIMENT_ID = /^[0-9]{1,19}$/;

function shorten(value: string): string {
  return value.length > 100 ? `${value.slice(0, 100)}…` : value;
}

/**
 * Checks a metric, param or tag key: a string of at most 250 characters made of alphanumerics,
 * `_ - . /` and spaces, forming a relative path without empty, `.` or `..` segments (MLflow's file
 * store turns keys into paths, so its clients never send anything else).
 *
 * @example
 * checkKey('metrics[3].key', 'train/loss'); // 'train/loss'
 * checkKey('params[0].key', '../x');        // throws "params[0].key: '../x' must be a relative path …"
 */
export function checkKey(field: string, key: unknown, maxLength: number = LIMITS.keyLength): string {
  if (typeof key !== 'string') throw invalidParameter(field, `must be a string, got ${typeOf(key)}`);
  if (key.length === 0) throw invalidParameter(field, 'must not be empty', key);
  if (key.length > maxLength) {
    throw invalidParameter(field, `has length ${key.length}, which exceeds the limit of ${maxLength}`, shorten(key));
  }
  if (!KEY_CHARS.test(key)) {
    throw invalidParameter(
      field,
      `'${shorten(key)}' may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ) and slashes (/)`,
      shorten(key),
    );
  }
  if (key.startsWith('/') || key.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    throw invalidParameter(
      field,
      `'${shorten(key)}' must be a relative path without empty, '.' or '..' segments`,
      shorten(key),
    );
  }
  return key;
}

/** Checks that `value` is a string of at most `maxLength` characters. */
export function checkText(field: string, value: unknown, maxLength: number): string {
  if (typeof value !== 'string') throw invalidParameter(field, `must be a string, got ${typeOf(value)}`);
  if (value.length > maxLength) {
    throw invalidParameter(field, `has length ${value.length}, which exceeds the limit of ${maxLength}`);
  }
  return value;
}

/** Checks an epoch-millisecond time or other whole number; `min` defaults to 0. */
export function checkInteger(field: string, value: unknown, min = 0): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    const range = min === 0 ? 'a whole number ≥ 0' : `a whole number ≥ ${min}`;
    throw invalidParameter(field, `must be ${range} (a 64-bit integer within ±2^53), got ${String(value)}`, value);
  }
  return value;
}

/**
 * Checks a run id: what MLflow accepts (a letter or digit, then up to 255 word characters or
 * dashes). Kiln issues 32-hex ids; others simply match no run.
 */
export function checkRunId(value: unknown, field = 'run_id'): string {
  if (typeof value !== 'string' || !RUN_ID.test(value)) {
    throw invalidParameter(field, `must be a run id such as '0123456789abcdef0123456789abcdef'`, value);
  }
  return value;
}

/**
 * Parses an experiment id ("0", "42") into its integer. Ids beyond JavaScript's safe range cannot
 * have been issued by Kiln; they parse to -1, which matches no experiment.
 */
export function parseExperimentId(value: unknown, field = 'experiment_id'): number {
  if (typeof value !== 'string' || !EXPERIMENT_ID.test(value)) {
    throw invalidParameter(field, 'must be a decimal experiment id such as "0" or "42"', value);
  }
  const id = Number(value);
  return Number.isSafeInteger(id) ? id : -1;
}

/** A metric point as callers send it: `step` defaults to 0, as in MLflow. */
export interface MetricInput {
  key: string;
  value: number;
  timestamp: number;
  step?: number;
}

/** The batch a caller logs to one run; the shape of MLflow's `runs/log-batch`. */
export interface LogBatchInput {
  metrics?: readonly MetricInput[];
  params?: readonly Param[];
  tags?: readonly Tag[];
}

/** A validated batch: params deduplicated, tags deduplicated with the last value winning. */
export interface CheckedBatch {
  metrics: Metric[];
  params: Param[];
  tags: Tag[];
}

function batchLimit(field: string, count: number, limit: number, what: string): KilnError | undefined {
  if (count <= limit) return undefined;
  return invalidParameter(
    field,
    `a batch logging request can contain at most ${limit} ${what}; got ${count}. Split it across several requests`,
    count,
  );
}

/**
 * Validates a batch with MLflow's limits and messages naming the item (`metrics[3].key: …`):
 * at most 1000 metrics, 100 params, 100 tags and 1000 entries in all; keys per {@link checkKey};
 * param values ≤ 6000 characters, tag values ≤ 8000; metric values numbers (NaN and ±Infinity
 * allowed), timestamps whole ms ≥ 0, steps whole numbers (0 when absent). A param key given twice
 * with different values is rejected; given twice with the same value it is kept once.
 *
 * @example
 * checkBatch({ metrics: [{ key: 'loss', value: 0.3, timestamp: Date.now(), step: 1 }] });
 */
export function checkBatch(batch: LogBatchInput): CheckedBatch {
  const metrics = batch.metrics ?? [];
  const params = batch.params ?? [];
  const tags = batch.tags ?? [];
  for (const [field, list] of [
    ['metrics', metrics],
    ['params', params],
    ['tags', tags],
  ] as const) {
    if (!Array.isArray(list)) throw invalidParameter(field, 'must be a list');
  }
  const tooMany =
    batchLimit('metrics', metrics.length, LIMITS.batchMetrics, 'metrics') ??
    batchLimit('params', params.length, LIMITS.batchParams, 'params') ??
    batchLimit('tags', tags.length, LIMITS.batchTags, 'tags') ??
    batchLimit(
      'batch',
      metrics.length + params.length + tags.length,
      LIMITS.batchTotal,
      'metrics, params and tags in all',
    );
  if (tooMany !== undefined) throw tooMany;
  return { metrics: checkMetrics(metrics), params: checkParams(params), tags: checkTags('tags', tags) };
}

/**
 * Validates one metric point; `prefix` names it in messages (`metrics[3].` in a batch, '' for a
 * single `log-metric` call whose fields are top-level). `checkedKey` skips the key check when the
 * caller has already validated this key.
 */
export function checkMetric(metric: MetricInput, prefix: string, checkedKey = false): Metric {
  if (typeof metric !== 'object' || metric === null) {
    throw invalidParameter(prefix === '' ? 'metric' : prefix.slice(0, -1), 'must be an object');
  }
  const { key, value, timestamp } = metric;
  const step = metric.step ?? 0;
  if (!checkedKey) checkKey(`${prefix}key`, key);
  if (typeof value !== 'number')
    throw invalidParameter(`${prefix}value`, `must be a number, got ${typeOf(value)}`, value);
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) checkInteger(`${prefix}timestamp`, timestamp);
  if (!Number.isSafeInteger(step)) checkInteger(`${prefix}step`, step, Number.MIN_SAFE_INTEGER);
  return { key, value, timestamp, step };
}

/** Validates metric points; a key already seen in this call is not re-checked (the hot path). */
export function checkMetrics(metrics: readonly MetricInput[], field = 'metrics'): Metric[] {
  const out: Metric[] = new Array(metrics.length);
  const seenKeys = new Set<string>();
  for (let i = 0; i < metrics.length; i++) {
    const metric = metrics[i] as MetricInput;
    const key = typeof metric === 'object' && metric !== null ? metric.key : undefined;
    const known = typeof key === 'string' && seenKeys.has(key);
    const checked = checkMetric(metric, `${field}[${i}].`, known);
    if (!known) seenKeys.add(checked.key);
    out[i] = checked;
  }
  return out;
}

/** Validates params and merges repeats; differing repeats of a key are INVALID_PARAMETER_VALUE. */
export function checkParams(params: readonly Param[], field = 'params'): Param[] {
  const byKey = new Map<string, string>();
  params.forEach((param, i) => {
    if (typeof param !== 'object' || param === null) throw invalidParameter(`${field}[${i}]`, 'must be an object');
    const key = checkKey(`${field}[${i}].key`, param.key);
    const value = checkText(`${field}[${i}].value`, param.value, LIMITS.paramValueLength);
    const earlier = byKey.get(key);
    if (earlier !== undefined && earlier !== value) {
      throw invalidParameter(
        `${field}[${i}]`,
        `duplicate parameter key '${key}' with different values ('${shorten(earlier)}' and '${shorten(value)}'); ` +
          'a request may carry only one value per param key',
        key,
      );
    }
    byKey.set(key, value);
  });
  return [...byKey].map(([key, value]) => ({ key, value }));
}

/** Validates run tags; a key given twice keeps its last value. */
export function checkTags(field: string, tags: readonly Tag[], valueLimit: number = LIMITS.tagValueLength): Tag[] {
  const byKey = new Map<string, string>();
  tags.forEach((tag, i) => {
    if (typeof tag !== 'object' || tag === null) throw invalidParameter(`${field}[${i}]`, 'must be an object');
    const key = checkKey(`${field}[${i}].key`, tag.key);
    byKey.set(key, checkText(`${field}[${i}].value`, tag.value, valueLimit));
  });
  return [...byKey].map(([key, value]) => ({ key, value }));
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value;
}

/**
 * Validates dataset inputs with MLflow's limits: name (≤ 500), digest (≤ 64, a full SHA-256 in hex; MLflow allows 36) and source type
 * (≤ 36) non-empty; source ≤ 65,535 characters, schema ≤ 1 MiB, profile ≤ 16 MiB (both optional);
 * input tag keys non-empty ≤ 255, values ≤ 500. Messages name the item: `datasets[2].dataset.digest: …`.
 *
 * @example
 * checkDatasetInputs([{ dataset: { name: 'iris', digest: '8f9e', sourceType: 'code', source: '{}', schema: null, profile: null }, tags: [] }]);
 */
export function checkDatasetInputs(inputs: readonly DatasetInput[], field = 'datasets'): DatasetInput[] {
  if (!Array.isArray(inputs)) throw invalidParameter(field, 'must be a list');
  if (inputs.length > LIMITS.datasetsPerRequest) {
    throw invalidParameter(field, `at most ${LIMITS.datasetsPerRequest} datasets per request; got ${inputs.length}`);
  }
  return inputs.map((input, i) => {
    const at = `${field}[${i}]`;
    if (typeof input !== 'object' || input === null) throw invalidParameter(at, 'must be an object');
    const d = input.dataset;
    if (typeof d !== 'object' || d === null) throw invalidParameter(`${at}.dataset`, 'must be an object');
    const required = (name: keyof Dataset, wire: string, limit: number) => {
      const value = checkText(`${at}.dataset.${wire}`, d[name], limit);
      if (value.length === 0) throw invalidParameter(`${at}.dataset.${wire}`, 'must not be empty');
      return value;
    };
    const optional = (name: 'schema' | 'profile', limit: number) =>
      d[name] === null || d[name] === undefined || d[name] === ''
        ? null
        : checkText(`${at}.dataset.${name}`, d[name], limit);
    const dataset: Dataset = {
      name: required('name', 'name', LIMITS.datasetNameLength),
      digest: required('digest', 'digest', LIMITS.datasetDigestLength),
      sourceType: required('sourceType', 'source_type', LIMITS.datasetSourceTypeLength),
      source: checkText(`${at}.dataset.source`, d.source, LIMITS.datasetSourceLength),
      schema: optional('schema', LIMITS.datasetSchemaLength),
      profile: optional('profile', LIMITS.datasetProfileLength),
    };
    const tags = input.tags ?? [];
    if (!Array.isArray(tags)) throw invalidParameter(`${at}.tags`, 'must be a list');
    const checkedTags = tags.map((tag, j): Tag => {
      if (typeof tag !== 'object' || tag === null) throw invalidParameter(`${at}.tags[${j}]`, 'must be an object');
      const key = checkText(`${at}.tags[${j}].key`, tag.key, LIMITS.inputTagKeyLength);
      if (key.length === 0) throw invalidParameter(`${at}.tags[${j}].key`, 'must not be empty');
      return { key, value: checkText(`${at}.tags[${j}].value`, tag.value, LIMITS.inputTagValueLength) };
    });
    return { dataset, tags: checkedTags };
  });
}
