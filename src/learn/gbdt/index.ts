/**
 * Histogram gradient-boosted trees: binning, depth-wise and leaf-wise tree growth with numeric and
 * categorical splits, histograms built on worker threads, boosting with XGBoost's objectives,
 * prediction from a plain JSON model.
 */
export {
  type BinnedMatrix,
  type Binner,
  type BinnerOptions,
  binMatrix,
  binMatrixByRows,
  binOf,
  fitBinner,
  MAX_BINS,
  MISSING_BIN,
} from './binning.js';
export { fitGbdt } from './boost.js';
export type { GbdtMetric, GbdtObjective } from './objective.js';
export type { GbdtLabels, GbdtOptions, GbdtRoundInfo } from './options.js';
export { featureImportance, type GbdtModel, predictGbdt } from './predict.js';
export type { GbdtTree } from './tree.js';
