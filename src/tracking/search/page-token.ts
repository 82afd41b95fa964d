import { KilnError } from '../../core/index.js';

/** Largest offset a page token may carry; deeper offsets are refused rather than scanned. */
export const MAX_PAGE_OFFSET = 2_147_483_647;

/**
 * Encodes the offset of the next page in MLflow's page-token format, base64 of `{"offset": N}`,
 * which MLflow clients treat as opaque and hand back unchanged.
 *
 * @example
 * encodePageToken(100); // 'eyJvZmZzZXQiOiAxMDB9'
 */
export function encodePageToken(offset: number): string {
  if (!Number.isSafeInteger(offset) || offset < 0 || offset > MAX_PAGE_OFFSET) {
    throw new RangeError(`page offset must be a whole number from 0 to ${MAX_PAGE_OFFSET}, got ${offset}`);
  }
  return Buffer.from(JSON.stringify({ offset }).replace(':', ': '), 'utf8').toString('base64');
}

function invalid(problem: string, token: string): KilnError {
  const shown = token.length > 64 ? `${token.slice(0, 64)}…` : token;
  return new KilnError('INVALID_PARAMETER_VALUE', `page_token: ${problem}`, { field: 'page_token', value: shown });
}

/**
 * Decodes a page token into the offset of the page it asks for; no token (undefined, null or '')
 * means the first page. Accepts tokens written by MLflow servers and by {@link encodePageToken},
 * in standard or URL-safe base64, padded or not; anything else is INVALID_PARAMETER_VALUE.
 *
 * @example
 * decodePageToken('eyJvZmZzZXQiOiAxMDB9'); // 100
 * decodePageToken(undefined); // 0
 */
export function decodePageToken(token: string | null | undefined): number {
  if (token === undefined || token === null || token === '') return 0;
  if (typeof token !== 'string' || token.length > 256 || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(token)) {
    throw invalid('is not a page token this server issued', String(token));
  }
  const unpadded = token.replace(/=+$/, '');
  if (unpadded.length % 4 === 1) throw invalid('is not valid base64', token);
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(unpadded, 'base64').toString('utf8'));
  } catch {
    throw invalid('does not decode to JSON', token);
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw invalid('does not decode to an object', token);
  }
  const keys = Object.keys(payload);
  if (keys.length !== 1 || keys[0] !== 'offset') throw invalid('must hold exactly one field, offset', token);
  const offset = (payload as { offset: unknown }).offset;
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0 || offset > MAX_PAGE_OFFSET) {
    throw invalid(`offset must be a whole number from 0 to ${MAX_PAGE_OFFSET}`, token);
  }
  return offset;
}
