import type { DuckDBConnection } from '@duckdb/node-api';
import type { DatasetSchema, LogicalType } from '../model.js';
import { logicalTypeOf, quoteIdent, quoteLiteral } from '../schema.js';
import type { Expectation, ExpectationResult, ForeignReference, SuiteDefinition, ValidationReport } from './model.js';

/** At most this many distinct unexpected values are reported per failing expectation. */
export const MAX_UNEXPECTED_EXAMPLES = 5;

/** What a suite runs against. */
export interface ValidationInput {
  /** An SQL relation the caller set up, e.g. a view name or `read_parquet('/tmp/v3.parquet')`. */
  relation: string;
  /** The version's schema; `type` expectations are judged against its logical types. */
  schema: DatasetSchema;
  /** The relation of another dataset version, for `foreign_subset`; see `foreignReferences`. */
  foreign?: (ref: ForeignReference) => string;
}

type Row = Record<string, unknown>;

/** A column as DuckDB describes it. */
interface Column {
  name: string;
  physicalType: string;
  logicalType: LogicalType;
}

/** A row-based verdict before `mostly` is applied, or an aggregate verdict. */
type Verdict =
  | { observed: unknown; element_count: number; unexpected_count: number }
  | { observed: unknown; success: boolean };

/**
 * How one expectation is evaluated, decided before anything is scanned. Aggregates share one
 * SELECT with every other expectation's; a plan needing a GROUP BY or a join brings its own query.
 */
interface Plan {
  /** Aggregate expressions by short name, for the shared scan. */
  aggregates?: Record<string, string>;
  /** A query of its own returning one row, whose columns join the aggregates' values. */
  query?: string;
  /** The verdict from the aggregates (or the own row) and the relation's row count. */
  judge: (values: Row, rowCount: number) => Verdict;
  /** SQL returning distinct unexpected examples, run only when the expectation fails. */
  examples?: string;
  /** Makes one example row JSON-safe. */
  example?: (row: Row) => unknown;
}

/** The reason an expectation cannot be evaluated; it becomes the result's `error`, never a throw. */
class Unevaluable extends Error {}

/** DuckDB renders BIGINT counts as strings; counts fit a double exactly enough. */
function count(value: unknown): number {
  return value === null || value === undefined ? 0 : Number(value);
}

/** A DOUBLE aggregate: a number, DuckDB's `'NaN'` / `'Infinity'` text, or null. */
function double(value: unknown): number | string | null {
  if (value === null || value === undefined) return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : String(value);
}

/** A value read back from DuckDB as JSON, made exact and plain: safe integers as numbers, ISO datetimes. */
function jsonValue(value: unknown, column: Column): unknown {
  if (value === null || value === undefined) return null;
  if (column.logicalType === 'integer' || column.logicalType === 'float') {
    const n = Number(value);
    const exact = column.logicalType === 'integer' ? Number.isSafeInteger(n) : Number.isFinite(n);
    return exact ? n : String(value);
  }
  if (column.logicalType === 'datetime' && typeof value === 'string') return value.replace(' ', 'T');
  return value;
}

/** A number as SQL: safe integers as written, others as a quoted DOUBLE so `1e+21` parses exactly. */
function numberLiteral(n: number): string {
  return Number.isSafeInteger(n) ? String(n) : `${quoteLiteral(String(n))}::double`;
}

/** DuckDB's error without the echoed query, on one line. */
function reason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return (message.split(/\n\s*\n/)[0] ?? message).replace(/\s*\n\s*/g, ' ').trim();
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** ` (did you mean 'delay'?)` for a near miss (two edits at most, fewer for short names), else nothing. */
function suggestion(name: string, candidates: Iterable<string>): string {
  let best: string | undefined;
  let bestDistance = Math.min(2, Math.floor(name.length / 2)) + 1;
  for (const candidate of candidates) {
    const distance = candidate.toLowerCase() === name.toLowerCase() ? 0 : editDistance(name, candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best === undefined ? '' : ` (did you mean '${best}'?)`;
}

async function describe(connection: DuckDBConnection, relation: string): Promise<Map<string, Column>> {
  const rows = (await connection.runAndReadAll(`describe select * from ${relation}`)).getRowObjectsJson();
  return new Map(
    rows.map((row) => {
      const physicalType = String(row.column_type);
      const name = String(row.column_name);
      return [name, { name, physicalType, logicalType: logicalTypeOf(physicalType) }];
    }),
  );
}

/** What plans are compiled against. */
class Target {
  constructor(
    readonly connection: DuckDBConnection,
    readonly input: ValidationInput,
    readonly columns: Map<string, Column>,
  ) {}

  get relation(): string {
    return this.input.relation;
  }

  column(name: string): Column {
    const column = this.columns.get(name);
    if (column === undefined) {
      throw new Unevaluable(`column '${name}' does not exist${suggestion(name, this.columns.keys())}`);
    }
    return column;
  }

  /** A column whose values compare as numbers. */
  numeric(name: string, type: string): Column {
    const column = this.column(name);
    if (column.logicalType !== 'integer' && column.logicalType !== 'float') {
      throw new Unevaluable(`${type} needs a numeric column; '${name}' is ${column.logicalType}`);
    }
    return column;
  }

  /**
   * `value` as an SQL literal comparable with `column`: a number for numeric columns, an ISO 8601
   * string DuckDB can cast for datetime columns, a boolean or a string otherwise.
   */
  async literal(column: Column, value: string | number | boolean, what: string): Promise<string> {
    const wanted = (expected: string) =>
      new Unevaluable(
        `${what} must be ${expected} for ${column.logicalType} column '${column.name}', got ${JSON.stringify(value)}`,
      );
    switch (column.logicalType) {
      case 'integer':
      case 'float':
        if (typeof value !== 'number') throw wanted('a number');
        return numberLiteral(value);
      case 'boolean':
        if (typeof value !== 'boolean') throw wanted('true or false');
        return String(value);
      case 'datetime': {
        if (typeof value !== 'string') throw wanted('an ISO 8601 string');
        const cast = `cast(${quoteLiteral(value)} as ${column.physicalType})`;
        const rows = await this.connection.runAndReadAll(`select try_${cast} is not null as ok`);
        if (rows.getRowObjectsJson()[0]?.ok !== true) {
          throw new Unevaluable(`${what} ${JSON.stringify(value)} is not a valid ${column.physicalType}`);
        }
        return cast;
      }
      default:
        if (typeof value !== 'string') throw wanted('a string');
        return quoteLiteral(value);
    }
  }

  /** The distinct unexpected values of `column` under `unexpected`, smallest first. */
  examplesOf(column: Column, unexpected: string): Pick<Plan, 'examples' | 'example'> {
    const id = quoteIdent(column.name);
    return {
      examples: `select distinct ${id} as v from ${this.relation} where ${id} is not null and (${unexpected}) order by 1 limit ${MAX_UNEXPECTED_EXAMPLES}`,
      example: (row) => jsonValue(row.v, column),
    };
  }

  /** Whole rows, JSON-safe, keyed by column name. */
  rowExample(names: string[]): (row: Row) => unknown {
    return (row) => Object.fromEntries(names.map((name) => [name, jsonValue(row[name], this.column(name))]));
  }
}

/**
 * A row-based plan over the non-null values of one column: unexpected where `unexpected` holds.
 * `extra` aggregates ride along in the shared scan. A predicate with a subquery (`joins`) is counted
 * in a query of its own: as a WHERE it becomes one hash anti-join, while inside the shared scan's
 * FILTER clause it slowed every other aggregate down.
 */
function valuePlan(
  target: Target,
  column: Column,
  unexpected: string,
  observed: (values: Row, passed: number) => unknown,
  { extra = {}, joins = false }: { extra?: Record<string, string>; joins?: boolean } = {},
): Plan {
  const id = quoteIdent(column.name);
  const where = `${id} is not null and (${unexpected})`;
  return {
    ...(joins
      ? {
          aggregates: { n: `count(${id})`, ...extra },
          query: `select count(*) as u from ${target.relation} where ${where}`,
        }
      : { aggregates: { n: `count(${id})`, u: `count(*) filter (where ${where})`, ...extra } }),
    judge: (values) => {
      const elements = count(values.n);
      const unexpectedCount = count(values.u);
      return {
        observed: observed(values, elements - unexpectedCount),
        element_count: elements,
        unexpected_count: unexpectedCount,
      };
    },
    ...target.examplesOf(column, unexpected),
  };
}

/** The share of checked elements that passed, or null when nothing was checked. */
function passShare(elements: (values: Row) => number) {
  return (values: Row, passed: number) => {
    const n = elements(values);
    return n === 0 ? null : passed / n;
  };
}

const nonNull = passShare((values) => count(values.n));

function within(value: unknown, min: number | undefined, max: number | undefined): boolean {
  return typeof value === 'number' && (min === undefined || value >= min) && (max === undefined || value <= max);
}

/** A plan counting rows per distinct key; rows of keys seen more than once are unexpected. */
function duplicatesPlan(target: Target, columns: Column[]): Plan {
  const ids = columns.map((column) => quoteIdent(column.name)).join(', ');
  const keep = `not (${columns.map((column) => `${quoteIdent(column.name)} is null`).join(' and ')})`;
  const groups = `from ${target.relation} where ${keep} group by ${ids}`;
  const single = columns.length === 1 ? columns[0] : undefined;
  return {
    query: `select count(*) as d, coalesce(sum(n), 0) as e, coalesce(sum(n) filter (where n > 1), 0) as u from (select count(*) as n ${groups})`,
    judge: (values) => ({
      observed: count(values.d),
      element_count: count(values.e),
      unexpected_count: count(values.u),
    }),
    examples: `select ${ids} ${groups} having count(*) > 1 order by all limit ${MAX_UNEXPECTED_EXAMPLES}`,
    example:
      single === undefined
        ? target.rowExample(columns.map((column) => column.name))
        : (row) => jsonValue(row[single.name], single),
  };
}

/** An aggregate plan: one statistic of a numeric column, inside inclusive bounds. */
function statisticPlan(aggregate: string, min: number | undefined, max: number | undefined): Plan {
  return {
    aggregates: { v: aggregate },
    judge: (values) => {
      const observed = double(values.v);
      return { observed, success: within(observed, min, max) };
    },
  };
}

async function compile(target: Target, expectation: Expectation): Promise<Plan> {
  switch (expectation.type) {
    case 'not_null': {
      const id = quoteIdent(target.column(expectation.column).name);
      return {
        aggregates: { n: 'count(*)', u: `count(*) - count(${id})` },
        judge: (values) => ({
          observed: count(values.u),
          element_count: count(values.n),
          unexpected_count: count(values.u),
        }),
      };
    }
    case 'unique':
      return duplicatesPlan(target, [target.column(expectation.column)]);
    case 'compound_unique':
      return duplicatesPlan(
        target,
        expectation.columns.map((name) => target.column(name)),
      );
    case 'type': {
      const column = target.column(expectation.column);
      const declared = target.input.schema.columns.find((c) => c.name === column.name)?.logicalType;
      const actual = declared ?? column.logicalType;
      const allowed = [expectation.logical_type].flat();
      const success = allowed.includes(actual) || (actual === 'categorical' && allowed.includes('string'));
      return { judge: () => ({ observed: { logical_type: actual, physical_type: column.physicalType }, success }) };
    }
    case 'between': {
      const column = target.column(expectation.column);
      if (!['integer', 'float', 'datetime'].includes(column.logicalType)) {
        throw new Unevaluable(`between needs a numeric or datetime column; '${column.name}' is ${column.logicalType}`);
      }
      const id = quoteIdent(column.name);
      const outside: string[] = [];
      if (expectation.min !== undefined) {
        const min = await target.literal(column, expectation.min, 'min');
        outside.push(`${id} ${expectation.strict_min ? '<=' : '<'} ${min}`);
      }
      if (expectation.max !== undefined) {
        const max = await target.literal(column, expectation.max, 'max');
        outside.push(`${id} ${expectation.strict_max ? '>=' : '>'} ${max}`);
      }
      return valuePlan(
        target,
        column,
        outside.join(' or '),
        (values) => ({ min: jsonValue(values.mn, column), max: jsonValue(values.mx, column) }),
        { extra: { mn: `min(${id})`, mx: `max(${id})` } },
      );
    }
    case 'in_set': {
      const column = target.column(expectation.column);
      const literals: string[] = [];
      for (const [i, value] of expectation.values.entries()) {
        literals.push(await target.literal(column, value, `values[${i}]`));
      }
      // A subquery becomes a hash join; a literal IN list is compared value by value on every row.
      const set = `select unnest([${literals.join(', ')}])`;
      return valuePlan(target, column, `${quoteIdent(column.name)} not in (${set})`, nonNull, { joins: true });
    }
    case 'regex': {
      const column = target.column(expectation.column);
      const pattern = quoteLiteral(expectation.pattern);
      try {
        await target.connection.run(`select regexp_full_match('', ${pattern})`);
      } catch (error) {
        throw new Unevaluable(`pattern ${JSON.stringify(expectation.pattern)} does not compile: ${reason(error)}`);
      }
      return valuePlan(
        target,
        column,
        `not regexp_full_match(${quoteIdent(column.name)}::varchar, ${pattern})`,
        nonNull,
      );
    }
    case 'string_length': {
      const column = target.column(expectation.column);
      const length = `length(${quoteIdent(column.name)}::varchar)`;
      const outside: string[] = [];
      if (expectation.min !== undefined) outside.push(`${length} < ${expectation.min}`);
      if (expectation.max !== undefined) outside.push(`${length} > ${expectation.max}`);
      return valuePlan(
        target,
        column,
        outside.join(' or '),
        (values) => ({
          min: values.mn === null ? null : count(values.mn),
          max: values.mx === null ? null : count(values.mx),
        }),
        { extra: { mn: `min(${length})`, mx: `max(${length})` } },
      );
    }
    case 'row_count_between':
      return { judge: (_, rows) => ({ observed: rows, success: within(rows, expectation.min, expectation.max) }) };
    case 'column_set_equals': {
      const actual = [...target.columns.keys()];
      const missing = expectation.columns.filter((name) => !target.columns.has(name));
      const extra = actual.filter((name) => !expectation.columns.includes(name));
      const sameSet = missing.length === 0 && extra.length === 0;
      const success = sameSet && (!expectation.ordered || actual.every((name, i) => name === expectation.columns[i]));
      return { judge: () => ({ observed: { columns: actual, missing, extra }, success }) };
    }
    case 'mean_between':
    case 'stddev_between': {
      const id = quoteIdent(target.numeric(expectation.column, expectation.type).name);
      const statistic = expectation.type === 'mean_between' ? 'avg' : 'stddev_samp';
      return statisticPlan(`${statistic}(${id}::double)`, expectation.min, expectation.max);
    }
    case 'quantile_between': {
      const id = quoteIdent(target.numeric(expectation.column, expectation.type).name);
      return statisticPlan(
        // On the column's own type: casting 3 million values to DOUBLE first makes this the slowest aggregate.
        `quantile_cont(${id}, ${numberLiteral(expectation.quantile)})`,
        expectation.min,
        expectation.max,
      );
    }
    case 'null_proportion_below': {
      const id = quoteIdent(target.column(expectation.column).name);
      return {
        aggregates: { u: `count(*) - count(${id})` },
        judge: (values, rows) => {
          const observed = rows === 0 ? 0 : count(values.u) / rows;
          return { observed, success: observed <= expectation.max };
        },
      };
    }
    case 'foreign_subset': {
      const column = target.column(expectation.column);
      const { dataset, version } = expectation;
      const ref: ForeignReference = version === undefined ? { dataset } : { dataset, version };
      const label = `dataset '${dataset}'${version === undefined ? '' : ` version ${version}`}`;
      if (target.input.foreign === undefined) throw new Unevaluable(`${label} was not supplied to the run`);
      let relation: string;
      try {
        relation = target.input.foreign(ref);
      } catch (error) {
        throw new Unevaluable(`${label}: ${reason(error)}`);
      }
      const foreignName = expectation.foreign_column ?? column.name;
      if (!(await describe(target.connection, relation)).has(foreignName)) {
        throw new Unevaluable(`column '${foreignName}' does not exist in ${label}`);
      }
      const fid = quoteIdent(foreignName);
      const unexpected = `${quoteIdent(column.name)} not in (select ${fid} from ${relation} where ${fid} is not null)`;
      return valuePlan(target, column, unexpected, nonNull, { joins: true });
    }
    case 'sql': {
      const unexpected = `not coalesce((${expectation.predicate}), false)`;
      const names = [...target.columns.keys()];
      return {
        aggregates: { n: 'count(*)', u: `count(*) filter (where ${unexpected})` },
        judge: (values) => {
          const elements = count(values.n);
          const unexpectedCount = count(values.u);
          return {
            observed: elements === 0 ? null : (elements - unexpectedCount) / elements,
            element_count: elements,
            unexpected_count: unexpectedCount,
          };
        },
        // The first unexpected rows in relation order: distinct whole rows could cost a full sort.
        examples: `select * from ${target.relation} where ${unexpected} limit ${MAX_UNEXPECTED_EXAMPLES}`,
        example: target.rowExample(names),
      };
    }
  }
}

async function firstRow(connection: DuckDBConnection, sql: string): Promise<Row> {
  return (await connection.runAndReadAll(sql)).getRowObjectsJson()[0] ?? {};
}

/** `select <aggregates> from relation` for the given plans, aliased `e<index>_<name>`. */
function aggregateSelect(relation: string, plans: [number, Plan][], withRowCount: boolean): string {
  const parts = withRowCount ? ['count(*) as kiln_rows'] : [];
  for (const [index, plan] of plans) {
    for (const [name, sql] of Object.entries(plan.aggregates ?? {}))
      parts.push(`${sql} as ${quoteIdent(`e${index}_${name}`)}`);
  }
  return `select ${parts.join(', ')} from ${relation}`;
}

function valuesOf(row: Row, index: number): Row {
  const prefix = `e${index}_`;
  return Object.fromEntries(
    Object.entries(row)
      .filter(([key]) => key.startsWith(prefix))
      .map(([key, value]) => [key.slice(prefix.length), value]),
  );
}

/**
 * Runs a suite against `input.relation` inside DuckDB and reports per expectation. Every aggregate
 * that can share a scan goes into one SELECT; uniqueness checks bring one GROUP BY each; examples
 * are fetched only for failing expectations. An expectation that cannot be evaluated (a missing
 * column, a pattern that does not compile, a predicate DuckDB rejects) fails with `error` set
 * instead of throwing, so one typo does not hide the other results.
 *
 * @example
 * const report = await runSuite(connection, { relation: 'kiln_v', schema: version.schema }, suite);
 * report.success; // false
 * report.results[1]; // { type: 'between', column: 'delay', unexpected_count: 7, unexpected_examples: [5000], ... }
 */
export async function runSuite(
  connection: DuckDBConnection,
  input: ValidationInput,
  suite: SuiteDefinition,
): Promise<ValidationReport> {
  const target = new Target(connection, input, await describe(connection, input.relation));
  const plans = new Map<number, Plan>();
  const errors = new Map<number, string>();
  for (const [index, expectation] of suite.expectations.entries()) {
    try {
      plans.set(index, await compile(target, expectation));
    } catch (error) {
      if (!(error instanceof Unevaluable)) throw error;
      errors.set(index, error.message);
    }
  }

  const values = new Map<number, Row>();
  const shared = [...plans].filter(([, plan]) => plan.aggregates !== undefined);
  let rowCount: number;
  try {
    const row = await firstRow(connection, aggregateSelect(input.relation, shared, true));
    rowCount = count(row.kiln_rows);
    for (const [index] of shared) values.set(index, valuesOf(row, index));
  } catch {
    // Some expectation DuckDB rejects at run time (e.g. a predicate casting text): find which, one scan each.
    rowCount = count((await firstRow(connection, `select count(*) as n from ${input.relation}`)).n);
    for (const entry of shared) {
      try {
        values.set(
          entry[0],
          valuesOf(await firstRow(connection, aggregateSelect(input.relation, [entry], false)), entry[0]),
        );
      } catch (error) {
        plans.delete(entry[0]);
        errors.set(entry[0], reason(error));
      }
    }
  }
  for (const [index, plan] of plans) {
    if (plan.query === undefined) continue;
    try {
      values.set(index, { ...values.get(index), ...(await firstRow(connection, plan.query)) });
    } catch (error) {
      plans.delete(index);
      errors.set(index, reason(error));
    }
  }

  const results: ExpectationResult[] = [];
  for (const [index, expectation] of suite.expectations.entries()) {
    const result: ExpectationResult = {
      index,
      type: expectation.type,
      ...('column' in expectation ? { column: expectation.column } : {}),
      ...('columns' in expectation ? { columns: expectation.columns } : {}),
      level: expectation.level ?? 'error',
      success: false,
      observed: null,
    };
    results.push(result);
    const plan = plans.get(index);
    if (plan === undefined) {
      result.error = errors.get(index);
      continue;
    }
    const verdict = plan.judge(values.get(index) ?? {}, rowCount);
    result.observed = verdict.observed;
    if ('success' in verdict) {
      result.success = verdict.success;
      continue;
    }
    const { element_count: elements, unexpected_count: unexpected } = verdict;
    const mostly = 'mostly' in expectation ? (expectation.mostly ?? 1) : 1;
    result.success = elements === 0 || (elements - unexpected) / elements >= mostly;
    result.element_count = elements;
    result.unexpected_count = unexpected;
    result.unexpected_percent = elements === 0 ? 0 : (100 * unexpected) / elements;
    if (!result.success && unexpected > 0 && plan.examples !== undefined && plan.example !== undefined) {
      const rows = (await connection.runAndReadAll(plan.examples)).getRowObjectsJson();
      result.unexpected_examples = rows.map(plan.example);
    }
  }
  const failed = (level: string) => results.filter((r) => !r.success && r.level === level).length;
  const report = { errors: failed('error'), warnings: failed('warn') };
  return { suite: suite.name, success: report.errors === 0, ...report, row_count: rowCount, results };
}
