import { KilnError } from '../../core/index.js';
import { type Direction, type OrderClause, resolveKey, type SearchTarget, TARGET_RULES } from './entities.js';
import { describeToken, type SearchSource, tokenize } from './lexer.js';
import { displayIdentifier, readIdentifier, TokenCursor } from './parser.js';

/** Most order_by clauses one request may give. */
export const MAX_ORDER_CLAUSES = 10;

/**
 * Parses and validates an order_by list: each clause is `<entity>.<key> [ASC|DESC]` (ASC when
 * omitted, keywords in any case, keys quoted as in filters). Runs may order by attributes, metrics,
 * params and tags; experiments, registered models and model versions by their orderable attributes.
 * A key may appear once. Errors name the clause as `order_by[i]` with the column inside it.
 *
 * @example
 * parseOrderBy('runs', ['metrics.acc DESC', 'params."learning rate"']);
 * // [{ entity: 'metric', key: 'acc', direction: 'DESC' }, { entity: 'param', key: 'learning rate', direction: 'ASC' }]
 */
export function parseOrderBy(target: SearchTarget, clauses: readonly string[] | null | undefined): OrderClause[] {
  if (clauses === null || clauses === undefined) return [];
  if (clauses.length > MAX_ORDER_CLAUSES) {
    throw new KilnError(
      'INVALID_PARAMETER_VALUE',
      `order_by: has ${clauses.length} clauses; the limit is ${MAX_ORDER_CLAUSES}`,
      { field: 'order_by', count: clauses.length, limit: MAX_ORDER_CLAUSES },
    );
  }
  const rules = TARGET_RULES[target];
  const parsed: OrderClause[] = [];
  const seen = new Map<string, number>();
  clauses.forEach((clause, index) => {
    const source: SearchSource = { field: 'order_by', label: `order_by[${index}]`, index };
    if (typeof clause !== 'string') {
      throw new KilnError('INVALID_PARAMETER_VALUE', `${source.label}: must be a string`, { field: 'order_by', index });
    }
    const cursor = new TokenCursor(tokenize(clause, source), source);
    const start = cursor.peek();
    const identifier = readIdentifier(cursor);
    const direction = readDirection(cursor);
    const spot = { position: start.position, text: displayIdentifier(identifier.entity, identifier.key) };
    const { key } = resolveKey(rules, identifier.entity, identifier.key, 'order', source, spot);
    const id = `${identifier.entity}\u0000${key}`;
    const earlier = seen.get(id);
    if (earlier !== undefined) {
      const shown = identifier.entity === 'attribute' ? `attributes.${key}` : displayIdentifier(identifier.entity, key);
      throw cursor.fail(
        { ...start, text: spot.text },
        `${shown} is ordered on twice`,
        `order_by[${earlier}] already orders on it`,
      );
    }
    seen.set(id, index);
    parsed.push({ entity: identifier.entity, key, direction });
  });
  return parsed;
}

function readDirection(cursor: TokenCursor): Direction {
  const token = cursor.next();
  if (token.kind === 'eof') return 'ASC';
  const upper = token.text.toUpperCase();
  if (token.kind !== 'word' || (upper !== 'ASC' && upper !== 'DESC')) {
    throw cursor.fail(token, `unexpected token ${describeToken(token)}`, 'a clause is <entity>.<key> [ASC|DESC]');
  }
  const after = cursor.next();
  if (after.kind !== 'eof') {
    throw cursor.fail(after, `unexpected token ${describeToken(after)} after ${token.text}`, 'one key per clause');
  }
  return upper;
}

/**
 * The full ordering a query uses: the target's default when no clause was given, otherwise the
 * clauses followed by the target's tie-breakers (each skipped when its key is already ordered on),
 * so that every ordering is total and offset paging never repeats or skips a row. Runs: default
 * and tie-breakers `start_time DESC, run_id ASC`; experiments: default `creation_time DESC,
 * experiment_id ASC`, tie-breaker `experiment_id DESC`; registered models `name ASC`; model
 * versions `name ASC, version DESC`.
 *
 * @example
 * completeOrder('runs', parseOrderBy('runs', ['metrics.acc DESC']));
 * // metrics.acc DESC, start_time DESC, run_id ASC
 */
export function completeOrder(target: SearchTarget, clauses: readonly OrderClause[]): OrderClause[] {
  const rules = TARGET_RULES[target];
  if (clauses.length === 0) return [...rules.defaultOrder];
  const ordered = (tie: OrderClause): boolean => clauses.some((c) => c.entity === tie.entity && c.key === tie.key);
  return [...clauses, ...rules.tieBreakers.filter((tie) => !ordered(tie))];
}
