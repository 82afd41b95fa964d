/**
 * Random forests as sklearn's: bagged CART trees with per-split feature sampling, histogram split
 * search, native missing values, out-of-bag score, impurity importance, trees grown on worker threads.
 */
export { type ForestFit, fitForest, fitForestWithOob } from './fit.js';
export type {
  ForestClassWeight,
  ForestCriterion,
  ForestMaxFeatures,
  ForestOptions,
  ForestTask,
} from './options.js';
export { type ForestModel, type ForestTree, predictForest, predictForestProba } from './predict.js';
