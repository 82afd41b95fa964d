import { KilnError } from '../../core/index.js';

const DECIMAL_INTEGER = /^-?\d{1,19}$/;
const DECIMAL_NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function shown(value: unknown): string {
  let text: string;
  if (typeof value === 'string') text = `'${value}'`;
  else if (typeof value === 'number') text = String(value);
  else text = JSON.stringify(value) ?? String(value);
  return text.length > 100 ? `${text.slice(0, 100)}…` : text;
}

/**
 * MLflow's wording for a required field that is absent or empty, so that clients and people
 * reading logs see the message they know from an MLflow server.
 *
 * @example
 * missingParameter('run_id').message; // "Missing value for required parameter 'run_id'. See the API docs …"
 */
export function missingParameter(name: string): KilnError {
  return new KilnError(
    'INVALID_PARAMETER_VALUE',
    `Missing value for required parameter '${name}'. See the API docs for more information about request parameters.`,
    { field: name },
  );
}

/**
 * MLflow's wording for a field of the wrong type; `expected` says what it should be.
 *
 * @example
 * invalidValue('max_results', 'abc', 'a whole number').message;
 * // "Invalid value 'abc' for parameter 'max_results' supplied: must be a whole number."
 */
export function invalidValue(name: string, value: unknown, expected: string): KilnError {
  return new KilnError(
    'INVALID_PARAMETER_VALUE',
    `Invalid value ${shown(value)} for parameter '${name}' supplied: must be ${expected}.`,
    { field: name },
  );
}

/**
 * A metric value as MLflow clients send it: a JSON number (NaN and ±Infinity arrive as numbers
 * when the body used Python's bare `NaN` / `Infinity` tokens, see `parseMlflowJson`), or a string
 * as protobuf's JSON mapping writes doubles: `"NaN"`, `"Infinity"`, `"-Infinity"` or a decimal.
 * Anything else is returned unchanged for the service to reject with its own message.
 *
 * @example
 * metricValue('NaN');  // NaN
 * metricValue('-inf'); // '-inf' (left for validation to refuse)
 */
export function metricValue(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  if (value === 'NaN') return Number.NaN;
  if (value === 'Infinity') return Number.POSITIVE_INFINITY;
  if (value === '-Infinity') return Number.NEGATIVE_INFINITY;
  return DECIMAL_NUMBER.test(value) ? Number(value) : value;
}

/**
 * An int64 as protobuf's JSON mapping allows it: a JSON number or a decimal string. Other values
 * are returned unchanged so that the service names the field in its own error.
 *
 * @example
 * int64Value('1795784734945'); // 1795784734945
 */
export function int64Value(value: unknown): unknown {
  return typeof value === 'string' && DECIMAL_INTEGER.test(value) ? Number(value) : value;
}

/**
 * The fields of one MLflow request, read the way MLflow's server reads them: from the query string
 * of a GET (every value a string, repeated keys for lists) or from the JSON body of other methods,
 * with the query as a fallback for fields the body lacks. Readers enforce proto types with MLflow's
 * messages and stay liberal where protobuf's JSON mapping is (int64 as decimal strings, a single
 * value where a list is expected).
 *
 * @example
 * const f = new RequestFields({ experiment_ids: '1', max_results: '10' });
 * f.list('experiment_ids'); // ['1']
 * f.integer('max_results'); // 10
 */
export class RequestFields {
  constructor(private readonly values: Readonly<Record<string, unknown>>) {}

  /** The raw value of a field, or undefined when absent (JSON null counts as absent). */
  raw(name: string): unknown {
    if (!Object.hasOwn(this.values, name)) return undefined;
    const value = this.values[name];
    return value === null ? undefined : value;
  }

  /** A string field; a repeated query key yields its first value. */
  string(name: string): string | undefined {
    let value = this.raw(name);
    if (Array.isArray(value) && value.length > 0 && typeof value[0] === 'string') value = value[0];
    if (value === undefined) return undefined;
    if (typeof value !== 'string') throw invalidValue(name, value, 'a string');
    return value;
  }

  /** A required string field; absent and empty are both "missing", as in MLflow. */
  requiredString(name: string): string {
    const value = this.string(name);
    if (value === undefined || value === '') throw missingParameter(name);
    return value;
  }

  /** A string field that must be present but may be empty (param and tag values). */
  presentString(name: string): string {
    const value = this.string(name);
    if (value === undefined) throw missingParameter(name);
    return value;
  }

  /** An id field: a string, or a number sent by a lenient client (`"experiment_id": 1`). */
  id(name: string): string | undefined {
    const value = this.raw(name);
    if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
    return this.string(name);
  }

  /** A required id field. */
  requiredId(name: string): string {
    const value = this.id(name);
    if (value === undefined || value === '') throw missingParameter(name);
    return value;
  }

  /** The run a run-scoped call addresses: `run_id`, or the legacy `run_uuid` the client also sends. */
  runId(): string {
    const value = this.id('run_id') || this.id('run_uuid');
    if (value === undefined || value === '') throw missingParameter('run_id');
    return value;
  }

  /** A model version number: a decimal string on the MLflow wire, a number from lenient clients. */
  version(): string {
    return this.requiredId('version');
  }

  /** An integer field (int32 or int64): a JSON number or a decimal string. */
  integer(name: string): number | undefined {
    let value = this.raw(name);
    if (Array.isArray(value) && value.length > 0) value = value[0];
    if (value === undefined || value === '') return undefined;
    const parsed = int64Value(value);
    if (typeof parsed !== 'number' || !Number.isSafeInteger(parsed)) {
      throw invalidValue(name, value, 'a whole number');
    }
    return parsed;
  }

  /** A boolean field: JSON true/false, or `true`/`false` in a query string. */
  boolean(name: string): boolean | undefined {
    const value = this.raw(name);
    if (value === undefined || typeof value === 'boolean') return value;
    if (value === 'true' || value === 'false') return value === 'true';
    throw invalidValue(name, value, 'true or false');
  }

  /** A repeated string field: a list, or one value (a query string with the key once). */
  list(name: string): string[] | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    const items = Array.isArray(value) ? value : [value];
    return items.map((item, i) => {
      if (typeof item === 'string') return item;
      if (typeof item === 'number' && Number.isSafeInteger(item)) return String(item);
      throw invalidValue(`${name}[${i}]`, item, 'a string');
    });
  }

  /**
   * A repeated message field (tags, params, datasets): a JSON list whose items are typed as the
   * service's input but not checked here — every Kiln service validates each item at run time and
   * names it in its error (`tags[2].key: …`), so checking twice would only cost time.
   */
  messages<T>(name: string): T[] | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    if (!Array.isArray(value)) throw invalidValue(name, value, 'a list');
    return value as T[];
  }

  /**
   * An enum field given by name or by its proto number (`ACTIVE_ONLY` or `1`), returned as the
   * name. `names` lists the names in proto order, starting at number 1.
   */
  enumName<T extends string>(name: string, names: readonly T[]): T | undefined {
    let value = this.raw(name);
    if (Array.isArray(value) && value.length > 0) value = value[0];
    if (value === undefined || value === '') return undefined;
    const parsed = int64Value(value);
    if (typeof parsed === 'number' && Number.isInteger(parsed) && parsed >= 1 && parsed <= names.length) {
      return names[parsed - 1] as T;
    }
    if (typeof value === 'string' && (names as readonly string[]).includes(value)) return value as T;
    throw invalidValue(name, value, `one of ${names.join(', ')}`);
  }
}
