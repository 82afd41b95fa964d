import { invalidParameter } from '../core/index.js';

/**
 * A keyset page token: the last key of the previous page, base64url-encoded so callers treat it as
 * opaque and it survives a query string unescaped. Resuming after a key keeps deep pages as cheap
 * as the first and keeps a token valid however long the caller waits.
 *
 * @example
 * encodeKeysetToken('runs/abc/model.json'); // 'cnVucy9hYmMvbW9kZWwuanNvbg'
 */
export function encodeKeysetToken(lastKey: string): string {
  return Buffer.from(lastKey, 'utf8').toString('base64url');
}

/**
 * Inverse of {@link encodeKeysetToken}. Anything that is not exactly such a token, or whose key
 * `isKey` rejects, is INVALID_PARAMETER_VALUE naming `field`.
 *
 * @example
 * const after = decodeKeysetToken(query.page_token, 'page_token', isWorkspaceName);
 */
export function decodeKeysetToken(token: string, field: string, isKey: (key: string) => boolean = () => true): string {
  const wellFormed = typeof token === 'string' && token.length <= 2048 && /^[A-Za-z0-9_-]+$/.test(token);
  const key = wellFormed ? Buffer.from(token, 'base64url').toString('utf8') : '';
  if (key === '' || encodeKeysetToken(key) !== token || !isKey(key)) {
    throw invalidParameter(field, 'is not a token returned by a previous page', token);
  }
  return key;
}
