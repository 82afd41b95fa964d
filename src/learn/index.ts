/**
 * Pure numeric code on typed arrays: frames, preprocessing, learners, metrics, cross-validation.
 * It imports only `core`; loading data and tracking runs happen in the contexts above it.
 */
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
export { fromRows, type Matrix, takeMatrixRows, zeros } from './matrix.js';
