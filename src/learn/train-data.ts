import { invalidParameter } from '../core/index.js';
import { type Column, type Frame, takeRows } from './frame.js';
import type { ModelSignature, SignatureType, Task } from './model.js';
import { DATE_PARTS, type DatePart, datePart, type PipelineSpec, type Step } from './preprocess/index.js';
import { createRng, shuffleInPlace } from './random.js';
import type { LearnerName } from './train-params.js';

/** Most classes a classification target may have; more usually means the task should be regression. */
export const MAX_CLASSES = 1000;

/**
 * The date parts a default pipeline extracts from a datetime column: those that vary in the
 * training data (dates without a time have no useful hour; a constant part breaks least squares).
 */
function varyingDateParts(values: Float64Array): DatePart[] {
  return DATE_PARTS.filter((part) => {
    let first = Number.NaN;
    for (let i = 0; i < values.length; i++) {
      const v = datePart(values[i] as number, part);
      if (Number.isNaN(v)) continue;
      if (Number.isNaN(first)) first = v;
      else if (v !== first) return true;
    }
    return false;
  });
}

/** The target of a frame as a learner needs it. */
export interface EncodedTarget {
  task: Task;
  /** Class labels in index order (sorted as strings); classification only. */
  classes?: string[];
  /** Class indices or values, one per kept row. */
  y: Float64Array;
  /** Rows of the frame whose target is present, in order. */
  kept: Int32Array;
  /** Rows dropped because their target was missing (or, given `classes`, a class unseen in training). */
  dropped: number;
}

/** The target column's values as label strings (undefined = missing). */
function labelsOf(col: Column, field: string): (string | undefined)[] {
  if (col.kind === 'datetime')
    throw invalidParameter(field, `target '${col.name}' is a datetime column; it cannot be a label`);
  if (col.kind === 'categorical') return Array.from(col.codes, (c) => (c < 0 ? undefined : col.dictionary[c]));
  return Array.from(col.values, (v) => (Number.isNaN(v) ? undefined : String(v)));
}

/**
 * Encodes the target column: classification labels become indices of the classes sorted as strings
 * (`task: 'classification'` picks binary for two classes, multiclass for more); regression needs a
 * numeric column. Rows with a missing target are dropped and counted. With `classes` (from training),
 * the labels of another frame are encoded the same way and rows with an unseen class are dropped too.
 *
 * @example
 * const { task, classes, y, kept } = encodeTarget(frame, 'species', 'classification');
 */
export function encodeTarget(
  frame: Frame,
  target: string,
  task: Task | 'classification',
  classes?: readonly string[],
): EncodedTarget {
  const field = 'target';
  const col = frame.columns.find((c) => c.name === target);
  if (col === undefined) {
    throw invalidParameter(field, `no column '${target}'; columns are ${frame.columns.map((c) => c.name).join(', ')}`);
  }
  if (task === 'regression') {
    if (col.kind !== 'float') {
      throw invalidParameter(field, `regression needs a numeric target; '${target}' is ${col.kind}`, target);
    }
    const kept: number[] = [];
    for (let i = 0; i < frame.rows; i++) if (!Number.isNaN(col.values[i] as number)) kept.push(i);
    const y = Float64Array.from(kept, (i) => col.values[i] as number);
    return { task, y, kept: Int32Array.from(kept), dropped: frame.rows - kept.length };
  }
  const labels = labelsOf(col, field);
  const known = classes ?? [...new Set(labels.filter((l) => l !== undefined))].sort();
  if (classes === undefined) checkClassCount(task, known.length, target);
  const index = new Map(known.map((label, i) => [label, i]));
  const kept: number[] = [];
  const y: number[] = [];
  labels.forEach((label, i) => {
    const code = label === undefined ? undefined : index.get(label);
    if (code === undefined) return;
    kept.push(i);
    y.push(code);
  });
  const resolved: Task = task === 'classification' ? (known.length === 2 ? 'binary' : 'multiclass') : task;
  return {
    task: resolved,
    classes: [...known],
    y: Float64Array.from(y),
    kept: Int32Array.from(kept),
    dropped: frame.rows - kept.length,
  };
}

function checkClassCount(task: Task | 'classification', count: number, target: string): void {
  if (count < 2)
    throw invalidParameter('target', `'${target}' has ${count} class(es); classification needs at least 2`);
  if (task === 'binary' && count !== 2) {
    throw invalidParameter('task', `binary needs a target with 2 classes; '${target}' has ${count}: use multiclass`);
  }
  if (count > MAX_CLASSES) {
    throw invalidParameter(
      'task',
      `'${target}' has ${count} distinct values, more than ${MAX_CLASSES} classes: use task regression for a numeric target`,
    );
  }
}

/**
 * The preprocessing a learner gets unless the user gives one: trees take numbers as they are
 * (missing values included: gradient boosting learns where they go, the forest gets them imputed by
 * the median), categoricals as ordinal codes (native categorical splits for gradient boosting) and
 * date parts; linear models get mean imputation and standard scaling, one-hot categoricals with an
 * "other" bucket for rare and unseen categories, and scaled date parts.
 *
 * @example
 * defaultPipeline('logistic', frame, ['bill', 'island']);
 * // { columns: { bill: [impute mean, standard], island: [onehot] } }
 */
export function defaultPipeline(learner: LearnerName, frame: Frame, features: readonly string[]): PipelineSpec {
  const columns: Record<string, Step[]> = {};
  for (const name of features) {
    const col = frame.columns.find((c) => c.name === name);
    if (col === undefined) throw invalidParameter('features', `no column '${name}' in the data`, name);
    columns[name] = defaultSteps(learner, col);
  }
  return { columns };
}

function defaultSteps(learner: LearnerName, col: Column): Step[] {
  const linear = learner === 'logistic' || learner === 'linear';
  if (col.kind === 'categorical') {
    if (linear) return [{ kind: 'onehot', minFrequency: 5, maxCategories: 64 }];
    // Unknown categories join the missing ones; the forest, which needs numbers, sees both as -1.
    return learner === 'forest'
      ? [{ kind: 'ordinal', unknownValue: -1, missingValue: -1 }]
      : [{ kind: 'ordinal', unknownValue: null, missingValue: null }];
  }
  const parts: Step[] = [];
  if (col.kind === 'datetime') {
    const varying = varyingDateParts(col.values);
    // A constant date still needs a step to become numbers; its one part is then a constant feature.
    parts.push({ kind: 'dateparts', parts: varying.length > 0 ? varying : ['year'] });
  }
  if (linear) return [...parts, { kind: 'impute', strategy: 'mean' }, { kind: 'standard' }];
  if (learner === 'forest') return [...parts, { kind: 'impute', strategy: 'median', addIndicator: true }];
  return parts;
}

/**
 * Splits a frame into a training part and a holdout of `fraction` of its rows, drawn at random with
 * `seed` (the same seed gives the same split).
 *
 * @example
 * const { train, holdout } = holdoutSplit(frame, 0.2, 0);
 */
export function holdoutSplit(frame: Frame, fraction: number, seed: number): { train: Frame; holdout: Frame } {
  if (!(fraction > 0 && fraction < 1)) throw invalidParameter('validationFraction', 'must be in (0, 1)', fraction);
  const order = Int32Array.from({ length: frame.rows }, (_, i) => i);
  shuffleInPlace(order, createRng(seed));
  const size = Math.round(frame.rows * fraction);
  if (size < 1 || size >= frame.rows) {
    throw invalidParameter('validationFraction', `leaves no rows on one side of ${frame.rows} rows`, fraction);
  }
  const holdout = order.subarray(0, size).slice().sort();
  const train = order.subarray(size).slice().sort();
  return { train: takeRows(frame, train), holdout: takeRows(frame, holdout) };
}

/**
 * A model's signature from the feature columns of its training frame; `types` refines a column's
 * type (the data context knows integer, boolean and string columns the frame sees as float or categorical).
 */
export function signatureOf(
  frame: Frame,
  features: readonly string[],
  task: Task,
  classes: readonly string[] | undefined,
  types: Readonly<Record<string, SignatureType>> = {},
): ModelSignature {
  const inputs = features.map((name) => {
    const col = frame.columns.find((c) => c.name === name) as Column;
    let nullable = false;
    for (let i = 0; i < frame.rows && !nullable; i++) {
      nullable = col.kind === 'categorical' ? (col.codes[i] as number) < 0 : Number.isNaN(col.values[i] as number);
    }
    return { name, type: types[name] ?? col.kind, nullable };
  });
  const outputs: ModelSignature['outputs'] = [{ name: 'prediction', type: task === 'regression' ? 'float' : 'string' }];
  for (const label of classes ?? []) outputs.push({ name: `probability(${label})`, type: 'float' });
  return { inputs, outputs };
}
