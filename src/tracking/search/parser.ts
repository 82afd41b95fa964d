import { KilnError } from '../../core/index.js';
import { describeToken, FILTER_SOURCE, type SearchSource, searchError, type Token, tokenize } from './lexer.js';

/** What a comparison looks at: a column of the searched row, or a keyed value owned by it. */
export type Entity = 'attribute' | 'metric' | 'param' | 'tag' | 'dataset';

/** The comparison operators of the search language, keywords upper-cased. */
export type Operator = '=' | '!=' | '>' | '>=' | '<' | '<=' | 'LIKE' | 'ILIKE' | 'IN' | 'NOT IN';

/**
 * One `<entity>.<key> <op> <value>` condition. Positions are 1-based columns in the filter text,
 * kept so that validation can point at the offending part.
 *
 * @example
 * parseFilter('metrics.acc > 0.9')[0];
 * // { entity: 'metric', key: 'acc', op: '>', value: 0.9, position: 1, operatorPosition: 13, valuePosition: 15 }
 */
export interface Comparison {
  readonly entity: Entity;
  readonly key: string;
  readonly op: Operator;
  /** A string literal, a number literal, or the strings of an IN / NOT IN list. */
  readonly value: string | number | readonly string[];
  readonly position: number;
  readonly operatorPosition: number;
  readonly valuePosition: number;
}

/** A filter is a conjunction: every comparison must hold. The empty filter matches everything. */
export type Filter = readonly Comparison[];

/** Longest filter text accepted, in characters; longer texts are refused before tokenising. */
export const MAX_FILTER_LENGTH = 10_000;

/** Most comparisons one filter may hold. */
export const MAX_COMPARISONS = 100;

const ENTITY_ALIASES: Readonly<Record<string, Entity>> = {
  metric: 'metric',
  metrics: 'metric',
  param: 'param',
  params: 'param',
  parameter: 'param',
  parameters: 'param',
  tag: 'tag',
  tags: 'tag',
  attribute: 'attribute',
  attributes: 'attribute',
  attr: 'attribute',
  run: 'attribute',
  dataset: 'dataset',
  datasets: 'dataset',
};

/** The plural prefix Kiln uses when it writes an identifier back in a message. */
const ENTITY_PREFIX: Readonly<Record<Entity, string>> = {
  attribute: 'attributes',
  metric: 'metrics',
  param: 'params',
  tag: 'tags',
  dataset: 'datasets',
};

/**
 * Writes an identifier the way a user could type it back, quoting keys that are not plain words,
 * so messages name exactly what was meant.
 *
 * @example
 * displayIdentifier('metric', 'error rate'); // 'metrics."error rate"'
 */
export function displayIdentifier(entity: Entity, key: string): string {
  const plain = /^[\p{L}_][\p{L}\p{N}_]*(\.[\p{L}_][\p{L}\p{N}_]*)*$/u.test(key);
  return `${ENTITY_PREFIX[entity]}.${plain ? key : `"${key.replaceAll('"', '""')}"`}`;
}

/** A read position over a token list, shared by the filter and order_by parsers. */
export class TokenCursor {
  private index = 0;

  constructor(
    private readonly tokens: readonly Token[],
    readonly source: SearchSource,
  ) {}

  peek(offset = 0): Token {
    const at = Math.min(this.index + offset, this.tokens.length - 1);
    const token = this.tokens[at];
    if (token === undefined) throw new Error('token list is empty');
    return token;
  }

  next(): Token {
    const token = this.peek();
    if (this.index < this.tokens.length - 1) this.index++;
    return token;
  }

  /** True when the next token is the keyword `word`, in any letter case. */
  isKeyword(word: string, offset = 0): boolean {
    const token = this.peek(offset);
    return token.kind === 'word' && token.text.toUpperCase() === word;
  }

  fail(token: Token, what: string, hint?: string): KilnError {
    return searchError(this.source, token, what, hint);
  }
}

/** An identifier as parsed: entity resolved from its alias, key unquoted but not yet validated. */
export interface ParsedIdentifier {
  readonly entity: Entity;
  readonly key: string;
  readonly position: number;
}

/** True when `token` can name an entity or a key: a word, a backtick name or a double-quoted name. */
function isName(token: Token): boolean {
  return token.kind === 'word' || token.kind === 'backtick' || (token.kind === 'string' && token.quote === '"');
}

/**
 * Reads `[entity.]key`. A bare key is an attribute; the entity may be any alias in any letter case,
 * bare or in backticks or double quotes; the key is a dotted word (`tags.mlflow.runName`) or a name
 * in double quotes or backticks (`metrics."error rate"`, ``params.`1st` ``).
 */
export function readIdentifier(cursor: TokenCursor): ParsedIdentifier {
  const first = cursor.peek();
  if (first.kind === 'open') {
    throw cursor.fail(first, "unexpected '('", 'parentheses cannot group conditions; join comparisons with AND');
  }
  if (first.kind === 'word' && /^(NOT|AND|OR)$/i.test(first.text) && cursor.peek(1).kind !== 'dot') {
    const upper = first.text.toUpperCase();
    const hint =
      upper === 'NOT' ? 'NOT is only supported as NOT IN' : 'expected a comparison such as metrics.acc > 0.9';
    throw cursor.fail(first, `unexpected keyword '${first.text}'`, hint);
  }
  if (first.kind === 'number' || (first.kind === 'string' && first.quote === "'") || !isName(first)) {
    const what =
      first.kind === 'eof' ? 'expected an identifier' : `expected an identifier, got ${describeToken(first)}`;
    throw cursor.fail(first, what, 'write <entity>.<key>, e.g. metrics.acc or tags."my key"');
  }
  cursor.next();
  if (cursor.peek().kind !== 'dot') {
    if (first.value === '') throw cursor.fail(first, 'empty name', 'an attribute name cannot be empty');
    return { entity: 'attribute', key: first.value, position: first.position };
  }
  const entity = ENTITY_ALIASES[first.value.toLowerCase()];
  if (entity === undefined) {
    throw cursor.fail(
      first,
      `unknown entity '${first.value}'`,
      'use metrics, params, tags, attributes or datasets before the dot',
    );
  }
  const dot = cursor.next();
  return { entity, key: readKey(cursor, entity, dot), position: first.position };
}

function readKey(cursor: TokenCursor, entity: Entity, dot: Token): string {
  const token = cursor.next();
  const prefix = ENTITY_PREFIX[entity];
  if (token.kind === 'backtick' || (token.kind === 'string' && token.quote === '"')) {
    if (token.value === '') throw cursor.fail(token, 'empty key', `write a key after '${prefix}.'`);
    return token.value;
  }
  if (token.kind === 'number') {
    throw cursor.fail(token, `key '${token.text}' starts with a digit`, `quote it: ${prefix}."${token.text}"`);
  }
  if (token.kind === 'string') {
    throw cursor.fail(token, `single-quoted key ${token.text}`, 'quote keys with double quotes or backticks');
  }
  if (token.kind !== 'word') {
    const what = `expected a key after '${prefix}.', got ${describeToken(token)}`;
    throw cursor.fail(token.kind === 'eof' ? dot : token, what, `e.g. ${prefix}.my_key or ${prefix}."my key"`);
  }
  let key = token.text;
  while (cursor.peek().kind === 'dot' && cursor.peek().position === token.position + key.length) {
    const part = cursor.peek(1);
    if (part.kind !== 'word' || part.position !== cursor.peek().position + 1) {
      throw cursor.fail(part, `unexpected ${describeToken(part)} inside key '${key}.'`, `quote the key: ${prefix}."…"`);
    }
    cursor.next();
    cursor.next();
    key += `.${part.text}`;
  }
  return key;
}

const SYMBOL_OPERATORS: ReadonlySet<string> = new Set(['=', '!=', '>', '>=', '<', '<=']);

function readOperator(cursor: TokenCursor, identifier: string): { op: Operator; position: number } {
  const token = cursor.next();
  if (token.kind === 'operator' && SYMBOL_OPERATORS.has(token.text)) {
    return { op: token.text as Operator, position: token.position };
  }
  if (token.kind === 'word') {
    const upper = token.text.toUpperCase();
    if (upper === 'LIKE' || upper === 'ILIKE' || upper === 'IN') return { op: upper, position: token.position };
    if (upper === 'NOT') {
      const after = cursor.next();
      if (after.kind === 'word' && after.text.toUpperCase() === 'IN') return { op: 'NOT IN', position: token.position };
      throw cursor.fail(after, `expected IN after NOT, got ${describeToken(after)}`, 'NOT is only supported as NOT IN');
    }
  }
  throw cursor.fail(
    token,
    `expected an operator after ${identifier}, got ${describeToken(token)}`,
    'use =, !=, >, >=, <, <=, LIKE, ILIKE, IN or NOT IN',
  );
}

function readValue(cursor: TokenCursor, op: Operator): string | number | string[] {
  const token = cursor.next();
  if (op === 'IN' || op === 'NOT IN') {
    if (token.kind !== 'open') {
      throw cursor.fail(token, `${op} needs a parenthesised list, got ${describeToken(token)}`, "e.g. IN ('a', 'b')");
    }
    return readList(cursor, token);
  }
  if (token.kind === 'string') return token.value;
  if (token.kind === 'number') {
    if (token.malformed === true || token.number === undefined)
      throw cursor.fail(token, `malformed number '${token.text}'`);
    if (!Number.isFinite(token.number)) throw cursor.fail(token, `number '${token.text}' is out of range`);
    return token.number;
  }
  if (token.kind === 'open') {
    throw cursor.fail(token, "unexpected '('", 'a parenthesised list may only follow IN or NOT IN');
  }
  if (token.kind === 'backtick') {
    throw cursor.fail(token, `expected a value, got the name ${token.text}`, 'quote string values with single quotes');
  }
  if (token.kind === 'word') {
    const hint = `quote string values, e.g. '${token.text}'`;
    throw cursor.fail(token, `expected a quoted string or a number, got '${token.text}'`, hint);
  }
  throw cursor.fail(token, `expected a value, got ${describeToken(token)}`, "e.g. 0.5 or 'text'");
}

function readList(cursor: TokenCursor, open: Token): string[] {
  const items: string[] = [];
  if (cursor.peek().kind === 'close') throw cursor.fail(open, 'empty list', 'write at least one quoted string');
  for (;;) {
    const item = cursor.next();
    if (item.kind !== 'string') {
      const what = item.kind === 'number' ? `the number ${item.text}` : describeToken(item);
      throw cursor.fail(item, `expected a quoted string in the list, got ${what}`, 'lists hold quoted strings');
    }
    items.push(item.value);
    const after = cursor.next();
    if (after.kind === 'close') return items;
    if (after.kind !== 'comma') {
      throw cursor.fail(after, `expected ',' or ')' in the list, got ${describeToken(after)}`);
    }
  }
}

/**
 * Parses a filter into its comparisons. Only the syntax is checked here; which keys, operators and
 * literal types an entity type allows is {@link validateFilter}'s job, so one parser serves runs,
 * experiments, registered models and model versions.
 *
 * Accepted: comparisons joined by AND (any letter case); `<entity>.<key>` or a bare attribute;
 * strings in single or double quotes with the quote doubled to escape it; numbers (`3`, `-0.5`,
 * `.5`, `1e-3`); `IN (...)` / `NOT IN (...)` lists of strings. Refused, with the column of the
 * offending token: OR, NOT other than NOT IN, grouping parentheses, trailing input, unterminated
 * strings, texts over {@link MAX_FILTER_LENGTH} characters or {@link MAX_COMPARISONS} comparisons.
 *
 * @example
 * parseFilter("metrics.acc > 0.9 AND params.model = 'lr'");
 * parseFilter('   '); // [] — matches everything
 */
export function parseFilter(text: string | null | undefined): Filter {
  if (text === null || text === undefined || text.trim() === '') return [];
  if (text.length > MAX_FILTER_LENGTH) {
    throw new KilnError(
      'INVALID_PARAMETER_VALUE',
      `filter: is ${text.length} characters long; the limit is ${MAX_FILTER_LENGTH}`,
      { field: 'filter', length: text.length, limit: MAX_FILTER_LENGTH },
    );
  }
  const cursor = new TokenCursor(tokenize(text, FILTER_SOURCE), FILTER_SOURCE);
  const comparisons: Comparison[] = [];
  for (;;) {
    const start = cursor.peek();
    if (comparisons.length === MAX_COMPARISONS) {
      throw cursor.fail(start, `too many comparisons (more than ${MAX_COMPARISONS})`, 'narrow the filter');
    }
    const identifier = readIdentifier(cursor);
    const shown = displayIdentifier(identifier.entity, identifier.key);
    const { op, position: operatorPosition } = readOperator(cursor, shown);
    const valuePosition = cursor.peek().position;
    const value = readValue(cursor, op);
    const { entity, key, position } = identifier;
    comparisons.push({ entity, key, op, value, position, operatorPosition, valuePosition });
    const after = cursor.next();
    if (after.kind === 'eof') return comparisons;
    if (after.kind === 'word' && after.text.toUpperCase() === 'AND') {
      if (cursor.peek().kind === 'eof') throw cursor.fail(cursor.peek(), 'expected a comparison after AND');
      continue;
    }
    if (after.kind === 'word' && after.text.toUpperCase() === 'OR') {
      throw cursor.fail(after, `unexpected token '${after.text}'`, 'only AND may join comparisons');
    }
    throw cursor.fail(after, `unexpected token ${describeToken(after)}`, 'expected AND or the end of the filter');
  }
}
