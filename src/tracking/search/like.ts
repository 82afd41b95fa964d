/**
 * LIKE patterns in the search language: `%` matches any run of characters, `_` exactly one, and a
 * backslash makes the next character literal (`'50\%'` matches the text `50%`, `'a\\b'` matches
 * `a\b`). That is PostgreSQL's default, so MLflow filters written against a PostgreSQL-backed
 * server keep their meaning. A pattern may not end with a lone backslash.
 *
 * Patterns are parsed once into parts and rendered per engine, never passed through: SQLite's LIKE
 * ignores ASCII case, so a case-sensitive LIKE becomes a GLOB there, with GLOB's own wildcards
 * (`*`, `?`, `[`) escaped.
 */

/** One piece of a LIKE pattern. */
export type LikePart =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'any' }
  | { readonly kind: 'one' };

/** The escape character Kiln writes into the SQL it generates (`... LIKE ? ESCAPE '!'`). */
export const SQL_LIKE_ESCAPE = '!';

/**
 * Returns why `pattern` is not a valid LIKE pattern, or undefined when it is.
 *
 * @example
 * likePatternProblem('abc\\'); // 'ends with a lone escape character \'
 */
export function likePatternProblem(pattern: string): string | undefined {
  let backslashes = 0;
  for (let i = pattern.length - 1; i >= 0 && pattern.charAt(i) === '\\'; i--) backslashes++;
  return backslashes % 2 === 1 ? 'ends with a lone escape character \\' : undefined;
}

/**
 * Splits a LIKE pattern into literal text and wildcards, undoing backslash escapes.
 *
 * @example
 * likeParts('a\\%b_%'); // [{ kind: 'text', text: 'a%b' }, { kind: 'one' }, { kind: 'any' }]
 */
export function likeParts(pattern: string): LikePart[] {
  const parts: LikePart[] = [];
  let text = '';
  const flush = (): void => {
    if (text !== '') parts.push({ kind: 'text', text });
    text = '';
  };
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern.charAt(i);
    if (ch === '\\' && i + 1 < pattern.length) {
      i++;
      text += pattern.charAt(i);
    } else if (ch === '%' || ch === '_') {
      flush();
      parts.push(ch === '%' ? { kind: 'any' } : { kind: 'one' });
    } else {
      text += ch;
    }
  }
  flush();
  return parts;
}

/**
 * Renders parts as a SQL LIKE pattern for `ESCAPE '!'`.
 *
 * @example
 * renderLike(likeParts('50\\%_')); // '50!%_'
 */
export function renderLike(parts: readonly LikePart[]): string {
  return parts
    .map((part) => {
      if (part.kind === 'any') return '%';
      if (part.kind === 'one') return '_';
      return part.text.replace(/[!%_]/g, (ch) => SQL_LIKE_ESCAPE + ch);
    })
    .join('');
}

/**
 * Renders parts as an SQLite GLOB pattern, which is case-sensitive; GLOB has no escape character,
 * so its wildcards are written as one-character classes (`[*]`, `[?]`, `[[]`).
 *
 * @example
 * renderGlob(likeParts('a*%b_')); // 'a[*]*b?'
 */
export function renderGlob(parts: readonly LikePart[]): string {
  return parts
    .map((part) => {
      if (part.kind === 'any') return '*';
      if (part.kind === 'one') return '?';
      return part.text.replace(/[*?[]/g, (ch) => `[${ch}]`);
    })
    .join('');
}
