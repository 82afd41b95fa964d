import { invalidParameter, KilnError } from '../../core/index.js';
import {
  type BatchTable,
  columnsTable,
  describeJsonValue,
  memberField,
  type RawTable,
  rowsTable,
  type ServingInput,
} from '../../serving/index.js';
import { parseMlflowJson } from './json-body.js';

/** The request formats of MLflow's `/invocations`, exactly one per request. */
export const SCORING_FORMATS = ['dataframe_split', 'dataframe_records', 'instances', 'inputs'] as const;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** pandas reads NaN as a missing value; so does Kiln on this protocol (null in the table). */
function nonFiniteToNull(value: unknown): unknown {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = nonFiniteToNull(value[i]);
    return value;
  }
  if (isRecord(value)) {
    for (const key of Object.keys(value)) value[key] = nonFiniteToNull(value[key]);
  }
  return value;
}

/**
 * Parses an `/invocations` JSON body. Standard JSON takes the fast path; Python's bare `NaN` /
 * `Infinity` tokens (what `json.dumps` writes for a DataFrame's missing floats) are read as
 * missing values, as pandas reads them. Anything else that is not JSON is MALFORMED_REQUEST.
 *
 * @example
 * parseScoringJson('{"dataframe_records": [{"x": NaN}]}'); // { dataframe_records: [{ x: null }] }
 */
export function parseScoringJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return nonFiniteToNull(parseMlflowJson(text));
  }
}

/**
 * A table of positional rows (`[[v, …], …]`), columns named by `names` in order: MLflow's
 * `dataframe_split`, and `instances` / `inputs` given as lists of lists (mapped onto the model's
 * inputs in order). Each row must have one value per name.
 */
function positionalTable(
  data: readonly unknown[],
  names: readonly string[],
  field: string,
  columnField: (name: string, index: number) => string,
): RawTable {
  const n = data.length;
  const width = names.length;
  const columns = names.map(() => new Array<unknown>(n));
  for (let r = 0; r < n; r++) {
    const row = data[r];
    if (!Array.isArray(row)) {
      throw invalidParameter(`${field}[${r}]`, `is ${describeJsonValue(row)}; each row must be an array of values`);
    }
    if (row.length !== width) {
      throw invalidParameter(
        `${field}[${r}]`,
        `has ${row.length} values; each row needs ${width} (${names.map((c) => JSON.stringify(c)).join(', ')})`,
      );
    }
    for (let c = 0; c < width; c++) (columns[c] as unknown[])[r] = row[c];
  }
  const index = new Map(names.map((name, i) => [name, i]));
  const table: BatchTable = {
    rows: n,
    columns: new Map(names.map((name, i) => [name, columns[i] as unknown[]])),
    batchField: field,
    fieldOf: (column, row) => `${field}[${row}][${index.get(column) ?? 0}]`,
    columnField: (column) => {
      const at = index.get(column);
      return at === undefined ? columnField(column, -1) : columnField(column, at);
    },
  };
  return table;
}

function dataframeSplit(value: unknown, inputs: readonly ServingInput[]): RawTable {
  const field = 'dataframe_split';
  if (!isRecord(value)) {
    throw invalidParameter(field, `is ${describeJsonValue(value)}; it must be an object {columns, data, index?}`);
  }
  for (const key in value) {
    if (key !== 'columns' && key !== 'data' && key !== 'index') {
      throw invalidParameter(
        memberField(field, key),
        'is not a field of dataframe_split; it takes columns, data and index',
      );
    }
  }
  const { columns, data } = value;
  if (!Array.isArray(data)) {
    throw invalidParameter(`${field}.data`, `is ${describeJsonValue(data)}; it must be an array of rows`);
  }
  if (value.index !== undefined && !Array.isArray(value.index)) {
    throw invalidParameter(`${field}.index`, `is ${describeJsonValue(value.index)}; it must be an array`);
  }
  if (columns === undefined) {
    // Unnamed columns match the model's inputs by position, as MLflow's schema enforcement does.
    return positionalTable(
      data,
      inputs.map((input) => input.name),
      `${field}.data`,
      (name) => memberField(`${field}.columns`, name),
    );
  }
  if (!Array.isArray(columns)) {
    throw invalidParameter(`${field}.columns`, `is ${describeJsonValue(columns)}; it must be an array of column names`);
  }
  const seen = new Set<string>();
  columns.forEach((name, i) => {
    if (typeof name !== 'string') {
      throw invalidParameter(`${field}.columns[${i}]`, `is ${describeJsonValue(name)}; column names are strings`);
    }
    if (seen.has(name)) throw invalidParameter(`${field}.columns[${i}]`, `repeats the column ${JSON.stringify(name)}`);
    seen.add(name);
  });
  return positionalTable(data, columns as string[], `${field}.data`, (name, i) =>
    i < 0 ? memberField(`${field}.columns`, name) : `${field}.columns[${i}]`,
  );
}

/**
 * `instances` and `inputs` in their list forms: a list of records, a list of lists (mapped onto the
 * model's inputs in order) or, for a one-input model, a list of scalars. The dict form is columnar.
 */
function listOrColumns(value: unknown, field: string, inputs: readonly ServingInput[]): RawTable {
  if (isRecord(value)) return columnsTable(value, field);
  if (!Array.isArray(value)) {
    throw invalidParameter(field, `is ${describeJsonValue(value)}; it must be a list of rows or an object of columns`);
  }
  const first: unknown = value[0];
  if (value.length === 0 || isRecord(first)) return rowsTable(value, field);
  const names = inputs.map((input) => input.name);
  if (Array.isArray(first)) return positionalTable(value, names, field, (name) => memberField(field, name));
  if (inputs.length === 1) {
    return columnsTable({ [names[0] as string]: value }, field);
  }
  throw invalidParameter(
    `${field}[0]`,
    `is ${describeJsonValue(first)}; for a model of ${inputs.length} inputs each row must be an object or an array`,
  );
}

/**
 * Reads a JSON `/invocations` body as MLflow's scoring server does: a dict with exactly one of
 * `dataframe_split` (`{columns, data, index?}`, pandas' split orient; without `columns` the values
 * match the model's inputs by position), `dataframe_records` (a list of row objects), `instances`
 * or `inputs` (a list of row objects, a list of lists matched to the inputs in order, or a dict of
 * columns), and an optional `params` dict (accepted; Kiln models take no parameters). Any other
 * shape is MLflow's BAD_REQUEST; bad values are 400s naming the field
 * (`dataframe_split.data[3][1]: is a string; …` once the model checks them).
 *
 * @example
 * scoringTable({ dataframe_split: { columns: ['x'], data: [[1], [2]] } }, inputs).rows; // 2
 */
export function scoringTable(body: unknown, inputs: readonly ServingInput[]): RawTable {
  if (!isRecord(body)) {
    throw new KilnError(
      'BAD_REQUEST',
      `Invalid input. The input must be a JSON dictionary with exactly one of the input fields ${formatsText()}; got ${describeJsonValue(body)}`,
      { field: 'body' },
    );
  }
  const keys = Object.keys(body);
  const formats = keys.filter((key) => (SCORING_FORMATS as readonly string[]).includes(key));
  const others = keys.filter((key) => key !== 'params' && !formats.includes(key));
  if (formats.length !== 1 || others.length > 0) {
    const field = others[0] ?? formats[1] ?? 'body';
    throw new KilnError(
      'BAD_REQUEST',
      `Invalid input. The input must be a JSON dictionary with exactly one of the input fields ${formatsText()} and optionally params; got the fields [${keys.join(', ')}]`,
      { field },
    );
  }
  const params = body.params;
  if (params !== undefined && params !== null && !isRecord(params)) {
    throw invalidParameter('params', `is ${describeJsonValue(params)}; it must be an object of parameter values`);
  }
  const format = formats[0] as (typeof SCORING_FORMATS)[number];
  const value = body[format];
  switch (format) {
    case 'dataframe_split':
      return dataframeSplit(value, inputs);
    case 'dataframe_records':
      return rowsTable(value, 'dataframe_records');
    case 'instances':
    case 'inputs':
      return listOrColumns(value, format, inputs);
  }
}

function formatsText(): string {
  return `{${SCORING_FORMATS.map((f) => `'${f}'`).join(', ')}}`;
}

/** Cells pandas reads as missing values by default (a subset of its `na_values` that is never a real category). */
const CSV_MISSING = new Set(['', 'NaN', 'nan', 'NA', 'N/A', 'null', 'NULL', 'None']);
const CSV_NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Splits CSV text into records of cells, as RFC 4180 writes it (quoted fields with doubled quotes,
 * embedded commas and line breaks, CRLF or LF); a byte order mark and blank lines are skipped.
 *
 * @example
 * parseCsvRecords('a,b\n"x, y",2\n'); // [['a', 'b'], ['x, y', '2']]
 */
export function parseCsvRecords(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let cell = '';
  let quoted = false;
  let i = 0;
  const n = text.length;
  // A byte order mark is not part of the first column name.
  if (text.charCodeAt(0) === 0xfeff) i = 1;
  while (i < n) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      cell += ch;
      i++;
      continue;
    }
    if (ch === '"' && cell === '') {
      quoted = true;
    } else if (ch === ',') {
      record.push(cell);
      cell = '';
    } else if (ch === '\n' || ch === '\r') {
      record.push(cell);
      cell = '';
      records.push(record);
      record = [];
      if (ch === '\r' && text[i + 1] === '\n') i++;
    } else {
      cell += ch;
    }
    i++;
  }
  if (quoted) throw invalidParameter('csv', 'ends inside a quoted field');
  if (cell !== '' || record.length > 0) {
    record.push(cell);
    records.push(record);
  }
  // Blank lines carry no row.
  return records.filter((r) => !(r.length === 1 && r[0] === ''));
}

/** One CSV cell as the value the model's input expects: numbers for numeric inputs, text otherwise. */
function csvValue(cell: string, input: ServingInput | undefined): unknown {
  if (CSV_MISSING.has(cell)) return null;
  if (input === undefined || input.kind === 'categorical') return cell;
  if (input.kind === 'datetime') return /^\d+$/.test(cell) ? Number(cell) : cell;
  return CSV_NUMBER.test(cell.trim()) ? Number(cell) : cell;
}

/**
 * Reads a `text/csv` `/invocations` body: a header row of column names, then one line per row.
 * Cells are typed by the model's inputs (as MLflow parses CSV with the signature's types), so a
 * zip code stays the text `'02134'` for a categorical input while `3750` is a number for a
 * numeric one; pandas' usual missing-value spellings (empty, `NaN`, `NA`, `null`, …) are missing.
 * Fields are named `csv.line[4].distance` by their line in the body.
 *
 * @example
 * csvTable('x,island\n1.5,Biscoe\n', inputs).columns.get('x'); // [1.5]
 */
export function csvTable(text: string, inputs: readonly ServingInput[]): RawTable {
  const records = parseCsvRecords(text);
  const header = records[0];
  if (header === undefined) throw invalidParameter('csv', 'is empty; send a header row of column names, then the rows');
  const byName = new Map(inputs.map((input) => [input.name, input]));
  const width = header.length;
  const n = records.length - 1;
  const columns = header.map(() => new Array<unknown>(n));
  const seen = new Set<string>();
  header.forEach((name, c) => {
    if (seen.has(name)) throw invalidParameter(`csv.header[${c}]`, `repeats the column ${JSON.stringify(name)}`);
    seen.add(name);
  });
  const kinds = header.map((name) => byName.get(name));
  for (let r = 0; r < n; r++) {
    const record = records[r + 1] as string[];
    if (record.length !== width) {
      throw invalidParameter(`csv.line[${r + 2}]`, `has ${record.length} fields; the header has ${width}`);
    }
    for (let c = 0; c < width; c++) (columns[c] as unknown[])[r] = csvValue(record[c] as string, kinds[c]);
  }
  const table: BatchTable = {
    rows: n,
    columns: new Map(header.map((name, c) => [name, columns[c] as unknown[]])),
    batchField: 'csv',
    fieldOf: (column, row) => memberField(`csv.line[${row + 2}]`, column),
    columnField: (column) => memberField('csv.header', column),
  };
  return table;
}
