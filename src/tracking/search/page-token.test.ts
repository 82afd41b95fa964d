import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KilnError } from '../../core/index.js';
import { decodePageToken, encodePageToken, MAX_PAGE_OFFSET } from './page-token.js';

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

function rejects(token: string, fragment: string): void {
  assert.throws(
    () => decodePageToken(token),
    (err: unknown) =>
      err instanceof KilnError &&
      err.code === 'INVALID_PARAMETER_VALUE' &&
      err.details?.field === 'page_token' &&
      err.message.startsWith('page_token: ') &&
      err.message.includes(fragment),
  );
}

describe('page tokens', () => {
  it('writes MLflow\'s exact format: base64 of {"offset": N}', () => {
    assert.equal(encodePageToken(100), 'eyJvZmZzZXQiOiAxMDB9');
    assert.equal(Buffer.from(encodePageToken(7), 'base64').toString('utf8'), '{"offset": 7}');
  });

  it('round-trips offsets', () => {
    for (const offset of [0, 1, 999, 50_000, MAX_PAGE_OFFSET])
      assert.equal(decodePageToken(encodePageToken(offset)), offset);
  });

  it('reads tokens from MLflow servers, unpadded and URL-safe variants', () => {
    assert.equal(decodePageToken(b64('{"offset": 1000}')), 1000);
    assert.equal(decodePageToken(b64('{"offset":3}').replace(/=+$/, '')), 3);
    const urlSafe = Buffer.from('{"offset": 62}', 'utf8').toString('base64url');
    assert.equal(decodePageToken(urlSafe), 62);
  });

  it('treats a missing token as the first page', () => {
    assert.equal(decodePageToken(undefined), 0);
    assert.equal(decodePageToken(null), 0);
    assert.equal(decodePageToken(''), 0);
  });

  it('rejects garbage, naming page_token', () => {
    rejects('not a token!', 'is not a page token this server issued');
    rejects('abcde', 'is not valid base64');
    rejects(b64('hello'), 'does not decode to JSON');
    rejects(b64('[1]'), 'does not decode to an object');
    rejects(b64('5'), 'does not decode to an object');
    rejects(b64('{}'), 'must hold exactly one field, offset');
    rejects(b64('{"offset": 1, "x": 2}'), 'must hold exactly one field, offset');
    rejects(b64('{"offset": -1}'), 'offset must be a whole number');
    rejects(b64('{"offset": 1.5}'), 'offset must be a whole number');
    rejects(b64('{"offset": "5"}'), 'offset must be a whole number');
    rejects(b64(`{"offset": ${MAX_PAGE_OFFSET + 1}}`), 'offset must be a whole number');
    rejects('A'.repeat(300), 'is not a page token this server issued');
  });

  it('refuses to encode offsets that are not whole and in range', () => {
    assert.throws(() => encodePageToken(-1), RangeError);
    assert.throws(() => encodePageToken(0.5), RangeError);
  });
});
