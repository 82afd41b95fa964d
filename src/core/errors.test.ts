import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { codeForStatus, ERROR_TABLE, type ErrorCode, invalidParameter, isErrorCode, KilnError } from './errors.js';

describe('KilnError', () => {
  it('maps codes to HTTP statuses the way MLflow clients expect', () => {
    const expected: Array<[ErrorCode, number, string]> = [
      ['RESOURCE_DOES_NOT_EXIST', 404, 'RESOURCE_DOES_NOT_EXIST'],
      ['RESOURCE_ALREADY_EXISTS', 400, 'RESOURCE_ALREADY_EXISTS'],
      ['INVALID_PARAMETER_VALUE', 400, 'INVALID_PARAMETER_VALUE'],
      ['ENDPOINT_NOT_FOUND', 404, 'ENDPOINT_NOT_FOUND'],
      ['PAYLOAD_TOO_LARGE', 413, 'REQUEST_LIMIT_EXCEEDED'],
      ['TEMPORARILY_UNAVAILABLE', 503, 'TEMPORARILY_UNAVAILABLE'],
      ['INTERNAL_ERROR', 500, 'INTERNAL_ERROR'],
    ];
    for (const [code, status, mlflowCode] of expected) {
      const err = new KilnError(code, 'x');
      assert.equal(err.status, status, code);
      assert.equal(err.mlflowCode, mlflowCode, code);
    }
  });

  it('serialises to the MLflow-compatible body with Kiln fields', () => {
    const err = new KilnError('RESOURCE_DOES_NOT_EXIST', "Workspace 'x' does not exist", { name: 'x' });
    assert.deepEqual(err.toBody('req-1'), {
      error_code: 'RESOURCE_DOES_NOT_EXIST',
      message: "Workspace 'x' does not exist",
      code: 'RESOURCE_DOES_NOT_EXIST',
      details: { name: 'x' },
      request_id: 'req-1',
    });
  });

  it('keeps the cause', () => {
    const cause = new Error('disk full');
    assert.equal(new KilnError('DATA_LOSS', 'write failed', undefined, { cause }).cause, cause);
  });

  it('every code in the table maps to a client or server error status', () => {
    for (const [code, surface] of Object.entries(ERROR_TABLE)) {
      assert.ok(surface.status >= 400 && surface.status < 600, code);
      assert.ok(isErrorCode(code));
    }
    assert.equal(isErrorCode('toString'), false);
    assert.equal(isErrorCode('NOPE'), false);
  });

  it('invalidParameter names the field', () => {
    const err = invalidParameter('name', 'must not be empty', '');
    assert.equal(err.message, 'name: must not be empty');
    assert.deepEqual(err.details, { field: 'name', value: '' });
  });

  it('codeForStatus picks the nearest code', () => {
    assert.equal(codeForStatus(404), 'RESOURCE_DOES_NOT_EXIST');
    assert.equal(codeForStatus(503), 'TEMPORARILY_UNAVAILABLE');
    assert.equal(codeForStatus(418), 'BAD_REQUEST');
    assert.equal(codeForStatus(500), 'INTERNAL_ERROR');
  });
});

describe('docs/errors.md', () => {
  it('documents every code with its status and MLflow name', async () => {
    const { readFileSync } = await import('node:fs');
    const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    for (const [code, { status, mlflowCode }] of Object.entries(ERROR_TABLE)) {
      assert.ok(doc.includes(`| \`${code}\` | ${status} | \`${mlflowCode}\` |`), `docs/errors.md lacks ${code}`);
    }
  });
});
