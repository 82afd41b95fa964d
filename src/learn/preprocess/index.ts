/**
 * Preprocessing: a per-column pipeline fitted on training frames that turns frames into numeric
 * matrices, with fitted state that is plain JSON so it can be saved inside a model.
 */

export type { Category } from './block.js';
export { datePart } from './dates.js';
export type { FittedOneHot, FittedOrdinal } from './encode.js';
export type { FittedImpute } from './impute.js';
export {
  type FitOptions,
  type FittedColumn,
  type FittedDateParts,
  type FittedPipeline,
  type FittedStep,
  fitPipeline,
  fitTransform,
  transform,
} from './pipeline.js';
export type { FittedMinMax, FittedStandard } from './scale.js';
export {
  checkPipelineSpec,
  DATE_PARTS,
  type DatePart,
  type DatePartsStep,
  type ImputeStep,
  type MinMaxStep,
  type OneHotStep,
  type OrdinalStep,
  type PipelineSpec,
  STEP_KINDS,
  type StandardStep,
  type Step,
  type TargetStep,
} from './spec.js';
export type { FittedTarget } from './target.js';
