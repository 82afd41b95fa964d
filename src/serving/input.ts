import { invalidParameter, KilnError } from '../core/index.js';
import type { CategoricalColumn, Column, DatetimeColumn, FloatColumn, Frame } from '../learn/index.js';
import type { InputPolicy, RawTable, ServingInput } from './types.js';

/**
 * A {@link RawTable} that also names the request field holding the whole batch (`rows`,
 * `dataframe_split.data`, `inputs[0].shape`), so an over-large batch is reported there rather
 * than at one cell. Tables without it (built elsewhere) are reported at their first column.
 */
export interface BatchTable extends RawTable {
  batchField?: string;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * `base.name` when `name` reads as an identifier, else `base["name"]`, so a field path stays
 * unambiguous for column names with spaces or dots (`rows[3]["Beak Length (mm)"]`).
 *
 * @example
 * memberField('columns', 'island');            // 'columns.island'
 * memberField('rows[2]', 'Body Mass (g)');     // 'rows[2]["Body Mass (g)"]'
 */
export function memberField(base: string, name: string): string {
  return IDENTIFIER.test(name) ? `${base}.${name}` : `${base}[${JSON.stringify(name)}]`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * What a JSON value is, in words, for error messages that say what arrived as well as what was
 * expected.
 *
 * @example
 * describeJsonValue([1]);        // 'an array'
 * describeJsonValue(Number.NaN); // 'NaN'
 */
export function describeJsonValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'missing';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'NaN';
    if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
    return 'a number';
  }
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

/**
 * A request in row form, `[{column: value, …}, …]`, as a {@link RawTable}. Every key seen in any
 * row becomes a column; a row that lacks a key has a missing value there (accepted only for
 * nullable inputs). Cell values are checked later, against the model that answers.
 *
 * @example
 * const table = rowsTable(body.rows);              // 400 `rows[1]: must be an object …` for [{…}, 3]
 * table.fieldOf('island', 4);                      // 'rows[4].island'
 */
export function rowsTable(rows: unknown, field = 'rows'): RawTable {
  if (!Array.isArray(rows)) {
    throw invalidParameter(field, `is ${describeJsonValue(rows)}; it must be an array of objects, one per row`);
  }
  const n = rows.length;
  const columns = new Map<string, unknown[]>();
  const firstRow = new Map<string, number>();
  for (let r = 0; r < n; r++) {
    const row: unknown = rows[r];
    if (!isRecord(row)) {
      throw invalidParameter(
        `${field}[${r}]`,
        `is ${describeJsonValue(row)}; each row must be an object of column values`,
      );
    }
    for (const key in row) {
      if (!Object.hasOwn(row, key)) continue;
      let values = columns.get(key);
      if (values === undefined) {
        values = new Array<unknown>(n).fill(undefined);
        columns.set(key, values);
        firstRow.set(key, r);
      }
      values[r] = row[key];
    }
  }
  const table: BatchTable = {
    rows: n,
    columns,
    batchField: field,
    fieldOf: (column, row) => memberField(`${field}[${row}]`, column),
    columnField: (column) => memberField(`${field}[${firstRow.get(column) ?? 0}]`, column),
  };
  return table;
}

/**
 * A request in columnar form, `{column: [value, …], …}`, as a {@link RawTable}. Every column must
 * be an array, all of the same length.
 *
 * @example
 * const table = columnsTable({ island: ['Biscoe'], 'Body Mass (g)': [3750] });
 * table.fieldOf('Body Mass (g)', 0);                // 'columns["Body Mass (g)"][0]'
 */
export function columnsTable(columns: unknown, field = 'columns'): RawTable {
  if (!isRecord(columns)) {
    throw invalidParameter(
      field,
      `is ${describeJsonValue(columns)}; it must be an object of column name → array of values`,
    );
  }
  const map = new Map<string, readonly unknown[]>();
  let rows = -1;
  let first = '';
  for (const name in columns) {
    if (!Object.hasOwn(columns, name)) continue;
    const values = columns[name];
    const at = memberField(field, name);
    if (!Array.isArray(values)) {
      throw invalidParameter(at, `is ${describeJsonValue(values)}; each column must be an array of values`);
    }
    if (rows < 0) {
      rows = values.length;
      first = at;
    } else if (values.length !== rows) {
      throw invalidParameter(
        at,
        `has ${values.length} values but ${first} has ${rows}; columns must be of equal length`,
      );
    }
    map.set(name, values);
  }
  const table: BatchTable = {
    rows: Math.max(rows, 0),
    columns: map,
    batchField: field,
    fieldOf: (column, row) => `${memberField(field, column)}[${row}]`,
    columnField: (column) => memberField(field, column),
  };
  return table;
}

function missing(field: string): KilnError {
  return invalidParameter(field, 'missing; the model needs it');
}

function floatValues(input: ServingInput, values: readonly unknown[], rows: number, table: RawTable): Float64Array {
  const out = new Float64Array(rows);
  const integer = input.type === 'integer';
  for (let r = 0; r < rows; r++) {
    const v = values[r];
    if (typeof v === 'number' && Number.isFinite(v)) {
      if (integer && !Number.isInteger(v)) {
        throw invalidParameter(table.fieldOf(input.name, r), `is ${v}; the model needs a whole number`);
      }
      out[r] = v;
    } else if (v === null || v === undefined) {
      if (!input.nullable) throw missing(table.fieldOf(input.name, r));
      out[r] = Number.NaN;
    } else {
      const needs = integer ? 'a whole number' : 'a finite number';
      throw invalidParameter(table.fieldOf(input.name, r), `is ${describeJsonValue(v)}; the model needs ${needs}`);
    }
  }
  return out;
}

/** The category string of one request value, as the data context reads the same value from a dataset. */
function categoryOf(input: ServingInput, v: unknown, field: () => string): string {
  switch (typeof v) {
    case 'string':
      if (input.type === 'boolean') {
        const lower = v.toLowerCase();
        if (lower === 'true' || lower === 'false') return lower;
        throw invalidParameter(field(), `is the string ${JSON.stringify(v)}; the model needs true or false`);
      }
      return v;
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(v)) {
        throw invalidParameter(field(), `is ${describeJsonValue(v)}; the model needs a ${input.type} value`);
      }
      if (input.type === 'boolean' && v !== 0 && v !== 1) {
        throw invalidParameter(field(), `is ${v}; the model needs true or false`);
      }
      if (input.type === 'boolean') return v === 1 ? 'true' : 'false';
      if (input.type === 'integer' && !Number.isInteger(v)) {
        throw invalidParameter(field(), `is ${v}; the model needs a whole number`);
      }
      return String(v);
    default:
      throw invalidParameter(field(), `is ${describeJsonValue(v)}; the model needs a ${input.type} value`);
  }
}

function categoricalColumn(
  input: ServingInput,
  values: readonly unknown[],
  rows: number,
  table: RawTable,
): CategoricalColumn {
  const codes = new Int32Array(rows);
  const dictionary: string[] = [];
  const index = new Map<string, number>();
  for (let r = 0; r < rows; r++) {
    const v = values[r];
    if (v === null || v === undefined) {
      if (!input.nullable) throw missing(table.fieldOf(input.name, r));
      codes[r] = -1;
      continue;
    }
    const category = categoryOf(input, v, () => table.fieldOf(input.name, r));
    let code = index.get(category);
    if (code === undefined) {
      code = dictionary.length;
      dictionary.push(category);
      index.set(category, code);
    }
    codes[r] = code;
  }
  return { kind: 'categorical', name: input.name, codes, dictionary };
}

// A calendar date, or a date and time with an optional zone: what Date.parse reads reliably.
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

function datetimeValues(input: ServingInput, values: readonly unknown[], rows: number, table: RawTable): Float64Array {
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const v = values[r];
    if (typeof v === 'number' && Number.isFinite(v)) {
      out[r] = v;
    } else if (typeof v === 'string') {
      // A date without a zone is UTC, as the data context reads dates (a date-only string already is).
      const text = v.length > 10 && !/(?:Z|[+-]\d{2}:?\d{2})$/.test(v) ? `${v.replace(' ', 'T')}Z` : v;
      const ms = ISO_DATE.test(v) ? Date.parse(text) : Number.NaN;
      if (Number.isNaN(ms)) {
        throw invalidParameter(
          table.fieldOf(input.name, r),
          `is ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}; the model needs an ISO 8601 date or epoch milliseconds`,
        );
      }
      out[r] = ms;
    } else if (v === null || v === undefined) {
      if (!input.nullable) throw missing(table.fieldOf(input.name, r));
      out[r] = Number.NaN;
    } else {
      throw invalidParameter(
        table.fieldOf(input.name, r),
        `is ${describeJsonValue(v)}; the model needs an ISO 8601 date or epoch milliseconds`,
      );
    }
  }
  return out;
}

function batchFieldOf(table: RawTable): string {
  const named = (table as BatchTable).batchField;
  if (typeof named === 'string') return named;
  const first = table.columns.keys().next();
  return first.done === true ? 'rows' : table.columnField(first.value);
}

/**
 * Builds the frame a predictor reads from a request's raw table, checked against the model's
 * inputs: at most `policy.maxBatchRows` rows, every input present, extra columns ignored or
 * refused per the policy, and every cell of the right type: a finite number (a whole one for
 * integer inputs) for float inputs, a string / boolean / number for categorical ones (turned into
 * the category string the data context would read: `true` → `'true'`, `3` → `'3'`), an ISO 8601
 * string or epoch milliseconds for dates; `null` (or a row's missing key) only where the input is
 * nullable, though every input must be named by the request. NaN and ±Infinity are refused everywhere. Each refusal is a 400 naming the request
 * field (`rows[3].distance: is a string; …`). The frame's columns follow `inputs`, in order.
 *
 * @example
 * const frame = frameFromTable(predictor.inputs, rowsTable(body.rows), endpoint.inputPolicy);
 * const output = await predictor.predict(frame);
 */
export function frameFromTable(inputs: readonly ServingInput[], table: RawTable, policy: InputPolicy): Frame {
  const rows = table.rows;
  if (rows > policy.maxBatchRows) {
    throw new KilnError(
      'INVALID_PARAMETER_VALUE',
      `${batchFieldOf(table)}: has ${rows} rows; one request may carry at most ${policy.maxBatchRows}`,
      { field: batchFieldOf(table), rows, maxBatchRows: policy.maxBatchRows },
    );
  }
  if (policy.extraColumns === 'reject' && table.columns.size > 0) {
    for (const name of table.columns.keys()) {
      if (inputs.some((input) => input.name === name)) continue;
      const known = inputs.map((input) => input.name).join(', ');
      throw invalidParameter(table.columnField(name), `is not an input of the model; it reads ${known}`);
    }
  }
  const columns = new Array<Column>(inputs.length);
  for (let i = 0; i < inputs.length; i++) {
    const input = inputs[i] as ServingInput;
    const values = table.columns.get(input.name);
    if (values === undefined) {
      // A column the request never names is a mistake even when the model tolerates missing
      // values; only an empty batch (no rows, so no keys) may leave columns out.
      if (rows > 0) throw missing(table.columnField(input.name));
      columns[i] = emptyColumn(input);
      continue;
    }
    if (values.length < rows) {
      throw invalidParameter(table.columnField(input.name), `has ${values.length} values for ${rows} rows`);
    }
    if (input.kind === 'float') {
      columns[i] = { kind: 'float', name: input.name, values: floatValues(input, values, rows, table) } as FloatColumn;
    } else if (input.kind === 'datetime') {
      columns[i] = {
        kind: 'datetime',
        name: input.name,
        values: datetimeValues(input, values, rows, table),
      } as DatetimeColumn;
    } else {
      columns[i] = categoricalColumn(input, values, rows, table);
    }
  }
  return { rows, columns };
}

/** A column of no rows, for an empty batch. */
function emptyColumn(input: ServingInput): Column {
  if (input.kind === 'categorical') {
    return { kind: 'categorical', name: input.name, codes: new Int32Array(0), dictionary: [] };
  }
  return { kind: input.kind, name: input.name, values: new Float64Array(0) };
}
