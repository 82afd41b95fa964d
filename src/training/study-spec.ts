import { invalidParameter } from '../core/index.js';
import {
  checkPrunerSpec,
  checkSamplerSpec,
  checkSearchSpace,
  gridSize,
  type PrunerSpec,
  type SamplerSpec,
  type SearchSpace,
} from '../learn/index.js';
import { checkModelName } from '../registry/index.js';

/** Whether a larger or a smaller value of the study's metric is better. */
export type StudyDirection = 'minimize' | 'maximize';

/** A scalar a learner parameter takes, as `kiln train --param` and the training API accept them. */
export type BaseParamValue = string | number | boolean;

/** What every trial trains: a training request without the tuned parameters. */
export interface TrainingTemplate {
  /** `name` (latest version) or `name@version`. */
  data: string;
  evalData?: string;
  target: string;
  task: string;
  model: string;
  features?: string[];
  validationFraction?: number;
  /** Learner parameters every trial shares; the space's parameters are added per trial. */
  params: Record<string, BaseParamValue>;
}

/**
 * A validated study: what to train, over which space, judged by which metric, sampled and pruned
 * how, and how many trials at once. {@link checkStudySpec} builds it from the wire form, filling
 * the defaults, and {@link studySpecToWire} turns it back, so the stored spec is the wire form.
 */
export interface StudySpec {
  name: string;
  /** Experiment name of the parent run and of every trial's run; the workspace default when absent. */
  experiment?: string;
  training: TrainingTemplate;
  space: SearchSpace;
  /** A final metric of a trial's run, e.g. `validation_auc`; also the per-iteration value pruned on. */
  metric: string;
  direction: StudyDirection;
  sampler: SamplerSpec;
  pruner: PrunerSpec;
  nTrials: number;
  parallelism: number;
  timeoutSeconds?: number;
  /** Registered model name the best trial's model becomes a version of when the study completes. */
  registerBest?: string;
}

export const DEFAULT_N_TRIALS = 20;
export const MAX_N_TRIALS = 10_000;
export const MAX_PARALLELISM = 64;
const MAX_TIMEOUT_SECONDS = 30 * 24 * 3600;
const MODELS = ['gbdt', 'forest', 'logistic', 'linear'] as const;
const TASKS = ['classification', 'binary', 'multiclass', 'regression'] as const;
const METRIC_PATTERN = /^[A-Za-z0-9_.-]{1,250}$/;
const NAME_LIMIT = 256;

/** Metric names (after a `validation_` / `eval_` / `train_` prefix) where larger is better. */
const MAXIMIZED = new Set([
  'auc',
  'auc_ovr',
  'pr_auc',
  'accuracy',
  'f1',
  'f1_macro',
  'f1_weighted',
  'precision',
  'recall',
  'r2',
]);
/** Metric names where smaller is better. */
const MINIMIZED = new Set(['log_loss', 'brier', 'rmse', 'mae', 'mape', 'mse', 'loss', 'error']);

/**
 * The direction a metric is optimised in when the spec does not say: maximise scores such as AUC,
 * accuracy, F1 and R², minimise losses and errors; undefined for a metric Kiln does not know.
 *
 * @example
 * directionOf('validation_auc'); // 'maximize'
 * directionOf('eval_rmse'); // 'minimize'
 */
export function directionOf(metric: string): StudyDirection | undefined {
  const base = metric.replace(/^(validation|eval|train)_/, '');
  if (MAXIMIZED.has(base)) return 'maximize';
  if (MINIMIZED.has(base)) return 'minimize';
  return undefined;
}

/**
 * The metric a study optimises when it names none: validation log loss for classification, RMSE
 * for regression. Both are also what gradient boosting reports every round, so the pruner has
 * intermediate values to work with.
 */
function defaultMetric(task: string): string {
  return task === 'regression' ? 'validation_rmse' : 'validation_log_loss';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(body: Record<string, unknown>, field: string, limit = NAME_LIMIT): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.trim().length === 0 || value.length > limit) {
    throw invalidParameter(field, `must be a non-empty string of at most ${limit} characters`, value);
  }
  return value;
}

function required(body: Record<string, unknown>, field: string): string {
  const value = text(body, field);
  if (value === undefined) throw invalidParameter(field, 'is required');
  return value;
}

function oneOf<T extends string>(field: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw invalidParameter(field, `must be one of ${allowed.join(', ')}`, value);
  }
  return value as T;
}

function integer(body: Record<string, unknown>, field: string, min: number, max: number): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidParameter(field, `must be an integer from ${min} to ${max}`, value);
  }
  return value;
}

function baseParams(value: unknown): Record<string, BaseParamValue> {
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) throw invalidParameter('params', 'must be an object of parameter names to values', value);
  const params: Record<string, BaseParamValue> = {};
  for (const [key, param] of Object.entries(value)) {
    if (
      typeof param !== 'string' &&
      typeof param !== 'boolean' &&
      !(typeof param === 'number' && Number.isFinite(param))
    ) {
      throw invalidParameter(`params.${key}`, 'must be a string, a finite number or a boolean', param);
    }
    params[key] = param;
  }
  return params;
}

function features(value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.length === 0 || value.some((f) => typeof f !== 'string' || f.length === 0)) {
    throw invalidParameter('features', 'must be a non-empty list of column names', value);
  }
  return value as string[];
}

function fraction(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !(value >= 0 && value < 1)) {
    throw invalidParameter('validation_fraction', 'must be a number from 0 (no holdout) up to but excluding 1', value);
  }
  return value;
}

function training(body: Record<string, unknown>): TrainingTemplate {
  const template: TrainingTemplate = {
    data: required(body, 'data'),
    target: required(body, 'target'),
    task: oneOf('task', required(body, 'task'), TASKS),
    model: oneOf('model', required(body, 'model'), MODELS),
    params: baseParams(body.params),
  };
  const evalData = text(body, 'eval_data');
  if (evalData !== undefined) template.evalData = evalData;
  const columns = features(body.features);
  if (columns !== undefined) template.features = columns;
  const holdout = fraction(body.validation_fraction);
  if (holdout !== undefined) template.validationFraction = holdout;
  return template;
}

function metricAndDirection(
  body: Record<string, unknown>,
  task: string,
): { metric: string; direction: StudyDirection } {
  const metric = text(body, 'metric') ?? defaultMetric(task);
  if (!METRIC_PATTERN.test(metric))
    throw invalidParameter('metric', 'must be a metric key such as validation_auc', metric);
  const given = text(body, 'direction');
  const direction = given === undefined ? directionOf(metric) : oneOf('direction', given, ['minimize', 'maximize']);
  if (direction === undefined) {
    throw invalidParameter(
      'direction',
      `is required: Kiln does not know whether '${metric}' should be minimised or maximised`,
    );
  }
  return { metric, direction };
}

/**
 * Validates a study spec in its wire form (snake_case, as `POST /api/v1/studies` takes it) and
 * fills the defaults: metric by task, direction by metric, TPE with seed 0, the median pruner, 20
 * trials, one at a time. A grid study never asks for more trials than its grid has points. Bad
 * input is INVALID_PARAMETER_VALUE naming the field (`space.max_depth.low`, `n_trials` …).
 *
 * @example
 * const spec = checkStudySpec({
 *   data: 'flights@1', target: 'delayed', task: 'binary', model: 'gbdt',
 *   space: { max_depth: { type: 'int', low: 3, high: 10 } }, n_trials: 30, parallelism: 2,
 * });
 * spec.metric; // 'validation_log_loss'
 */
export function checkStudySpec(body: unknown): StudySpec {
  if (!isRecord(body)) throw invalidParameter('spec', 'must be a JSON object');
  const template = training(body);
  if (body.space === undefined || body.space === null) throw invalidParameter('space', 'is required');
  const space = checkSearchSpace(body.space, 'space');
  for (const param of Object.keys(space)) {
    if (param in template.params) {
      throw invalidParameter(`params.${param}`, 'is also in the search space; give it in one place only');
    }
  }
  const sampler = checkSamplerSpec(body.sampler ?? { type: 'tpe', seed: 0 }, 'sampler');
  const pruner = checkPrunerSpec(body.pruner ?? { type: 'median' }, 'pruner');
  let nTrials = integer(body, 'n_trials', 1, MAX_N_TRIALS) ?? DEFAULT_N_TRIALS;
  if (sampler.type === 'grid') nTrials = Math.min(nTrials, gridSize(space));
  const parallelism = integer(body, 'parallelism', 1, MAX_PARALLELISM) ?? 1;
  const timeoutSeconds = integer(body, 'timeout_seconds', 1, MAX_TIMEOUT_SECONDS);
  const registerBest =
    body.register_best === undefined || body.register_best === null
      ? undefined
      : checkModelName('register_best', body.register_best);
  const spec: StudySpec = {
    name: text(body, 'name') ?? `${template.model}-${template.data.replace(/@.*$/, '')}`,
    training: template,
    space,
    ...metricAndDirection(body, template.task),
    sampler,
    pruner,
    nTrials,
    parallelism: Math.min(parallelism, nTrials),
  };
  const experiment = text(body, 'experiment');
  if (experiment !== undefined) spec.experiment = experiment;
  if (timeoutSeconds !== undefined) spec.timeoutSeconds = timeoutSeconds;
  if (registerBest !== undefined) spec.registerBest = registerBest;
  return spec;
}

/**
 * The wire form of a spec, defaults filled in: what is stored, what `GET /api/v1/studies/:id`
 * returns, and what {@link checkStudySpec} turns back into the same spec.
 */
export function studySpecToWire(spec: StudySpec): Record<string, unknown> {
  const { training: t } = spec;
  return {
    name: spec.name,
    ...(spec.experiment === undefined ? {} : { experiment: spec.experiment }),
    data: t.data,
    ...(t.evalData === undefined ? {} : { eval_data: t.evalData }),
    target: t.target,
    task: t.task,
    model: t.model,
    ...(t.features === undefined ? {} : { features: t.features }),
    ...(t.validationFraction === undefined ? {} : { validation_fraction: t.validationFraction }),
    params: t.params,
    space: spec.space,
    metric: spec.metric,
    direction: spec.direction,
    sampler: spec.sampler,
    pruner: spec.pruner,
    n_trials: spec.nTrials,
    parallelism: spec.parallelism,
    ...(spec.timeoutSeconds === undefined ? {} : { timeout_seconds: spec.timeoutSeconds }),
    ...(spec.registerBest === undefined ? {} : { register_best: spec.registerBest }),
  };
}
