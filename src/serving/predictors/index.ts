/**
 * Model loading by flavour behind one Predictor interface: Kiln packages, ONNX (onnxruntime-node)
 * and XGBoost JSON, from files or from the registry (`models:/name/3`, `models:/name@champion`).
 */
export { FileModelLoader } from './file-loader.js';
export { detectFlavour, predictorFromFiles } from './flavour.js';
export { predictorFromTrainedModel } from './kiln.js';
export { type OnnxPredictorOptions, onnxPredictorFromBytes } from './onnx.js';
export {
  DEFAULT_MAX_MODEL_BYTES,
  DEFAULT_MAX_MODEL_FILES,
  type ModelReadLimits,
} from './read-budget.js';
export { formatModelRef, parseModelRef } from './ref.js';
export { RegistryModelLoader, type RegistryModelLoaderDeps } from './registry-loader.js';
export { warmPredictor } from './warm.js';
export { xgboostPredictorFromBytes } from './xgboost.js';
