/**
 * The request side of serving: turning protocol payloads into checked frames (input.ts) and
 * Kiln's own `POST /predict` route, plus the pieces the foreign protocol adapters in compat/
 * (MLflow `/invocations`, Open Inference Protocol v2) share with it.
 *
 * @example
 * await app.register(kilnPredictRoutes, { prefix: '/serve/:deployment', endpoint: (request) => find(request) });
 */
export {
  type BatchTable,
  columnsTable,
  describeJsonValue,
  frameFromTable,
  memberField,
  rowsTable,
} from '../input.js';
export { answerableError, internalError, requestFailure, setRetryAfter } from './errors.js';
export {
  type KilnPredictResponse,
  kilnPredictRoutes,
  type ProtocolRoutesOptions,
  ROUTE_KEY_HEADER,
} from './kiln.js';
export { predictionList, probabilityRows } from './output.js';
