import { createHash, type Hash } from 'node:crypto';
import { Readable } from 'node:stream';
import { invalidParameter, type KilnError } from '../../core/index.js';
import { decodeKeysetToken, encodeKeysetToken } from '../keyset-token.js';
import type { BlobBody, BlobRange } from './blob-store.js';

/** Default and largest page size of {@link BlobStore.list}; S3 caps a page at 1000 keys too. */
export const MAX_LIST_LIMIT = 1000;

/**
 * SHA-256 and byte count of a body, accumulated chunk by chunk so no store has to hold the body.
 *
 * @example
 * const digest = new BodyDigest();
 * for await (const chunk of measuredChunks(body, digest)) await write(chunk);
 * digest.sha256(); // hex
 */
export class BodyDigest {
  private readonly hash: Hash = createHash('sha256');
  size = 0;

  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
    this.size += chunk.byteLength;
  }

  sha256(): string {
    return this.hash.digest('hex');
  }
}

/** Throws INVALID_PARAMETER_VALUE naming `body` unless it is a Readable, bytes or a string. */
export function checkBody(body: BlobBody): void {
  if (typeof body === 'string' || body instanceof Uint8Array || body instanceof Readable) return;
  throw invalidParameter('body', 'must be a readable stream, a Uint8Array or a string');
}

/**
 * The body as byte chunks, each passed to `digest` before it is yielded. Strings are UTF-8; a stream
 * in string mode is re-encoded as UTF-8.
 */
export async function* measuredChunks(body: BlobBody, digest: BodyDigest): AsyncGenerator<Uint8Array> {
  if (typeof body === 'string' || body instanceof Uint8Array) {
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    digest.update(bytes);
    yield bytes;
    return;
  }
  for await (const chunk of body as AsyncIterable<unknown>) {
    let bytes: Uint8Array;
    if (typeof chunk === 'string') bytes = Buffer.from(chunk, 'utf8');
    else if (chunk instanceof Uint8Array) bytes = chunk;
    else throw invalidParameter('body', 'stream must yield bytes or strings, not objects');
    digest.update(bytes);
    yield bytes;
  }
}

/**
 * Checks the parts of a range that do not depend on the object: integers, `start ≥ 0`,
 * `end ≥ start`. Whether `start` lies inside the object is checked by each store.
 */
export function checkRange(range: BlobRange | undefined): void {
  if (range === undefined) return;
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || start < 0) {
    throw invalidParameter('range', `start must be an integer ≥ 0, got ${start}`, range);
  }
  if (end !== undefined && (!Number.isSafeInteger(end) || end < start)) {
    throw invalidParameter('range', `end must be an integer ≥ start (${start}), got ${end}`, range);
  }
}

/** The error for a range that starts at or beyond the end of the object. */
export function rangeNotSatisfiable(range: BlobRange, size: number | undefined): KilnError {
  const object = size === undefined || !Number.isFinite(size) ? 'the object' : `the object of ${size} bytes`;
  return invalidParameter('range', `start ${range.start} is not inside ${object}`, range);
}

/** Validated page size: an integer 1–1000, default 1000. */
export function listLimit(limit: number | undefined): number {
  if (limit === undefined) return MAX_LIST_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
    throw invalidParameter('limit', `must be an integer from 1 to ${MAX_LIST_LIMIT}, got ${limit}`, limit);
  }
  return limit;
}

/**
 * Orders keys by Unicode code point, which is the UTF-8 byte order S3 lists in. Plain `<` compares
 * UTF-16 units and would put characters above U+FFFF before U+E000–U+FFFF.
 *
 * @example
 * ['😀', '\uff21'].sort(compareKeys); // ['\uff21', '😀']
 */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

/** Moves surrogates (which stand for code points above U+FFFF) after the rest of the BMP. */
function codePointRank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  if (unit >= 0xe000) return unit - 0x800;
  return unit;
}

/** The list cursor of every store: a keyset token over the last key of the previous page. */
export function encodeCursor(key: string): string {
  return encodeKeysetToken(key);
}

/** Inverse of {@link encodeCursor}; throws INVALID_PARAMETER_VALUE naming `cursor` for anything else. */
export function decodeCursor(cursor: string): string {
  return decodeKeysetToken(cursor, 'cursor');
}
