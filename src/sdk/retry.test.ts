import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffMs, MAX_RETRY_AFTER_MS, retryAfterMs } from './retry.js';

describe('retry policy', () => {
  it('should read Retry-After as seconds or as an HTTP date', () => {
    assert.equal(retryAfterMs('3'), 3000);
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(retryAfterMs('Thu, 01 Jan 2026 00:00:05 GMT', now), 5000);
    assert.equal(retryAfterMs('Wed, 31 Dec 2025 23:59:00 GMT', now), 0);
  });

  it('should ignore an absent or unreadable Retry-After and cap a long one', () => {
    assert.equal(retryAfterMs(null), undefined);
    assert.equal(retryAfterMs('soon'), undefined);
    assert.equal(retryAfterMs('86400'), MAX_RETRY_AFTER_MS);
  });

  it('should back off exponentially within the jitter band and stay capped', () => {
    for (let retry = 0; retry < 4; retry++) {
      const ceiling = 100 * 2 ** retry;
      for (let i = 0; i < 50; i++) {
        const delay = backoffMs(retry, 100);
        assert.ok(delay >= ceiling / 2 && delay <= ceiling, `retry ${retry}: ${delay}`);
      }
    }
    assert.ok(backoffMs(30, 100) <= 10_000);
  });
});
