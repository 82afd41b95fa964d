import { invalidParameter } from '../core/index.js';
import { type ForestOptions, fitForest } from './forest/index.js';
import { type Frame, takeRows } from './frame.js';
import { featureImportance, fitGbdt, type GbdtModel, type GbdtOptions } from './gbdt/index.js';
import { fitLinearRegression, type LinearRegressionOptions } from './linear.js';
import { fitLogisticRegression, type LogisticRegressionOptions } from './logistic.js';
import type { Matrix } from './matrix.js';
import { type LearnerModel, predictModel, type SignatureType, type Task, type TrainedModel } from './model.js';
import { checkPipelineSpec, fitTransform, type PipelineSpec, transform as transformFrame } from './preprocess/index.js';
import { defaultPipeline, encodeTarget, signatureOf } from './train-data.js';
import { type ModelScores, scoreMetrics } from './train-evaluate.js';
import {
  LEARNERS,
  type LearnerName,
  type LearnerParamValue,
  type ResolvedParams,
  resolveParams,
  withDefaults,
} from './train-params.js';

/** The tasks a training spec may name; `classification` becomes binary or multiclass from the target. */
export const TRAIN_TASKS = ['binary', 'multiclass', 'regression', 'classification'] as const;

/**
 * What to train: the task, the target column, the features (default: every other column), the
 * learner and its parameters under their XGBoost / sklearn snake_case names, and optionally a
 * preprocessing spec replacing the learner's default one.
 *
 * @example
 * const spec: TrainSpec = { task: 'classification', target: 'species', model: 'gbdt', params: { max_depth: 4 } };
 */
export interface TrainSpec {
  task: Task | 'classification';
  target: string;
  features?: string[];
  model: LearnerName;
  params: Record<string, LearnerParamValue>;
  preprocessing?: PipelineSpec;
}

/** Called after every iteration (a boosting round); returning true stops training early. */
// biome-ignore lint/suspicious/noConfusingVoidType: callbacks that return nothing must type-check.
export type IterationHook = (step: number, metrics: Record<string, number>) => boolean | void;

/** Options of {@link trainModel}. */
export interface TrainOptions {
  /** Scored after every iteration (gradient boosting: also early stopping) and at the end. */
  validation?: Frame;
  onIteration?: IterationHook;
  signal?: AbortSignal;
  /** Signature types finer than the frame's (integer, boolean, string columns), by column. */
  columnTypes?: Readonly<Record<string, SignatureType>>;
}

/** What {@link trainModel} returns. */
export interface TrainResult {
  model: TrainedModel;
  /** `train_<metric>` and, with a validation frame, `validation_<metric>`; see {@link evaluateModel}. */
  metrics: Record<string, number>;
  /** Importance of every matrix column by kind: gain and split (gbdt), impurity (forest), coef (|coefficient|). */
  importance: Record<string, Record<string, number>>;
  /** Per-iteration metrics, by name, indexed by step (gradient boosting only). */
  history: Record<string, number[]>;
  /** The learner parameters after defaults, by their canonical snake_case names. */
  params: ResolvedParams;
  /** The preprocessing spec that was fitted (the default one unless the spec gave one). */
  preprocessing: PipelineSpec;
  /** Rows left out because their target was missing: training, and validation (also unseen classes). */
  dropped: { train: number; validation: number };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks a spec that may come from JSON (API, CLI, a queued job) and returns it with its parameters
 * resolved to canonical names and types; every problem is INVALID_PARAMETER_VALUE naming the field.
 * Whether the columns exist is checked against the data, in {@link trainModel} (or earlier by the caller).
 *
 * @example
 * checkTrainSpec({ task: 'regression', target: 'y', model: 'linear', params: { alpha: '0.5' } });
 */
export function checkTrainSpec(raw: unknown): TrainSpec {
  if (!isRecord(raw)) throw invalidParameter('spec', 'must be an object with task, target and model');
  const { task, target, features, model, params, preprocessing } = raw;
  if (!(TRAIN_TASKS as readonly unknown[]).includes(task)) {
    throw invalidParameter('task', `must be one of ${TRAIN_TASKS.join(', ')}`, task);
  }
  if (typeof target !== 'string' || target === '') throw invalidParameter('target', 'must name a column', target);
  if (!(LEARNERS as readonly unknown[]).includes(model)) {
    throw invalidParameter('model', `must be one of ${LEARNERS.join(', ')}`, model);
  }
  if (model === 'linear' && task !== 'regression') {
    throw invalidParameter('task', `the linear model does regression; use logistic for ${task}`, task);
  }
  if (model === 'logistic' && task === 'regression') {
    throw invalidParameter('task', 'the logistic model classifies; use linear, gbdt or forest for regression', task);
  }
  const spec: TrainSpec = {
    task: task as TrainSpec['task'],
    target,
    model: model as LearnerName,
    params: resolveParams(model as LearnerName, isRecord(params) ? (params as Record<string, LearnerParamValue>) : {}),
  };
  if (params !== undefined && !isRecord(params)) throw invalidParameter('params', 'must be an object', params);
  if (features !== undefined) {
    if (!Array.isArray(features) || features.length === 0 || !features.every((f) => typeof f === 'string')) {
      throw invalidParameter('features', 'must be a non-empty list of column names', features);
    }
    if (features.includes(target)) throw invalidParameter('features', `lists the target '${target}'`, target);
    spec.features = [...new Set(features as string[])];
  }
  if (preprocessing !== undefined) spec.preprocessing = checkPipelineSpec(preprocessing);
  return spec;
}

/**
 * The feature columns of a spec among the data's `columns`: the spec's own, else the columns its
 * preprocessing names, else every column but the target. Each must exist, and a preprocessing spec
 * may only name features (never the target).
 *
 * @example
 * featureColumns({ task: 'regression', target: 'y', model: 'linear', params: {} }, ['x', 'y']); // ['x']
 */
export function featureColumns(spec: TrainSpec, columns: readonly string[]): string[] {
  const pipelineColumns = spec.preprocessing === undefined ? undefined : Object.keys(spec.preprocessing.columns);
  const features = spec.features ?? pipelineColumns ?? columns.filter((name) => name !== spec.target);
  if (features.length === 0) throw invalidParameter('features', 'no column is left besides the target');
  for (const name of features) {
    if (!columns.includes(name)) {
      throw invalidParameter('features', `no column '${name}' in the data; columns are ${columns.join(', ')}`, name);
    }
  }
  for (const name of pipelineColumns ?? []) {
    if (name === spec.target || !features.includes(name)) {
      throw invalidParameter('preprocessing', `names column '${name}', which is not a feature`, name);
    }
  }
  return features;
}

const GBDT_OPTION_NAMES: Readonly<Record<string, keyof GbdtOptions>> = {
  n_estimators: 'nRounds',
  learning_rate: 'learningRate',
  max_depth: 'maxDepth',
  lambda: 'lambda',
  alpha: 'alpha',
  gamma: 'gamma',
  min_child_weight: 'minChildWeight',
  subsample: 'subsample',
  colsample_bytree: 'colsampleBytree',
  max_bin: 'maxBins',
  early_stopping_rounds: 'earlyStoppingRounds',
  eval_metric: 'evalMetric',
  grow_policy: 'growPolicy',
  max_leaves: 'maxLeaves',
  threads: 'threads',
  seed: 'seed',
};

const GBDT_METRICS: Record<Task, readonly string[]> = {
  binary: ['logloss', 'rmse'],
  multiclass: ['mlogloss'],
  regression: ['rmse'],
};

interface Fitting {
  X: Matrix;
  y: Float64Array;
  validation?: { X: Matrix; y: Float64Array };
  task: Task;
  classes?: string[];
  params: ResolvedParams;
  /** Matrix columns holding category codes (for native categorical splits). */
  categorical: number[];
  onIteration?: IterationHook;
  signal?: AbortSignal;
  history: Record<string, number[]>;
}

async function fitGbdtLearner(f: Fitting): Promise<GbdtModel> {
  const objective =
    f.task === 'binary' ? 'binary:logistic' : f.task === 'multiclass' ? 'multi:softprob' : 'reg:squarederror';
  const options: Record<string, unknown> = { objective };
  for (const [name, key] of Object.entries(GBDT_OPTION_NAMES)) {
    if (f.params[name] !== undefined) options[key] = f.params[name];
  }
  const metric = f.params.eval_metric;
  if (metric !== undefined && !GBDT_METRICS[f.task].includes(String(metric))) {
    throw invalidParameter(
      'params.eval_metric',
      `${metric} does not fit task ${f.task}; use ${GBDT_METRICS[f.task].join(' or ')}`,
    );
  }
  if (f.params.early_stopping_rounds !== undefined && f.validation === undefined) {
    throw invalidParameter(
      'params.early_stopping_rounds',
      'needs a validation set (evalData or validationFraction > 0)',
    );
  }
  if (f.task === 'multiclass') options.numClass = f.classes?.length;
  if (f.validation !== undefined) options.validation = f.validation;
  if (f.params.categorical !== 'ordinal' && f.categorical.length > 0) options.categoricalFeatures = f.categorical;
  if (f.signal !== undefined) options.signal = f.signal;
  options.onRound = (info: { round: number; train?: number; validation?: number; metric: string }) => {
    const metrics: Record<string, number> = {};
    if (info.train !== undefined) metrics[`train_${info.metric}`] = info.train;
    if (info.validation !== undefined) metrics[`validation_${info.metric}`] = info.validation;
    for (const [key, value] of Object.entries(metrics)) {
      const series = f.history[key] ?? [];
      series[info.round] = value;
      f.history[key] = series;
    }
    return f.onIteration?.(info.round, metrics) === true;
  };
  return fitGbdt(f.X, f.y, options as unknown as GbdtOptions);
}

function fitLearner(learner: LearnerName, f: Fitting): Promise<LearnerModel> | LearnerModel {
  const p = f.params;
  if (learner === 'gbdt') return fitGbdtLearner(f);
  if (learner === 'logistic') {
    const options: LogisticRegressionOptions = {};
    if (p.penalty !== undefined) options.penalty = p.penalty as LogisticRegressionOptions['penalty'];
    if (p.C !== undefined) options.C = p.C as number;
    if (p.l1_ratio !== undefined) options.l1Ratio = p.l1_ratio as number;
    if (p.fit_intercept !== undefined) options.fitIntercept = p.fit_intercept as boolean;
    if (p.class_weight === 'balanced') options.classWeight = 'balanced';
    if (p.max_iter !== undefined) options.maxIter = p.max_iter as number;
    if (p.tol !== undefined) options.tol = p.tol as number;
    return fitLogisticRegression(f.X, Int32Array.from(f.y), options);
  }
  if (learner === 'linear') {
    const options: LinearRegressionOptions = {};
    if (p.penalty !== undefined) options.penalty = p.penalty as LinearRegressionOptions['penalty'];
    if (p.alpha !== undefined) options.alpha = p.alpha as number;
    if (p.l1_ratio !== undefined) options.l1Ratio = p.l1_ratio as number;
    if (p.fit_intercept !== undefined) options.fitIntercept = p.fit_intercept as boolean;
    if (p.max_iter !== undefined) options.maxIter = p.max_iter as number;
    if (p.tol !== undefined) options.tol = p.tol as number;
    return fitLinearRegression(f.X, f.y, options);
  }
  return fitForestLearner(f);
}

function fitForestLearner(f: Fitting): Promise<LearnerModel> {
  const p = f.params;
  const options: ForestOptions = { task: f.task === 'regression' ? 'regression' : 'classification' };
  if (f.task !== 'regression') options.numClasses = f.classes?.length as number;
  if (p.n_estimators !== undefined) options.nEstimators = p.n_estimators as number;
  if (typeof p.max_depth === 'number' && p.max_depth > 0) options.maxDepth = p.max_depth;
  if (p.min_samples_split !== undefined) options.minSamplesSplit = p.min_samples_split as number;
  if (p.min_samples_leaf !== undefined) options.minSamplesLeaf = p.min_samples_leaf as number;
  if (p.max_features !== undefined) options.maxFeatures = p.max_features as ForestOptions['maxFeatures'];
  if (p.bootstrap !== undefined) options.bootstrap = p.bootstrap as boolean;
  if (p.oob_score !== undefined) options.oobScore = p.oob_score as boolean;
  if (p.threads !== undefined) options.threads = p.threads as number;
  if (p.seed !== undefined) options.seed = p.seed as number;
  if (f.signal !== undefined) options.signal = f.signal;
  // Trees have no per-tree metric: the hook sees progress (and may stop the forest) with no metrics.
  options.onTree = (done) => f.onIteration?.(done - 1, {}) === true;
  return fitForest(f.X, f.y, options);
}

/** What a trained model says about the rows of a frame, through {@link predictModel}. */
function modelScores(model: TrainedModel, frame: Frame): ModelScores {
  const out = predictModel(model, frame);
  if (out.probabilities === undefined) return { kind: 'values', values: out.prediction as Float64Array };
  return { kind: 'probabilities', classes: model.classes?.length ?? 0, values: out.probabilities };
}

function importanceOf(learner: LearnerModel, names: readonly string[]): Record<string, Record<string, number>> {
  const byName = (values: ArrayLike<number>) => Object.fromEntries(names.map((n, i) => [n, values[i] as number]));
  switch (learner.kind) {
    case 'gbdt':
      return { gain: byName(featureImportance(learner, 'gain')), split: byName(featureImportance(learner, 'split')) };
    case 'logistic-regression':
    case 'linear-regression': {
      const p = names.length;
      const sums = new Float64Array(p);
      learner.coef.forEach((w, i) => {
        sums[i % p] = (sums[i % p] as number) + Math.abs(w);
      });
      return { coef: byName(sums) };
    }
    case 'forest':
      return { impurity: byName(learner.featureImportances) };
  }
}

/**
 * The task's metrics of a trained model on a frame holding its target column (rows whose target is
 * missing or an unseen class are skipped): binary auc, pr_auc, log_loss, accuracy, f1, brier;
 * multiclass accuracy, f1_macro, f1_weighted, log_loss, auc_ovr; regression rmse, mae, mape, r2.
 *
 * @example
 * const { auc, log_loss } = evaluateModel(result.model, testFrame);
 */
export function evaluateModel(model: TrainedModel, frame: Frame): Record<string, number> {
  const target = encodeTarget(frame, model.target, model.task, model.classes);
  if (target.kept.length === 0) return {};
  const rows = target.dropped === 0 ? frame : takeRows(frame, target.kept);
  return scoreMetrics(model.task, target.y, modelScores(model, rows));
}

function prefixed(prefix: string, metrics: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(metrics).map(([k, v]) => [`${prefix}_${k}`, v]));
}

/**
 * Trains a model end to end on a frame: encodes the target (dropping rows where it is missing),
 * fits the preprocessing (the learner's default unless the spec gives one) and the learner, and
 * scores the training frame and the optional validation frame. Gradient boosting reports every
 * round's metrics to `onIteration` (returning true stops it early, keeping the rounds so far), uses the
 * validation frame for early stopping, and stops on `signal`.
 *
 * @example
 * const { model, metrics } = await trainModel(penguins, { task: 'classification', target: 'Species', model: 'gbdt', params: {} });
 * metrics.train_accuracy; // ≈ 1
 */
export async function trainModel(train: Frame, rawSpec: TrainSpec, options: TrainOptions = {}): Promise<TrainResult> {
  const spec = checkTrainSpec(rawSpec);
  if (!train.columns.some((c) => c.name === spec.target)) {
    throw invalidParameter(
      'target',
      `no column '${spec.target}'; columns are ${train.columns.map((c) => c.name).join(', ')}`,
    );
  }
  const features = featureColumns(
    spec,
    train.columns.map((c) => c.name),
  );
  const target = encodeTarget(train, spec.target, spec.task);
  if (target.kept.length === 0) throw invalidParameter('target', `'${spec.target}' is missing in every row`);
  const rows = target.dropped === 0 ? train : takeRows(train, target.kept);
  const pipeline = spec.preprocessing ?? defaultPipeline(spec.model, rows, features);
  const linearTarget = target.task === 'regression' || target.task === 'binary' ? target.y : undefined;
  const { fitted, matrix } = fitTransform(pipeline, rows, linearTarget === undefined ? {} : { target: linearTarget });
  let validation: Fitting['validation'];
  let validationTarget: ReturnType<typeof encodeTarget> | undefined;
  let validationRows: Frame | undefined;
  if (options.validation !== undefined) {
    validationTarget = encodeTarget(options.validation, spec.target, target.task, target.classes);
    validationRows =
      validationTarget.dropped === 0 ? options.validation : takeRows(options.validation, validationTarget.kept);
    if (validationRows.rows > 0) validation = { X: transformFrame(fitted, validationRows), y: validationTarget.y };
  }
  const categorical = fitted.columns.flatMap((c) =>
    c.steps.length === 1 && c.steps[0]?.kind === 'ordinal' ? [fitted.names.indexOf(c.outputs[0] as string)] : [],
  );
  const history: Record<string, number[]> = {};
  const params = withDefaults(spec.model, spec.params);
  const learner = await fitLearner(spec.model, {
    X: matrix,
    y: target.y,
    ...(validation === undefined ? {} : { validation }),
    task: target.task,
    ...(target.classes === undefined ? {} : { classes: target.classes }),
    params,
    categorical,
    ...(options.onIteration === undefined ? {} : { onIteration: options.onIteration }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    history,
  });
  const model: TrainedModel = {
    task: target.task,
    target: spec.target,
    ...(target.classes === undefined ? {} : { classes: target.classes }),
    signature: signatureOf(rows, features, target.task, target.classes, options.columnTypes),
    preprocessing: fitted,
    learner,
  };
  const metrics: Record<string, number> = {};
  if (learner.kind === 'forest' && learner.oobScore !== null) metrics.oob_score = learner.oobScore;
  Object.assign(metrics, prefixed('train', scoreMetrics(model.task, target.y, modelScores(model, rows))));
  if (validation !== undefined && validationRows !== undefined && validationTarget !== undefined) {
    Object.assign(
      metrics,
      prefixed('validation', scoreMetrics(model.task, validation.y, modelScores(model, validationRows))),
    );
  }
  return {
    model,
    metrics,
    importance: importanceOf(learner, fitted.names),
    history,
    params,
    preprocessing: pipeline,
    dropped: { train: target.dropped, validation: validationTarget?.dropped ?? 0 },
  };
}
