/**
 * Pure numeric code on typed arrays: frames, preprocessing, learners, metrics, cross-validation.
 * It imports only `core`; loading data and tracking runs happen in the contexts above it.
 */

export {
  kFold,
  type ShuffleOptions,
  type Split,
  stratifiedKFold,
  type TimeSeriesSplitOptions,
  timeSeriesSplit,
} from './cv.js';
export {
  parseXgboostJson,
  predictXgboost,
  type XgboostModel,
  type XgboostObjective,
  type XgboostPredictOptions,
  xgboostFeatureNames,
} from './formats/xgboost.js';
export {
  type CategoricalColumn,
  type Column,
  column,
  type DatetimeColumn,
  type FloatColumn,
  type Frame,
  isMissing,
  takeRows,
} from './frame.js';
export {
  type BinnedMatrix,
  type Binner,
  binMatrix,
  binOf,
  featureImportance,
  fitBinner,
  fitGbdt,
  type GbdtLabels,
  type GbdtMetric,
  type GbdtModel,
  type GbdtObjective,
  type GbdtOptions,
  type GbdtTree,
  MAX_BINS,
  MISSING_BIN,
  predictGbdt,
} from './gbdt/index.js';
export {
  checkMatrix,
  fitLinearRegression,
  type LinearPenalty,
  type LinearRegressionModel,
  type LinearRegressionOptions,
  predictLinear,
} from './linear.js';
export {
  type ClassWeight,
  fitLogisticRegression,
  type LogisticPenalty,
  type LogisticRegressionModel,
  type LogisticRegressionOptions,
  predictLogistic,
  predictLogisticProba,
} from './logistic.js';
export { fromRows, type Matrix, takeMatrixRows, zeros } from './matrix.js';
export {
  type Average,
  accuracy,
  averagePrecision,
  brierScore,
  type CalibrationCurve,
  type ClassScores,
  calibrationCurve,
  classScores,
  confusionMatrix,
  f1Score,
  type LogLossOptions,
  logLoss,
  mae,
  mape,
  precisionScore,
  r2,
  recallScore,
  rmse,
  rocAuc,
  type Values,
} from './metrics/index.js';
export { type LbfgsOptions, type LbfgsResult, minimizeLbfgs, type Objective } from './optimize.js';
export {
  checkPipelineSpec,
  DATE_PARTS,
  type DatePart,
  datePart,
  type FitOptions,
  type FittedPipeline,
  fitPipeline,
  fitTransform,
  type PipelineSpec,
  STEP_KINDS,
  type Step,
  transform as transformFrame,
} from './preprocess/index.js';
export { createRng, shuffleInPlace } from './random.js';
