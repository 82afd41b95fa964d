/**
 * Metrics for scoring models: classification (from labels, scores or probabilities) and regression,
 * all on typed or plain arrays, matching sklearn 1.2's definitions.
 */
export {
  type Average,
  accuracy,
  brierScore,
  type CalibrationCurve,
  type ClassScores,
  calibrationCurve,
  classScores,
  confusionMatrix,
  f1Score,
  type LogLossOptions,
  logLoss,
  precisionScore,
  recallScore,
} from './classification.js';
export type { Values } from './inputs.js';
export { averagePrecision, rocAuc } from './ranking.js';
export { mae, mape, r2, rmse } from './regression.js';
