import { invalidParameter } from '../core/index.js';
import { type ForestModel, predictForest, predictForestProba } from './forest/index.js';
import type { Column, Frame } from './frame.js';
import { type GbdtModel, predictGbdt } from './gbdt/index.js';
import { type LinearRegressionModel, predictLinear } from './linear.js';
import { type LogisticRegressionModel, predictLogisticProba } from './logistic.js';
import type { Matrix } from './matrix.js';
import { type FittedPipeline, transform } from './preprocess/index.js';

/** What a model predicts. */
export type Task = 'binary' | 'multiclass' | 'regression';

/** Kind of a frame column as a model's signature names it (the data context's schema types map onto these). */
export type SignatureType = 'float' | 'integer' | 'boolean' | 'categorical' | 'string' | 'datetime';

/** One input column a model needs, with its categories when it is categorical. */
export interface SignatureInput {
  name: string;
  type: SignatureType;
  /** Whether missing values were seen at fit (predict accepts missing values either way). */
  nullable: boolean;
}

/** What a model takes and returns: the input columns, and the prediction's shape. */
export interface ModelSignature {
  inputs: SignatureInput[];
  /** `prediction` (a class label or a number) and, for classifiers, one probability per class. */
  outputs: { name: string; type: 'float' | 'string' | 'integer' }[];
}

/**
 * A learner's fitted parameters. Every member is plain data (typed arrays are allowed in memory;
 * the model package stores them as JSON number arrays), distinguished by `kind`.
 */
export type LearnerModel = LinearRegressionModel | LogisticRegressionModel | GbdtModel | ForestModel;

/**
 * A trained model end to end: the fitted preprocessing applied to a Frame, the learner on its matrix,
 * and what is needed to turn the learner's output into labels. This is what a Kiln model package stores.
 */
export interface TrainedModel {
  task: Task;
  /** Name of the target column in the training data. */
  target: string;
  /** Class labels in the order of the learner's class indices (classification only), as strings. */
  classes?: string[];
  signature: ModelSignature;
  preprocessing: FittedPipeline;
  learner: LearnerModel;
}

/** What {@link predictModel} returns for a frame of n rows. */
export interface ModelPrediction {
  /** Regression: n numbers. Classification: n class labels (the most probable class, the first on ties). */
  prediction: Float64Array | string[];
  /** Classification only: n × classes probabilities, row-major, columns in the order of `classes`. */
  probabilities?: Float64Array;
}

/** Frame column kinds a signature type may arrive as (integers load as numbers or, when few, as categories). */
const FRAME_KINDS: Record<SignatureType, readonly Column['kind'][]> = {
  float: ['float'],
  integer: ['float', 'categorical'],
  boolean: ['categorical'],
  categorical: ['categorical'],
  string: ['categorical'],
  datetime: ['datetime'],
};

/**
 * Checks that `frame` has every input column of `signature` with a fitting kind, before any work is
 * done: the 4xx a caller of a served model gets for a wrong request. Extra columns are allowed.
 *
 * @example
 * checkFrameAgainstSignature(model.signature, frame); // throws: columns.island: missing from the input …
 */
export function checkFrameAgainstSignature(signature: ModelSignature, frame: Frame): void {
  for (const input of signature.inputs) {
    const col = frame.columns.find((c) => c.name === input.name);
    const field = `columns.${input.name}`;
    if (col === undefined) {
      const names = frame.columns.map((c) => c.name).join(', ') || 'none';
      throw invalidParameter(field, `missing from the input; the model needs it (columns given: ${names})`);
    }
    const kinds = FRAME_KINDS[input.type];
    if (!kinds.includes(col.kind)) {
      throw invalidParameter(field, `is ${col.kind} but the model was trained on ${input.type} values`);
    }
    const length = col.kind === 'categorical' ? col.codes.length : col.values.length;
    if (length !== frame.rows) throw invalidParameter(field, `has ${length} values for ${frame.rows} rows`);
  }
}

/** The most probable class per row of a rows × k probability array, the first on ties. */
function argmaxLabels(probabilities: Float64Array, k: number, classes: readonly string[]): string[] {
  const rows = probabilities.length / k;
  const labels = new Array<string>(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < k; c++)
      if ((probabilities[r * k + c] as number) > (probabilities[r * k + best] as number)) best = c;
    labels[r] = classes[best] as string;
  }
  return labels;
}

/** Class probabilities of the learner, rows × k; undefined for regressors. */
function learnerProbabilities(learner: LearnerModel, X: Matrix): Float64Array | undefined {
  switch (learner.kind) {
    case 'linear-regression':
      return undefined;
    case 'logistic-regression':
      return predictLogisticProba(learner, X).data;
    case 'gbdt': {
      if (learner.objective === 'reg:squarederror') return undefined;
      const p = predictGbdt(learner, X);
      if (learner.objective === 'multi:softprob') return p;
      const out = new Float64Array(2 * p.length);
      for (let r = 0; r < p.length; r++) {
        out[2 * r] = 1 - (p[r] as number);
        out[2 * r + 1] = p[r] as number;
      }
      return out;
    }
    case 'forest':
      return learner.task === 'classification' ? predictForestProba(learner, X) : undefined;
  }
}

function classCount(learner: LearnerModel): number {
  switch (learner.kind) {
    case 'linear-regression':
      return 0;
    case 'logistic-regression':
      return learner.classes;
    case 'gbdt':
      return learner.objective === 'multi:softprob' ? learner.outputs : learner.objective === 'binary:logistic' ? 2 : 0;
    case 'forest':
      return learner.task === 'classification' ? learner.classes : 0;
  }
}

function regressionPrediction(learner: LearnerModel, X: Matrix): Float64Array {
  switch (learner.kind) {
    case 'linear-regression':
      return predictLinear(learner, X);
    case 'gbdt':
      return predictGbdt(learner, X);
    case 'forest':
      return predictForest(learner, X);
    case 'logistic-regression':
      throw invalidParameter('task', 'logistic regression is a classifier');
  }
}

/**
 * Predicts with a trained model end to end: checks the frame against the signature, applies the
 * fitted preprocessing, runs the learner and maps class indices to the model's class labels.
 *
 * @example
 * const { prediction, probabilities } = predictModel(model, frame);
 * // classification: prediction = ['Adelie', 'Gentoo', …]; probabilities[r * classes.length + c]
 */
export function predictModel(model: TrainedModel, frame: Frame): ModelPrediction {
  checkFrameAgainstSignature(model.signature, frame);
  const k = classCount(model.learner);
  const classifier = model.task !== 'regression';
  if (classifier !== k > 0) {
    throw invalidParameter('task', `is ${model.task} but the ${model.learner.kind} learner is not made for it`);
  }
  if (classifier && model.classes?.length !== k) {
    throw invalidParameter('classes', `has ${model.classes?.length ?? 0} labels for a learner of ${k} classes`);
  }
  if (frame.rows === 0) {
    return classifier ? { prediction: [], probabilities: new Float64Array(0) } : { prediction: new Float64Array(0) };
  }
  const X = transform(model.preprocessing, frame);
  const probabilities = learnerProbabilities(model.learner, X);
  if (probabilities === undefined) return { prediction: regressionPrediction(model.learner, X) };
  return { prediction: argmaxLabels(probabilities, k, model.classes as string[]), probabilities };
}
