import type { GbdtModel } from './gbdt/index.js';
import type { LinearRegressionModel } from './linear.js';
import type { LogisticRegressionModel } from './logistic.js';
import type { FittedPipeline } from './preprocess/index.js';

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
 * The forest member is added by src/learn/forest when it lands.
 */
export type LearnerModel = LinearRegressionModel | LogisticRegressionModel | GbdtModel;

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
