export {
  type ErrorBody,
  type ErrorCode,
  type ErrorDetails,
  type ErrorSurface,
  ERROR_TABLE,
  KilnError,
  codeForStatus,
  invalidParameter,
  isErrorCode,
} from './errors.js';
export {
  CONFIG_VARS,
  type ConfigVar,
  type KilnConfig,
  type ResolvedVar,
  configMarkdownTable,
  describeConfig,
  fileUrlPath,
  loadConfig,
  maskSecret,
  parseByteSize,
} from './config.js';
export { DEFAULT_WORKSPACE, type RequestContext, systemContext } from './context.js';
export { hexId, requestId } from './ids.js';
export { LOG_LEVELS, type LogLevel, type Logger, createLogger, silentLogger } from './logging.js';
export { KILN_VERSION } from './version.js';
