import { invalidParameter, KilnError } from '../../core/index.js';
import {
  type Frame,
  type Matrix,
  type ModelSignature,
  parseXgboostJson,
  predictXgboost,
  type Task,
  type XgboostModel,
  xgboostFeatureNames,
} from '../../learn/index.js';
import type { Predictor, PredictorOutput, ServingInput } from '../types.js';
import { modelFileError } from './file-error.js';
import { unloaded } from './kiln.js';
import { argmaxLabels, classifierTask, indexClasses, signatureFor } from './signature.js';

/** The task an objective answers: logistic and softmax objectives classify, the rest regress. */
function taskOf(model: XgboostModel): Task {
  switch (model.objective) {
    case 'binary:logistic':
      return 'binary';
    case 'multi:softprob':
    case 'multi:softmax':
      return classifierTask(model.numGroups);
    default:
      return 'regression';
  }
}

/** An imported XGBoost gbtree behind the {@link Predictor} interface. */
class XgboostPredictor implements Predictor {
  readonly flavour = 'xgboost' as const;
  readonly task: Task;
  readonly inputs: readonly ServingInput[];
  readonly classes?: readonly string[];
  readonly signature: ModelSignature;
  private closed = false;

  constructor(private readonly model: XgboostModel) {
    this.task = taskOf(model);
    const names = xgboostFeatureNames(model) ?? Array.from({ length: model.numFeature }, (_, i) => `f${i}`);
    this.inputs = names.map((name) => ({ name, kind: 'float', type: 'float', nullable: true }));
    if (this.task !== 'regression') this.classes = indexClasses(this.task === 'binary' ? 2 : model.numGroups);
    this.signature = signatureFor(this.inputs, this.task, this.classes);
  }

  /** The frame's input columns as the row-major matrix XGBoost predicts on (NaN = missing). */
  private matrix(frame: Frame): Matrix {
    const rows = frame.rows;
    const cols = this.inputs.length;
    const data = new Float64Array(rows * cols);
    this.inputs.forEach((input, j) => {
      const col = frame.columns.find((c) => c.name === input.name);
      if (col === undefined) throw invalidParameter(`columns.${input.name}`, 'missing; the model needs it');
      if (col.kind !== 'float') {
        throw invalidParameter(`columns.${input.name}`, `is ${col.kind} but the model reads numbers`);
      }
      for (let r = 0; r < rows; r++) data[r * cols + j] = col.values[r] as number;
    });
    return { rows, cols, data, names: this.inputs.map((i) => i.name) };
  }

  async predict(frame: Frame): Promise<PredictorOutput> {
    if (this.closed) throw unloaded();
    const X = this.matrix(frame);
    if (this.classes === undefined) return { prediction: predictXgboost(this.model, X) };
    const k = this.classes.length;
    let probabilities: Float64Array;
    if (this.model.objective === 'binary:logistic') {
      const p = predictXgboost(this.model, X);
      probabilities = new Float64Array(2 * X.rows);
      for (let r = 0; r < X.rows; r++) {
        probabilities[2 * r] = 1 - (p[r] as number);
        probabilities[2 * r + 1] = p[r] as number;
      }
    } else if (this.model.objective === 'multi:softmax') {
      // softmax answers only the class; its probabilities are the softmax of the margins (as softprob).
      probabilities = predictXgboost(this.model, X, { outputMargin: true });
      for (let r = 0; r < X.rows; r++) softmaxInPlace(probabilities, r * k, k);
    } else {
      probabilities = predictXgboost(this.model, X);
    }
    return { prediction: argmaxLabels(probabilities, k, this.classes), probabilities };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

function softmaxInPlace(values: Float64Array, offset: number, length: number): void {
  let max = Number.NEGATIVE_INFINITY;
  for (let j = 0; j < length; j++) max = Math.max(max, values[offset + j] as number);
  let sum = 0;
  for (let j = 0; j < length; j++) {
    const e = Math.exp((values[offset + j] as number) - max);
    values[offset + j] = e;
    sum += e;
  }
  for (let j = 0; j < length; j++) values[offset + j] = (values[offset + j] as number) / sum;
}

/**
 * Reads an XGBoost JSON model (`booster.save_model('m.json')`) through Kiln's importer into a
 * predictor: inputs are the model's `feature_names` or `f0…f{n-1}`, all numbers with NaN for
 * missing values; binary:logistic is a binary classifier with classes '0' and '1' (probabilities
 * `[1 - p, p]`), multi:softprob / softmax a multiclass one with classes '0'…'k-1', the other
 * objectives regressions. The document is parsed, never executed. A malformed document is a 400
 * naming `file` under `field`, with the JSON path at fault in the message.
 *
 * @example
 * const predictor = xgboostPredictorFromBytes(readFileSync('m.json'), 'm.json');
 * predictor.inputs.map((i) => i.name); // ['bill_length', …] or ['f0', 'f1', …]
 */
export function xgboostPredictorFromBytes(bytes: Uint8Array, file: string, field = 'model'): Predictor {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (error) {
    throw modelFileError(field, file, 'is not UTF-8 text', error);
  }
  try {
    return new XgboostPredictor(parseXgboostJson(text));
  } catch (error) {
    if (!(error instanceof KilnError) || error.code !== 'INVALID_PARAMETER_VALUE') throw error;
    throw modelFileError(field, file, error.message, error);
  }
}
