/**
 * The search language for runs, experiments, registered models and model versions: MLflow's
 * filter and order_by grammar, validated per target and compiled to parameterised SQL.
 *
 * @example
 * const plan = prepareSearch('runs', { filter: "metrics.acc > 0.9 AND tags.team LIKE '%vision%'" });
 * const rows = await applySearch(db.selectFrom('runs').selectAll('runs'), plan, runsDescriptor, dialect)
 *   .limit(maxResults).offset(decodePageToken(pageToken)).execute();
 */
export {
  type AttributeColumn,
  applyFilter,
  applyOrder,
  applySearch,
  type ColumnType,
  type DatasetTables,
  filterCondition,
  type KeyedTable,
  type MetricTable,
  type SearchDescriptor,
} from './compile.js';
export {
  type AttributeRule,
  type Direction,
  type OrderClause,
  type SearchTarget,
  TARGET_RULES,
  type TargetRules,
  validateFilter,
} from './entities.js';
export { completeOrder, MAX_ORDER_CLAUSES, parseOrderBy } from './order.js';
export { decodePageToken, encodePageToken, MAX_PAGE_OFFSET } from './page-token.js';
export {
  type Comparison,
  type Entity,
  type Filter,
  MAX_COMPARISONS,
  MAX_FILTER_LENGTH,
  type Operator,
  parseFilter,
} from './parser.js';
export { prepareSearch, type SearchPlan, type SearchRequest } from './plan.js';
