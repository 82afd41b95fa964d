import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rejectsWith } from './testing/harness.js';
import { checkBatch, checkDatasetInputs, checkKey, checkMetric, parseExperimentId } from './validation.js';

describe('tracking validation', () => {
  it('should accept the key characters MLflow accepts', () => {
    for (const key of ['loss', 'train/loss', 'a.b c/d-e_f', 'x'.repeat(250)]) {
      assert.equal(checkKey('key', key), key);
    }
  });

  it('should refuse keys that are not relative paths or use other characters', () => {
    const cases: Array<[unknown, RegExp]> = [
      ['', /^key: must not be empty/],
      ['x'.repeat(251), /^key: has length 251/],
      ['a:b', /may only contain/],
      ['naïve', /may only contain/],
      ['a\u0000b', /may only contain/],
      ['.', /must be a relative path/],
      ['..', /must be a relative path/],
      ['a//b', /must be a relative path/],
      ['a/', /must be a relative path/],
      ['./a', /must be a relative path/],
      ['/etc', /must be a relative path/],
      [42, /^key: must be a string, got number/],
    ];
    for (const [key, message] of cases) {
      assert.throws(() => checkKey('key', key), rejectsWith('INVALID_PARAMETER_VALUE', message), String(key));
    }
  });

  it('should name top-level fields for a single metric and default its step', () => {
    assert.deepEqual(checkMetric({ key: 'm', value: Number.NaN, timestamp: 0 }, ''), {
      key: 'm',
      value: Number.NaN,
      timestamp: 0,
      step: 0,
    });
    assert.throws(
      () => checkMetric({ key: 'm', value: 1, timestamp: 1.5 }, ''),
      rejectsWith('INVALID_PARAMETER_VALUE', /^timestamp: must be a whole number/),
    );
    assert.throws(
      () => checkMetric(null as never, ''),
      rejectsWith('INVALID_PARAMETER_VALUE', /^metric: must be an object/),
    );
    assert.throws(
      () => checkBatch({ metrics: [null as never] }),
      rejectsWith('INVALID_PARAMETER_VALUE', /^metrics\[0\]: must be an object/),
    );
  });

  it('should merge repeated tags (last wins) and identical params', () => {
    const batch = checkBatch({
      params: [
        { key: 'p', value: '1' },
        { key: 'p', value: '1' },
      ],
      tags: [
        { key: 't', value: 'a' },
        { key: 't', value: 'b' },
      ],
    });
    assert.deepEqual(batch, { metrics: [], params: [{ key: 'p', value: '1' }], tags: [{ key: 't', value: 'b' }] });
  });

  it('should check dataset inputs and treat empty schema and profile as absent', () => {
    const [input] = checkDatasetInputs([
      { dataset: { name: 'd', digest: 'x', sourceType: 'code', source: '', schema: '', profile: null }, tags: [] },
    ]);
    assert.equal(input?.dataset.schema, null);
    assert.throws(
      () =>
        checkDatasetInputs([
          { dataset: { name: '', digest: 'x', sourceType: 'code', source: '', schema: null, profile: null }, tags: [] },
        ]),
      rejectsWith('INVALID_PARAMETER_VALUE', /^datasets\[0\]\.dataset\.name: must not be empty/),
    );
    assert.throws(
      () =>
        checkDatasetInputs([
          { dataset: { name: 'd', digest: 'x', sourceType: '', source: '', schema: null, profile: null }, tags: [] },
        ]),
      rejectsWith('INVALID_PARAMETER_VALUE', /^datasets\[0\]\.dataset\.source_type: must not be empty/),
    );
  });

  it('should parse experiment ids, mapping unsafe ones to an id that matches nothing', () => {
    assert.equal(parseExperimentId('0'), 0);
    assert.equal(parseExperimentId('123456789012345678'), -1);
    for (const bad of ['', '-1', '1.5', ' 1', 'abc', '12345678901234567890']) {
      assert.throws(() => parseExperimentId(bad), rejectsWith('INVALID_PARAMETER_VALUE', /^experiment_id:/), bad);
    }
  });
});
