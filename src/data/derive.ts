import { KilnError } from '../core/index.js';

/** One `dataset('name')` or `dataset('name', 3)` call found in a derive query. */
export interface DatasetReference {
  dataset: string;
  /** Absent means the dataset's latest version at the time of the derive. */
  version?: number;
  /** Offsets of the whole call in the query text, end exclusive. */
  start: number;
  end: number;
}

/** The longest derive query accepted; a query is a statement, not a data payload. */
export const MAX_DERIVE_SQL = 100_000;

const CALL = /^dataset\s*\(\s*'((?:[^']|'')*)'\s*(?:,\s*(\d+)\s*)?\)/i;

function invalid(message: string): KilnError {
  return new KilnError('INVALID_PARAMETER_VALUE', message, { field: 'sql' });
}

/** Offset just past a quoted run starting at `i` (quote doubled to escape), or the text's end. */
function skipQuoted(sql: string, i: number, quote: string): number {
  let j = i + 1;
  while (j < sql.length) {
    if (sql[j] === quote) {
      if (sql[j + 1] === quote) j += 2;
      else return j + 1;
    } else j++;
  }
  throw invalid(`sql has an unterminated ${quote === "'" ? 'string' : 'quoted identifier'} starting at offset ${i}`);
}

/**
 * Scans a derive query for `dataset(…)` table references, skipping string literals, quoted
 * identifiers and comments, and checks that it is one statement (a trailing `;` is allowed and
 * removed). Returns the query without that `;` and the references in text order.
 *
 * @example
 * parseDeriveQuery("select * from dataset('flights', 3) where delay > 60");
 * // { sql: '…', references: [{ dataset: 'flights', version: 3, start: 14, end: 35 }] }
 */
export function parseDeriveQuery(text: unknown): { sql: string; references: DatasetReference[] } {
  if (typeof text !== 'string' || text.trim().length === 0) throw invalid('sql must be a non-empty query');
  if (text.length > MAX_DERIVE_SQL) throw invalid(`sql is longer than ${MAX_DERIVE_SQL} characters`);
  const sql = text.trim().replace(/;\s*$/, '');
  const references: DatasetReference[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i] as string;
    if (c === "'" || c === '"') i = skipQuoted(sql, i, c);
    else if (c === '-' && sql[i + 1] === '-') i = sql.indexOf('\n', i) === -1 ? sql.length : sql.indexOf('\n', i);
    else if (c === '/' && sql[i + 1] === '*') {
      const close = sql.indexOf('*/', i + 2);
      if (close === -1) throw invalid(`sql has an unterminated comment starting at offset ${i}`);
      i = close + 2;
    } else if (c === ';') throw invalid(`sql must be a single statement; found ';' at offset ${i}`);
    else if (/[A-Za-z_]/.test(c)) {
      const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(sql.slice(i))?.[0] ?? c;
      if (word.toLowerCase() === 'dataset' && !/[.\w]/.test(sql[i - 1] ?? ' ')) {
        const call = CALL.exec(sql.slice(i));
        if (call === null && /^dataset\s*\(/i.test(sql.slice(i))) {
          throw invalid(`sql calls dataset( at offset ${i} without a quoted name and optional version number`);
        }
        if (call !== null) {
          const version = call[2] === undefined ? undefined : Number(call[2]);
          if (version !== undefined && version < 1) throw invalid(`dataset version must be at least 1 at offset ${i}`);
          references.push({
            dataset: (call[1] as string).replaceAll("''", "'"),
            ...(version === undefined ? {} : { version }),
            start: i,
            end: i + call[0].length,
          });
          i += call[0].length;
          continue;
        }
      }
      i += word.length;
    } else i++;
  }
  if (references.length === 0) throw invalid("sql must read at least one dataset, e.g. from dataset('flights', 3)");
  return { sql, references };
}

/** Replaces each reference by the relation `relationOf` names for it (e.g. a view). */
export function rewriteReferences(
  sql: string,
  references: readonly DatasetReference[],
  relationOf: (reference: DatasetReference, index: number) => string,
): string {
  let out = '';
  let at = 0;
  references.forEach((reference, index) => {
    out += sql.slice(at, reference.start) + relationOf(reference, index);
    at = reference.end;
  });
  return out + sql.slice(at);
}
