import { type Expression, type RawBuilder, type SqlBool, sql } from 'kysely';
import { KilnError } from '../../core/index.js';
import type { SqlDialect } from '../../store/index.js';
import { likeParts, renderGlob, renderLike, SQL_LIKE_ESCAPE } from './like.js';
import type { Comparison, Operator } from './parser.js';

/**
 * Scalar conditions of the search compiler (compile.ts): one column against a validated literal,
 * every literal a bound parameter.
 */

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

/** A descriptor that does not fit the validated search: a programming error, not bad input. */
export function misconfigured(problem: string): KilnError {
  return new KilnError('INVALID_CONFIGURATION', `search descriptor: ${problem}`, { problem });
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
export function valueCondition(left: Expression<unknown>, c: Comparison, dialect: SqlDialect): RawBuilder<SqlBool> {
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
export function timestampCondition(left: Expression<unknown>, op: Operator, ms: number): RawBuilder<SqlBool> {
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
