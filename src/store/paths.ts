import { invalidParameter, type KilnError } from '../core/index.js';

/** Longest key, in UTF-8 bytes, that S3 accepts; Kiln applies the same limit everywhere. */
export const MAX_KEY_BYTES = 1024;
/** Longest segment, in UTF-8 bytes; most file systems cap a name at 255 bytes. */
export const MAX_SEGMENT_BYTES = 255;

const CONTROL = /\p{Cc}/u;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const DRIVE_LETTER = /^[a-z]:/i;
const DOTS_AND_SPACES = /^[. ]+$/;
const ESCAPE = /%([0-9a-f]{2})/gi;
const utf8 = new TextDecoder('utf-8', { fatal: false });

/**
 * Canonicalises a user-supplied relative path (artifact path, dataset key, blob key) or rejects it.
 * Every path that reaches storage goes through here, so traversal tricks are refused in one place
 * rather than in each caller.
 *
 * The result is the key as given with its structure normalised: `./` segments and duplicate
 * slashes collapse and a trailing slash is dropped. Percent escapes are NOT decoded in the result,
 * because S3 keys may legitimately contain `%`; instead the key is decoded layer by layer (so
 * double- and triple-encoded forms are seen too) and rejected when an escape hides a separator, a
 * dot segment, a control character or an overlong UTF-8 sequence. Each segment is also checked
 * after NFKC normalisation, which catches lookalikes such as fullwidth `．．／` or `\u2024`.
 * Unicode is otherwise kept as given (no NFC folding), so existing S3 keys stay addressable.
 * Segments made only of dots and spaces (`...`, `.. `) are refused too: Windows trims trailing dots
 * and spaces from names and could turn them into `..`.
 *
 * Throws INVALID_PARAMETER_VALUE whose message starts with `<field>: ` and whose details carry
 * `{ field, value }`.
 *
 * @example
 * canonicalKey('a//b/./c/');               // 'a/b/c'
 * canonicalKey('données/été.csv');          // 'données/été.csv'
 * canonicalKey('../etc/passwd', 'artifact_path'); // throws "artifact_path: must not contain '..' segments"
 */
export function canonicalKey(key: string, field = 'path'): string {
  const fail = (problem: string): KilnError => invalidParameter(field, problem, shorten(key));
  if (typeof key !== 'string') throw invalidParameter(field, `must be a string, got ${typeof key}`);
  if (key.length === 0) throw fail('must not be empty');
  if (key.length > MAX_KEY_BYTES * 4) throw fail(`must be at most ${MAX_KEY_BYTES} bytes long`);
  if (CONTROL.test(key)) throw fail('must not contain control characters (NUL, newline, DEL…)');
  if (LONE_SURROGATE.test(key)) throw fail('must be valid Unicode (it has an unpaired surrogate)');
  if (key.includes('\\')) throw fail("must use '/' as separator, not '\\'");
  if (key.startsWith('/')) throw fail("must be relative, not start with '/'");
  if (DRIVE_LETTER.test(key)) throw fail("must be relative, not start with a drive letter like 'C:'");

  const segments: string[] = [];
  for (const segment of key.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') throw fail("must not contain '..' segments");
    if (DOTS_AND_SPACES.test(segment)) throw fail(`segment '${segment}' must not consist only of dots and spaces`);
    segments.push(segment);
  }
  if (segments.length === 0) throw fail('must name something, not only slashes and dots');
  const canonical = segments.join('/');
  if (Buffer.byteLength(canonical) > MAX_KEY_BYTES) throw fail(`must be at most ${MAX_KEY_BYTES} bytes long`);
  for (const segment of segments) {
    if (Buffer.byteLength(segment) > MAX_SEGMENT_BYTES) {
      throw fail(`segments must be at most ${MAX_SEGMENT_BYTES} bytes long`);
    }
  }

  let layer = canonical;
  for (let depth = 0; ; depth++) {
    checkSegments(layer, segments, depth, fail);
    const decoded = decodeLayer(layer, fail);
    if (decoded === layer) return canonical;
    layer = decoded;
  }
}

/**
 * Canonicalises a listing prefix: '' means everything, and a trailing slash is kept because it is
 * meaningful (`runs/a/` matches only keys under `runs/a`, while `runs/a` also matches `runs/abc`).
 *
 * @example
 * canonicalPrefix('runs//a/'); // 'runs/a/'
 * canonicalPrefix('');         // ''
 */
export function canonicalPrefix(prefix: string, field = 'prefix'): string {
  if (prefix === '') return '';
  const canonical = canonicalKey(prefix, field);
  return prefix.endsWith('/') ? `${canonical}/` : canonical;
}

/**
 * Checks each segment of one decoding layer, as written and after NFKC normalisation. Decoding never
 * introduces a separator (those escapes are rejected), so layer segments line up with `written`.
 */
function checkSegments(
  layer: string,
  written: readonly string[],
  depth: number,
  fail: (problem: string) => KilnError,
): void {
  const how =
    depth === 0
      ? 'after Unicode (NFKC) normalisation'
      : depth === 1
        ? 'once URL-decoded'
        : `when URL-decoded ${depth} times`;
  for (const [index, segment] of layer.split('/').entries()) {
    const original = written[index] ?? segment;
    for (const form of depth === 0 ? [segment.normalize('NFKC')] : [segment, segment.normalize('NFKC')]) {
      if (form.includes('/') || form.includes('\\')) {
        throw fail(`segment '${original}' contains a character that reads as a path separator ${how}`);
      }
      if (DOTS_AND_SPACES.test(form)) throw fail(`segment '${original}' reads as a dot segment ${how}`);
      if (CONTROL.test(form)) throw fail(`segment '${original}' contains a control character ${how}`);
      if (index === 0 && DRIVE_LETTER.test(form)) throw fail(`must not start with a drive letter ${how}`);
    }
  }
}

/**
 * One round of percent-decoding into bytes, then UTF-8. Escapes that decode to a separator, a
 * control byte or an overlong UTF-8 lead are rejected here, at byte level, before they can be
 * hidden by lenient UTF-8 decoding.
 */
function decodeLayer(layer: string, fail: (problem: string) => KilnError): string {
  if (!layer.includes('%')) return layer;
  const bytes: number[] = [];
  let last = 0;
  for (const match of layer.matchAll(ESCAPE)) {
    const index = match.index ?? 0;
    for (const byte of Buffer.from(layer.slice(last, index))) bytes.push(byte);
    const byte = Number.parseInt(match[1] ?? '', 16);
    if (byte === 0x2f || byte === 0x5c) throw fail(`must not contain an encoded separator ('${match[0]}')`);
    if (byte < 0x20 || byte === 0x7f) throw fail(`must not contain an encoded control character ('${match[0]}')`);
    bytes.push(byte);
    last = index + match[0].length;
  }
  if (last === 0) return layer;
  for (const byte of Buffer.from(layer.slice(last))) bytes.push(byte);
  if (hasOverlongUtf8(bytes)) throw fail('must not contain overlong UTF-8 encodings (such as %c0%ae)');
  return utf8.decode(Uint8Array.from(bytes));
}

/** True when the bytes contain a lead byte that can only start an overlong (invalid) UTF-8 form. */
function hasOverlongUtf8(bytes: readonly number[]): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i] ?? 0;
    const next = bytes[i + 1] ?? 0;
    if (byte === 0xc0 || byte === 0xc1) return true;
    if (byte === 0xe0 && next >= 0x80 && next < 0xa0) return true;
    if (byte === 0xf0 && next >= 0x80 && next < 0x90) return true;
  }
  return false;
}

function shorten(value: string): string {
  return typeof value === 'string' && value.length > 200 ? `${value.slice(0, 200)}…` : value;
}
