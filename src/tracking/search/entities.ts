import { FILTER_SOURCE, type SearchSource, type SearchSpot, searchError } from './lexer.js';
import { likePatternProblem } from './like.js';
import { type Comparison, displayIdentifier, type Entity, type Filter, type Operator } from './parser.js';

/** The four things Kiln searches, each with its own identifiers and rules (MLflow's, see mlflow.md §2). */
export type SearchTarget = 'runs' | 'experiments' | 'registered_models' | 'model_versions';

/** A sort direction as written in order_by. */
export type Direction = 'ASC' | 'DESC';

/** One ordering term after validation: entity, canonical key, direction. */
export interface OrderClause {
  readonly entity: Entity;
  readonly key: string;
  readonly direction: Direction;
}

/** What an attribute of a searched row accepts. `filter: []` marks an order-only attribute. */
export interface AttributeRule {
  /** Canonical name: the key a {@link SearchDescriptor} maps to a column. */
  readonly name: string;
  readonly type: 'string' | 'number';
  /** Other spellings, matched case-insensitively like the name itself. */
  readonly aliases: readonly string[];
  /** Operators a filter may use on it; IN / NOT IN here mean the attribute takes lists. */
  readonly filter: readonly Operator[];
  readonly orderable: boolean;
}

/** Everything {@link validateFilter} and {@link parseOrderBy} need to know about one target. */
export interface TargetRules {
  readonly target: SearchTarget;
  readonly filterEntities: readonly Entity[];
  readonly orderEntities: readonly Entity[];
  readonly attributes: readonly AttributeRule[];
  /** The ordering when order_by is empty. */
  readonly defaultOrder: readonly OrderClause[];
  /** Appended after the user's clauses, each unless its key is already ordered on, to make the order total. */
  readonly tieBreakers: readonly OrderClause[];
}

const NUMERIC: readonly Operator[] = ['=', '!=', '>', '>=', '<', '<='];
const TEXT: readonly Operator[] = ['=', '!=', 'LIKE', 'ILIKE'];
const TEXT_AND_LISTS: readonly Operator[] = [...TEXT, 'IN', 'NOT IN'];

/** Dataset fields a run filter may compare; all accept lists. */
export const DATASET_KEYS: readonly string[] = ['name', 'digest', 'context'];

const KEYED_OPERATORS: Readonly<Record<Exclude<Entity, 'attribute'>, readonly Operator[]>> = {
  metric: NUMERIC,
  param: TEXT,
  tag: TEXT,
  dataset: TEXT_AND_LISTS,
};

function text(name: string, filter: readonly Operator[], more: Partial<AttributeRule> = {}): AttributeRule {
  return { name, type: 'string', aliases: [], filter, orderable: true, ...more };
}

function numeric(name: string, more: Partial<AttributeRule> = {}): AttributeRule {
  return { name, type: 'number', aliases: [], filter: NUMERIC, orderable: true, ...more };
}

function by(entity: Entity, key: string, direction: Direction): OrderClause {
  return { entity, key, direction };
}

/**
 * The rules per target. Run-id lists keep every value: MLflow drops upper-case ids because MySQL
 * compares case-insensitively, but Kiln's comparisons are case-sensitive on both engines and its
 * ids are lower-case, so an upper-case id simply matches nothing, which is the same outcome.
 */
export const TARGET_RULES: Readonly<Record<SearchTarget, TargetRules>> = {
  runs: {
    target: 'runs',
    filterEntities: ['attribute', 'metric', 'param', 'tag', 'dataset'],
    orderEntities: ['attribute', 'metric', 'param', 'tag'],
    attributes: [
      text('run_id', TEXT_AND_LISTS),
      text('run_name', TEXT, { aliases: ['run name'] }),
      text('status', TEXT),
      text('user_id', TEXT),
      text('artifact_uri', TEXT),
      numeric('start_time', { aliases: ['created'] }),
      numeric('end_time'),
      text('experiment_id', []),
    ],
    defaultOrder: [by('attribute', 'start_time', 'DESC'), by('attribute', 'run_id', 'ASC')],
    tieBreakers: [by('attribute', 'start_time', 'DESC'), by('attribute', 'run_id', 'ASC')],
  },
  experiments: {
    target: 'experiments',
    filterEntities: ['attribute', 'tag'],
    orderEntities: ['attribute'],
    attributes: [
      text('experiment_id', []),
      text('name', TEXT_AND_LISTS),
      numeric('creation_time'),
      numeric('last_update_time'),
    ],
    defaultOrder: [by('attribute', 'creation_time', 'DESC'), by('attribute', 'experiment_id', 'ASC')],
    tieBreakers: [by('attribute', 'experiment_id', 'DESC')],
  },
  registered_models: {
    target: 'registered_models',
    filterEntities: ['attribute', 'tag'],
    orderEntities: ['attribute'],
    attributes: [
      text('name', TEXT),
      numeric('creation_timestamp', { aliases: ['timestamp'], filter: [] }),
      numeric('last_updated_timestamp', { filter: [] }),
    ],
    defaultOrder: [by('attribute', 'name', 'ASC')],
    tieBreakers: [by('attribute', 'name', 'ASC')],
  },
  model_versions: {
    target: 'model_versions',
    filterEntities: ['attribute', 'tag'],
    orderEntities: ['attribute'],
    attributes: [
      text('name', TEXT),
      numeric('version', { aliases: ['version_number'] }),
      text('run_id', [...TEXT, 'IN'], { orderable: false }),
      text('source', TEXT, { aliases: ['source_path'], orderable: false }),
      numeric('creation_timestamp', { aliases: ['timestamp'], filter: [] }),
      numeric('last_updated_timestamp', { filter: [] }),
    ],
    defaultOrder: [by('attribute', 'name', 'ASC'), by('attribute', 'version', 'DESC')],
    tieBreakers: [by('attribute', 'name', 'ASC'), by('attribute', 'version', 'DESC')],
  },
};

/** Plural label of an entity, as users write it. */
const ENTITY_WORD: Readonly<Record<Entity, string>> = {
  attribute: 'attributes',
  metric: 'metrics',
  param: 'params',
  tag: 'tags',
  dataset: 'datasets',
};

const TARGET_WORD: Readonly<Record<SearchTarget, string>> = {
  runs: 'runs',
  experiments: 'experiments',
  registered_models: 'registered models',
  model_versions: 'model versions',
};

function list(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`;
}

/**
 * Finds the attribute rule a written name refers to, through its aliases, ignoring letter case
 * (`Created`, `created` and `start_time` are the same attribute of a run).
 *
 * @example
 * findAttribute(TARGET_RULES.runs, 'Run Name')?.name; // 'run_name'
 */
export function findAttribute(rules: TargetRules, written: string): AttributeRule | undefined {
  const wanted = written.toLowerCase();
  return rules.attributes.find((rule) => rule.name === wanted || rule.aliases.includes(wanted));
}

/**
 * Checks an entity and key against a target and returns the canonical key; shared by filters
 * (`use: 'filter'`) and order_by (`use: 'order'`), which allow different sets.
 */
export function resolveKey(
  rules: TargetRules,
  entity: Entity,
  key: string,
  use: 'filter' | 'order',
  source: SearchSource,
  spot: SearchSpot,
): { key: string; rule?: AttributeRule } {
  const allowed = use === 'filter' ? rules.filterEntities : rules.orderEntities;
  const verb = use === 'filter' ? 'filtered' : 'ordered';
  if (!allowed.includes(entity)) {
    throw searchError(
      source,
      spot,
      `${TARGET_WORD[rules.target]} cannot be ${verb} by ${ENTITY_WORD[entity]} (${displayIdentifier(entity, key)})`,
      `use ${list(allowed.map((e) => ENTITY_WORD[e]))}`,
    );
  }
  if (entity === 'dataset') {
    const field = key.toLowerCase();
    if (!DATASET_KEYS.includes(field)) {
      throw searchError(source, spot, `unknown dataset field '${key}'`, `use datasets.${list(DATASET_KEYS)}`);
    }
    return { key: field };
  }
  if (entity !== 'attribute') return { key };
  const rule = findAttribute(rules, key);
  const usable = (r: AttributeRule): boolean => (use === 'filter' ? r.filter.length > 0 : r.orderable);
  if (rule === undefined || !usable(rule)) {
    const names = rules.attributes.filter(usable).map((r) => r.name);
    const entityHint = Object.values(ENTITY_WORD).includes(key.toLowerCase()) ? `; did you mean ${key}.<key>?` : '';
    throw searchError(
      source,
      spot,
      `unknown attribute '${key}'`,
      `${TARGET_WORD[rules.target]} can be ${verb} by ${list(names)}${entityHint}`,
    );
  }
  return { key: rule.name, rule };
}

function literal(value: Comparison['value']): string {
  if (typeof value === 'number') return `the number ${value}`;
  if (typeof value === 'string') return `the string '${value.replaceAll("'", "''")}'`;
  return 'a list';
}

function spotOf(value: Comparison['value'], position: number): SearchSpot {
  if (typeof value === 'number') return { position, text: String(value) };
  if (typeof value === 'string') return { position, text: `'${value.replaceAll("'", "''")}'` };
  return { position, text: '(' };
}

/**
 * Checks a parsed filter against a target's rules: allowed entities and attribute names, operators
 * per type (metrics and numeric attributes take `= != > >= < <=`, strings `= != LIKE ILIKE`, lists
 * only for run ids and dataset fields, experiment names), literal types (metrics need numbers,
 * params and tags quoted strings) and LIKE patterns. Returns the comparisons with canonical keys
 * (`created` → `start_time`, `source_path` → `source`, `version_number` → `version`).
 *
 * @example
 * validateFilter('runs', parseFilter("metrics.acc > '0.9'"));
 * // throws: filter: metrics.acc needs a number, got the string '0.9' at column 15
 */
export function validateFilter(target: SearchTarget, filter: Filter): Filter {
  const rules = TARGET_RULES[target];
  return filter.map((comparison) => validateComparison(rules, comparison));
}

function validateComparison(rules: TargetRules, comparison: Comparison): Comparison {
  const { entity, op, value, position } = comparison;
  const keySpot: SearchSpot = { position, text: displayIdentifier(entity, comparison.key) };
  const { key, rule } = resolveKey(rules, entity, comparison.key, 'filter', FILTER_SOURCE, keySpot);
  const shown = entity === 'attribute' ? `attributes.${key}` : displayIdentifier(entity, key);
  const operators = rule === undefined ? KEYED_OPERATORS[entity as Exclude<Entity, 'attribute'>] : rule.filter;
  const opSpot: SearchSpot = { position: comparison.operatorPosition, text: op };
  const isList = op === 'IN' || op === 'NOT IN';
  if (!operators.includes(op)) {
    if (isList && rule?.type === 'string') {
      const takers = rules.attributes.filter((r) => r.filter.includes(op)).map((r) => r.name);
      const hint = takers.length > 0 ? `${op} lists work only on ${list(takers)}` : `no attribute takes ${op} lists`;
      throw searchError(FILTER_SOURCE, opSpot, `${shown} does not take ${op}`, hint);
    }
    throw searchError(FILTER_SOURCE, opSpot, `operator '${op}' does not apply to ${shown}`, `use ${list(operators)}`);
  }
  const valueSpot = spotOf(value, comparison.valuePosition);
  const wantsNumber = entity === 'metric' || rule?.type === 'number';
  if (wantsNumber && typeof value !== 'number') {
    throw searchError(FILTER_SOURCE, valueSpot, `${shown} needs a number, got ${literal(value)}`);
  }
  if (!wantsNumber && typeof value === 'number') {
    throw searchError(
      FILTER_SOURCE,
      valueSpot,
      `${shown} needs a quoted string, got ${literal(value)}`,
      `write '${value}'`,
    );
  }
  if ((op === 'LIKE' || op === 'ILIKE') && typeof value === 'string') {
    const problem = likePatternProblem(value);
    if (problem !== undefined)
      throw searchError(FILTER_SOURCE, valueSpot, `${op} pattern ${problem}`, 'write \\\\ for a backslash');
  }
  return { ...comparison, key };
}
