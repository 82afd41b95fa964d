/**
 * Histogram gradient-boosted trees: binning, depth-wise tree growth, boosting with XGBoost's
 * objectives, prediction from a plain JSON model.
 */
export { type BinnedMatrix, type Binner, binMatrix, binOf, fitBinner, MAX_BINS, MISSING_BIN } from './binning.js';
export {
  featureImportance,
  fitGbdt,
  type GbdtLabels,
  type GbdtModel,
  type GbdtOptions,
  predictGbdt,
} from './boost.js';
export type { GbdtMetric, GbdtObjective } from './objective.js';
export type { GbdtTree } from './tree.js';
