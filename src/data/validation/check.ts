import { parse as parseYaml, YAMLParseError } from 'yaml';
import { invalidParameter, KilnError } from '../../core/index.js';
import type { LogicalType } from '../model.js';
import {
  EXPECTATION_LEVELS,
  EXPECTATION_TYPES,
  type Expectation,
  type ExpectationLevel,
  type ExpectationType,
  type ForeignReference,
  ROW_EXPECTATION_TYPES,
  type SuiteDefinition,
} from './model.js';

/** Suite names follow dataset names: they appear in URLs and file names. */
export const SUITE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

const LOGICAL_TYPES: readonly LogicalType[] = ['integer', 'float', 'boolean', 'string', 'categorical', 'datetime'];

/** The keys each type takes besides `type`, `level` and (row-based types) `mostly`. */
const KEYS: Readonly<Record<ExpectationType, readonly string[]>> = {
  not_null: ['column'],
  unique: ['column'],
  type: ['column', 'logical_type'],
  between: ['column', 'min', 'max', 'strict_min', 'strict_max'],
  in_set: ['column', 'values'],
  regex: ['column', 'pattern'],
  string_length: ['column', 'min', 'max'],
  row_count_between: ['min', 'max'],
  column_set_equals: ['columns', 'ordered'],
  mean_between: ['column', 'min', 'max'],
  stddev_between: ['column', 'min', 'max'],
  quantile_between: ['column', 'quantile', 'min', 'max'],
  null_proportion_below: ['column', 'max'],
  compound_unique: ['columns'],
  foreign_subset: ['column', 'dataset', 'version', 'foreign_column'],
  sql: ['predicate', 'description'],
};

/** Reads one field's value, or throws naming `field`. */
type Read<T> = (value: unknown, field: string) => T;

const text: Read<string> = (value, field) => {
  if (typeof value !== 'string' || value.trim() === '')
    throw invalidParameter(field, 'must be a non-empty string', value);
  return value;
};

const plain: Read<string> = (value, field) => {
  if (typeof value !== 'string') throw invalidParameter(field, 'must be a string', value);
  return value;
};

const finite: Read<number> = (value, field) => {
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw invalidParameter(field, 'must be a finite number', value);
  return value;
};

const count: Read<number> = (value, field) => {
  if (!Number.isSafeInteger(value) || (value as number) < 0) {
    throw invalidParameter(field, 'must be a non-negative integer', value);
  }
  return value as number;
};

const share: Read<number> = (value, field) => {
  const n = finite(value, field);
  if (n < 0 || n > 1) throw invalidParameter(field, 'must be between 0 and 1', value);
  return n;
};

const flag: Read<boolean> = (value, field) => {
  if (typeof value !== 'boolean') throw invalidParameter(field, 'must be true or false', value);
  return value;
};

const bound: Read<number | string> = (value, field) => {
  if (typeof value === 'string') return text(value, field);
  if (typeof value === 'number') return finite(value, field);
  throw invalidParameter(field, 'must be a number, or an ISO 8601 string for a datetime column', value);
};

const level: Read<ExpectationLevel> = (value, field) => {
  if (!EXPECTATION_LEVELS.includes(value as ExpectationLevel)) {
    throw invalidParameter(field, `must be one of ${EXPECTATION_LEVELS.join(', ')}`, value);
  }
  return value as ExpectationLevel;
};

const logicalType: Read<LogicalType> = (value, field) => {
  if (!LOGICAL_TYPES.includes(value as LogicalType)) {
    throw invalidParameter(field, `must be one of ${LOGICAL_TYPES.join(', ')}`, value);
  }
  return value as LogicalType;
};

function list<T>(read: Read<T>, min: number): Read<T[]> {
  return (value, field) => {
    if (!Array.isArray(value)) throw invalidParameter(field, 'must be a list', value);
    if (value.length < min) throw invalidParameter(field, `must list at least ${min}`, value);
    return value.map((item, i) => read(item, `${field}[${i}]`));
  };
}

/** A list of distinct column names, at least `min` of them. */
function names(min: number): Read<string[]> {
  const read = list(text, min);
  return (value, field) => {
    const columns = read(value, field);
    columns.forEach((name, i) => {
      if (columns.indexOf(name) !== i) throw invalidParameter(`${field}[${i}]`, `repeats column '${name}'`, name);
    });
    return columns;
  };
}

const setValue: Read<string | number | boolean> = (value, field) => {
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return finite(value, field);
  throw invalidParameter(
    field,
    value === null ? 'nulls are never checked by in_set; use not_null' : 'must be a string, number or boolean',
    value,
  );
};

const predicate: Read<string> = (value, field) => {
  const sql = text(value, field);
  if (sql.includes(';')) throw invalidParameter(field, "must be one SQL expression; ';' is not allowed", value);
  return sql;
};

function record(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidParameter(field, 'must be a mapping of keys to values', value);
  }
  return value as Record<string, unknown>;
}

/** The fields of one mapping at `path`; null counts as absent, as YAML's `min:` means. */
class Fields {
  constructor(
    private readonly object: Record<string, unknown>,
    private readonly path: string,
  ) {}

  at(key: string): string {
    return this.path === '' ? key : `${this.path}.${key}`;
  }

  optional<T>(key: string, read: Read<T>): T | undefined {
    const value = this.object[key];
    return value === undefined || value === null ? undefined : read(value, this.at(key));
  }

  required<T>(key: string, read: Read<T>): T {
    const value = this.optional(key, read);
    if (value === undefined) throw invalidParameter(this.at(key), 'is required');
    return value;
  }

  /** Rejects keys outside `allowed`, listing the allowed ones. */
  only(allowed: readonly string[], what: string, hint = ''): void {
    for (const key of Object.keys(this.object)) {
      if (!allowed.includes(key)) {
        throw invalidParameter(this.at(key), `unknown key '${key}' for ${what}; allowed: ${allowed.join(', ')}${hint}`);
      }
    }
  }
}

/** Drops undefined properties so stored documents carry only what was said. */
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** Optional `min` / `max`, at least one of them, and `min <= max` when both are numbers. */
function bounds<T extends number | string>(fields: Fields, read: Read<T>): { min?: T; max?: T } {
  const min = fields.optional('min', read);
  const max = fields.optional('max', read);
  if (min === undefined && max === undefined) throw invalidParameter(fields.at('min'), 'give min, max or both');
  if (min !== undefined && max !== undefined) {
    if (typeof min !== typeof max) {
      throw invalidParameter(fields.at('max'), 'min and max must both be numbers or both be ISO 8601 strings', max);
    }
    if (typeof min === 'number' && typeof max === 'number' && min > max) {
      throw invalidParameter(fields.at('max'), `is below min (${min})`, max);
    }
  }
  return { min, max };
}

function readExpectation(value: unknown, path: string): Expectation {
  const object = record(value, path);
  const fields = new Fields(object, path);
  const type = object.type;
  if (typeof type !== 'string' || !EXPECTATION_TYPES.includes(type as ExpectationType)) {
    const problem = type === undefined ? 'is required' : `unknown expectation type ${JSON.stringify(type)}`;
    throw invalidParameter(fields.at('type'), `${problem}; valid types are ${EXPECTATION_TYPES.join(', ')}`, type);
  }
  const kind = type as ExpectationType;
  const rowBased = ROW_EXPECTATION_TYPES.has(kind);
  fields.only(
    ['type', ...KEYS[kind], 'level', ...(rowBased ? ['mostly'] : [])],
    kind,
    rowBased ? '' : ' (mostly applies only to row-based expectations)',
  );
  const common = {
    level: fields.optional('level', level),
    ...(rowBased ? { mostly: fields.optional('mostly', share) } : {}),
  };
  const column = () => fields.required('column', text);
  switch (kind) {
    case 'not_null':
    case 'unique':
      return compact({ type: kind, column: column(), ...common });
    case 'type': {
      const types = fields.required('logical_type', (v, field) =>
        Array.isArray(v) ? list(logicalType, 1)(v, field) : logicalType(v, field),
      );
      return compact({ type: kind, column: column(), logical_type: types, ...common });
    }
    case 'between': {
      const range = bounds(fields, bound);
      const strictMin = fields.optional('strict_min', flag);
      const strictMax = fields.optional('strict_max', flag);
      if (strictMin !== undefined && range.min === undefined)
        throw invalidParameter(fields.at('strict_min'), 'needs min');
      if (strictMax !== undefined && range.max === undefined)
        throw invalidParameter(fields.at('strict_max'), 'needs max');
      return compact({
        type: kind,
        column: column(),
        ...range,
        strict_min: strictMin,
        strict_max: strictMax,
        ...common,
      });
    }
    case 'in_set':
      return compact({ type: kind, column: column(), values: fields.required('values', list(setValue, 1)), ...common });
    case 'regex':
      return compact({ type: kind, column: column(), pattern: fields.required('pattern', text), ...common });
    case 'string_length':
      return compact({ type: kind, column: column(), ...bounds(fields, count), ...common });
    case 'row_count_between':
      return compact({ type: kind, ...bounds(fields, count), ...common });
    case 'column_set_equals':
      return compact({
        type: kind,
        columns: fields.required('columns', names(1)),
        ordered: fields.optional('ordered', flag),
        ...common,
      });
    case 'mean_between':
    case 'stddev_between':
      return compact({ type: kind, column: column(), ...bounds(fields, finite), ...common });
    case 'quantile_between':
      return compact({
        type: kind,
        column: column(),
        quantile: fields.required('quantile', share),
        ...bounds(fields, finite),
        ...common,
      });
    case 'null_proportion_below':
      return compact({ type: kind, column: column(), max: fields.required('max', share), ...common });
    case 'compound_unique':
      return compact({ type: kind, columns: fields.required('columns', names(2)), ...common });
    case 'foreign_subset': {
      const version = fields.optional('version', (v, field) => {
        const n = count(v, field);
        if (n === 0) throw invalidParameter(field, 'must be a positive integer', v);
        return n;
      });
      return compact({
        type: kind,
        column: column(),
        dataset: fields.required('dataset', text),
        version,
        foreign_column: fields.optional('foreign_column', text),
        ...common,
      });
    }
    case 'sql':
      return compact({
        type: kind,
        predicate: fields.required('predicate', predicate),
        description: fields.optional('description', plain),
        ...common,
      });
  }
}

/** Options for reading a suite document whose name may come from elsewhere (a URL, a file name). */
export interface SuiteCheckOptions {
  /** The name to use when the document has none; a document naming a different suite is rejected. */
  name?: string;
}

/**
 * Validates a parsed suite document (from YAML, JSON, a REST body or TypeScript) and returns a clean
 * copy holding only known keys. Every problem is an INVALID_PARAMETER_VALUE whose `details.field` is
 * the path of the offending value, so an editor can point at it.
 *
 * @example
 * checkSuite({ name: 'flights', expectations: [{ type: 'not_null', colum: 'origin' }] });
 * // throws: "expectations[0].colum: unknown key 'colum' for not_null; allowed: type, column, level, mostly"
 */
export function checkSuite(value: unknown, options: SuiteCheckOptions = {}): SuiteDefinition {
  const fields = new Fields(record(value, 'suite'), '');
  fields.only(['name', 'description', 'expectations'], 'a suite');
  const named = fields.optional('name', text);
  if (named !== undefined && options.name !== undefined && named !== options.name) {
    throw invalidParameter(
      'name',
      `the document names suite '${named}' but the request names '${options.name}'`,
      named,
    );
  }
  const name = named ?? options.name;
  if (name === undefined) throw invalidParameter('name', 'is required');
  if (!SUITE_NAME_PATTERN.test(name)) throw invalidParameter('name', `must match ${SUITE_NAME_PATTERN}`, name);
  const description = fields.optional('description', plain);
  const expectations = fields.required('expectations', (v, field) => {
    if (!Array.isArray(v) || v.length === 0) throw invalidParameter(field, 'must list at least one expectation', v);
    return v.map((item, i) => readExpectation(item, `${field}[${i}]`));
  });
  return compact({ name, description, expectations });
}

/** Line and column (1-based) of a character offset. */
function lineColumn(source: string, offset: number): { line: number; column: number } {
  const before = source.slice(0, offset).split('\n');
  return { line: before.length, column: (before.at(-1)?.length ?? 0) + 1 };
}

function syntaxError(format: string, reason: string, at?: { line: number; column: number }): KilnError {
  const where = at === undefined ? '' : ` at line ${at.line}, column ${at.column}`;
  return new KilnError('INVALID_PARAMETER_VALUE', `suite ${format} is not valid${where}: ${reason}`, {
    field: 'suite',
    ...at,
  });
}

function parseText(source: string, format: 'yaml' | 'json'): unknown {
  if (format === 'json') {
    try {
      return JSON.parse(source);
    } catch (error) {
      const message = (error as Error).message;
      const position = /at position (\d+)/.exec(message)?.[1];
      const reason = message
        .replace(/ in JSON at position \d+.*$/s, '')
        .replace(/, (\.\.\.)?".*" is not valid JSON$/s, '');
      throw syntaxError('JSON', reason, position === undefined ? undefined : lineColumn(source, Number(position)));
    }
  }
  try {
    return parseYaml(source);
  } catch (error) {
    if (!(error instanceof YAMLParseError)) throw error;
    const start = error.linePos?.[0];
    const reason = (error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
    throw syntaxError('YAML', reason, start === undefined ? undefined : { line: start.line, column: start.col });
  }
}

/**
 * Parses a suite file (YAML via the `yaml` package, or JSON) and checks it. Syntax errors name the
 * line and column; everything else is reported as {@link checkSuite} does.
 *
 * @example
 * const suite = parseSuite('name: flights\nexpectations:\n  - type: not_null\n    column: origin\n', 'yaml');
 */
export function parseSuite(source: string, format: 'yaml' | 'json', options: SuiteCheckOptions = {}): SuiteDefinition {
  return checkSuite(parseText(source, format), options);
}

/**
 * The other dataset versions a suite reads (its `foreign_subset` targets), each once, so the caller
 * can resolve and authorise them before {@link runSuite} asks for their relations.
 *
 * @example
 * foreignReferences(suite); // [{ dataset: 'airports' }, { dataset: 'carriers', version: 3 }]
 */
export function foreignReferences(suite: SuiteDefinition): ForeignReference[] {
  const seen = new Map<string, ForeignReference>();
  for (const expectation of suite.expectations) {
    if (expectation.type !== 'foreign_subset') continue;
    const { dataset, version } = expectation;
    seen.set(`${dataset}@${version ?? ''}`, version === undefined ? { dataset } : { dataset, version });
  }
  return [...seen.values()];
}
