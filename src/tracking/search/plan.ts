import { type OrderClause, type SearchTarget, validateFilter } from './entities.js';
import { completeOrder, parseOrderBy } from './order.js';
import { type Filter, parseFilter } from './parser.js';

/** A search request as the API receives it: MLflow's `filter` string and `order_by` list. */
export interface SearchRequest {
  readonly filter?: string | null;
  readonly orderBy?: readonly string[] | null;
}

/**
 * A checked search, ready for the compiler: comparisons with canonical keys and the complete
 * ordering (user clauses, then tie-breakers, or the target's default).
 */
export interface SearchPlan {
  readonly target: SearchTarget;
  readonly filter: Filter;
  readonly order: readonly OrderClause[];
}

/**
 * Parses and validates a request's filter and order_by for one target in one call, so services
 * reject bad input with INVALID_PARAMETER_VALUE before touching the database.
 *
 * @example
 * const plan = prepareSearch('runs', { filter: "params.model = 'lr'", orderBy: ['metrics.acc DESC'] });
 * plan.order; // metrics.acc DESC, start_time DESC, run_id ASC
 */
export function prepareSearch(target: SearchTarget, request: SearchRequest): SearchPlan {
  const filter = validateFilter(target, parseFilter(request.filter));
  const order = completeOrder(target, parseOrderBy(target, request.orderBy));
  return { target, filter, order };
}
