export {
  CONFIG_VARS,
  type ConfigVar,
  configMarkdownTable,
  describeConfig,
  fileUrlPath,
  type KilnConfig,
  loadConfig,
  maskSecret,
  parseByteSize,
  type ResolvedVar,
} from './config.js';
export { DEFAULT_WORKSPACE, type RequestContext, systemContext } from './context.js';
export {
  codeForStatus,
  ERROR_TABLE,
  type ErrorBody,
  type ErrorCode,
  type ErrorDetails,
  type ErrorSurface,
  invalidParameter,
  isErrorCode,
  KilnError,
} from './errors.js';
export { hexId, requestId } from './ids.js';
export { createLogger, LOG_LEVELS, type Logger, type LogLevel, silentLogger } from './logging.js';
export { startModuleWorker } from './threads.js';
export { KILN_VERSION } from './version.js';
