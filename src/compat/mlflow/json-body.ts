import { KilnError } from '../../core/index.js';

/** Largest `runs/log-batch` request MLflow accepts, in bytes (its `MAX_BATCH_LOG_REQUEST_SIZE`). */
export const MAX_BATCH_REQUEST_BYTES = 1_000_000;

// Placeholders for the bare tokens while the text is re-parsed; the reviver turns each back into
// its number. A body that already spells one (only possible as an escaped NUL) is refused on that
// path, so a caller's string can never become a number.
const PLACEHOLDER_ESCAPED = '\\u0000kiln:';
const NAN = '\u0000kiln:NaN';
const POSITIVE_INFINITY = '\u0000kiln:Infinity';
const NEGATIVE_INFINITY = '\u0000kiln:-Infinity';

const BARE_TOKENS: readonly (readonly [string, string])[] = [
  ['NaN', NAN],
  ['Infinity', POSITIVE_INFINITY],
  ['-Infinity', NEGATIVE_INFINITY],
];

function malformed(): KilnError {
  return new KilnError('MALFORMED_REQUEST', 'Request body is not valid JSON');
}

/**
 * Rewrites the bare `NaN`, `Infinity` and `-Infinity` tokens that Python's `json` module writes
 * (outside string literals only) into placeholder strings, or returns undefined when there are
 * none. One pass, no evaluation: strings are copied as they are, escapes included.
 */
function quoteBareTokens(text: string): string | undefined {
  let out = '';
  let copiedUpTo = 0;
  let found = false;
  let i = 0;
  while (i < text.length) {
    const ch = text.charCodeAt(i);
    if (ch === 0x22 /* " */) {
      i++;
      while (i < text.length && text.charCodeAt(i) !== 0x22) i += text.charCodeAt(i) === 0x5c /* \ */ ? 2 : 1;
      i++;
      continue;
    }
    const token = BARE_TOKENS.find(([bare]) => text.startsWith(bare, i));
    if (token === undefined) {
      i++;
      continue;
    }
    const [bare, placeholder] = token;
    out += `${text.slice(copiedUpTo, i)}${JSON.stringify(placeholder)}`;
    i += bare.length;
    copiedUpTo = i;
    found = true;
  }
  return found ? out + text.slice(copiedUpTo) : undefined;
}

function revive(_key: string, value: unknown): unknown {
  if (typeof value !== 'string' || value.charCodeAt(0) !== 0) return value;
  if (value === NAN) return Number.NaN;
  if (value === POSITIVE_INFINITY) return Number.POSITIVE_INFINITY;
  if (value === NEGATIVE_INFINITY) return Number.NEGATIVE_INFINITY;
  return value;
}

/**
 * Parses an MLflow request body. Standard JSON takes the fast path. Python's `json` module (used
 * by scripts that post to MLflow directly) writes non-finite floats as the bare tokens `NaN`,
 * `Infinity` and `-Infinity`, which are not JSON; when plain parsing fails and such a token occurs
 * outside a string, the body is parsed again with those tokens read as the numbers they name. An
 * empty body is `{}`, and a body that is a JSON string holding JSON (what some old clients sent)
 * is decoded a second time, both as MLflow's server does. Anything else that is not JSON is
 * MALFORMED_REQUEST (400).
 *
 * Kiln emits non-finite metric values as the strings `"NaN"`, `"Infinity"` and `"-Infinity"`, as
 * protobuf's JSON mapping (and so MLflow's server) does, and accepts those strings too.
 *
 * @example
 * parseMlflowJson('{"value": NaN}');   // { value: NaN }
 * parseMlflowJson('{"value": "NaN"}'); // { value: 'NaN' } (read by `metricValue`)
 */
export function parseMlflowJson(text: string): unknown {
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    const quoted = /NaN|Infinity/.test(text) && !text.includes(PLACEHOLDER_ESCAPED) ? quoteBareTokens(text) : undefined;
    if (quoted === undefined) throw malformed();
    try {
      parsed = JSON.parse(quoted, revive);
    } catch {
      throw malformed();
    }
  }
  if (typeof parsed === 'string') {
    try {
      parsed = JSON.parse(parsed);
    } catch {
      throw malformed();
    }
  }
  return parsed;
}

/**
 * The error MLflow gives for a `runs/log-batch` body over {@link MAX_BATCH_REQUEST_BYTES}, with
 * its wording, so the client's users see the limit they know.
 *
 * @example
 * batchTooLarge(1_000_001).message; // 'Batched logging API requests must be at most 1000000 bytes, got a request of size 1000001.'
 */
export function batchTooLarge(size: number): KilnError {
  return new KilnError(
    'INVALID_PARAMETER_VALUE',
    `Batched logging API requests must be at most ${MAX_BATCH_REQUEST_BYTES} bytes, got a request of size ${size}.`,
    { limit: MAX_BATCH_REQUEST_BYTES, size },
  );
}
