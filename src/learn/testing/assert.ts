import assert from 'node:assert/strict';
import { KilnError } from '../../core/index.js';

/**
 * Asserts that `fn` throws the 400 a user gets for bad input: INVALID_PARAMETER_VALUE naming
 * `field`, with a message matching `pattern` when one is given.
 *
 * @example
 * assertInvalid(() => fitLinearRegression(X, y.subarray(1)), 'y', /length/);
 */
export function assertInvalid(fn: () => unknown, field: string, pattern?: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof KilnError);
    assert.equal(error.code, 'INVALID_PARAMETER_VALUE');
    assert.equal(error.details?.field, field);
    if (pattern !== undefined) assert.match(error.message, pattern);
    return true;
  });
}
