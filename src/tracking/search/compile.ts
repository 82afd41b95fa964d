import { type OrderByItemBuilder, type RawBuilder, type SelectQueryBuilder, type SqlBool, sql } from 'kysely';
import type { SqlDialect } from '../../store/index.js';
import { misconfigured, timestampCondition, valueCondition } from './conditions.js';
import type { OrderClause } from './entities.js';
import type { Comparison, Filter } from './parser.js';
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
  /**
   * The column is NOT NULL: ordering on it needs no `nulls last`, which on PostgreSQL would stop a
   * descending order being read backwards off an ascending index (e.g. `runs_search`).
   */
  readonly notNull?: boolean;
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

function ref(table: string, column: string): RawBuilder<unknown> {
  return sql.ref(`${table}.${column}`);
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

/** The join condition matching `alias`, a row of the keyed table, against comparison `c`. */
function keyedMatch(c: Comparison, d: SearchDescriptor, dialect: SqlDialect, alias: string) {
  const entity = c.entity as 'metric' | 'param' | 'tag';
  const table = d.keyed[entity];
  if (table === undefined) throw misconfigured(`no table for ${entity}s`);
  const owner = correlate(alias, table.owner, d.owner, `${entity} table`);
  let condition = valueCondition(ref(alias, table.value), c, dialect);
  if (entity === 'metric') condition = sql<SqlBool>`not ${ref(alias, (table as MetricTable).nan)} and ${condition}`;
  const on = sql<SqlBool>`${owner} and ${ref(alias, table.key)} = ${c.key} and ${condition}`;
  return { table: table.table, on };
}

function keyedCondition(c: Comparison, d: SearchDescriptor, dialect: SqlDialect, alias: string) {
  const { table, on } = keyedMatch(c, d, dialect, alias);
  return sql<SqlBool>`exists (select 1 from ${sql.table(table)} as ${sql.id(alias)} where ${on})`;
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
  const parts = filter.map((c, i) => comparisonCondition(c, descriptor, dialect, `kiln_filter_${i}`));
  return sql<SqlBool>`(${sql.join(parts, sql` and `)})`;
}

function comparisonCondition(c: Comparison, d: SearchDescriptor, dialect: SqlDialect, alias: string) {
  if (c.entity === 'attribute') return attributeCondition(c, d, dialect);
  if (c.entity === 'dataset') return datasetCondition(c, d, dialect, alias);
  return keyedCondition(c, d, dialect, alias);
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
  const loose = orderLoose(query as unknown as LooseQuery, order, descriptor, dialect, new Map());
  return loose as unknown as SelectQueryBuilder<DB, TB, O>;
}

/**
 * {@link applyOrder} on a loose query. `joined` maps metric keys to the alias of an inner-joined
 * `latest_metrics` row that a filter comparison already requires to exist and not be NaN: every
 * row left has a real value, so the metric sorts on that alias's value alone, with no bucket and
 * no extra join — an order the planner can read straight off the `(key, value)` index.
 */
function orderLoose(
  query: LooseQuery,
  order: readonly OrderClause[],
  descriptor: SearchDescriptor,
  dialect: SqlDialect,
  joined: ReadonlyMap<string, string>,
): LooseQuery {
  let loose = query;
  const textual = (expression: RawBuilder<unknown>) =>
    dialect === 'postgres' ? sql`${expression} collate "C"` : expression;
  order.forEach((clause, i) => {
    const asc = clause.direction === 'ASC';
    if (clause.entity === 'attribute') {
      const column = descriptor.attributes[clause.key];
      if (column === undefined) throw misconfigured(`no column for attribute '${clause.key}'`);
      const value = column.type === 'number' ? sql.ref(column.column) : textual(sql.ref(column.column));
      const direction = (ob: OrderByItemBuilder) => (asc ? ob.asc() : ob.desc());
      loose = loose.orderBy(value, (ob) => (column.notNull === true ? direction(ob) : direction(ob).nullsLast()));
      return;
    }
    if (clause.entity === 'dataset') throw misconfigured('datasets cannot be ordered on');
    const table = descriptor.keyed[clause.entity];
    if (table === undefined) throw misconfigured(`no table for ${clause.entity}s`);
    const present = clause.entity === 'metric' ? joined.get(clause.key) : undefined;
    if (present !== undefined) {
      loose = loose.orderBy(ref(present, table.value), (ob) => (asc ? ob.asc() : ob.desc()));
      return;
    }
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
  return loose;
}

/**
 * Applies a prepared search — filter and complete ordering — to a select query. Paging (limit and
 * the offset from a page token) is left to the caller.
 *
 * When the first order clause is a metric the filter compares, those comparisons become inner
 * joins on the metric table instead of per-row `exists (…)` (at most one row per owner and key,
 * so no duplicates), and the metric sorts on the joined value (see {@link orderLoose}): the planner
 * can then walk the `(key, value)` index in order and stop after the page, however many rows are
 * in scope. Other comparisons stay `exists (…)`, so a broad filter under an attribute order keeps
 * walking the scope in that order and stopping early — SQLite has no statistics to tell a
 * selective `(key, value)` range from a broad one, and a join would let it start from either.
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
  let loose = query as unknown as LooseQuery;
  const first = plan.order[0];
  const driver = first?.entity === 'metric' ? first.key : undefined;
  const joined = new Map<string, string>();
  const rest: RawBuilder<SqlBool>[] = [];
  plan.filter.forEach((c, i) => {
    const alias = `kiln_filter_${i}`;
    if (c.entity !== 'metric' || c.key !== driver) {
      rest.push(comparisonCondition(c, descriptor, dialect, alias));
      return;
    }
    const { table, on } = keyedMatch(c, descriptor, dialect, alias);
    loose = loose.innerJoin(sql.table(table).as(alias), (join) => join.on(on));
    if (!joined.has(c.key)) joined.set(c.key, alias);
  });
  if (rest.length > 0) loose = loose.where(sql<SqlBool>`(${sql.join(rest, sql` and `)})`);
  return orderLoose(loose, plan.order, descriptor, dialect, joined) as unknown as SelectQueryBuilder<DB, TB, O>;
}
