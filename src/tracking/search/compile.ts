import { type Expression, type RawBuilder, type SelectQueryBuilder, type SqlBool, sql } from 'kysely';
import { KilnError } from '../../core/index.js';
import type { SqlDialect } from '../../store/index.js';
import type { OrderClause } from './entities.js';
import { likeParts, renderGlob, renderLike, SQL_LIKE_ESCAPE } from './like.js';
import type { Comparison, Filter, Operator } from './parser.js';
import type { SearchPlan } from './plan.js';

/**
 * How a searched attribute is stored: `text`; `number` (integer or real, e.g. epoch milliseconds);
 * `iso-timestamp`, ISO-8601 UTC text as Kiln stores times — filters still take epoch milliseconds,
 * converted before binding, so MLflow's `attributes.start_time > 1700000000000` keeps working.
 */
export type ColumnType = 'text' | 'number' | 'iso-timestamp';

/** Where one attribute lives in the outer query. */
export interface AttributeColumn {
  /** Column reference as the outer query names it, e.g. `runs.status`. */
  readonly column: string;
  readonly type: ColumnType;
}

/** A table of (owner, key, value) rows with at most one row per owner and key. */
export interface KeyedTable {
  readonly table: string;
  /** Columns of `table` equal to {@link SearchDescriptor.owner}, in the same order. */
  readonly owner: readonly string[];
  readonly key: string;
  readonly value: string;
}

/**
 * The latest value of each metric. NaN is stored as `value = 0` with `nan` true (boolean on
 * PostgreSQL, 0/1 on SQLite), because SQLite cannot store NaN; ±Infinity are stored as real values.
 */
export interface MetricTable extends KeyedTable {
  readonly nan: string;
}

/** Datasets used by an owner: a link table, optionally joined to a dataset table. */
export interface DatasetTables {
  /** One row per (owner, dataset) input, e.g. `run_inputs`. */
  readonly table: string;
  readonly owner: readonly string[];
  /** The dataset table, joined on `table.<on[0]> = join.table.<on[1]>`. */
  readonly join?: { readonly table: string; readonly on: readonly [string, string] };
  /** Column of each dataset field; `joined: true` when it is in the joined table. */
  readonly fields: Readonly<Record<'name' | 'digest' | 'context', { column: string; joined?: boolean }>>;
}

/**
 * What a store tells the compiler about its tables, so that one compiler serves runs, experiments,
 * registered models and model versions. Owners may be composite: model-version tags are keyed by
 * (name, version). Attribute keys are the canonical names of entities.ts (`run_id`, `start_time`,
 * `version`, `source`, …). The outer query must select explicit columns (`selectAll('runs')`):
 * ordering by a metric, param or tag left-joins a `kiln_sort_N` subquery.
 *
 * @example
 * const runs: SearchDescriptor = {
 *   owner: ['runs.run_id'],
 *   attributes: { run_id: { column: 'runs.run_id', type: 'text' }, start_time: { column: 'runs.start_time', type: 'number' } },
 *   keyed: {
 *     metric: { table: 'latest_metrics', owner: ['run_id'], key: 'key', value: 'value', nan: 'is_nan' },
 *     param: { table: 'params', owner: ['run_id'], key: 'key', value: 'value' },
 *     tag: { table: 'tags', owner: ['run_id'], key: 'key', value: 'value' },
 *   },
 * };
 */
export interface SearchDescriptor {
  /** Columns of the outer query that identify one searched row, e.g. `['runs.run_id']`. */
  readonly owner: readonly string[];
  readonly attributes: Readonly<Record<string, AttributeColumn>>;
  readonly keyed: { readonly metric?: MetricTable; readonly param?: KeyedTable; readonly tag?: KeyedTable };
  readonly dataset?: DatasetTables;
}

const SQL_OPERATOR: Readonly<Record<'=' | '!=' | '>' | '>=' | '<' | '<=', string>> = {
  '=': '=',
  '!=': '<>',
  '>': '>',
  '>=': '>=',
  '<': '<',
  '<=': '<=',
};

/** 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z: the ISO strings that sort as text. */
const ISO_MIN_MS = -62_167_219_200_000;
const ISO_MAX_MS = 253_402_300_799_999;

const NEVER = sql<SqlBool>`1 = 0`;

function misconfigured(problem: string): KilnError {
  return new KilnError('INVALID_CONFIGURATION', `search descriptor: ${problem}`, { problem });
}

function ref(table: string, column: string): RawBuilder<unknown> {
  return sql.ref(`${table}.${column}`);
}

function bindNumber(value: number, dialect: SqlDialect): RawBuilder<unknown> {
  // PostgreSQL types a bare parameter after the column: '0.5' against a bigint column fails.
  return dialect === 'postgres' && !Number.isSafeInteger(value)
    ? sql`cast(${value} as double precision)`
    : sql`${value}`;
}

function compare(left: Expression<unknown>, op: Operator, right: RawBuilder<unknown>): RawBuilder<SqlBool> {
  if (!(op in SQL_OPERATOR)) throw misconfigured(`operator ${op} reached a scalar comparison`);
  return sql<SqlBool>`${left} ${sql.raw(SQL_OPERATOR[op as keyof typeof SQL_OPERATOR])} ${right}`;
}

function likeCondition(left: Expression<unknown>, op: 'LIKE' | 'ILIKE', pattern: string, dialect: SqlDialect) {
  const parts = likeParts(pattern);
  const escapeChar = sql.lit(SQL_LIKE_ESCAPE);
  if (dialect === 'postgres') {
    return sql<SqlBool>`${left} ${sql.raw(op === 'LIKE' ? 'like' : 'ilike')} ${renderLike(parts)} escape ${escapeChar}`;
  }
  if (op === 'LIKE') return sql<SqlBool>`${left} glob ${renderGlob(parts)}`;
  return sql<SqlBool>`lower(${left}) like lower(${renderLike(parts)}) escape ${escapeChar}`;
}

/** `left op value` for a validated comparison whose left side is `left`. */
function valueCondition(left: Expression<unknown>, c: Comparison, dialect: SqlDialect): RawBuilder<SqlBool> {
  const { op, value } = c;
  if (Array.isArray(value)) {
    const items = sql.join(value.map((v) => sql`${v}`));
    return op === 'NOT IN' ? sql<SqlBool>`${left} not in (${items})` : sql<SqlBool>`${left} in (${items})`;
  }
  if (op === 'LIKE' || op === 'ILIKE') return likeCondition(left, op, String(value), dialect);
  return compare(left, op, typeof value === 'number' ? bindNumber(value, dialect) : sql`${value}`);
}

/**
 * A numeric comparison on an ISO-8601 text column: whole milliseconds compare exactly as text, so
 * the literal is first turned into an equivalent whole, in-range bound (or a constant outcome).
 */
function timestampCondition(left: Expression<unknown>, op: Operator, ms: number): RawBuilder<SqlBool> {
  const present = sql<SqlBool>`${left} is not null`;
  let bound = ms;
  if (!Number.isInteger(ms)) {
    if (op === '=') return NEVER;
    if (op === '!=') return present;
    bound = op === '>' || op === '<=' ? Math.floor(ms) : Math.ceil(ms);
  }
  if (bound > ISO_MAX_MS) return op === '<' || op === '<=' || op === '!=' ? present : NEVER;
  if (bound < ISO_MIN_MS) return op === '>' || op === '>=' || op === '!=' ? present : NEVER;
  return compare(left, op, sql`${new Date(bound).toISOString()}`);
}

function correlate(alias: string, inner: readonly string[], outer: readonly string[], what: string) {
  if (inner.length !== outer.length || inner.length === 0) {
    throw misconfigured(`${what} has ${inner.length} owner columns, the searched row ${outer.length}`);
  }
  return sql.join(
    inner.map((column, i) => sql`${ref(alias, column)} = ${sql.ref(outer[i] ?? '')}`),
    sql` and `,
  );
}

function attributeCondition(c: Comparison, d: SearchDescriptor, dialect: SqlDialect): RawBuilder<SqlBool> {
  const column = d.attributes[c.key];
  if (column === undefined) throw misconfigured(`no column for attribute '${c.key}'`);
  const left = sql.ref(column.column);
  if (typeof c.value === 'number') {
    if (column.type === 'text') throw misconfigured(`attribute '${c.key}' is compared as a number but stored as text`);
    if (column.type === 'iso-timestamp') return timestampCondition(left, c.op, c.value);
  } else if (column.type !== 'text') {
    throw misconfigured(`attribute '${c.key}' is compared as text but stored as ${column.type}`);
  }
  return valueCondition(left, c, dialect);
}

function keyedCondition(c: Comparison, d: SearchDescriptor, dialect: SqlDialect, alias: string) {
  const entity = c.entity as 'metric' | 'param' | 'tag';
  const table = d.keyed[entity];
  if (table === undefined) throw misconfigured(`no table for ${entity}s`);
  const owner = correlate(alias, table.owner, d.owner, `${entity} table`);
  let condition = valueCondition(ref(alias, table.value), c, dialect);
  if (entity === 'metric') condition = sql<SqlBool>`not ${ref(alias, (table as MetricTable).nan)} and ${condition}`;
  return sql<SqlBool>`exists (select 1 from ${sql.table(table.table)} as ${sql.id(alias)} where ${owner} and ${ref(alias, table.key)} = ${c.key} and ${condition})`;
}

function datasetCondition(c: Comparison, d: SearchDescriptor, dialect: SqlDialect, alias: string) {
  const tables = d.dataset;
  if (tables === undefined) throw misconfigured('no dataset tables');
  const joined = `${alias}_dataset`;
  const field = tables.fields[c.key as keyof DatasetTables['fields']];
  if (field === undefined) throw misconfigured(`no column for dataset field '${c.key}'`);
  if (field.joined === true && tables.join === undefined) throw misconfigured(`dataset field '${c.key}' needs a join`);
  const from = sql`${sql.table(tables.table)} as ${sql.id(alias)}`;
  const join = tables.join;
  const source =
    join === undefined
      ? from
      : sql`${from} inner join ${sql.table(join.table)} as ${sql.id(joined)} on ${ref(alias, join.on[0])} = ${ref(joined, join.on[1])}`;
  const owner = correlate(alias, tables.owner, d.owner, 'dataset table');
  const condition = valueCondition(ref(field.joined === true ? joined : alias, field.column), c, dialect);
  return sql<SqlBool>`exists (select 1 from ${source} where ${owner} and ${condition})`;
}

/**
 * Compiles a validated filter to one SQL condition, every literal a bound parameter; undefined for
 * the empty filter. Metrics, params, tags and datasets become `exists (…)` subqueries, so a row
 * without the key never matches, not even `!=`; numeric comparisons never match NaN metrics. LIKE
 * is case-sensitive on both engines (GLOB on SQLite), ILIKE case-insensitive (on SQLite for ASCII).
 *
 * @example
 * const where = filterCondition(plan.filter, runsDescriptor, 'sqlite');
 * if (where !== undefined) query = query.where(where);
 */
export function filterCondition(
  filter: Filter,
  descriptor: SearchDescriptor,
  dialect: SqlDialect,
): RawBuilder<SqlBool> | undefined {
  if (filter.length === 0) return undefined;
  const parts = filter.map((c, i) => {
    if (c.entity === 'attribute') return attributeCondition(c, descriptor, dialect);
    if (c.entity === 'dataset') return datasetCondition(c, descriptor, dialect, `kiln_filter_${i}`);
    return keyedCondition(c, descriptor, dialect, `kiln_filter_${i}`);
  });
  return sql<SqlBool>`(${sql.join(parts, sql` and `)})`;
}

/**
 * Adds a validated filter to a select query as a WHERE condition (see {@link filterCondition}).
 *
 * @example
 * const rows = await applyFilter(db.selectFrom('runs').selectAll('runs'), plan.filter, runs, 'postgres').execute();
 */
export function applyFilter<DB, TB extends keyof DB, O>(
  query: SelectQueryBuilder<DB, TB, O>,
  filter: Filter,
  descriptor: SearchDescriptor,
  dialect: SqlDialect,
): SelectQueryBuilder<DB, TB, O> {
  const condition = filterCondition(filter, descriptor, dialect);
  return condition === undefined ? query : query.where(condition);
}

/** A builder with the table types erased, for joins whose names only exist at run time. */
type LooseQuery = SelectQueryBuilder<Record<string, Record<string, unknown>>, string, unknown>;

/**
 * Adds ORDER BY terms for a complete ordering (see `completeOrder`). Attributes, params and tags
 * sort with nulls last in both directions; metrics sort by latest value with real numbers first,
 * then NaN, then runs without the metric, in both directions. Text sorts by code point on both
 * engines (`collate "C"` on PostgreSQL, SQLite's default BINARY), so results and pages agree.
 *
 * @example
 * query = applyOrder(query, completeOrder('runs', parseOrderBy('runs', ['metrics.acc DESC'])), runs, 'sqlite');
 */
export function applyOrder<DB, TB extends keyof DB, O>(
  query: SelectQueryBuilder<DB, TB, O>,
  order: readonly OrderClause[],
  descriptor: SearchDescriptor,
  dialect: SqlDialect,
): SelectQueryBuilder<DB, TB, O> {
  let loose = query as unknown as LooseQuery;
  const textual = (expression: RawBuilder<unknown>) =>
    dialect === 'postgres' ? sql`${expression} collate "C"` : expression;
  order.forEach((clause, i) => {
    const asc = clause.direction === 'ASC';
    if (clause.entity === 'attribute') {
      const column = descriptor.attributes[clause.key];
      if (column === undefined) throw misconfigured(`no column for attribute '${clause.key}'`);
      const value = column.type === 'number' ? sql.ref(column.column) : textual(sql.ref(column.column));
      loose = loose.orderBy(value, (ob) => (asc ? ob.asc() : ob.desc()).nullsLast());
      return;
    }
    if (clause.entity === 'dataset') throw misconfigured('datasets cannot be ordered on');
    const table = descriptor.keyed[clause.entity];
    if (table === undefined) throw misconfigured(`no table for ${clause.entity}s`);
    const alias = `kiln_sort_${i}`;
    const owners = table.owner.map((_, j) => `${alias}_owner_${j}`);
    const columns = [
      ...table.owner.map((column, j) => sql`${sql.ref(column)} as ${sql.id(owners[j] ?? '')}`),
      sql`${sql.ref(table.value)} as ${sql.id(`${alias}_value`)}`,
    ];
    const nan = clause.entity === 'metric' ? (table as MetricTable).nan : undefined;
    if (nan !== undefined) columns.push(sql`${sql.ref(nan)} as ${sql.id(`${alias}_nan`)}`);
    const subquery = sql`(select ${sql.join(columns)} from ${sql.table(table.table)} where ${sql.ref(table.key)} = ${clause.key})`;
    const on = correlate(alias, owners, descriptor.owner, `${clause.entity} table`);
    loose = loose.leftJoin(subquery.as(alias), (join) => join.on(sql<SqlBool>`${on}`));
    const value = ref(alias, `${alias}_value`);
    if (nan !== undefined) {
      const missing = ref(alias, owners[0] ?? '');
      const bucket = sql`case when ${missing} is null then 2 when ${ref(alias, `${alias}_nan`)} then 1 else 0 end`;
      loose = loose.orderBy(bucket, (ob) => ob.asc());
      loose = loose.orderBy(value, (ob) => (asc ? ob.asc() : ob.desc()));
    } else {
      loose = loose.orderBy(textual(value), (ob) => (asc ? ob.asc() : ob.desc()).nullsLast());
    }
  });
  return loose as unknown as SelectQueryBuilder<DB, TB, O>;
}

/**
 * Applies a prepared search — filter and complete ordering — to a select query. Paging (limit and
 * the offset from a page token) is left to the caller.
 *
 * @example
 * const plan = prepareSearch('runs', { filter: "metrics.acc > 0.9", orderBy: ['metrics.acc DESC'] });
 * const page = await applySearch(db.selectFrom('runs').selectAll('runs'), plan, runs, database.dialect)
 *   .limit(100).offset(decodePageToken(token)).execute();
 */
export function applySearch<DB, TB extends keyof DB, O>(
  query: SelectQueryBuilder<DB, TB, O>,
  plan: SearchPlan,
  descriptor: SearchDescriptor,
  dialect: SqlDialect,
): SelectQueryBuilder<DB, TB, O> {
  return applyOrder(applyFilter(query, plan.filter, descriptor, dialect), plan.order, descriptor, dialect);
}
