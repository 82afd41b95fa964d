import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KilnError } from '../../core/index.js';
import { isUniqueViolation, nowIso } from './sql.js';

const ISO_UTC_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('nowIso', () => {
  it('gives ISO-8601 UTC with milliseconds, never decreasing between calls', () => {
    const values = Array.from({ length: 1000 }, () => nowIso());
    for (const value of values) assert.match(value, ISO_UTC_MS);
    for (let i = 1; i < values.length; i++) assert.ok((values[i - 1] ?? '') <= (values[i] ?? ''));
    assert.equal(new Date(values[0] ?? '').toISOString(), values[0]);
  });
});

describe('isUniqueViolation', () => {
  it('recognises engine codes, also in a cause chain, and nothing else', () => {
    const sqliteError = Object.assign(new Error('UNIQUE constraint failed'), { code: 'SQLITE_CONSTRAINT_UNIQUE' });
    assert.equal(isUniqueViolation(sqliteError), true);
    assert.equal(
      isUniqueViolation(new KilnError('INTERNAL_ERROR', 'wrapped', undefined, { cause: sqliteError })),
      true,
    );
    assert.equal(isUniqueViolation(Object.assign(new Error('not null'), { code: 'SQLITE_CONSTRAINT_NOTNULL' })), false);
    assert.equal(isUniqueViolation(Object.assign(new Error('fk'), { code: '23503' })), false);
    assert.equal(isUniqueViolation(new Error('UNIQUE constraint failed')), false);
    assert.equal(isUniqueViolation(null), false);
    assert.equal(isUniqueViolation('23505'), false);
  });
});
