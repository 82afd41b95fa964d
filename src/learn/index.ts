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
  type ForestClassWeight,
  type ForestCriterion,
  type ForestFit,
  type ForestMaxFeatures,
  type ForestModel,
  type ForestOptions,
  type ForestTask,
  type ForestTree,
  fitForest,
  fitForestWithOob,
  predictForest,
  predictForestProba,
} from './forest/index.js';
export { exportOnnx, ONNX_OUTPUTS } from './formats/onnx/export.js';
export { MISSING_STRING as ONNX_MISSING_CATEGORY } from './formats/onnx/preprocess.js';
export {
  MANIFEST_FILE,
  type ModelManifest,
  PACKAGE_FORMAT_VERSION,
  type PackageMeta,
  readModelPackage,
  type TrainingDataRef,
  writeModelPackage,
} from './formats/package.js';
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
  type BinnerOptions,
  binMatrix,
  binMatrixByRows,
  binOf,
  featureImportance,
  fitBinner,
  fitGbdt,
  type GbdtLabels,
  type GbdtMetric,
  type GbdtModel,
  type GbdtObjective,
  type GbdtOptions,
  type GbdtRoundInfo,
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
export {
  checkFrameAgainstSignature,
  type LearnerModel,
  type ModelPrediction,
  type ModelSignature,
  predictModel,
  type SignatureInput,
  type SignatureType,
  type Task,
  type TrainedModel,
} from './model.js';
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
export {
  checkTrainSpec,
  evaluateModel,
  featureColumns,
  type IterationHook,
  TRAIN_TASKS,
  type TrainOptions,
  type TrainResult,
  type TrainSpec,
  trainModel,
} from './train.js';
export {
  defaultPipeline,
  type EncodedTarget,
  encodeTarget,
  holdoutSplit,
  MAX_CLASSES,
  signatureOf,
} from './train-data.js';
export { type ModelScores, scoreMetrics } from './train-evaluate.js';
export {
  LEARNER_PARAMS,
  LEARNERS,
  type LearnerName,
  type LearnerParamValue,
  type ParamDeclaration,
  type ResolvedParams,
  resolveParams,
  withDefaults,
} from './train-params.js';
export {
  type Alternative,
  type AshaOptions,
  bestTrial,
  type CategoricalDistribution,
  type Condition,
  checkPrunerSpec,
  checkSamplerSpec,
  checkSearchSpace,
  type Direction,
  type Distribution,
  type FloatDistribution,
  gridPoints,
  gridSize,
  type IntDistribution,
  isActive,
  isGridExhausted,
  MAX_GRID_POINTS,
  type MannWhitneyResult,
  type MedianOptions,
  mannWhitneyU,
  type ParamSpec,
  type ParamValue,
  type PrunerSpec,
  paramOrder,
  type SamplerSpec,
  type SearchSpace,
  shouldPrune,
  suggest,
  suggestGrid,
  type TpeOptions,
  type TrialRecord,
  type TrialState,
} from './tune/index.js';
