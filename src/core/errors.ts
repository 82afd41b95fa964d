/**
 * The one error type Kiln throws on purpose. Every code maps, through {@link ERROR_TABLE}, to an HTTP
 * status and to the MLflow `error_code` name, so the server's single error handler and the MLflow
 * compatibility layer need no second table.
 *
 * @example
 * throw new KilnError('RESOURCE_DOES_NOT_EXIST', "Experiment 'churn' does not exist", { name: 'churn' });
 */

/** Closed set of error codes. Add a code here and in {@link ERROR_TABLE}; nowhere else. */
export type ErrorCode =
  | 'INVALID_PARAMETER_VALUE'
  | 'MALFORMED_REQUEST'
  | 'BAD_REQUEST'
  | 'RESOURCE_DOES_NOT_EXIST'
  | 'ENDPOINT_NOT_FOUND'
  | 'RESOURCE_ALREADY_EXISTS'
  | 'RESOURCE_CONFLICT'
  | 'INVALID_STATE'
  | 'VALIDATION_FAILED'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'RESOURCE_EXHAUSTED'
  | 'CANCELLED'
  | 'NOT_IMPLEMENTED'
  | 'TEMPORARILY_UNAVAILABLE'
  | 'DEADLINE_EXCEEDED'
  | 'INVALID_CONFIGURATION'
  | 'DATA_LOSS'
  | 'INTERNAL_ERROR';

/** How a code surfaces: HTTP status and the MLflow `error_code` name (databricks.proto ErrorCode). */
export interface ErrorSurface {
  readonly status: number;
  readonly mlflowCode: string;
}

/**
 * The single code → (HTTP status, MLflow error_code) table. MLflow answers RESOURCE_ALREADY_EXISTS
 * with 400, not 409, and its clients rely on that, so Kiln does the same.
 */
export const ERROR_TABLE: Readonly<Record<ErrorCode, ErrorSurface>> = {
  INVALID_PARAMETER_VALUE: { status: 400, mlflowCode: 'INVALID_PARAMETER_VALUE' },
  MALFORMED_REQUEST: { status: 400, mlflowCode: 'MALFORMED_REQUEST' },
  BAD_REQUEST: { status: 400, mlflowCode: 'BAD_REQUEST' },
  RESOURCE_DOES_NOT_EXIST: { status: 404, mlflowCode: 'RESOURCE_DOES_NOT_EXIST' },
  ENDPOINT_NOT_FOUND: { status: 404, mlflowCode: 'ENDPOINT_NOT_FOUND' },
  RESOURCE_ALREADY_EXISTS: { status: 400, mlflowCode: 'RESOURCE_ALREADY_EXISTS' },
  RESOURCE_CONFLICT: { status: 409, mlflowCode: 'RESOURCE_CONFLICT' },
  INVALID_STATE: { status: 409, mlflowCode: 'INVALID_STATE' },
  VALIDATION_FAILED: { status: 422, mlflowCode: 'INVALID_PARAMETER_VALUE' },
  UNAUTHENTICATED: { status: 401, mlflowCode: 'UNAUTHENTICATED' },
  PERMISSION_DENIED: { status: 403, mlflowCode: 'PERMISSION_DENIED' },
  PAYLOAD_TOO_LARGE: { status: 413, mlflowCode: 'REQUEST_LIMIT_EXCEEDED' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, mlflowCode: 'BAD_REQUEST' },
  RESOURCE_EXHAUSTED: { status: 429, mlflowCode: 'RESOURCE_EXHAUSTED' },
  CANCELLED: { status: 499, mlflowCode: 'CANCELLED' },
  NOT_IMPLEMENTED: { status: 501, mlflowCode: 'NOT_IMPLEMENTED' },
  TEMPORARILY_UNAVAILABLE: { status: 503, mlflowCode: 'TEMPORARILY_UNAVAILABLE' },
  DEADLINE_EXCEEDED: { status: 504, mlflowCode: 'DEADLINE_EXCEEDED' },
  INVALID_CONFIGURATION: { status: 500, mlflowCode: 'INTERNAL_ERROR' },
  DATA_LOSS: { status: 500, mlflowCode: 'DATA_LOSS' },
  INTERNAL_ERROR: { status: 500, mlflowCode: 'INTERNAL_ERROR' },
};

/** Machine-readable extra facts about an error, e.g. `{ field: 'name', value: '' }`. */
export type ErrorDetails = Readonly<Record<string, unknown>>;

/** The JSON body every Kiln error response carries (MLflow-compatible fields first). */
export interface ErrorBody {
  error_code: string;
  message: string;
  code: ErrorCode;
  details?: ErrorDetails;
  request_id?: string;
}

export class KilnError extends Error {
  override readonly name = 'KilnError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: ErrorDetails,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** HTTP status for this error's code. */
  get status(): number {
    return ERROR_TABLE[this.code].status;
  }

  /** MLflow `error_code` name for this error's code. */
  get mlflowCode(): string {
    return ERROR_TABLE[this.code].mlflowCode;
  }

  toBody(requestId?: string): ErrorBody {
    const body: ErrorBody = { error_code: this.mlflowCode, message: this.message, code: this.code };
    if (this.details !== undefined) body.details = this.details;
    if (requestId !== undefined) body.request_id = requestId;
    return body;
  }
}

/** True when `value` is a known {@link ErrorCode}; used when turning wire errors back into KilnError. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_TABLE, value);
}

/** The most specific code for an HTTP status, for peers that answered without a Kiln body. */
export function codeForStatus(status: number): ErrorCode {
  switch (status) {
    case 400:
      return 'BAD_REQUEST';
    case 401:
      return 'UNAUTHENTICATED';
    case 403:
      return 'PERMISSION_DENIED';
    case 404:
      return 'RESOURCE_DOES_NOT_EXIST';
    case 409:
      return 'RESOURCE_CONFLICT';
    case 413:
      return 'PAYLOAD_TOO_LARGE';
    case 415:
      return 'UNSUPPORTED_MEDIA_TYPE';
    case 429:
      return 'RESOURCE_EXHAUSTED';
    case 501:
      return 'NOT_IMPLEMENTED';
    case 502:
    case 503:
      return 'TEMPORARILY_UNAVAILABLE';
    case 504:
      return 'DEADLINE_EXCEEDED';
    default:
      return status >= 400 && status < 500 ? 'BAD_REQUEST' : 'INTERNAL_ERROR';
  }
}

/** Shorthand for the most common client error: a named field with a bad value. */
export function invalidParameter(field: string, problem: string, value?: unknown): KilnError {
  const details: Record<string, unknown> = { field };
  if (value !== undefined) details.value = value;
  return new KilnError('INVALID_PARAMETER_VALUE', `${field}: ${problem}`, details);
}
