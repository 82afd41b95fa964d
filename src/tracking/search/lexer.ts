import { KilnError } from '../../core/index.js';

/**
 * The kinds of token the search language has. Keywords (AND, LIKE, ILIKE, IN, NOT, ASC, DESC) are
 * plain `word`s: the parser recognises them case-insensitively where a keyword may stand, so a key
 * such as `metrics.in` stays a key.
 */
export type TokenKind =
  | 'word'
  | 'backtick'
  | 'string'
  | 'number'
  | 'operator'
  | 'dot'
  | 'comma'
  | 'open'
  | 'close'
  | 'eof';

/**
 * One token with its 1-based column in the source text, so every error can point at it.
 *
 * @example
 * tokenize('metrics.acc > 0.9', FILTER_SOURCE)[3]; // { kind: 'number', text: '0.9', value: 0.9, position: 15 }
 */
export interface Token {
  readonly kind: TokenKind;
  /** The token exactly as written, quotes included; '' for `eof`. */
  readonly text: string;
  /** Unquoted and unescaped content for `string` and `backtick`; the operator for `operator`. */
  readonly value: string;
  /** Parsed value of a `number` token. */
  readonly number?: number;
  /** Which quote opened a `string`: single quotes are always values, double quotes may be keys. */
  readonly quote?: "'" | '"';
  /** True for a digit-led run such as `2nd` or `1e5x` that is neither a number nor a word. */
  readonly malformed?: boolean;
  readonly position: number;
}

/** The request field a search text came from, named in every error message and in `details.field`. */
export type SearchField = 'filter' | 'order_by';

/**
 * Where a text being tokenised came from: the request field, how messages name it (`filter`, or
 * `order_by[1] 'metrics.acc UP'` for one clause of a list) and, for lists, the clause index.
 */
export interface SearchSource {
  readonly field: SearchField;
  readonly label: string;
  readonly index?: number;
}

/** The source of a whole filter text. */
export const FILTER_SOURCE: SearchSource = { field: 'filter', label: 'filter' };

/** The part of the text an error points at: its 1-based column and the text found there. */
export interface SearchSpot {
  readonly position: number;
  readonly text: string;
  readonly kind?: TokenKind;
}

/**
 * Builds the positioned INVALID_PARAMETER_VALUE error every search-language failure uses, so
 * clients get `filter: <problem> at column N: <hint>` and machines get `{ field, position, token }`.
 *
 * @example
 * throw searchError(FILTER_SOURCE, token, "unexpected token 'OR'", 'only AND may join comparisons');
 * // filter: unexpected token 'OR' at column 23: only AND may join comparisons
 */
export function searchError(source: SearchSource, spot: SearchSpot, what: string, hint?: string): KilnError {
  const at = spot.kind === 'eof' ? `at the end (column ${spot.position})` : `at column ${spot.position}`;
  const message = `${source.label}: ${what} ${at}${hint === undefined ? '' : `: ${hint}`}`;
  const token = spot.text.length > 100 ? `${spot.text.slice(0, 100)}…` : spot.text;
  const details: Record<string, unknown> = { field: source.field, position: spot.position, token };
  if (source.index !== undefined) details.index = source.index;
  return new KilnError('INVALID_PARAMETER_VALUE', message, details);
}

/** How a token reads in a message: quoted source text, or "end of input". */
export function describeToken(token: Token): string {
  return token.kind === 'eof' ? 'the end of the input' : `'${token.text}'`;
}

const NUMBER = /[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/y;
const WORD = /[\p{L}_][\p{L}\p{N}_]*/uy;
const WORD_CHAR = /[\p{L}\p{N}_]/u;
const DIGIT_RUN = /[\p{L}\p{N}_.]*/uy;

/** Token kinds after which a `.5` or `-1` can only be a number, never an entity separator. */
const VALUE_CONTEXT: ReadonlySet<TokenKind> = new Set(['operator', 'open', 'comma']);

/**
 * Splits a filter or order_by clause into tokens. Strings are in single or double quotes; the quote
 * character is written twice to include it (`'it''s'`, `"say ""hi"""`), and backslash has no meaning
 * to the lexer (it escapes `%` and `_` inside LIKE patterns, see like.ts). Backtick names follow the
 * same rule (`` `a``b` ``). Whitespace is spaces, tabs and newlines; columns count UTF-16 code units.
 *
 * @example
 * tokenize("params.model = 'lr'", FILTER_SOURCE).map((t) => t.kind);
 * // ['word', 'dot', 'word', 'operator', 'string', 'eof']
 */
export function tokenize(text: string, source: SearchSource): Token[] {
  const nul = text.indexOf('\u0000');
  if (nul >= 0) {
    throw searchError(
      source,
      { position: nul + 1, text: '\\u0000' },
      'NUL character',
      'remove it; it cannot be stored',
    );
  }
  const tokens: Token[] = [];
  let i = 0;
  const push = (token: Token): void => {
    tokens.push(token);
  };
  while (i < text.length) {
    const ch = text.charAt(i);
    const position = i + 1;
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
      i++;
      continue;
    }
    if (ch === "'" || ch === '"' || ch === '`') {
      const end = closingQuote(text, i);
      if (end < 0) {
        const token: Token = { kind: ch === '`' ? 'backtick' : 'string', text: text.slice(i), value: '', position };
        const what = ch === '`' ? 'unterminated backtick name' : 'unterminated string';
        throw searchError(source, token, what, `close it with ${ch}, and double a ${ch} that is part of the text`);
      }
      const raw = text.slice(i, end + 1);
      const value = raw.slice(1, -1).replaceAll(ch + ch, ch);
      if (ch === '`') push({ kind: 'backtick', text: raw, value, position });
      else push({ kind: 'string', text: raw, value, quote: ch, position });
      i = end + 1;
      continue;
    }
    const previous = tokens.at(-1)?.kind;
    const startsNumber =
      /\d/.test(ch) ||
      ((ch === '-' || ch === '+') && /[\d.]/.test(text.charAt(i + 1))) ||
      (ch === '.' && /\d/.test(text.charAt(i + 1)) && previous !== undefined && VALUE_CONTEXT.has(previous));
    if (startsNumber) {
      NUMBER.lastIndex = i;
      const match = NUMBER.exec(text);
      if (match !== null) {
        let end = i + match[0].length;
        if (WORD_CHAR.test(text.charAt(end)) || text.charAt(end) === '.') {
          DIGIT_RUN.lastIndex = end;
          end += DIGIT_RUN.exec(text)?.[0].length ?? 0;
          push({ kind: 'number', text: text.slice(i, end), value: '', malformed: true, position });
        } else {
          push({ kind: 'number', text: match[0], value: '', number: Number(match[0]), position });
        }
        i = end;
        continue;
      }
    }
    WORD.lastIndex = i;
    const word = WORD.exec(text);
    if (word !== null) {
      push({ kind: 'word', text: word[0], value: word[0], position });
      i += word[0].length;
      continue;
    }
    const two = text.slice(i, i + 2);
    if (two === '!=' || two === '>=' || two === '<=') {
      push({ kind: 'operator', text: two, value: two, position });
      i += 2;
      continue;
    }
    const unsupported = UNSUPPORTED[two] ?? UNSUPPORTED[ch];
    if (unsupported !== undefined) {
      const written = UNSUPPORTED[two] !== undefined ? two : ch;
      const token: Token = { kind: 'operator', text: written, value: written, position };
      throw searchError(source, token, `unsupported operator '${written}'`, unsupported);
    }
    const single: Record<string, TokenKind> = { '=': 'operator', '>': 'operator', '<': 'operator' };
    const punctuation: Record<string, TokenKind> = { '.': 'dot', ',': 'comma', '(': 'open', ')': 'close' };
    const kind = single[ch] ?? punctuation[ch];
    if (kind !== undefined) {
      push({ kind, text: ch, value: ch, position });
      i++;
      continue;
    }
    const token: Token = { kind: 'word', text: String.fromCodePoint(text.codePointAt(i) ?? 0), value: '', position };
    throw searchError(source, token, `unexpected character ${describeToken(token)}`);
  }
  push({ kind: 'eof', text: '', value: '', position: text.length + 1 });
  return tokens;
}

/** Operators people try from other languages, with what to write instead. */
const UNSUPPORTED: Readonly<Record<string, string>> = {
  '==': "use '='",
  '<>': "use '!='",
  '&&': 'join comparisons with AND',
  '||': 'only AND may join comparisons',
  '&': 'join comparisons with AND',
  '|': 'only AND may join comparisons',
  '!': "use '!=' or NOT IN",
};

/** Index of the quote closing the one at `start`, skipping doubled quotes; -1 when unterminated. */
function closingQuote(text: string, start: number): number {
  const quote = text.charAt(start);
  let i = start + 1;
  while (i < text.length) {
    const at = text.indexOf(quote, i);
    if (at < 0) return -1;
    if (text.charAt(at + 1) === quote) {
      i = at + 2;
      continue;
    }
    return at;
  }
  return -1;
}
