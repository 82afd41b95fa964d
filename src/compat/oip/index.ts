/**
 * The Open Inference Protocol v2 (KServe / Triton / MLServer) over Kiln's served endpoints:
 * server and model metadata, health, and inference with typed tensors of every OIP datatype,
 * including the binary tensor data extension.
 *
 * @example
 * await app.register(oipRoutes, { prefix: '/serve/:deployment', endpoint: (request) => find(request) });
 */
export { binaryResponse, INFERENCE_HEADER, INFERENCE_HEADER_NAME, type OipBody, parseOipBody } from './binary.js';
export {
  checkElement,
  type DatatypeFamily,
  datatypeFamily,
  decodeBinary,
  elementSize,
  encodeBinary,
  isOipDatatype,
  OIP_DATATYPES,
  type OipDatatype,
} from './datatypes.js';
export { OIP_EXTENSIONS, OIP_SERVER_NAME, oipRoutes } from './routes.js';
export {
  type InferRequest,
  metadataDatatype,
  modelOutputs,
  type OipScalar,
  oipTable,
  outputTensors,
  type RequestedOutput,
  type RequestTensor,
  type ResponseOutput,
  readInferRequest,
} from './tensors.js';
