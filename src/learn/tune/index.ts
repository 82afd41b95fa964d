/**
 * Hyper-parameter optimisation, pure: search spaces, the random, grid and TPE samplers and the
 * median and successive-halving pruners, all functions of a study's trial history so a persisted
 * study resumes exactly where it stopped. The study service, queue and CLI live above `learn`.
 */

export { gridPoints, gridSize, isGridExhausted, MAX_GRID_POINTS, suggestGrid } from './grid.js';
export { type Alternative, type MannWhitneyResult, mannWhitneyU } from './mann-whitney.js';
export { shouldPrune } from './pruners.js';
export {
  type CategoricalDistribution,
  type Condition,
  checkSearchSpace,
  type Distribution,
  type FloatDistribution,
  type IntDistribution,
  isActive,
  type ParamSpec,
  type ParamValue,
  paramOrder,
  type SearchSpace,
} from './space.js';
export {
  type AshaOptions,
  checkPrunerSpec,
  checkSamplerSpec,
  type MedianOptions,
  type PrunerSpec,
  type SamplerSpec,
  type TpeOptions,
} from './specs.js';
export { suggest } from './suggest.js';
export { bestTrial, type Direction, type TrialRecord, type TrialState } from './trials.js';
