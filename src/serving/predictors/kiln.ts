import { KilnError } from '../../core/index.js';
import {
  type Frame,
  type ModelSignature,
  predictModel,
  readModelPackage,
  type Task,
  type TrainedModel,
} from '../../learn/index.js';
import type { Predictor, PredictorOutput, ServingInput } from '../types.js';
import { frameKindOf } from './signature.js';

/**
 * The inputs a Kiln model reads: every signature column, built as the frame kind its fitted
 * preprocessing was fitted on (an integer column may have been a category). Every input accepts
 * missing values, because Kiln's predict does: missing numbers go where gradient boosting learned
 * or are imputed, missing categories are encoded like unseen ones.
 */
function kilnInputs(model: TrainedModel): ServingInput[] {
  const fitted = new Map(model.preprocessing.columns.map((c) => [c.name, c.input]));
  return model.signature.inputs.map((input) => ({
    name: input.name,
    kind: fitted.get(input.name) ?? frameKindOf(input.type),
    type: input.type,
    nullable: true,
  }));
}

/** A Kiln model in memory behind the {@link Predictor} interface. */
class KilnPredictor implements Predictor {
  readonly flavour = 'kiln' as const;
  readonly task: Task;
  readonly inputs: readonly ServingInput[];
  readonly classes?: readonly string[];
  readonly signature: ModelSignature;
  private closed = false;

  constructor(private readonly model: TrainedModel) {
    this.task = model.task;
    this.inputs = kilnInputs(model);
    if (model.classes !== undefined) this.classes = model.classes;
    this.signature = model.signature;
  }

  async predict(frame: Frame): Promise<PredictorOutput> {
    if (this.closed) throw unloaded();
    const { prediction, probabilities } = predictModel(this.model, frame);
    return probabilities === undefined ? { prediction } : { prediction, probabilities };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** What predict throws after close: the runtime drains a model before closing it, so this is a bug upstream. */
export function unloaded(): KilnError {
  return new KilnError('INVALID_STATE', 'The model was unloaded; it no longer answers requests');
}

/**
 * The Kiln-package predictor over a model already in memory (a training result, a package read
 * elsewhere): predictions are exactly `predictModel`'s.
 *
 * @example
 * const predictor = predictorFromTrainedModel(result.model);
 * const { prediction, probabilities } = await predictor.predict(frame);
 */
export function predictorFromTrainedModel(model: TrainedModel): Predictor {
  return new KilnPredictor(model);
}

/**
 * Reads a Kiln model package (kiln-model.json and the files it lists, checksums checked) into a
 * predictor. Only JSON is parsed; nothing in the package is executed. Problems are 400s whose
 * field names the file, e.g. `learner.json`.
 *
 * @example
 * const predictor = kilnPredictorFromFiles(files);
 */
export function kilnPredictorFromFiles(files: ReadonlyMap<string, Uint8Array>): Predictor {
  const { manifest: _manifest, ...model } = readModelPackage(files);
  return new KilnPredictor(model);
}
