import { KilnError } from '../../core/index.js';

/**
 * The 400 for a model file that cannot be served (corrupt, truncated, of an unknown flavour):
 * `field` is the request field that named the model (`model`, `targets[1].model`) and `file` the
 * file at fault, both in the message and in the details.
 *
 * @example
 * throw modelFileError('model', 'model.onnx', 'is not a valid ONNX model (truncated varint at byte 812)');
 * // 400 "model: model.onnx: is not a valid ONNX model (…)", details { field: 'model', file: 'model.onnx' }
 */
export function modelFileError(field: string, file: string, problem: string, cause?: unknown): KilnError {
  return new KilnError(
    'INVALID_PARAMETER_VALUE',
    `${field}: ${file}: ${problem}`,
    { field, file },
    cause === undefined ? undefined : { cause },
  );
}
